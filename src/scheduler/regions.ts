/**
 * Copies between a whole C-order array and one chunk of it (a region), by contiguous runs along the
 * innermost axis. Used to stage user data into kernel memory chunk by chunk and to assemble results.
 */
import type { TypedArray } from "../dtype.js";
import { forEachRun } from "../grid.js";

/** chunk (C order over the region) = whole[region] */
export function copyOutOf(whole: TypedArray, full: readonly number[], start: readonly number[], shape: readonly number[], chunk: TypedArray): void {
  forEachRun(full, start, shape, (w, l, n) => chunk.set(whole.subarray(w, w + n), l));
}

/** whole[region] = chunk */
export function copyInto(whole: TypedArray, full: readonly number[], start: readonly number[], shape: readonly number[], chunk: TypedArray): void {
  forEachRun(full, start, shape, (w, l, n) => whole.set(chunk.subarray(l, l + n), w));
}
