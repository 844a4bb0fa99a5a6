/**
 * Deterministic combination of reduction partials (a combine layer's task, run on the scheduler's
 * thread): per output chunk, each group of partial chunks along the reduced axes is combined in a fixed
 * binary tree over their block indices (C order), whatever order they finished in, then finalized (mean,
 * var, std, argmin...). The same formulas as the kernels' accumulators (kernels/abi.ts).
 */
import { ComputeError } from "../errors.js";
import { Grid, cStrides } from "../grid.js";
import type { LayerTasks } from "../plan/tasks.js";
import type { CombineLayer, ReduceOp } from "../plan/types.js";
import { componentsOf } from "../plan/reductions.js";
import { partialElems } from "../worker/geometry.js";

export interface Partial {
  /** component arrays, each of the same length */
  comps: Float64Array[];
}

/** Combines b into a (a holds the lower block indices). */
export function combineInto(op: ReduceOp, a: Partial, b: Partial): void {
  const [a0, a1, a2] = a.comps as [Float64Array, Float64Array, Float64Array];
  const [b0, b1, b2] = b.comps as [Float64Array, Float64Array, Float64Array];
  const n = a0.length;
  switch (op) {
    case "sum":
    case "mean":
    case "histogram":
      for (let i = 0; i < n; i++) a0[i] = a0[i]! + b0[i]!;
      return;
    case "prod":
      for (let i = 0; i < n; i++) a0[i] = a0[i]! * b0[i]!;
      return;
    case "min":
    case "all":
      for (let i = 0; i < n; i++) a0[i] = Math.min(a0[i]!, b0[i]!);
      return;
    case "max":
    case "any":
      for (let i = 0; i < n; i++) a0[i] = Math.max(a0[i]!, b0[i]!);
      return;
    case "argmin":
    case "argmax":
    case "nanargmin":
    case "nanargmax": {
      // the nan variants' partials hold no NaN (their kernels skip it): the same rule combines them
      const less = op === "argmin" || op === "nanargmin";
      for (let i = 0; i < n; i++) {
        if (b1[i] === -1) continue;
        if (a1[i] === -1 || argBetter(less, b0[i]!, b1[i]!, a0[i]!, a1[i]!)) {
          a0[i] = b0[i]!;
          a1[i] = b1[i]!;
        }
      }
      return;
    }
    case "var":
    case "std":
      for (let i = 0; i < n; i++) {
        const na = a0[i]!;
        const nb = b0[i]!;
        if (nb === 0) continue;
        if (na === 0) {
          a0[i] = nb;
          a1[i] = b1[i]!;
          a2[i] = b2[i]!;
          continue;
        }
        const N = na + nb;
        const d = b1[i]! - a1[i]!;
        a1[i] = a1[i]! + d * (nb / N);
        a2[i] = a2[i]! + b2[i]! + d * d * ((na * nb) / N);
        a0[i] = N;
      }
      return;
  }
}

/** Is candidate (v, i) better than incumbent (w, j)? NaN wins over numbers; ties go to the lower index. */
function argBetter(less: boolean, v: number, i: number, w: number, j: number): boolean {
  const vn = v !== v;
  const wn = w !== w;
  if (vn || wn) return vn && (!wn || i < j);
  if (v === w) return i < j;
  return less ? v < w : v > w;
}

/**
 * treeCombine over parts [lo, hi) without copying each part: the result goes to `out`; `stack` holds one
 * scratch accumulator per depth (the right half's). The same association as treeCombine.
 */
function treeRange(
  op: ReduceOp,
  n: number,
  part: (i: number) => Float64Array,
  lo: number,
  hi: number,
  out: Float64Array[],
  stack: Float64Array[][],
  depth: number,
  fresh: (a: Float64Array[] | undefined) => Float64Array[],
): void {
  if (hi - lo === 1) {
    const data = part(lo);
    out.forEach((o, c) => o.set(data.subarray(c * n, (c + 1) * n)));
    return;
  }
  const mid = lo + ((hi - lo) >> 1);
  treeRange(op, n, part, lo, mid, out, stack, depth + 1, fresh);
  const right = (stack[depth] = fresh(stack[depth]));
  treeRange(op, n, part, mid, hi, right, stack, depth + 1, fresh);
  combineInto(op, { comps: out }, { comps: right });
}

