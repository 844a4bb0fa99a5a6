/**
 * Index maps: how the index of one array is computed from the index of another, axis by axis. Every view
 * (slices with steps, integer indexing, newaxis, transpose, flip, broadcasting) is such a map, and maps
 * compose, so a chain of views over a source is still one map: that is what keeps views fused.
 *
 * A map from a source index i (n axes) to a target index j (m axes):
 *   j_k = offset_k + step_k * i_{source_k}      (source_k = -1: j_k = offset_k, whatever i is)
 * Each target axis follows at most one source axis; several target axes may follow the same one (a
 * diagonal). A leaf module: the graph builds maps, plans carry them, workers turn them into strides.
 */

export interface IndexMap {
  /** per target axis: the source axis it follows, or -1 */
  source: number[];
  step: number[];
  offset: number[];
}

export const identityMap = (nd: number): IndexMap => ({
  source: Array.from({ length: nd }, (_, d) => d),
  step: new Array<number>(nd).fill(1),
  offset: new Array<number>(nd).fill(0),
});

/**
 * The map from an index of `outShape` to an index of an operand of `argShape` broadcast into it (numpy's
 * right alignment; axes of extent 1 where the result is longer repeat their one element).
 */
export function broadcastMap(argShape: readonly number[], outShape: readonly number[]): IndexMap {
  const lead = outShape.length - argShape.length;
  const m: IndexMap = { source: [], step: [], offset: [] };
  for (let k = 0; k < argShape.length; k++) {
    const d = k + lead;
    const stretched = argShape[k] === 1 && outShape[d] !== 1;
    m.source.push(stretched ? -1 : d);
    m.step.push(stretched ? 0 : 1);
    m.offset.push(0);
  }
  return m;
}

/** outer ∘ inner: first `inner` (source -> middle), then `outer` (middle -> target). */
export function composeMaps(outer: IndexMap, inner: IndexMap): IndexMap {
  const m: IndexMap = { source: [], step: [], offset: [] };
  for (let k = 0; k < outer.source.length; k++) {
    const mid = outer.source[k]!;
    if (mid < 0) {
      m.source.push(-1);
      m.step.push(0);
      m.offset.push(outer.offset[k]!);
      continue;
    }
    const src = inner.source[mid]!;
    const step = outer.step[k]! * inner.step[mid]!;
    m.offset.push(outer.offset[k]! + outer.step[k]! * inner.offset[mid]!);
    m.source.push(src < 0 || step === 0 ? -1 : src);
    m.step.push(src < 0 ? 0 : step);
  }
  return m;
}

export const isIdentity = (m: IndexMap): boolean =>
  m.source.every((s, k) => s === k) && m.step.every((s) => s === 1) && m.offset.every((o) => o === 0);

/** A stable text key of a map (memo keys, plan hashing). */
export const mapKey = (m: IndexMap): string => `${m.source.join(",")}/${m.step.join(",")}/${m.offset.join(",")}`;

/** The target index of source index i. */
export function applyMap(m: IndexMap, i: readonly number[]): number[] {
  return m.source.map((s, k) => m.offset[k]! + (s < 0 ? 0 : m.step[k]! * i[s]!));
}

/**
 * Strides per source axis of a linear function of the target index, sum_k w_k * j_k (w: element
 * strides of the target's memory, or of its flat index), and its value at source index 0.
 */
export function linearThrough(m: IndexMap, weights: readonly number[], nsource: number): { base: number; strides: number[] } {
  const strides = new Array<number>(nsource).fill(0);
  let base = 0;
  for (let k = 0; k < m.source.length; k++) {
    base += weights[k]! * m.offset[k]!;
    const s = m.source[k]!;
    if (s >= 0) strides[s] = strides[s]! + weights[k]! * m.step[k]!;
  }
  return { base, strides };
}
