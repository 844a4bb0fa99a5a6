// Scans (abi.ts: CUMSUM CUMPROD): running sums or products of a register tile, carried in an f64 or f32
// accumulator slot. Scalar mode: one accumulator along the row, element after element; vector mode: one
// per column (the scan runs along an outer axis, from row to row). An f32 accumulator is rounded after
// every step, so a float32 scan is float32 arithmetic (numpy's); f64 sums of float32 values round exactly.
import { DT_F32 } from "./abi";

// @ts-ignore: decorator
@inline function step(isProd: bool, acc: f64, v: f64, f32acc: bool): f64 {
  const x = isProd ? acc * v : acc + v;
  return f32acc ? <f64><f32>x : x;
}

export function scan(isProd: bool, dst: usize, a: usize, acc: usize, dt: i32, vector: bool, len: i32): void {
  const f32acc = dt == DT_F32;
  if (!vector) {
    let v = f32acc ? <f64>load<f32>(acc) : load<f64>(acc);
    for (let c = 0; c < len; c++) {
      const o = <usize>c << 3;
      v = step(isProd, v, load<f64>(a + o), f32acc);
      store<f64>(dst + o, v);
    }
    if (f32acc) store<f32>(acc, <f32>v);
    else store<f64>(acc, v);
    return;
  }
  if (f32acc) {
    for (let c = 0; c < len; c++) {
      const o = <usize>c << 3, q = <usize>c << 2;
      const v = step(isProd, <f64>load<f32>(acc + q), load<f64>(a + o), true);
      store<f32>(acc + q, <f32>v);
      store<f64>(dst + o, v);
    }
    return;
  }
  for (let c = 0; c < len; c++) {
    const o = <usize>c << 3;
    const v = step(isProd, load<f64>(acc + o), load<f64>(a + o), false);
    store<f64>(acc + o, v);
    store<f64>(dst + o, v);
  }
}
