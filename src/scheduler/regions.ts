/**
 * Copies between a whole C-order array and one chunk of it (a region), by contiguous runs along the
 * innermost axis. Used to stage user data into kernel memory chunk by chunk and to assemble results.
 */
import type { TypedArray } from "../dtype.js";
import { cStrides } from "../grid.js";

/**
 * For each contiguous run of the region (start, shape) inside an array of `full` shape, calls
 * fn(offset in the whole array, offset in the region, length), in C order.
 */
export function forEachRun(full: readonly number[], start: readonly number[], shape: readonly number[], fn: (whole: number, local: number, len: number) => void): void {
  const nd = shape.length;
  for (const n of shape) if (n === 0) return;
  if (nd === 0) return fn(0, 0, 1);
  const strides = cStrides(full);
  // merge trailing axes the region covers entirely into one run
  let inner = nd - 1;
  let runLen = shape[nd - 1]!;
  while (inner > 0 && shape[inner] === full[inner] && start[inner] === 0) {
    inner--;
    runLen *= shape[inner]!;
  }
  const outer = inner; // axes [0, outer) are walked one index at a time
  const idx = new Array<number>(outer).fill(0);
  let local = 0;
  for (;;) {
    let whole = 0;
    for (let d = 0; d < outer; d++) whole += (start[d]! + idx[d]!) * strides[d]!;
    for (let d = outer; d < nd; d++) whole += start[d]! * strides[d]!;
    fn(whole, local, runLen);
    local += runLen;
    let d = outer - 1;
    while (d >= 0 && ++idx[d]! === shape[d]) idx[d--] = 0;
    if (d < 0) return;
  }
}

/** chunk (C order over the region) = whole[region] */
export function copyOutOf(whole: TypedArray, full: readonly number[], start: readonly number[], shape: readonly number[], chunk: TypedArray): void {
  forEachRun(full, start, shape, (w, l, n) => chunk.set(whole.subarray(w, w + n), l));
}

/** whole[region] = chunk */
export function copyInto(whole: TypedArray, full: readonly number[], start: readonly number[], shape: readonly number[], chunk: TypedArray): void {
  forEachRun(full, start, shape, (w, l, n) => whole.set(chunk.subarray(l, l + n), w));
}
