// LOAD and STORE between memory slots (f64, f32, i32, bool storage) and f64 registers.
// Memory is never read or written past len elements; registers may be filled in whole groups of 4.
import { DT_BOOL, DT_F32, DT_F64, dtBytes } from "./abi";
import { fill } from "./elementwise";

/** dst[c] = element c of the slot at src (contiguous, last == 1), as f64. */
export function loadRow(dst: usize, src: usize, dt: i32, len: i32): void {
  const n = <usize>len;
  let i: usize = 0;
  if (dt == DT_F64) {
    for (; i + 4 <= n; i += 4) {
      v128.store(dst + (i << 3), v128.load(src + (i << 3)));
      v128.store(dst + (i << 3), v128.load(src + (i << 3), 16), 16);
    }
    for (; i < n; i++) store<f64>(dst + (i << 3), load<f64>(src + (i << 3)));
  } else if (dt == DT_F32) {
    for (; i + 2 <= n; i += 2) v128.store(dst + (i << 3), f64x2.promote_low_f32x4(v128.load64_zero(src + (i << 2))));
    for (; i < n; i++) store<f64>(dst + (i << 3), <f64>load<f32>(src + (i << 2)));
  } else if (dt == DT_BOOL) {
    for (; i < n; i++) store<f64>(dst + (i << 3), load<u8>(src + i) != 0 ? 1.0 : 0.0);
  } else {
    for (; i + 2 <= n; i += 2) v128.store(dst + (i << 3), f64x2.convert_low_i32x4_s(v128.load64_zero(src + (i << 2))));
    for (; i < n; i++) store<f64>(dst + (i << 3), <f64>load<i32>(src + (i << 2)));
  }
}

/** Reads one element of storage dtype dt as f64. */
export function loadOne(src: usize, dt: i32): f64 {
  if (dt == DT_F64) return load<f64>(src);
  if (dt == DT_F32) return <f64>load<f32>(src);
  if (dt == DT_BOOL) return load<u8>(src) != 0 ? 1.0 : 0.0;
  return <f64>load<i32>(src);
}

/** LOAD: a contiguous (last == 1), broadcast (last == 0) or strided (any other last) slot into a register. */
export function loadSlot(dst: usize, src: usize, dt: i32, last: f64, len: i32): void {
  if (last == 0) fill(dst, loadOne(src, dt), len);
  else if (last == 1) loadRow(dst, src, dt, len);
  else loadStrided(dst, src, dt, <isize><i64>last * <isize>dtBytes(dt), len);
}

/** dst[c] = element at src + c * stride bytes (a view's gather: steps, flips, transposes). */
function loadStrided(dst: usize, src: usize, dt: i32, stride: isize, len: i32): void {
  let p = src;
  for (let i: usize = 0; i < <usize>len; i++) {
    store<f64>(dst + (i << 3), loadOne(p, dt));
    p += <usize>stride; // wraps like every wasm32 address: negative strides walk down
  }
}

/** Writes one f64 as storage dtype dt (f32: round to nearest; i32: saturating truncation; bool: x != 0). */
export function storeOne(dst: usize, dt: i32, x: f64): void {
  if (dt == DT_F64) store<f64>(dst, x);
  else if (dt == DT_F32) store<f32>(dst, <f32>x);
  else if (dt == DT_BOOL) store<u8>(dst, x != 0 ? 1 : 0);
  else store<i32>(dst, <i32>x);
}

/** STORE: element c of the slot = a[c]; a broadcast slot (last == 0) receives a[len - 1]. */
export function storeSlot(dst: usize, a: usize, dt: i32, last: f64, len: i32): void {
  if (last == 0) {
    storeOne(dst, dt, load<f64>(a + (<usize>(len - 1) << 3)));
    return;
  }
  const n = <usize>len;
  let i: usize = 0;
  if (dt == DT_F64) {
    for (; i + 4 <= n; i += 4) {
      v128.store(dst + (i << 3), v128.load(a + (i << 3)));
      v128.store(dst + (i << 3), v128.load(a + (i << 3), 16), 16);
    }
    for (; i < n; i++) store<f64>(dst + (i << 3), load<f64>(a + (i << 3)));
  } else if (dt == DT_F32) {
    for (; i + 2 <= n; i += 2) v128.store64_lane(dst + (i << 2), f32x4.demote_f64x2_zero(v128.load(a + (i << 3))), 0);
    for (; i < n; i++) store<f32>(dst + (i << 2), <f32>load<f64>(a + (i << 3)));
  } else if (dt == DT_BOOL) {
    for (; i < n; i++) store<u8>(dst + i, load<f64>(a + (i << 3)) != 0 ? 1 : 0);
  } else {
    for (; i + 2 <= n; i += 2) v128.store64_lane(dst + (i << 2), i32x4.trunc_sat_f64x2_s_zero(v128.load(a + (i << 3))), 0);
    for (; i < n; i++) store<i32>(dst + (i << 2), <i32>load<f64>(a + (i << 3)));
  }
}
