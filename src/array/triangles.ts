/**
 * Arrays defined by where an element sits relative to a diagonal: eye, tril, triu, and the 2-d array
 * diag builds from a vector. Each is an expression of the column index minus the row index, which the
 * fused kernels compute from index slots (no materialized mask): `tril(x)` is `where(j - i <= k, x, 0)`
 * evaluated chunk by chunk, so it stays lazy and fuses with what comes before and after it.
 */
import { invalid } from "../errors.js";
import { newId, type ConcatNode, type Node } from "../graph/nodes.js";
import type { Chunks } from "../grid.js";
import type { DType } from "../dtype.js";
import { binaryNode, unaryNode, whereNode } from "./build.js";
import { largestBlock } from "./chunks.js";
import { integerOption } from "./views.js";

/** The value j - i at element (i, j) of an n x m matrix (float64, exact). */
export function diagonalIndex(n: number, m: number): Node {
  const rows: Node = { kind: "iota", id: newId(), shape: [n, 1], dtype: "float64" };
  const cols: Node = { kind: "iota", id: newId(), shape: [m], dtype: "float64" };
  return binaryNode("sub", cols, rows);
}

/** numpy.eye: ones on the k-th diagonal of an n x m matrix, zeros elsewhere. */
export function eyeNode(n: number, m: number, k: number, dtype: DType): Node {
  const on = binaryNode("eq", diagonalIndex(n, m), k);
  return dtype === "bool" ? on : unaryNode("astype", on, dtype);
}

/**
 * numpy.tril (lower: zeros above the k-th diagonal, j - i > k) and numpy.triu (upper: zeros below it,
 * j - i < k), on the last two axes (a stack of matrices is masked matrix by matrix). dtype preserved.
 */
export function triangleNode(x: Node, k: unknown, lower: boolean): Node {
  const fn = lower ? "tril" : "triu";
  const kk = integerOption(k, `${fn} k`);
  const nd = x.shape.length;
  if (nd < 2) throw invalid("INVALID_SHAPE", `${fn} requires an array of at least two dimensions, got shape [${x.shape.join(", ")}]`);
  const keep = binaryNode(lower ? "le" : "ge", diagonalIndex(x.shape[nd - 2]!, x.shape[nd - 1]!), kk);
  return whereNode(keep, x, zeroOf(x.dtype));
}

/** A 0 of dtype d (a number would make bool arrays int32, as numpy's where(c, bools, 0) does). */
const zeroOf = (d: DType): Node => ({ kind: "fill", id: newId(), shape: [], dtype: d, value: 0 });

/**
 * numpy.diag of a vector v of length n: the (n + |k|)-square matrix with v on its k-th diagonal. Element
 * (i, j) on that diagonal holds v[min(i, j)]; v is read through the row index (k >= 0) or the column index
 * (k < 0), padded with |k| zeros so that every row (column) reads inside it. Chunks: v's along the axis
 * that reads it, with the padding split like v's blocks; the other axis shifted by |k|, so the diagonal
 * crosses chunks where v's blocks end.
 */
export function diagFromVector(v: Node, vChunks: readonly number[], k: number): { node: Node; chunks: Chunks } {
  const n = v.shape[0]!;
  const pad = Math.abs(k);
  const size = n + pad;
  // the padding in blocks like v's (an empty v: blocks of a couple of thousand)
  const block = n === 0 ? Math.max(1, Math.min(pad, 2048)) : largestBlock(vChunks, 1);
  const padBlocks: number[] = [];
  for (let s = 0; s < pad; s += block) padBlocks.push(Math.min(block, pad - s));
  const vBlocks = n === 0 ? [] : [...vChunks];
  const along = [...vBlocks, ...padBlocks];
  const across = [...padBlocks, ...vBlocks];
  let padded: Node = v;
  if (pad > 0) {
    const zeros: Node = { kind: "fill", id: newId(), shape: [pad], dtype: v.dtype, value: 0 };
    const inputs = n === 0 ? [zeros] : [v, zeros];
    padded = { kind: "concat", id: newId(), inputs, axis: 0, shape: [size], dtype: v.dtype, chunks: [along] } satisfies ConcatNode;
  }
  // k >= 0: v' as a column [size, 1] (read by row); k < 0: as a row [size] (read by column)
  const read: Node = k >= 0 ? { kind: "view", id: newId(), input: padded, map: { source: [0], step: [1], offset: [0] }, shape: [size, 1], dtype: v.dtype } : padded;
  const node = whereNode(binaryNode("eq", diagonalIndex(size, size), k), read, zeroOf(v.dtype));
  const empty = (c: number[]) => (c.length ? c : [0]);
  return { node, chunks: k >= 0 ? [empty(along), empty(across)] : [empty(across), empty(along)] };
}
