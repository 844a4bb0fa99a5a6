// Slot records and their positions for the current row (see the slot layout in abi.ts).
import { S_BASE, S_DTYPE, S_KIND, S_LAST, SC_ROWOFF, dtBytes } from "./abi";

/** Address of slot s's record: slot records are (4 + ndim) f64 words. */
// @ts-ignore: decorator
@inline export function slotRecord(slots: usize, ndim: i32, s: i32): usize {
  return slots + <usize>s * <usize>(4 + ndim) * 8;
}

// @ts-ignore: decorator
@inline export function slotKind(rec: usize): i32 {
  return <i32>load<f64>(rec, S_KIND * 8);
}

// @ts-ignore: decorator
@inline export function slotDtype(rec: usize): i32 {
  return <i32>load<f64>(rec, S_DTYPE * 8);
}

// @ts-ignore: decorator
@inline export function slotBase(rec: usize): f64 {
  return load<f64>(rec, S_BASE * 8);
}

// @ts-ignore: decorator
@inline export function slotLast(rec: usize): f64 {
  return load<f64>(rec, S_LAST * 8);
}

/** sum_d(i_d * row_d) of slot s for the current row (computed by the row loop into scratch). */
// @ts-ignore: decorator
@inline export function rowOffset(scratch: usize, s: i32): f64 {
  return load<f64>(scratch + SC_ROWOFF + (<usize>s << 3));
}

/** Byte address of MEM slot s at column c0 of the current row: base + (rowOff + c0 * last) * bytes. */
export function memAddress(rec: usize, scratch: usize, s: i32, c0: i32): usize {
  const bytes = <f64>dtBytes(slotDtype(rec));
  const pos = slotBase(rec) + (rowOffset(scratch, s) + <f64>c0 * slotLast(rec)) * bytes;
  return <usize><u64>pos;
}

/** Value of INDEX slot s at column 0 of the current row: base + rowOff. Column c adds c * last. */
// @ts-ignore: decorator
@inline export function indexRowPos(rec: usize, scratch: usize, s: i32): f64 {
  return slotBase(rec) + rowOffset(scratch, s);
}
