/** Deterministic test inputs: small arrays of every dtype with the special values that matter. */
import * as R from "./reference.mjs";

/** 20 values per dtype (shape [4, 5]), with zeros of both signs, NaN, infinities, extremes. */
export const VALUES = {
  float64: [0, -0, 1, -1, 0.5, -2.5, 3.75, 1e300, -1e300, 1e-300, NaN, Infinity, -Infinity, 2, 7, 100, 0.1, -0.3, 12345.678, 1e-8],
  float32: [0, -0, 1, -1, 0.5, -2.5, 3.75, 3e38, -3e38, 1e-30, NaN, Infinity, -Infinity, 2, 7, 100, 0.1, -0.3, 12345.678, 1e-8].map(Math.fround),
  int32: [0, 1, -1, 2, -2, 7, 100, -100, 2147483647, -2147483648, 65536, 46341, -46341, 3, 5, 12345, -999, 10, 13, 1 << 30],
  bool: [1, 0, 0, 1, 1, 1, 0, 0, 1, 0, 1, 0, 1, 1, 0, 0, 0, 1, 1, 0],
};

/** Second operands: the same kinds of values in another order, so every pair meets. */
export const OTHER = {
  float64: [3, 0, -0, 2, NaN, 0.25, -7, 1e-300, 1e300, -Infinity, 5, Infinity, 2, -0.5, 0.1, 3, 1e8, -1, 0.3, 4],
  float32: [3, 0, -0, 2, NaN, 0.25, -7, 1e-30, 3e38, -Infinity, 5, Infinity, 2, -0.5, 0.1, 3, 1e8, -1, 0.3, 4].map(Math.fround),
  int32: [3, 0, 2, -1, 7, 2, -3, 1, 1, -1, 65536, 46341, 46341, 0, -5, 2, 3, 31, 2, 4],
  bool: [1, 1, 0, 0, 1, 0, 1, 0, 1, 1, 0, 0, 0, 1, 1, 0, 1, 1, 0, 1],
};

export const TYPED = { float64: Float64Array, float32: Float32Array, int32: Int32Array, bool: Uint8Array };

export function typed(dtype, values) {
  return TYPED[dtype].from(values);
}

/** { typed, ref, shape } for a dtype's value list in the given shape. */
export function input(dtype, shape = [4, 5], values = VALUES[dtype]) {
  const vals = values.slice(0, R.sizeOf(shape));
  return { typed: typed(dtype, vals), ref: R.array(vals, shape, dtype), shape };
}

/** A small deterministic PRNG (mulberry32) for test data. */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
