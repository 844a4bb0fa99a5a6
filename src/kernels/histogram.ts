/**
 * The JS twin of the HIST instruction (abi.ts; assembly/histogram.ts), line for line: numpy.histogram's
 * bin of a value, from the instruction's parameter block.
 */
import { HF, HIST_P } from "./abi.js";

/** Edge j of n uniform bins, as numpy's linspace(start, stop, n + 1) computes it (then astype). */
function edgeAt(p: ArrayLike<number>, j: number, n: number, flags: number): number {
  let e: number;
  if (j >= n) e = p[HIST_P.STOP]!;
  else if ((flags & HF.STEP_ZERO) !== 0) e = (j / n) * p[HIST_P.DELTA]! + p[HIST_P.START]!;
  else e = j * p[HIST_P.STEP]! + p[HIST_P.START]!;
  return (flags & HF.F32_EDGES) !== 0 ? Math.fround(e) : e;
}

/** The bin of v under parameter block p (p[0] is the block's first constant), or -1 when numpy leaves v out. */
export function histBin(v: number, p: ArrayLike<number>): number {
  const n = p[HIST_P.BINS]!;
  const flags = p[HIST_P.FLAGS]!;
  if ((flags & HF.EDGES) !== 0) {
    const e = HIST_P.EDGES;
    const last = p[e + n]!;
    if (!(v >= p[e]! && v <= last)) return -1;
    if (v === last) return n - 1;
    let a = 0;
    let b = n;
    while (b - a > 1) {
      const m = (a + b) >>> 1;
      if (p[e + m]! <= v) a = m;
      else b = m;
    }
    return a;
  }
  if (!(v >= p[HIST_P.KEEP_LO]! && v <= p[HIST_P.KEEP_HI]!)) return -1;
  let t = v - p[HIST_P.SUB_LO]!;
  if ((flags & HF.F32_SUB) !== 0) t = Math.fround(t);
  let f = t * p[HIST_P.NORM]!;
  if ((flags & HF.F32_MUL) !== 0) f = Math.fround(f);
  let i = f >= n ? n : f > 0 ? Math.trunc(f) : 0;
  if (i === n) i = n - 1;
  if (v < edgeAt(p, i, n, flags)) i--;
  else if (i !== n - 1 && v >= edgeAt(p, i + 1, n, flags)) i++;
  return i < 0 ? 0 : i;
}
