/**
 * histogram and bincount, as numpy's (and dask's where a lazy array needs it): the counts are a fused
 * reduction whose partial per task is `bins` f64 counters (kernel HIST, numpy's bin of every value bit
 * for bit), summed in the fixed tree over block indices, so they are exact and the same for any chunking,
 * worker or rank count. `histogram(x.add(1))` reads x once and stores nothing else.
 *
 * - histogram(x, { bins, range, weights, density }) gives [counts, edges]: counts lazy for a ChunkedArray
 *   (as dask: a ChunkedArray whose compute() gives the NDArray), edges an NDArray, known at once. With
 *   integer bins a ChunkedArray needs `range` (dask's rule: numpy's range is the data's min and max, a
 *   pass of its own); an NDArray computes it, as numpy.
 * - bincount(x, { weights, minlength }): its length depends on max(x), so a ChunkedArray's result comes
 *   from a compute (a Promise of an NDArray): one pass for min and max, one for the counts.
 */
import { TesseraError, invalid, show } from "../errors.js";
import { newId, type ReduceNode } from "../graph/nodes.js";
import type { Chunks } from "../grid.js";
import { ChunkedArray } from "./chunked.js";
import { computeMany, type ComputeOptions } from "./compute.js";
import { computeEager } from "./eager.js";
import { binWidths, edgeBins, uniformBins, type Bins } from "./histogram-bins.js";
import { NDArray, fromRawResult } from "./ndarray.js";
import { checkOptions } from "./options.js";
import { sortPathUniques } from "./unique.js";

type AnyArray = ChunkedArray | NDArray;

/** Edges of explicit bins live in the kernel program's constants (64 KiB with everything else). */
export const MAX_EDGES = 4096;
/** The most memory a histogram's partials may hold at once (one counter per bin per task). */
export const MAX_PARTIAL_BYTES = 512 * 2 ** 20;

export interface HistogramOptions {
  /** the number of equal-width bins (default 10), or the bin edges (non-decreasing; the last bin is closed) */
  bins?: number | readonly number[] | NDArray;
  /** [lo, hi] of the equal-width bins; values outside are left out (required for a ChunkedArray with integer bins) */
  range?: readonly [number, number];
  /** an array of x's shape: each value counts its weight instead of 1 */
  weights?: AnyArray;
  /** counts / (bin width * total): a probability density */
  density?: boolean;
}

export interface BincountOptions extends ComputeOptions {
  weights?: AnyArray;
  /** at least this many bins (default 0) */
  minlength?: number;
}

const isArray = (a: unknown): a is AnyArray => a instanceof ChunkedArray || a instanceof NDArray;
const chunksOf = (a: AnyArray): Chunks => (a instanceof ChunkedArray ? a.chunks : a.shape.map((n) => [n]));
const blocksOf = (a: AnyArray) => chunksOf(a).reduce((p, c) => p * c.length, 1);

function checkWeights(w: unknown, x: AnyArray, fn: string): AnyArray | undefined {
  if (w === undefined) return undefined;
  if (!isArray(w)) throw invalid("INVALID_ARGUMENT", `${fn} weights ${show(w)} must be an array of x's shape`);
  if (w.shape.length !== x.shape.length || w.shape.some((n, d) => n !== x.shape[d])) {
    throw invalid("SHAPE_MISMATCH", `${fn} weights of shape [${w.shape.join(", ")}] must have x's shape [${x.shape.join(", ")}] (as numpy)`);
  }
  return w;
}

/** The number (a boolean of a bool array becomes 0 or 1). */
const num = (v: unknown) => (typeof v === "boolean" ? (v ? 1 : 0) : (v as number));

