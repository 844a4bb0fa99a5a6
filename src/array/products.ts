/**
 * The product functions of the package: matmul, dot, tensordot, outer (and einsum in einsum.ts). With a
 * ChunkedArray among the operands the result is lazy, with dask's chunks; with NDArrays only it is
 * computed at once, as other NDArray operations are.
 */
import { invalid, show } from "../errors.js";
import { ChunkedArray, chunkedOperand } from "./chunked.js";
import { dotOf, outerOf, tensordotAxes, tensordotOf } from "./contract.js";
import { computeEager } from "./eager.js";
import type { Chunked } from "./matmul.js";
import { matmulOf } from "./matmul.js";
import { NDArray, fromRawResult } from "./ndarray.js";

export type ArrayLike = ChunkedArray | NDArray;

/** The result as the operands ask: lazy if any of them is, else computed now. */
export function resultOf(r: Chunked, operands: readonly unknown[]): ChunkedArray | NDArray | number | boolean {
  if (operands.some((o) => o instanceof ChunkedArray)) return new ChunkedArray(r.node, r.chunks);
  const [v] = computeEager([{ node: r.node, chunks: r.node.shape.map((n) => [n]) }]);
  // a 0-d result of whole arrays (an inner product) is a number, as numpy's scalar
  if (typeof v !== "object") return v!;
  return fromRawResult(v!, r.node.dtype);
}

/** numpy.matmul(a, b) (Python's a @ b): see ChunkedArray.matmul. */
export function matmul(a: ArrayLike, b: ArrayLike): ChunkedArray | NDArray | number {
  return resultOf(matmulOf(chunkedOperand(a, "matmul"), chunkedOperand(b, "matmul")), [a, b]) as ChunkedArray | NDArray | number;
}

/**
 * numpy.dot(a, b): matrix products for 2-d operands, the inner product of 1-d ones, a sum over a's last
 * axis and b's second-to-last otherwise, a product with a number.
 */
export function dot(a: ArrayLike | number, b: ArrayLike | number): ChunkedArray | NDArray | number {
  if (typeof a === "number" && typeof b === "number") throw invalid("INVALID_ARGUMENT", `dot takes at least one array, got ${show(a)} and ${show(b)}`);
  if (typeof a === "number" || typeof b === "number") {
    const arr = (typeof a === "number" ? b : a) as ArrayLike;
    return arr.mul((typeof a === "number" ? a : b) as number) as ChunkedArray | NDArray;
  }
  return resultOf(dotOf(chunkedOperand(a, "dot"), chunkedOperand(b, "dot")), [a, b]) as ChunkedArray | NDArray | number;
}

/**
 * numpy.tensordot(a, b, { axes }): the sum of products over `axes` (an integer n: a's last n axes with
 * b's first n, default 2; or [axesOfA, axesOfB]); the result has a's remaining axes, then b's.
 */
export function tensordot(a: ArrayLike, b: ArrayLike, opts: { axes?: number | [number | number[], number | number[]] } = {}): ChunkedArray | NDArray | number {
  if (opts === null || typeof opts !== "object") throw invalid("INVALID_ARGUMENT", `tensordot options ${show(opts)} must be an object`);
  for (const k of Object.keys(opts)) if (k !== "axes") throw invalid("INVALID_ARGUMENT", `tensordot has no option ${show(k)}; it takes axes`);
  const x = chunkedOperand(a, "tensordot");
  const y = chunkedOperand(b, "tensordot");
  const [ax, bx] = tensordotAxes(opts.axes, x.node.shape.length, y.node.shape.length);
  return resultOf(tensordotOf(x, y, ax, bx), [a, b]) as ChunkedArray | NDArray | number;
}

/** numpy.outer(a, b): the flattened a as a column times the flattened b as a row. */
export function outer(a: ArrayLike, b: ArrayLike): ChunkedArray | NDArray {
  return resultOf(outerOf(chunkedOperand(a, "outer"), chunkedOperand(b, "outer")), [a, b]) as ChunkedArray | NDArray;
}
