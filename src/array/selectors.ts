/**
 * Index selectors, as numpy's basic and (one) advanced index: integers (negative count from the end),
 * slice(start, stop, step) with Python's rules (negative steps included), null for a whole axis, newaxis,
 * "..." (ellipsis), and one 1-d integer array per call (a take along that axis).
 */
import { invalid, show } from "../errors.js";

/** Python's slice: any part may be null or omitted. */
export class Slice {
  constructor(
    readonly start: number | null,
    readonly stop: number | null,
    readonly step: number | null,
  ) {}

  toString(): string {
    const p = (v: number | null) => (v === null ? "" : String(v));
    return `${p(this.start)}:${p(this.stop)}${this.step === null ? "" : `:${this.step}`}`;
  }

  /**
   * Python's slice.indices(n): the start, the step and the number of elements selected on an axis of
   * length n (start clamped; an empty selection has length 0).
   */
  indices(n: number, axis: number): { start: number; step: number; length: number } {
    const step = this.step ?? 1;
    if (!Number.isInteger(step)) throw invalid("INVALID_ARGUMENT", `slice step ${show(this.step)} on axis ${axis} must be an integer`);
    if (step === 0) throw invalid("INVALID_ARGUMENT", `slice step cannot be zero (axis ${axis})`);
    for (const [what, v] of [["start", this.start], ["stop", this.stop]] as const) {
      if (v !== null && !Number.isInteger(v)) throw invalid("INVALID_ARGUMENT", `slice ${what} ${show(v)} on axis ${axis} must be an integer or null`);
    }
    const clamp = (v: number | null, dflt: number, lo: number, hi: number) => {
      if (v === null) return dflt;
      const w = v < 0 ? v + n : v;
      return Math.min(Math.max(w, lo), hi);
    };
    let start: number;
    let stop: number;
    if (step > 0) {
      start = clamp(this.start, 0, 0, n);
      stop = clamp(this.stop, n, 0, n);
    } else {
      start = clamp(this.start, n - 1, -1, n - 1);
      stop = clamp(this.stop, -1, -1, n - 1);
    }
    const length = step > 0 ? Math.max(0, Math.ceil((stop - start) / step)) : Math.max(0, Math.ceil((start - stop) / -step));
    return { start, step, length };
  }
}

/** slice(stop), slice(start, stop) or slice(start, stop, step), as Python's builtin. */
export function slice(a?: number | null, b?: number | null, c?: number | null): Slice {
  const args = [a, b, c].map((v) => (v === undefined ? null : v));
  for (const v of args) if (v !== null && typeof v !== "number") throw invalid("INVALID_ARGUMENT", `slice parts must be integers or null, got ${show(v)}`);
  return b === undefined && c === undefined ? new Slice(null, args[0]!, null) : new Slice(args[0]!, args[1]!, args[2]!);
}

/** A new axis of length 1 (numpy.newaxis). */
export const newaxis: unique symbol = Symbol("newaxis");

export type Selector = number | Slice | null | typeof newaxis | "..." | readonly number[] | { readonly shape: readonly number[]; readonly dtype: string };

/** One selector per axis after the ellipsis is expanded, plus where new axes go. */
export type AxisSelector =
  | { kind: "index"; index: number }
  | { kind: "slice"; start: number; step: number; length: number }
  | { kind: "array"; value: unknown };

export interface ParsedIndex {
  /** per input axis */
  axes: AxisSelector[];
  /** output layout: for each output axis, the input axis it comes from, or -1 for a new axis */
  out: number[];
}

const isArrayLike = (s: unknown): boolean => Array.isArray(s) || (typeof s === "object" && s !== null && "shape" in s && "dtype" in s);

/** Parses selectors against a shape (numpy's rules; errors name the selector and the axis). */
export function parseSelectors(shape: readonly number[], selectors: readonly unknown[]): ParsedIndex {
  const nd = shape.length;
  const ellipses = selectors.filter((s) => s === "...").length;
  if (ellipses > 1) throw invalid("INDEX_ERROR", "an index can only have a single ellipsis (\"...\")");
  const arrays = selectors.filter(isArrayLike).length;
  if (arrays > 1) throw invalid("INDEX_ERROR", "only one integer array may index an array per get() call; chain get() calls for more");
  for (const s of selectors) {
    const ok = s === null || s === newaxis || s === "..." || typeof s === "number" || s instanceof Slice || isArrayLike(s);
    if (!ok) throw invalid("INDEX_ERROR", `${show(s)} is not a valid index: use integers, slice(...), null, newaxis, "..." or an integer array`);
  }
  const consuming = selectors.filter((s) => s !== newaxis && s !== "...").length;
  if (consuming > nd) {
    throw invalid("INDEX_ERROR", `too many indices for array: array is ${nd}-dimensional, but ${consuming} were indexed`);
  }
  const expanded: unknown[] = [];
  for (const s of selectors) {
    if (s === "...") for (let i = 0; i < nd - consuming; i++) expanded.push(null);
    else expanded.push(s);
  }
  if (!ellipses) while (expanded.filter((s) => s !== newaxis).length < nd) expanded.push(null);
  const axes: AxisSelector[] = [];
  const out: number[] = [];
  let k = 0;
  for (const s of expanded) {
    if (s === newaxis) {
      out.push(-1);
      continue;
    }
    const n = shape[k]!;
    if (typeof s === "number") {
      if (!Number.isInteger(s)) throw invalid("INDEX_ERROR", `index ${show(s)} on axis ${k} must be an integer`);
      if (s < -n || s >= n) throw invalid("INDEX_ERROR", `index ${s} is out of bounds for axis ${k} with size ${n}`);
      axes.push({ kind: "index", index: s < 0 ? s + n : s });
    } else if (isArrayLike(s)) {
      axes.push({ kind: "array", value: s });
      out.push(k);
    } else {
      const sl = s === null ? new Slice(null, null, null) : (s as Slice);
      axes.push({ kind: "slice", ...sl.indices(n, k) });
      out.push(k);
    }
    k++;
  }
  return { axes, out };
}