function binsOf(x: AnyArray, o: HistogramOptions): Bins {
  const bins = o.bins ?? 10;
  if (typeof bins === "number") {
    if (!Number.isInteger(bins) || bins < 1) throw invalid("INVALID_ARGUMENT", `histogram bins ${show(bins)} must be a positive integer or an array of edges`);
    let lo: number;
    let hi: number;
    let autodetected = false;
    if (o.range !== undefined) [lo, hi] = checkRange(o.range);
    else if (x instanceof ChunkedArray) {
      throw invalid(
        "INVALID_ARGUMENT",
        `histogram of a ChunkedArray with integer bins (${bins}) needs range: [lo, hi] (as dask.array.histogram): compute it first, e.g. const [lo, hi] = await compute(x.min(), x.max()), or give bins as an array of edges`,
      );
    } else if (x.size === 0) [lo, hi] = [0, 1]; // numpy's range for empty data
    else {
      lo = num(x.min());
      hi = num(x.max());
      autodetected = true;
      if (!Number.isFinite(lo) || !Number.isFinite(hi)) {
        throw invalid("INVALID_ARGUMENT", `histogram: the autodetected range of [${show(lo)}, ${show(hi)}] is not finite (as numpy); pass range`);
      }
    }
    return uniformBins(x.dtype, bins, { lo, hi, autodetected });
  }
  if (typeof bins === "string") throw invalid("INVALID_ARGUMENT", `histogram bins ${show(bins)}: bin estimators are not supported; give a number of bins or the edges`);
  let edges: Float64Array | Float32Array | Int32Array;
  let dtype: "float64" | "float32" | "int32" = "float64";
  if (bins instanceof NDArray) {
    if (bins.ndim !== 1) throw invalid("INVALID_ARGUMENT", `histogram bins of shape [${bins.shape.join(", ")}] must be 1-d edges`);
    if (bins.dtype === "float32" || bins.dtype === "int32") dtype = bins.dtype;
    edges = dtype === "float64" ? Float64Array.from(bins.data) : (bins.data.slice() as Float32Array | Int32Array);
  } else if (Array.isArray(bins) && bins.every((e) => typeof e === "number")) edges = Float64Array.from(bins);
  else throw invalid("INVALID_ARGUMENT", `histogram bins ${show(bins)} must be a positive integer or an array of edges`);
  if (edges.length < 2) throw invalid("INVALID_ARGUMENT", `histogram bins ${show(Array.from(edges))} must give at least two edges (one bin)`);
  if (edges.length > MAX_EDGES) throw invalid("TOO_LARGE", `histogram bins: ${edges.length} edges, more than the ${MAX_EDGES} a kernel holds; use integer bins with a range`);
  for (let i = 0; i < edges.length; i++) {
    if (Number.isNaN(edges[i])) throw invalid("INVALID_ARGUMENT", `histogram bins: edge ${i} is NaN`);
    if (i > 0 && edges[i]! < edges[i - 1]!) throw invalid("INVALID_ARGUMENT", `histogram bins must increase monotonically: edge ${i} (${show(edges[i])}) is below edge ${i - 1} (${show(edges[i - 1])})`);
  }
  return edgeBins(edges, dtype);
}

function checkRange(r: unknown): [number, number] {
  if (!Array.isArray(r) || r.length !== 2 || r.some((v) => typeof v !== "number")) throw invalid("INVALID_ARGUMENT", `histogram range ${show(r)} must be [lo, hi]`);
  const [lo, hi] = r as [number, number];
  if (lo > hi) throw invalid("INVALID_ARGUMENT", `histogram range ${show(r)}: lo must not be larger than hi`);
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) throw invalid("INVALID_ARGUMENT", `histogram range ${show(r)} is not finite`);
  return [lo, hi];
}

function checkPartials(bins: number, x: AnyArray, fn: string): void {
  const bytes = bins * blocksOf(x) * 8;
  if (bytes > MAX_PARTIAL_BYTES) {
    throw invalid("TOO_LARGE", `${fn}: ${bins} bins over ${blocksOf(x)} chunks hold ${bytes} bytes of partial counts, more than ${MAX_PARTIAL_BYTES}; use fewer bins or larger chunks`);
  }
}

/** The counts node: a reduction over every axis of x into `bins` counters. */
function countsNode(x: AnyArray, b: Bins, weights: AnyArray | undefined): ReduceNode {
  const nd = x.ndim;
  return {
    kind: "reduce",
    id: newId(),
    op: "histogram",
    input: x.node,
    inputChunks: chunksOf(x),
    axes: [...Array(nd).keys()],
    keepdims: false,
    ddof: 0,
    shape: [b.bins],
    dtype: "float64",
    hist: { bins: b.bins, params: b.params, ...(weights ? { weights: weights.node } : {}) },
  };
}

/** The counts as a lazy array when x or the weights are, else computed at once. */
function counts(x: AnyArray, b: Bins, weights: AnyArray | undefined): AnyArray {
  const node = countsNode(x, b, weights);
  if (x instanceof ChunkedArray || weights instanceof ChunkedArray) return new ChunkedArray(node, [[b.bins]]);
  const [r] = computeEager([{ node, chunks: [[b.bins]] }]);
  return fromRawResult(r!, "float64");
}