/** Tree-combines partials in order: combine(left half) then combine(right half), then the two. */
export function treeCombine(op: ReduceOp, parts: Partial[]): Partial {
  if (parts.length === 1) return parts[0]!;
  const mid = parts.length >> 1;
  const left = treeCombine(op, parts.slice(0, mid));
  const right = treeCombine(op, parts.slice(mid));
  combineInto(op, left, right);
  return left;
}

/** Final values from combined accumulators; `count` is the number of elements reduced into each. */
export function finalize(op: ReduceOp, p: Partial, count: number, ddof: number, out: Float64Array): void {
  const [c0, c1, c2] = p.comps as [Float64Array, Float64Array, Float64Array];
  for (let i = 0; i < out.length; i++) {
    switch (op) {
      case "mean":
        out[i] = c0[i]! / count;
        break;
      case "argmin":
      case "argmax":
        out[i] = c1[i]!;
        break;
      case "nanargmin":
      case "nanargmax":
        if (c1[i] === -1) throw new ComputeError("EMPTY_REDUCTION", `${op} of an all-NaN slice (numpy raises "All-NaN slice encountered")`);
        out[i] = c1[i]!;
        break;
      case "var":
      case "std": {
        const v = c2[i]! / Math.max(c0[i]! - ddof, 0);
        out[i] = op === "std" ? Math.sqrt(v) : v;
        break;
      }
      default:
        out[i] = c0[i]!;
    }
  }
}

/**
 * Computes output chunk t of a combine layer into `out` (f64, C order over the chunk), reading each
 * partial chunk (components one after another) through `partial`. float32 results are rounded.
 */
export function combineChunk(tasks: LayerTasks, t: number, partial: (chunk: number) => Float64Array, out: Float64Array, float32: boolean): void {
  const l = tasks.layer as CombineLayer;
  if (l.op === "histogram") return combineHistogram(tasks, t, partial, out);
  const g = new Grid(l.grid);
  const ncomp = componentsOf(l.op);
  const nd = g.shape.length;
  const kept = [...Array(nd).keys()].filter((d) => !l.axes.includes(d));
  const count = l.axes.reduce((a, d) => a * g.shape[d]!, 1);
  const oc = tasks.grid(l.output).chunk(t);
  // output axis of each kept axis (with keepdims the result keeps every axis)
  const outAxis = kept.map((d, q) => (l.keepdims ? d : q));
  const outStrides = cStrides(oc.shape);
  const stack: Float64Array[][] = [];
  for (const group of tasks.combineGroups(t)) {
    const c0 = g.chunk(g.chunkIndex(group.index));
    const n = partialElems(l.axes, c0.shape);
    const comps = (a: Float64Array[] | undefined) => (a && a[0]!.length === n ? a : Array.from({ length: ncomp }, () => new Float64Array(n)));
    const acc = comps(undefined);
    treeRange(l.op, n, (i) => partial(group.chunks[i]!), 0, group.chunks.length, acc, stack, 0, comps);
    const vals = new Float64Array(n);
    finalize(l.op, { comps: acc }, count, l.ddof, vals);
    // scatter the group's values (C order over its kept extents) into the output chunk
    const bshape = kept.map((d) => c0.shape[d]!);
    const bstart = kept.map((d, q) => c0.start[d]! - oc.start[outAxis[q]!]!);
    const bstr = cStrides(bshape);
    for (let i = 0; i < n; i++) {
      let off = 0;
      for (let q = 0; q < kept.length; q++) off += (bstart[q]! + (Math.floor(i / bstr[q]!) % bshape[q]!)) * outStrides[outAxis[q]!]!;
      out[off] = vals[i]!;
    }
  }
  if (float32) for (let i = 0; i < out.length; i++) out[i] = Math.fround(out[i]!);
}

/**
 * A histogram's counts: every task's partial chunk holds its `bins` counters (the output's length), summed
 * in the fixed tree over the tasks' block indices, so counts are exact and the same for any chunking.
 */
function combineHistogram(tasks: LayerTasks, t: number, partial: (chunk: number) => Float64Array, out: Float64Array): void {
  const n = out.length;
  const chunks = tasks.combineGroups(t).flatMap((g) => g.chunks);
  out.fill(0);
  if (chunks.length === 0) return;
  const acc = [new Float64Array(n)];
  const fresh = (a: Float64Array[] | undefined) => a ?? [new Float64Array(n)];
  treeRange("histogram", n, (i) => partial(chunks[i]!), 0, chunks.length, acc, [], 0, fresh);
  out.set(acc[0]!);
}
