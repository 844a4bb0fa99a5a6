/**
 * unique (numpy.unique, with return_counts): the sorted distinct values and how often each occurs, for
 * int32, bool, float32 and float64 arrays (floats: every NaN counts as one value, sorted last, as numpy's
 * equal_nan). The result's length depends on the data, so a ChunkedArray's comes from a compute (a
 * Promise). Integers: a first pass for min and max; then, when the values span few integers, a fused
 * counting pass (the histogram kernel with one bin per integer: exact, nothing stored). Otherwise (and
 * for floats) every chunk's sorted distinct values and counts (a built-in block function in the
 * workers), merged here in a fixed tree. An NDArray's is computed at once.
 */
import { invalid, show } from "../errors.js";
import { newId, type MapBlocksNode } from "../graph/nodes.js";
import { mergeUniques, uniqueOf, uniqueRecord, type UniqueValues } from "../kernels/blockwise.js";
import { maxBlock } from "../grid.js";
import { ChunkedArray } from "./chunked.js";
import { computeMany, type ComputeOptions } from "./compute.js";
import { uniformBins } from "./histogram-bins.js";
import { NDArray } from "./ndarray.js";
import { checkOptions } from "./options.js";
import { slice } from "./selectors.js";

export interface UniqueOptions extends ComputeOptions {
  /** also give each value's count (float64) */
  returnCounts?: boolean;
}

export type UniqueResult = NDArray | [NDArray, NDArray];

/** The most memory the counting pass's partials may hold (one counter per integer of the span per chunk). */
const COUNTING_BYTES = 64 * 2 ** 20;

interface Uniques {
  values: UniqueValues;
  counts: Float64Array;
}

type UniqueDtype = "int32" | "bool" | "float32" | "float64";

const num = (v: unknown) => (typeof v === "boolean" ? (v ? 1 : 0) : (v as number));

function result(u: Uniques, dtype: UniqueDtype, returnCounts: boolean): UniqueResult {
  const n = u.values.length;
  const values =
    dtype === "bool" ? new NDArray(Uint8Array.from(u.values), [n], "bool")
    : dtype === "float64" ? new NDArray(Float64Array.from(u.values), [n], "float64")
    : dtype === "float32" ? new NDArray(Float32Array.from(u.values), [n], "float32")
    : new NDArray(Int32Array.from(u.values), [n], "int32");
  return returnCounts ? [values, new NDArray(u.counts, [u.counts.length], "float64")] : values;
}

/** numpy.unique(x, return_counts) of an int32, bool, float32 or float64 array: an NDArray (a Promise of one for a ChunkedArray). */
export function unique(x: NDArray, opts?: UniqueOptions): UniqueResult;
export function unique(x: ChunkedArray, opts?: UniqueOptions): Promise<UniqueResult>;
export function unique(x: ChunkedArray | NDArray, opts?: UniqueOptions): UniqueResult | Promise<UniqueResult> {
  if (!(x instanceof ChunkedArray) && !(x instanceof NDArray)) throw invalid("INVALID_ARGUMENT", `unique takes an array, got ${show(x)}`);
  const o = checkOptions<UniqueOptions>(opts, ["returnCounts", "workers", "progress", "signal"], "unique");
  const returnCounts = o.returnCounts ?? false;
  if (typeof returnCounts !== "boolean") throw invalid("INVALID_ARGUMENT", `unique returnCounts ${show(returnCounts)} must be true or false`);
  const dtype = x.dtype;
  if (dtype !== "int32" && dtype !== "bool" && dtype !== "float32" && dtype !== "float64") throw invalid("INVALID_DTYPE", `unique takes int32, bool, float32 or float64 arrays; x is ${dtype}`);
  if (x instanceof NDArray) return result(uniqueOf(x.data), dtype, returnCounts);
  return uniquesOf(x, { workers: o.workers, progress: o.progress, signal: o.signal }).then((u) => result(u, dtype, returnCounts));
}

