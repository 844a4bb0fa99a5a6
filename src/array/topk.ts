/**
 * topk and argtopk, as dask.array's: along an axis, the k largest elements, largest first (k < 0: the |k|
 * smallest, smallest first), or their indices (int32; dask: intp). As dask, per chunk first (the block
 * function "topk" keeps each chunk's best |k| with their indices), then one merge of those along the axis:
 * the merged candidates are all of a lane's, so the result is the same for any chunking and worker count.
 * Order (kernels/blockwise.ts): NaN counts as the largest value (numpy's sort puts it last), -0 before +0,
 * equal values by the lower index (dask leaves ties unspecified).
 */
import { invalid, show } from "../errors.js";
import { newId, type MapBlocksNode, type Node } from "../graph/nodes.js";
import type { Chunks } from "../grid.js";
import type { DType } from "../dtype.js";
import { topkBlock, type TopkArgs } from "../kernels/blockwise.js";
import { ChunkedArray } from "./chunked.js";
import { NDArray } from "./ndarray.js";
import { checkOptions } from "./options.js";
import { typedArrayFor } from "../dtype.js";
import { axisOf } from "./views.js";

export interface TopkOptions {
  /** the axis to select along (default -1, the last) */
  axis?: number;
}

function checkTopk(fn: string, x: unknown, k: unknown, opts: unknown): { x: ChunkedArray | NDArray; k: number; axis: number } {
  if (!(x instanceof ChunkedArray) && !(x instanceof NDArray)) throw invalid("INVALID_ARGUMENT", `${fn} takes an array, got ${show(x)}`);
  const o = checkOptions<TopkOptions>(opts, ["axis"], fn);
  if (x.ndim === 0) throw invalid("INVALID_AXIS", `${fn} of a 0-d array: it has no axis`);
  const axis = axisOf(o.axis ?? -1, x.ndim, `${fn} axis`);
  const n = x.shape[axis]!;
  if (typeof k !== "number" || !Number.isInteger(k) || k === 0) throw invalid("INVALID_ARGUMENT", `${fn} k ${show(k)} must be a non-zero integer (negative: the smallest)`);
  if (Math.abs(k) > n) throw invalid("INVALID_ARGUMENT", `${fn} k ${k} is larger than axis ${axis} (length ${n})`);
  return { x, k, axis };
}

function blockwise(input: Node, inputChunks: Chunks, chunks: Chunks, dtype: DType, args: TopkArgs): ChunkedArray {
  const shape = chunks.map((c) => c.reduce((a, b) => a + b, 0));
  const node: MapBlocksNode = { kind: "mapBlocks", id: newId(), input, inputChunks, chunks, fn: "builtin:topk", args: [args], shape, dtype };
  return new ChunkedArray(node, chunks);
}

function select(fn: string, x0: unknown, k0: unknown, opts: unknown, indices: boolean): ChunkedArray | NDArray {
  const { x, k, axis } = checkTopk(fn, x0, k0, opts);
  const kk = Math.abs(k);
  const out = indices ? "indices" : "values";
  const dtype: DType = indices ? "int32" : x.dtype;
  if (x instanceof NDArray) {
    const shape = x.shape.map((n, d) => (d === axis ? kk : n));
    const data = typedArrayFor(dtype, shape.reduce((a, b) => a * b, 1));
    topkBlock(x.data, x.shape, data, shape, 0, { k, axis, out });
    return new NDArray(data, shape, dtype);
  }
  const chunks = x.chunks;
  const along = chunks[axis]!;
  const final = chunks.map((c, d) => (d === axis ? [kk] : c));
  if (along.length === 1) return blockwise(x.node, chunks, final, dtype, { k, axis, out });
  // each chunk's best min(|k|, m) with their indices (float64), then all of a lane's merged in one chunk
  const segments = along.map((m) => Math.min(kk, m));
  const partial = blockwise(x.node, chunks, chunks.map((c, d) => (d === axis ? segments.map((s) => 2 * s) : c)), "float64", { k, axis, out: "partial" });
  const merged = partial.rechunk(chunks.map((c, d) => (d === axis ? [2 * segments.reduce((a, b) => a + b, 0)] : c)));
  return blockwise(merged.node, merged.chunks, final, dtype, { k, axis, out, segments });
}

/** dask.array.topk: the k largest along `axis`, largest first (k < 0: the |k| smallest, smallest first). */
export function topk(x: ChunkedArray, k: number, opts?: TopkOptions): ChunkedArray;
export function topk(x: NDArray, k: number, opts?: TopkOptions): NDArray;
export function topk(x: ChunkedArray | NDArray, k: number, opts?: TopkOptions): ChunkedArray | NDArray {
  return select("topk", x, k, opts, false);
}

/** dask.array.argtopk: the int32 indices along `axis` of topk's elements, in topk's order. */
export function argtopk(x: ChunkedArray, k: number, opts?: TopkOptions): ChunkedArray;
export function argtopk(x: NDArray, k: number, opts?: TopkOptions): NDArray;
export function argtopk(x: ChunkedArray | NDArray, k: number, opts?: TopkOptions): ChunkedArray | NDArray {
  return select("argtopk", x, k, opts, true);
}
