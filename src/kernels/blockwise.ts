/**
 * Block kernels for selection: plain-JS tasks that a plan names (a mapBlocks layer whose fn is
 * "builtin:<name>"), run on a chunk in a worker; the eager NDArray path runs the same functions on whole arrays.
 *
 * - topk: along an axis, the |k| largest elements (k > 0, largest first) or smallest (k < 0, smallest
 *   first), dask.array.topk's result; with their indices for argtopk. Order: a total order on values
 *   (-inf < ... < -0 < +0 < ... < inf < NaN, so NaN counts as the largest, as numpy's sort puts it last),
 *   ties by the lower index: one result for any chunking and worker count.
 * - unique: a block's sorted distinct values (int32, or float64 for float data) and their counts.
 */
import type { TypedArray } from "../dtype.js";

/** Ascending total order: -1, 0 or 1. */
export function compareTotal(a: number, b: number): number {
  if (a < b) return -1;
  if (a > b) return 1;
  if (a === b) {
    if (a !== 0) return 0;
    const na = Object.is(a, -0);
    return na === Object.is(b, -0) ? 0 : na ? -1 : 1;
  }
  const an = a !== a;
  return an === (b !== b) ? 0 : an ? 1 : -1;
}

/** Is candidate (a, ia) before (b, ib) in topk's result order (largest first for k > 0)? */
const before = (largest: boolean, a: number, ia: number, b: number, ib: number): boolean => {
  const c = compareTotal(a, b);
  return c === 0 ? ia < ib : largest ? c > 0 : c < 0;
};

/**
 * The best `kk` of m candidates (values v[j], indices ix[j]) in result order: a heap whose root is the
 * worst kept candidate, O(m log kk). Returns the chosen candidate positions, best first.
 */
function selectBest(v: Float64Array, ix: Float64Array, m: number, kk: number, largest: boolean, heap: Int32Array): Int32Array {
  let size = 0;
  // heap order: a parent is worse than (after) its children
  const worse = (p: number, q: number) => before(largest, v[q]!, ix[q]!, v[p]!, ix[p]!);
  const siftDown = (at: number) => {
    for (;;) {
      const l = 2 * at + 1;
      if (l >= size) return;
      let w = l;
      if (l + 1 < size && worse(heap[l + 1]!, heap[l]!)) w = l + 1;
      if (!worse(heap[w]!, heap[at]!)) return;
      const t = heap[w]!;
      heap[w] = heap[at]!;
      heap[at] = t;
      at = w;
    }
  };
  for (let j = 0; j < m; j++) {
    if (size < kk) {
      let at = size++;
      heap[at] = j;
      while (at > 0) {
        const p = (at - 1) >> 1;
        if (!worse(heap[at]!, heap[p]!)) break;
        const t = heap[p]!;
        heap[p] = heap[at]!;
        heap[at] = t;
        at = p;
      }
    } else if (before(largest, v[j]!, ix[j]!, v[heap[0]!]!, ix[heap[0]!]!)) {
      heap[0] = j;
      siftDown(0);
    }
  }
  const out = Int32Array.from(heap.subarray(0, size));
  out.sort((p, q) => (before(largest, v[p]!, ix[p]!, v[q]!, ix[q]!) ? -1 : 1));
  return out;
}

/** A chunk seen around an axis: [before, m, after] (C order). */
const around = (shape: readonly number[], axis: number) => ({
  outer: shape.slice(0, axis).reduce((a, b) => a * b, 1),
  m: shape[axis]!,
  inner: shape.slice(axis + 1).reduce((a, b) => a * b, 1),
});

export interface TopkArgs {
  k: number;
  axis: number;
  /**
   * "partial": out holds, per lane, the block's best min(|k|, m) values then their global indices (float64);
   * "values" / "indices": the final result along the axis (the input's dtype / int32)
   */
  out: "partial" | "values" | "indices";
  /** merge stage: the input along the axis is partial segments of these lengths (values and indices each) */
  segments?: number[];
}

/**
 * topk of one block (or of the partials of every block along the axis, merged): `offset` is the block's
 * global start along the axis (candidates' indices), `input`/`output` C-order data of the two shapes.
 */
export function topkBlock(input: TypedArray, inShape: readonly number[], output: TypedArray, outShape: readonly number[], offset: number, a: TopkArgs): void {
  const { outer, m, inner } = around(inShape, a.axis);
  const kk = Math.abs(a.k);
  const largest = a.k > 0;
  // candidates of one lane: from the block itself, or from the partial segments
  const segs = a.segments;
  const count = segs ? segs.reduce((s, n) => s + n, 0) : m;
  const v = new Float64Array(count);
  const ix = new Float64Array(count);
  const heap = new Int32Array(Math.min(kk, count));
  const om = outShape[a.axis]!;
  for (let p = 0; p < outer; p++) {
    for (let q = 0; q < inner; q++) {
      const base = p * m * inner + q;
      if (segs) {
        let at = 0;
        let c = 0;
        for (const n of segs) {
          for (let j = 0; j < n; j++, c++) {
            v[c] = input[base + (at + j) * inner]!;
            ix[c] = input[base + (at + n + j) * inner]!;
          }
          at += 2 * n;
        }
      } else {
        for (let j = 0; j < m; j++) {
          v[j] = input[base + j * inner]!;
          ix[j] = offset + j;
        }
      }
      const best = selectBest(v, ix, count, kk, largest, heap);
      const ob = p * om * inner + q;
      const n = best.length;
      for (let j = 0; j < n; j++) {
        const b = best[j]!;
        if (a.out === "indices") output[ob + j * inner] = ix[b]!;
        else output[ob + j * inner] = v[b]!;
        if (a.out === "partial") output[ob + (n + j) * inner] = ix[b]!;
      }
    }
  }
}

