// Histogram counts (abi.ts: HIST): numpy.histogram's bin of every value of a register tile, counted (or
// weighted) into n f64 counters. Uniform bins follow numpy's fast path exactly ((v - lo) * norm, then the
// correction against the edges numpy's linspace gives); explicit edges follow its searchsorted rule (the
// last bin closed). src/kernels/histogram.ts is the JS twin.
//
// The parameters are read into locals once per tile: the counters are stores into the same memory, so a
// loop reading them from memory would reload every one of them for every element (2x slower).
import {
  HF_EDGES, HF_F32_EDGES, HF_F32_MUL, HF_F32_SUB, HF_STEP_ZERO, HIST_P_BINS, HIST_P_DELTA, HIST_P_EDGES, HIST_P_FLAGS,
  HIST_P_KEEP_HI, HIST_P_KEEP_LO, HIST_P_NORM, HIST_P_START, HIST_P_STEP, HIST_P_STOP, HIST_P_SUB_LO,
} from "./abi";

// @ts-ignore: decorator
@inline function param(p: usize, at: i32): f64 {
  return load<f64>(p + (<usize>at << 3));
}

// @ts-ignore: decorator
@inline function count(acc: usize, i: i32, w: usize, o: usize): void {
  const at = acc + (<usize>i << 3);
  store<f64>(at, load<f64>(at) + (w != 0 ? load<f64>(w + o) : 1.0));
}

/**
 * Uniform bins: for each value, -1 unless keepLo <= v <= keepHi; t = v - subLo, f = t * norm (each rounded
 * to float32 when numpy computes in float32); i = f >= n ? n - 1 : f > 0 ? trunc(f) : 0; then one step
 * down if v < edge(i), else one up if i != n - 1 and v >= edge(i + 1). edge(j) = (j * step or
 * (j / n) * delta) + start, rounded to float32 when numpy's edges are float32 (j < n here: edge(n) is
 * never compared, i + 1 < n when it is).
 */
function uniform(a: usize, w: usize, acc: usize, p: usize, len: i32, n: i32, flags: i32): void {
  const keepLo = param(p, HIST_P_KEEP_LO), keepHi = param(p, HIST_P_KEEP_HI), subLo = param(p, HIST_P_SUB_LO);
  const norm = param(p, HIST_P_NORM), step = param(p, HIST_P_STEP), start = param(p, HIST_P_START), delta = param(p, HIST_P_DELTA);
  const f32sub = (flags & HF_F32_SUB) != 0, f32mul = (flags & HF_F32_MUL) != 0, f32edges = (flags & HF_F32_EDGES) != 0;
  const stepZero = (flags & HF_STEP_ZERO) != 0;
  const nF = <f64>n;
  const last = n - 1;
  for (let c = 0; c < len; c++) {
    const o = <usize>c << 3;
    const v = load<f64>(a + o);
    if (!(v >= keepLo && v <= keepHi)) continue;
    let t = v - subLo;
    if (f32sub) t = <f64><f32>t;
    let f = t * norm;
    if (f32mul) f = <f64><f32>f;
    let i: i32 = f >= nF ? last : f > 0 ? <i32>f : 0;
    let e = stepZero ? (<f64>i / nF) * delta + start : <f64>i * step + start;
    if (f32edges) e = <f64><f32>e;
    if (v < e) {
      if (i > 0) i--;
    } else if (i != last) {
      e = stepZero ? (<f64>(i + 1) / nF) * delta + start : <f64>(i + 1) * step + start;
      if (f32edges) e = <f64><f32>e;
      if (v >= e) i++;
    }
    count(acc, i, w, o);
  }
}

/**
 * `uniform` for the two common cases, compiled apart so the loop has no tests of the flags: T = f64, no
 * rounding (float64, int32 and bool data); T = f32, numpy's float32 arithmetic (float32 data), step not 0.
 */
function uniformAs<T>(a: usize, w: usize, acc: usize, p: usize, len: i32, n: i32): void {
  const keepLo = param(p, HIST_P_KEEP_LO), keepHi = param(p, HIST_P_KEEP_HI), subLo = param(p, HIST_P_SUB_LO);
  const norm = param(p, HIST_P_NORM), step = param(p, HIST_P_STEP), start = param(p, HIST_P_START);
  const nF = <f64>n;
  const last = n - 1;
  for (let c = 0; c < len; c++) {
    const o = <usize>c << 3;
    const v = load<f64>(a + o);
    if (!(v >= keepLo && v <= keepHi)) continue;
    const f = <f64><T>(<f64><T>(v - subLo) * norm);
    let i: i32 = f >= nF ? last : f > 0 ? <i32>f : 0;
    if (v < <f64><T>(<f64>i * step + start)) {
      if (i > 0) i--;
    } else if (i != last && v >= <f64><T>(<f64>(i + 1) * step + start)) i++;
    count(acc, i, w, o);
  }
}

/** Explicit edges e_0..e_n: -1 unless e_0 <= v <= e_n; v == e_n: n - 1; else the largest i with e_i <= v. */
function edges(a: usize, w: usize, acc: usize, p: usize, len: i32, n: i32): void {
  const e = p + (<usize>HIST_P_EDGES << 3);
  const first = load<f64>(e);
  const lastEdge = load<f64>(e + (<usize>n << 3));
  for (let c = 0; c < len; c++) {
    const o = <usize>c << 3;
    const v = load<f64>(a + o);
    if (!(v >= first && v <= lastEdge)) continue;
    let i = n - 1;
    if (v != lastEdge) {
      // e_lo <= v < e_hi, halved without branches on the data (the compares would mispredict half the time)
      let lo = 0;
      let size = n;
      while (size > 1) {
        const half = size >>> 1;
        const mid = lo + half;
        lo = select<i32>(mid, lo, load<f64>(e + (<usize>mid << 3)) <= v);
        size -= half;
      }
      i = lo;
    }
    count(acc, i, w, o);
  }
}

/** HIST over one tile: counters at acc (n f64), values at a, weights at w (0: each value counts 1). */
export function histogram(a: usize, w: usize, acc: usize, p: usize, len: i32): void {
  const n = <i32>param(p, HIST_P_BINS);
  const flags = <i32>param(p, HIST_P_FLAGS);
  if ((flags & HF_EDGES) != 0) edges(a, w, acc, p, len, n);
  else if (flags == 0) uniformAs<f64>(a, w, acc, p, len, n);
  else if (flags == (HF_F32_SUB | HF_F32_MUL | HF_F32_EDGES)) uniformAs<f32>(a, w, acc, p, len, n);
  else uniform(a, w, acc, p, len, n, flags);
}