async function uniquesOf(x: ChunkedArray, copts: ComputeOptions): Promise<Uniques> {
  if (x.size === 0) return { values: new Int32Array(0), counts: new Float64Array(0) };
  if (x.dtype === "float32" || x.dtype === "float64") return sortPathUniques(x, copts);
  const [lo, hi] = (await computeMany([x.min(), x.max()], copts)).map(num) as [number, number];
  const span = hi - lo + 1;
  const blocks = x.numblocks.reduce((a, b) => a * b, 1);
  if (span * blocks * 8 > COUNTING_BYTES) return sortPathUniques(x, copts);
  // one bin per integer lo..hi: bin i counts lo + i exactly
  const b = uniformBins("int32", span, { lo, hi: hi + 1, autodetected: false });
  const node = { kind: "reduce", id: newId(), op: "histogram", input: x.node, inputChunks: x.chunks, axes: [...Array(x.ndim).keys()], keepdims: false, ddof: 0, shape: [span], dtype: "float64", hist: { bins: span, params: b.params } } as const;
  const [r] = await computeMany([new ChunkedArray(node, [[span]])], copts);
  const c = (r as NDArray).data as Float64Array;
  let u = 0;
  for (let i = 0; i < span; i++) if (c[i]! > 0) u++;
  const values = new Int32Array(u);
  const counts = new Float64Array(u);
  for (let i = 0, j = 0; i < span; i++) {
    if (c[i]! > 0) {
      values[j] = lo + i;
      counts[j++] = c[i]!;
    }
  }
  return { values, counts };
}

/** The most memory one compute of the per-chunk records may return (they are merged group by group; tests lower it). */
export const recordLimits = { groupBytes: 256 * 2 ** 20 };

/**
 * Every chunk's sorted distinct values and counts (the "unique" block function: a record [u, values,
 * counts] per chunk, in a block of 2 * (largest chunk) + 1 int32 along the last axis), merged in C order of
 * the chunks. The records are computed a group of block rows at a time (a slice of the records runs the
 * block function on those blocks only), so at most recordLimits.groupBytes of them are held at once.
 */
export async function sortPathUniques(x: ChunkedArray, copts: ComputeOptions): Promise<Uniques> {
  if (x.ndim === 0) return uniqueOf([num(await x.compute(copts))]);
  const nb = x.numblocks;
  const nd = x.ndim;
  const record = 2 * x.chunks.reduce((a, c) => a * maxBlock(c), 1) + 1;
  const chunks = nb.map((n, d) => new Array<number>(n).fill(d === nd - 1 ? record : 1));
  const shape = chunks.map((c) => c.reduce((a, b) => a + b, 0));
  // float data keeps float64 records (a float32 value, and a count, is exact in one)
  const float = x.dtype === "float32" || x.dtype === "float64";
  const node: MapBlocksNode = { kind: "mapBlocks", id: newId(), input: x.node, inputChunks: x.chunks, chunks, fn: "builtin:unique", args: [], shape, dtype: float ? "float64" : "int32" };
  const records = new ChunkedArray(node, chunks);
  // a block row: the blocks with one index along axis 0 (in a 1-d array, one block of `record` elements)
  const perRow = nd === 1 ? 1 : nb.slice(1).reduce((a, b) => a * b, 1);
  const rowsPerGroup = Math.max(1, Math.floor(recordLimits.groupBytes / (perRow * record * (float ? 8 : 4))));
  const along = nd === 1 ? record : 1;
  let merged: Uniques = { values: new Int32Array(0), counts: new Float64Array(0) };
  for (let r0 = 0; r0 < nb[0]!; r0 += rowsPerGroup) {
    const r1 = Math.min(nb[0]!, r0 + rowsPerGroup);
    const part = await records.get(slice(r0 * along, r1 * along)).compute(copts);
    const data = (part as NDArray).data as UniqueValues;
    const rowLen = nd === 1 ? record : shape[nd - 1]!;
    const parts: Uniques[] = [merged];
    // blocks in C order: per block row, the leading block axes' rows of the records, then along the last axis
    for (let k = 0; k < (r1 - r0) * perRow; k++) {
      const row = nd === 1 ? k : Math.floor(k / nb[nd - 1]!);
      const col = nd === 1 ? 0 : k % nb[nd - 1]!;
      parts.push(uniqueRecord(data, row * rowLen + col * record));
    }
    merged = mergeUniques(parts);
  }
  return merged;
}
