/**
 * Deterministic combination of reduction partials: per output block, the chunks along the reduced axes
 * are combined in a fixed binary tree over their block indices (C order), whatever order they finished in,
 * then finalized (mean, var, std, argmin...). The same formulas as the kernels' accumulators.
 */
import type { PartialSpec, GridSpec } from "../worker/messages.js";
import { Grid, cStrides, partialElems } from "../worker/geometry.js";
import type { ReduceNode, ReduceOp } from "./nodes.js";

const sizeOf = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

export interface Partial {
  /** component arrays, each of the same length */
  comps: Float64Array[];
}

export function componentsOf(op: ReduceOp): number {
  return op === "var" || op === "std" ? 3 : op === "argmin" || op === "argmax" ? 2 : 1;
}

export function initOf(op: ReduceOp): number[] {
  switch (op) {
    case "sum":
    case "mean":
    case "any":
      return [0];
    case "prod":
    case "all":
      return [1];
    case "min":
      return [Infinity];
    case "max":
      return [-Infinity];
    case "argmin":
    case "argmax":
      return [0, -1];
    case "var":
    case "std":
      return [0, 0, 0];
  }
}

/** Combines b into a (a holds the lower block indices). */
export function combineInto(op: ReduceOp, a: Partial, b: Partial): void {
  const [a0, a1, a2] = a.comps as [Float64Array, Float64Array, Float64Array];
  const [b0, b1, b2] = b.comps as [Float64Array, Float64Array, Float64Array];
  const n = a0.length;
  switch (op) {
    case "sum":
    case "mean":
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
    case "argmax": {
      const less = op === "argmin";
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

/** Combines a finished stage's partials for one reduction into the result values (f64, C order). */
export function combineReduction(red: ReduceNode, p: PartialSpec, gridSpec: GridSpec, buffer: ArrayBufferLike): Float64Array {
  const g = new Grid(gridSpec);
  const nd = gridSpec.shape.length;
  const kept = [...Array(nd).keys()].filter((d) => !red.axes.includes(d));
  const ncomp = componentsOf(red.op);
  const outShape = kept.map((d) => gridSpec.shape[d]!);
  const out = new Float64Array(sizeOf(outShape));
  const outStrides = cStrides(outShape);
  const count = red.axes.reduce((a, d) => a * gridSpec.shape[d]!, 1);
  // group chunks by their block index along kept axes; within a group, C order over reduced axes
  const groups = new Map<string, number[]>();
  for (let k = 0; k < g.nchunks; k++) {
    const index = g.chunk(k).index;
    const key = kept.map((d) => index[d]).join(",");
    const list = groups.get(key);
    if (list) list.push(k);
    else groups.set(key, [k]);
  }
  for (const ks of groups.values()) {
    const c0 = g.chunk(ks[0]!);
    const n = partialElems(p, c0.shape);
    const parts: Partial[] = ks.map((k) => ({
      comps: Array.from({ length: ncomp }, (_, c) => new Float64Array(buffer, p.offsets[k]! + c * n * 8, n).slice()),
    }));
    const vals = new Float64Array(n);
    finalize(red.op, treeCombine(red.op, parts), count, red.ddof, vals);
    // scatter the block's values (C order over kept dims of this chunk) into the output
    const bshape = kept.map((d) => c0.shape[d]!);
    const bstart = kept.map((d) => c0.start[d]!);
    const bstr = cStrides(bshape);
    for (let i = 0; i < n; i++) {
      let off = 0;
      for (let q = 0; q < kept.length; q++) off += (bstart[q]! + (Math.floor(i / bstr[q]!) % bshape[q]!)) * outStrides[q]!;
      out[off] = vals[i]!;
    }
  }
  if (red.dtype === "float32") for (let i = 0; i < out.length; i++) out[i] = Math.fround(out[i]!);
  return out;
}