/** numpy.histogram: [counts, edges]. Counts are float64 (exact to 2^53; numpy: int64, or the weights' dtype). */
export function histogram(x: ChunkedArray, opts?: HistogramOptions): [ChunkedArray, NDArray];
export function histogram(x: NDArray, opts?: HistogramOptions): [NDArray, NDArray];
export function histogram(x: AnyArray, opts?: HistogramOptions): [AnyArray, NDArray] {
  if (!isArray(x)) throw invalid("INVALID_ARGUMENT", `histogram takes an array, got ${show(x)}`);
  const o = checkOptions<HistogramOptions>(opts, ["bins", "range", "weights", "density"], "histogram");
  if (o.density !== undefined && typeof o.density !== "boolean") throw invalid("INVALID_ARGUMENT", `histogram density ${show(o.density)} must be true or false`);
  const weights = checkWeights(o.weights, x, "histogram");
  const b = binsOf(x, o);
  checkPartials(b.bins, x, "histogram");
  let n = counts(x, b, weights);
  const edges = new NDArray(b.edges, [b.edges.length], b.edgesDType);
  if (o.density) {
    // numpy: n / db / n.sum()
    const db = new NDArray(binWidths(b), [b.bins], "float64");
    n = n instanceof ChunkedArray ? n.div(db).div(n.sum()) : n.div(db).div(n.sum() as number);
  }
  return [n, edges];
}

function checkBincount(x: unknown, opts: unknown): { x: AnyArray; o: BincountOptions; minlength: number; weights?: AnyArray } {
  if (!isArray(x)) throw invalid("INVALID_ARGUMENT", `bincount takes an array, got ${show(x)}`);
  const o = checkOptions<BincountOptions>(opts, ["weights", "minlength", "workers", "progress", "signal"], "bincount");
  if (x.dtype !== "int32" && x.dtype !== "bool") throw invalid("INVALID_DTYPE", `bincount counts non-negative integers; x is ${x.dtype} (astype("int32") first)`);
  if (x.ndim !== 1) throw invalid("INVALID_SHAPE", `bincount takes a 1-d array, x has shape [${x.shape.join(", ")}] (ravel() it first)`);
  const minlength = o.minlength ?? 0;
  if (!Number.isSafeInteger(minlength) || minlength < 0) throw invalid("INVALID_ARGUMENT", `bincount minlength ${show(minlength)} must be a non-negative integer`);
  const weights = checkWeights(o.weights, x, "bincount");
  return { x, o, minlength, ...(weights ? { weights } : {}) };
}

/** The bins of bincount: 0..length-1, each one integer wide (edges 0, 1, ... exactly). */
const unitBins = (length: number) => uniformBins("int32", length, { lo: 0, hi: length, autodetected: false });

function checkNonNegative(lo: number): void {
  if (lo < 0) throw invalid("INVALID_ARGUMENT", `bincount: x holds negative values (its minimum is ${lo}); numpy counts only non-negative integers`);
}

/**
 * numpy.bincount of a 1-d int32 (or bool) array: counts of 0, 1, ... max(x) (at least `minlength`), float64
 * (numpy: int64; with weights, float64 sums). An NDArray gives an NDArray; a ChunkedArray a Promise of one.
 */
export function bincount(x: NDArray, opts?: BincountOptions): NDArray;
export function bincount(x: ChunkedArray, opts?: BincountOptions): Promise<NDArray>;
export function bincount(x0: AnyArray, opts?: BincountOptions): NDArray | Promise<NDArray> {
  const { x, o, minlength, weights } = checkBincount(x0, opts);
  if (x instanceof NDArray && !(weights instanceof ChunkedArray)) {
    if (x.size === 0) return new NDArray(new Float64Array(minlength), [minlength], "float64");
    const lo = num(x.min());
    checkNonNegative(lo);
    const length = Math.max(minlength, num(x.max()) + 1);
    return counts(x, unitBins(length), weights) as NDArray;
  }
  const lazy = x instanceof ChunkedArray ? x : new ChunkedArray(x.node, chunksOf(x));
  return bincountLazy(lazy, weights, minlength, { workers: o.workers, progress: o.progress, signal: o.signal });
}

async function bincountLazy(x: ChunkedArray, weights: AnyArray | undefined, minlength: number, copts: ComputeOptions): Promise<NDArray> {
  if (x.size === 0) return new NDArray(new Float64Array(minlength), [minlength], "float64");
  const [lo, hi] = (await computeMany([x.min(), x.max()], copts)).map(num) as [number, number];
  checkNonNegative(lo);
  const length = Math.max(minlength, hi + 1);
  if (length * blocksOf(x) * 8 > MAX_PARTIAL_BYTES) {
    // too many counters per chunk: count the distinct values chunk by chunk instead (sorted, merged)
    if (weights) throw new TesseraError("TOO_LARGE", `bincount with weights: ${length} bins over ${blocksOf(x)} chunks need more than ${MAX_PARTIAL_BYTES} bytes of partial sums; use larger chunks`);
    const u = await sortPathUniques(x, copts);
    const out = new Float64Array(length);
    u.values.forEach((v, i) => (out[v] = u.counts[i]!));
    return new NDArray(out, [length], "float64");
  }
  const node = countsNode(x, unitBins(length), weights);
  const [r] = await computeMany([new ChunkedArray(node, [[length]])], copts);
  return r as NDArray;
}

