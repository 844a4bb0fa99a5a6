/**
 * numpy.histogram's bins, mirrored exactly (numpy 1.24, lib/histograms.py): the edges it computes and the
 * parameters of the HIST instruction (kernels/abi.ts) that give every value the bin numpy gives it.
 *
 * Uniform bins: numpy's edges are `linspace(first, last, bins + 1)` in float64, cast to the bin dtype
 * (float32 for float32 data when the range's ends fit in float32, as numpy's value-based casting decides;
 * float64 otherwise), and a value's bin is `(v - first) * norm` truncated, corrected by one against those
 * edges. Which arithmetic each step runs in (float32 or float64) follows numpy's casting of the scalars
 * involved, so results are numpy's bit for bit, at the edges too.
 */
import type { DType } from "../dtype.js";
import { HF, HIST_P } from "../kernels/abi.js";

const F32_MAX = 3.4028234663852886e38;
/** numpy 1.x value-based casting: a float64 scalar meets a float32 array in float32 when its magnitude fits. */
const fitsF32 = (v: number) => !(Number.isFinite(v) && Math.abs(v) > F32_MAX);

export interface Bins {
  bins: number;
  /** the HIST parameter block */
  params: number[];
  /** the edges numpy returns, and their dtype */
  edges: Float64Array | Float32Array | Int32Array;
  edgesDType: DType;
}

/**
 * Where the range comes from: given by the caller (Python floats), or numpy's `a.min(), a.max()` of the
 * data (scalars of the data's dtype; numpy then refuses non-finite ones).
 */
export interface RangeSource {
  lo: number;
  hi: number;
  autodetected: boolean;
}

/** Uniform bins over [lo, hi] for data of `dtype`, as numpy's _get_bin_edges and its fast path compute them. */
export function uniformBins(dtype: DType, bins: number, range: RangeSource): Bins {
  let first = range.lo;
  let last = range.hi;
  // data-dtype scalars (autodetected float32 ends subtract in float32) until numpy widens them to float64
  let dataScalars = range.autodetected;
  if (first === last) {
    first -= 0.5;
    last += 0.5;
    dataScalars = false;
  }
  const f32 = dtype === "float32" && fitsF32(first) && fitsF32(last);
  // norm = bins / (last - first) in the ends' own arithmetic (integers subtract exactly)
  const width = dataScalars && dtype === "float32" ? Math.fround(last - first) : last - first;
  const norm = bins / width;
  // numpy's linspace, in float64: y = i * step + start (or (i / div) * delta when step underflows to 0), y[-1] = stop
  const delta = last - first;
  const step = delta / bins;
  const stepZero = step === 0;
  const edgeF64 = (i: number) => (i === bins ? last : (stepZero ? (i / bins) * delta : i * step) + first);
  const edges = f32 ? new Float32Array(bins + 1) : new Float64Array(bins + 1);
  for (let i = 0; i <= bins; i++) edges[i] = edgeF64(i);
  // the data's comparisons with the ends: float32 data meets a scalar that fits in float32 arithmetic
  const keep = (v: number) => (dtype === "float32" && fitsF32(v) ? Math.fround(v) : v);
  const normF32 = f32 && fitsF32(norm);
  let flags = 0;
  if (f32) flags |= HF.F32_SUB | HF.F32_EDGES;
  if (normF32) flags |= HF.F32_MUL;
  if (stepZero) flags |= HF.STEP_ZERO;
  const params = new Array<number>(HIST_P.EDGES).fill(0);
  params[HIST_P.BINS] = bins;
  params[HIST_P.FLAGS] = flags;
  params[HIST_P.KEEP_LO] = keep(first);
  params[HIST_P.KEEP_HI] = keep(last);
  params[HIST_P.SUB_LO] = f32 ? Math.fround(first) : first;
  params[HIST_P.NORM] = normF32 ? Math.fround(norm) : norm;
  params[HIST_P.START] = first;
  params[HIST_P.STEP] = step;
  params[HIST_P.DELTA] = delta;
  params[HIST_P.STOP] = last;
  return { bins, params, edges, edgesDType: f32 ? "float32" : "float64" };
}

/**
 * Bins given by their edges (non-decreasing, checked by the caller): numpy's searchsorted rule, where
 * bin i holds e_i <= v < e_{i+1} and the last bin also holds v == e_n. Compared in float64 (exact for
 * every dtype's values), as numpy's searchsorted promotes them.
 */
export function edgeBins(edges: Float64Array | Float32Array | Int32Array, edgesDType: DType): Bins {
  const bins = edges.length - 1;
  const params = new Array<number>(HIST_P.EDGES + edges.length).fill(0);
  params[HIST_P.BINS] = bins;
  params[HIST_P.FLAGS] = HF.EDGES;
  for (let i = 0; i < edges.length; i++) params[HIST_P.EDGES + i] = edges[i]!;
  return { bins, params, edges, edgesDType };
}

/** numpy's `np.array(np.diff(bin_edges), float)`: widths in the edges' dtype, then float64 (density). */
export function binWidths(b: Bins): Float64Array {
  const w = new Float64Array(b.bins);
  for (let i = 0; i < b.bins; i++) {
    const d = b.edges[i + 1]! - b.edges[i]!;
    w[i] = b.edgesDType === "float32" ? Math.fround(d) : b.edgesDType === "int32" ? d | 0 : d;
  }
  return w;
}
