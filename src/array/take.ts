/**
 * take: the elements at a list of indices along one axis (numpy.take, and x.get(..., [i, j, k], ...)).
 * Indices given as data (a JS array, an NDArray) are checked when the graph is built; an evenly spaced
 * list is a strided view (it stays fused). Other lists, and lazy indices (a ChunkedArray, checked when
 * computed), gather rows from the materialized input chunk by chunk (graph/nodes.ts TakeNode).
 */
import { invalid, show } from "../errors.js";
import { blockStarts, blockAt, maxBlock, type Chunks } from "../grid.js";
import { identityMap } from "../index-map.js";
import { newId, type Node, type TakeNode } from "../graph/nodes.js";
import { viewOf, type Derived } from "./views.js";

/** Indices: a JS array, an NDArray or a ChunkedArray of integers (1-d). */
export type TakeIndices = readonly number[] | { readonly shape: readonly number[]; readonly dtype: string };

interface LazyIndices {
  node: Node;
  chunks: number[][];
  shape: number[];
  dtype: string;
}

const isLazy = (v: unknown): v is LazyIndices => typeof v === "object" && v !== null && "numblocks" in v && "node" in v;

/** The indices as numbers, checked against the axis (negative ones count from the end). */
function staticIndices(v: unknown, n: number, axis: number): number[] {
  let list: ArrayLike<number>;
  if (Array.isArray(v)) list = v;
  else if (typeof v === "object" && v !== null && "data" in v && "shape" in v) {
    const a = v as { data: ArrayLike<number>; shape: number[]; dtype: string };
    if (a.shape.length !== 1) throw invalid("INDEX_ERROR", `take indices must be 1-d, got shape [${a.shape.join(", ")}]`);
    if (a.dtype === "bool") throw invalid("INDEX_ERROR", "boolean masks are not supported as indices; use where() or integer indices");
    list = a.data;
  } else throw invalid("INDEX_ERROR", `take indices ${show(v)} must be a 1-d list of integers, an NDArray or a ChunkedArray`);
  const out = new Array<number>(list.length);
  for (let i = 0; i < list.length; i++) {
    const x = list[i]!;
    if (typeof x !== "number" || !Number.isInteger(x)) throw invalid("INDEX_ERROR", `index ${show(x)} (position ${i}) on axis ${axis} must be an integer`);
    if (x < -n || x >= n) throw invalid("INDEX_ERROR", `index ${x} is out of bounds for axis ${axis} with size ${n}`);
    out[i] = x < 0 ? x + n : x;
  }
  return out;
}

export function takeOf(input: Node, chunks: Chunks, indices: unknown, axis: number): Derived {
  const n = input.shape[axis]!;
  const shapeWith = (len: number) => input.shape.map((s, d) => (d === axis ? len : s));
  if (isLazy(indices)) {
    if (indices.shape.length !== 1) throw invalid("INDEX_ERROR", `take indices must be 1-d, got shape [${indices.shape.join(", ")}]`);
    if (indices.dtype !== "int32") throw invalid("INDEX_ERROR", `lazy take indices must be int32, got ${indices.dtype}`);
    const outChunks = chunks.map((c, d) => (d === axis ? [...indices.chunks[0]!] : [...c]));
    const node: TakeNode = {
      kind: "take", id: newId(), input, inputChunks: chunks, axis, indices: null, indexNode: indices.node, indexChunks: indices.chunks[0]!,
      shape: shapeWith(indices.shape[0]!), dtype: input.dtype, chunks: outChunks,
    };
    return { node, chunksOf: () => outChunks };
  }
  const idx = staticIndices(indices, n, axis);
  // evenly spaced: a view (fused with its source, no copy)
  const step = idx.length > 1 ? idx[1]! - idx[0]! : 1;
  if (idx.length > 0 && step !== 0 && idx.every((v, i) => v === idx[0]! + i * step)) {
    const map = identityMap(input.shape.length);
    map.step[axis] = step;
    map.offset[axis] = idx[0]!;
    return viewOf(input, map, shapeWith(idx.length));
  }
  if (idx.length === 0) {
    const map = identityMap(input.shape.length);
    return viewOf(input, map, shapeWith(0));
  }
  const outChunks = chunks.map((c, d) => (d === axis ? takeBlocks(idx, c) : [...c]));
  const node: TakeNode = {
    kind: "take", id: newId(), input, inputChunks: chunks, axis, indices: idx, shape: shapeWith(idx.length), dtype: input.dtype, chunks: outChunks,
  };
  return { node, chunksOf: () => outChunks };
}

/**
 * Blocks of the result along the axis: runs of indices in one input block, merged up to the input's
 * largest block, so sorted indices give about the input's chunks and no block reads too many.
 */
function takeBlocks(idx: readonly number[], inBlocks: readonly number[]): number[] {
  const starts = blockStarts(inBlocks);
  const cap = Math.max(1, maxBlock(inBlocks));
  const out: number[] = [];
  let run = 0;
  let seen = new Set<number>();
  for (const i of idx) {
    const b = blockAt(starts, i);
    if (run > 0 && (run >= cap || (!seen.has(b) && seen.size >= 4))) {
      out.push(run);
      run = 0;
      seen = new Set();
    }
    seen.add(b);
    run++;
  }
  if (run > 0) out.push(run);
  return out;
}
