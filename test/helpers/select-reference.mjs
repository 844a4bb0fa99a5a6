/**
 * Naive oracles for histogram, bincount, topk / argtopk and unique over flat JS arrays, written from
 * numpy's and dask's definitions (numpy 1.24 lib/histograms.py for the bins, with its value-based casting
 * of the scalars), one element at a time. Nothing here shares code with src/.
 */

const F32_MAX = 3.4028234663852886e38;
/** numpy 1.x: a float scalar meets a float32 array in float32 arithmetic when its magnitude fits float32. */
const fitsF32 = (v) => !(Number.isFinite(v) && Math.abs(v) > F32_MAX);
const f32 = Math.fround;

/** np.linspace(first, last, n + 1) (float64), cast to the bin dtype. */
function linspace(first, last, n, binF32) {
  const delta = last - first;
  const step = delta / n;
  const out = [];
  for (let i = 0; i <= n; i++) {
    let y = step === 0 ? (i / n) * delta : i * step;
    y += first;
    if (i === n) y = last;
    out.push(binF32 ? f32(y) : y);
  }
  return out;
}

/**
 * numpy.histogram(values, bins, range, weights) of flat `values` of `dtype` (bool as 0/1).
 * Returns { counts: number[], edges: number[], edgesDType }.
 */
export function histogram(values, dtype, { bins = 10, range, weights } = {}) {
  if (Array.isArray(bins)) {
    // cumulative counts through searchsorted: left for every edge but the last, right for the last
    const e = bins;
    const n = e.length - 1;
    const cum = e.map((edge, j) => {
      let c = 0;
      values.forEach((v, i) => {
        if (j < n ? v < edge : v <= edge) c += weights ? weights[i] : 1;
      });
      return c;
    });
    return { counts: cum.slice(1).map((c, j) => c - cum[j]), edges: [...e], edgesDType: "float64" };
  }
  let first;
  let last;
  let kind = "python";
  if (range) [first, last] = range;
  else if (values.length === 0) [first, last] = [0, 1];
  else {
    first = values.reduce((a, v) => (Number.isNaN(a) || Number.isNaN(v) ? NaN : Math.min(a, v)), Infinity);
    last = values.reduce((a, v) => (Number.isNaN(a) || Number.isNaN(v) ? NaN : Math.max(a, v)), -Infinity);
    if (!Number.isFinite(first) || !Number.isFinite(last)) throw new Error("autodetected range is not finite");
    kind = dtype; // numpy scalars of the data's dtype
  }
  if (first === last) {
    first -= 0.5;
    last += 0.5;
    kind = "python";
  }
  const binF32 = dtype === "float32" && fitsF32(first) && fitsF32(last);
  const edges = linspace(first, last, bins, binF32);
  const width = kind === "float32" ? f32(last - first) : last - first;
  const norm = bins / width;
  const lo = dtype === "float32" && fitsF32(first) ? f32(first) : first;
  const hi = dtype === "float32" && fitsF32(last) ? f32(last) : last;
  const counts = new Array(bins).fill(0);
  values.forEach((v, j) => {
    if (!(v >= lo && v <= hi)) return;
    const t = binF32 ? f32(v - f32(first)) : v - first;
    const f = binF32 && fitsF32(norm) ? f32(t * f32(norm)) : t * norm;
    let i = Math.trunc(f);
    if (i === bins) i -= 1;
    if (v < edges[i]) i -= 1;
    else if (v >= edges[i + 1] && i !== bins - 1) i += 1;
    counts[i] += weights ? weights[j] : 1;
  });
  return { counts, edges, edgesDType: binF32 ? "float32" : "float64" };
}

/** numpy.bincount. */
export function bincount(values, { minlength = 0, weights } = {}) {
  const n = Math.max(minlength, values.length ? Math.max(...values) + 1 : 0);
  const out = new Array(n).fill(0);
  values.forEach((v, i) => (out[v] += weights ? weights[i] : 1));
  return out;
}

/** Total order: -inf ... -0 < +0 ... inf < NaN. */
function key(v) {
  if (Number.isNaN(v)) return [2, 0, 0];
  if (v === 0) return [1, 0, Object.is(v, -0) ? -1 : 0];
  return [1, v, 0];
}
function cmp(a, b) {
  const ka = key(a);
  const kb = key(b);
  for (let i = 0; i < 3; i++) {
    if (ka[i] < kb[i]) return -1;
    if (ka[i] > kb[i]) return 1;
  }
  return 0;
}

/**
 * dask's topk / argtopk along `axis` of { data, shape }: per lane, every element sorted (largest first for
 * k > 0, smallest first for k < 0; equal values by index), the first |k|. Returns { values, indices, shape }.
 */
export function topk(a, k, axis = -1) {
  const nd = a.shape.length;
  const ax = axis < 0 ? axis + nd : axis;
  const outer = a.shape.slice(0, ax).reduce((x, y) => x * y, 1);
  const m = a.shape[ax];
  const inner = a.shape.slice(ax + 1).reduce((x, y) => x * y, 1);
  const kk = Math.abs(k);
  const shape = a.shape.map((s, d) => (d === ax ? kk : s));
  const values = new Array(outer * kk * inner);
  const indices = new Array(outer * kk * inner);
  for (let p = 0; p < outer; p++) {
    for (let q = 0; q < inner; q++) {
      const lane = Array.from({ length: m }, (_, j) => ({ v: a.data[(p * m + j) * inner + q], j }));
      lane.sort((x, y) => (k > 0 ? cmp(y.v, x.v) : cmp(x.v, y.v)) || x.j - y.j);
      for (let j = 0; j < kk; j++) {
        values[(p * kk + j) * inner + q] = lane[j].v;
        indices[(p * kk + j) * inner + q] = lane[j].j;
      }
    }
  }
  return { values, indices, shape };
}

/** numpy.unique(values, return_counts=True). */
export function unique(values) {
  const m = new Map();
  for (const v of values) m.set(v, (m.get(v) ?? 0) + 1);
  const vals = [...m.keys()].sort((a, b) => a - b);
  return { values: vals, counts: vals.map((v) => m.get(v)) };
}