/** Distinct values: int32 for integer and bool data, float64 for float data (a float32 value is exact in it). */
export type UniqueValues = Int32Array | Float64Array;

/** Equal for unique: the same number, or both NaN (numpy's equal_nan: every NaN is one value, sorted last). */
const same = (a: number, b: number) => a === b || (a !== a && b !== b);
/** Sorted order for unique: numbers ascending, NaN after every number. */
const sortsBefore = (a: number, b: number) => a <= b || b !== b;

/** The sorted distinct values of a block and their counts (integer data as int32, float data as float64). */
export function uniqueOf(data: ArrayLike<number>): { values: UniqueValues; counts: Float64Array } {
  const float = data instanceof Float64Array || data instanceof Float32Array;
  const s: UniqueValues = float ? Float64Array.from(data) : Int32Array.from(data);
  s.sort(); // typed arrays sort numerically, NaN last
  let u = 0;
  for (let i = 0; i < s.length; i++) if (i === 0 || !same(s[i]!, s[i - 1]!)) u++;
  const values: UniqueValues = float ? new Float64Array(u) : new Int32Array(u);
  const counts = new Float64Array(u);
  let j = -1;
  for (let i = 0; i < s.length; i++) {
    if (i === 0 || !same(s[i]!, s[i - 1]!)) values[++j] = s[i]!;
    counts[j]!++;
  }
  return { values, counts };
}

/** unique of one block into its record: [u, values (u), counts (u)] in an output (int32 or float64, as the values) of at least 2n + 1. */
export function uniqueBlock(input: TypedArray, output: TypedArray): void {
  const { values, counts } = uniqueOf(input);
  const u = values.length;
  output[0] = u;
  output.set(values, 1);
  output.set(counts, 1 + u);
}

/** Reads a block record written by uniqueBlock at `at`. */
export function uniqueRecord(data: UniqueValues, at: number): { values: UniqueValues; counts: Float64Array } {
  const u = data[at]!;
  return { values: data.subarray(at + 1, at + 1 + u), counts: Float64Array.from(data.subarray(at + 1 + u, at + 1 + 2 * u)) };
}

/** Merges sorted (values, counts) lists, summing the counts of equal values, in a fixed tree over the list order. */
export function mergeUniques(parts: readonly { values: UniqueValues; counts: Float64Array }[]): { values: UniqueValues; counts: Float64Array } {
  if (parts.length === 0) return { values: new Int32Array(0), counts: new Float64Array(0) };
  if (parts.length === 1) return parts[0]!;
  const mid = parts.length >> 1;
  const a = mergeUniques(parts.slice(0, mid));
  const b = mergeUniques(parts.slice(mid));
  const float = a.values instanceof Float64Array || b.values instanceof Float64Array;
  const size = a.values.length + b.values.length;
  const values: UniqueValues = float ? new Float64Array(size) : new Int32Array(size);
  const counts = new Float64Array(size);
  let i = 0;
  let j = 0;
  let n = 0;
  while (i < a.values.length || j < b.values.length) {
    const take = j >= b.values.length || (i < a.values.length && sortsBefore(a.values[i]!, b.values[j]!)) ? 0 : 1;
    const val = take === 0 ? a.values[i]! : b.values[j]!;
    const cnt = take === 0 ? a.counts[i++]! : b.counts[j++]!;
    if (n > 0 && same(values[n - 1]!, val)) counts[n - 1]! += cnt;
    else {
      values[n] = val;
      counts[n++] = cnt;
    }
  }
  return { values: values.slice(0, n), counts: counts.slice(0, n) };
}

/** A chunk as a block kernel gets it: its data (C order), shape, and where it starts in its array. */
export interface Block {
  data: TypedArray;
  shape: readonly number[];
  start?: readonly number[];
}

/** The block kernels by name: mapBlocks layers whose fn is "builtin:<name>" run them on the chunks in place. */
export const SELECT_BLOCK_KERNELS: Record<string, (input: Block, output: Block, args: readonly unknown[]) => void> = {
  topk: (input, output, args) => {
    const a = args[0] as TopkArgs;
    topkBlock(input.data, input.shape, output.data, output.shape, input.start?.[a.axis] ?? 0, a);
  },
  unique: (input, output) => uniqueBlock(input.data, output.data),
};
