// Histogram counts (abi.ts: HIST): numpy.histogram's bin of every value of a register tile, counted (or
// weighted) into n f64 counters. Uniform bins follow numpy's fast path exactly ((v - lo) * norm, then the
// correction against the edges numpy's linspace gives); explicit edges follow its searchsorted rule (the
// last bin closed). src/kernels/histogram.ts is the JS twin, line for line.
import {
  HF_EDGES, HF_F32_EDGES, HF_F32_MUL, HF_F32_SUB, HF_STEP_ZERO, HIST_P_BINS, HIST_P_DELTA, HIST_P_EDGES, HIST_P_FLAGS,
  HIST_P_KEEP_HI, HIST_P_KEEP_LO, HIST_P_NORM, HIST_P_START, HIST_P_STEP, HIST_P_STOP, HIST_P_SUB_LO,
} from "./abi";

// @ts-ignore: decorator
@inline function param(p: usize, at: i32): f64 {
  return load<f64>(p + (<usize>at << 3));
}

/** Edge j of n uniform bins, as numpy's linspace(start, stop, n + 1) computes it (then astype). */
// @ts-ignore: decorator
@inline function edgeAt(p: usize, j: i32, n: i32, flags: i32): f64 {
  let e: f64;
  if (j >= n) e = param(p, HIST_P_STOP);
  else if ((flags & HF_STEP_ZERO) != 0) e = (<f64>j / <f64>n) * param(p, HIST_P_DELTA) + param(p, HIST_P_START);
  else e = <f64>j * param(p, HIST_P_STEP) + param(p, HIST_P_START);
  return (flags & HF_F32_EDGES) != 0 ? <f64><f32>e : e;
}

/** The bin of v, or -1 when numpy leaves it out (outside the range, NaN). */
function binOf(v: f64, p: usize, n: i32, flags: i32): i32 {
  if ((flags & HF_EDGES) != 0) {
    const e = p + (<usize>HIST_P_EDGES << 3);
    const last = load<f64>(e + (<usize>n << 3));
    if (!(v >= load<f64>(e) && v <= last)) return -1;
    if (v == last) return n - 1;
    // e_a <= v < e_b
    let a = 0;
    let b = n;
    while (b - a > 1) {
      const m = (a + b) >>> 1;
      if (load<f64>(e + (<usize>m << 3)) <= v) a = m;
      else b = m;
    }
    return a;
  }
  if (!(v >= param(p, HIST_P_KEEP_LO) && v <= param(p, HIST_P_KEEP_HI))) return -1;
  let t = v - param(p, HIST_P_SUB_LO);
  if ((flags & HF_F32_SUB) != 0) t = <f64><f32>t;
  let f = t * param(p, HIST_P_NORM);
  if ((flags & HF_F32_MUL) != 0) f = <f64><f32>f;
  let i: i32 = f >= <f64>n ? n : f > 0 ? <i32>f : 0;
  if (i == n) i = n - 1;
  if (v < edgeAt(p, i, n, flags)) i--;
  else if (i != n - 1 && v >= edgeAt(p, i + 1, n, flags)) i++;
  return i < 0 ? 0 : i;
}

/** HIST over one tile: counters at acc (n f64), values at a, weights at w (0: each value counts 1). */
export function histogram(a: usize, w: usize, acc: usize, p: usize, len: i32): void {
  const n = <i32>param(p, HIST_P_BINS);
  const flags = <i32>param(p, HIST_P_FLAGS);
  for (let c = 0; c < len; c++) {
    const o = <usize>c << 3;
    const i = binOf(load<f64>(a + o), p, n, flags);
    if (i < 0) continue;
    const at = acc + (<usize>i << 3);
    store<f64>(at, load<f64>(at) + (w != 0 ? load<f64>(w + o) : 1.0));
  }
}
