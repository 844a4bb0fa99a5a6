/** Shapes, broadcasting and axes, validated with coded errors. */
import { invalid, show } from "../errors.js";
import { cStrides } from "../grid.js";

export type Shape = readonly number[];

/** Largest element count we accept for one array (exact integer arithmetic on indices). */
export const MAX_SIZE = 2 ** 53 - 1;

export function checkShape(shape: unknown, what = "shape"): number[] {
  const s = typeof shape === "number" ? [shape] : shape;
  if (!Array.isArray(s)) throw invalid("INVALID_SHAPE", `${what} ${show(shape)} must be an array of non-negative integers`);
  let size = 1;
  for (const n of s) {
    if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 0) {
      throw invalid("INVALID_SHAPE", `${what} ${show(shape)} has ${show(n)}: sizes must be finite non-negative integers`);
    }
    size *= n;
  }
  if (size > MAX_SIZE) throw invalid("TOO_LARGE", `${what} ${show(shape)} has ${size} elements, more than ${MAX_SIZE}`);
  if (s.length > 32) throw invalid("INVALID_SHAPE", `${what} ${show(shape)} has ${s.length} dimensions, more than 32`);
  return [...s];
}

export const sizeOf = (shape: Shape): number => shape.reduce((a, b) => a * b, 1);

/** C-order strides in elements. */
export const stridesOf = (shape: Shape): number[] => cStrides(shape);

export const sameShape = (a: Shape, b: Shape): boolean => a.length === b.length && a.every((n, i) => n === b[i]);

/** numpy broadcasting of several shapes. */
export function broadcastShapes(...shapes: Shape[]): number[] {
  const nd = Math.max(0, ...shapes.map((s) => s.length));
  const out = new Array<number>(nd).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const d = nd - s.length + i;
      const n = s[i]!;
      if (n === out[d] || n === 1) continue;
      if (out[d] === 1) out[d] = n;
      else {
        throw invalid(
          "SHAPE_MISMATCH",
          `shapes ${shapes.map((x) => `[${x.join(", ")}]`).join(" and ")} cannot be broadcast together (axis ${d}: ${out[d]} vs ${n})`,
        );
      }
    }
  }
  return out;
}

/** Normalizes an axis argument to sorted unique non-negative axes; undefined means all axes. */
export function normalizeAxes(axis: unknown, ndim: number): number[] {
  if (axis === undefined || axis === null) return Array.from({ length: ndim }, (_, i) => i);
  const list = typeof axis === "number" ? [axis] : axis;
  if (!Array.isArray(list)) throw invalid("INVALID_AXIS", `axis ${show(axis)} must be an integer or an array of integers`);
  const out = new Set<number>();
  for (const a of list) {
    if (typeof a !== "number" || !Number.isInteger(a) || a < -ndim || a >= ndim) {
      throw invalid("INVALID_AXIS", `axis ${show(a)} is out of bounds for an array of dimension ${ndim}`);
    }
    const n = a < 0 ? a + ndim : a;
    if (out.has(n)) throw invalid("INVALID_AXIS", `axis ${show(axis)} repeats axis ${n}`);
    out.add(n);
  }
  return [...out].sort((x, y) => x - y);
}
