/**
 * Top-level functions that take either kind of array (numpy's functions of an array: tril, diag,
 * linalg.norm...): lazy for a ChunkedArray, computed at once for an NDArray, as the methods are.
 */
import { invalid, show } from "../errors.js";
import type { Node } from "../graph/nodes.js";
import type { Chunks } from "../grid.js";
import { ChunkedArray } from "./chunked.js";
import { computeEager } from "./eager.js";
import { NDArray, fromRawResult } from "./ndarray.js";

export type AnyArray = ChunkedArray | NDArray;

/** x, checked to be an array; `what` names it in the message ("tril input"). */
export function checkArray(x: unknown, what: string): AnyArray {
  if (x instanceof ChunkedArray || x instanceof NDArray) return x;
  throw invalid("INVALID_ARGUMENT", `${what} ${show(x)} is not an array (a ChunkedArray or an NDArray; fromArray makes one)`);
}

/** The chunks x is computed on (an NDArray is one block). */
export const chunksOfArray = (x: AnyArray): Chunks => (x instanceof ChunkedArray ? x.chunks : x.shape.map((n) => [n]));

/** A node built from x on x's chunks, as an array of x's kind. */
export function arrayResult(x: AnyArray, build: (chunks: Chunks) => { node: Node; chunks: Chunks }): ChunkedArray | NDArray {
  const r = build(chunksOfArray(x));
  if (x instanceof ChunkedArray) return new ChunkedArray(r.node, r.chunks);
  const [v] = computeEager([{ node: r.node, chunks: r.node.shape.map((n) => [n]) }]);
  return fromRawResult(v!, r.node.dtype);
}

/** A reduction-shaped result built from x: an NDArray's full result is a number, as its reductions give. */
export function reductionResult(x: AnyArray, build: (chunks: Chunks) => { node: Node; chunks: Chunks }): ChunkedArray | NDArray | number | boolean {
  const r = build(chunksOfArray(x));
  if (x instanceof ChunkedArray) return new ChunkedArray(r.node, r.chunks);
  const [v] = computeEager([{ node: r.node, chunks: r.node.shape.map((n) => [n]) }]);
  return typeof v === "object" ? fromRawResult(v) : v!;
}
