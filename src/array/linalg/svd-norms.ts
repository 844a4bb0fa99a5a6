/**
 * The matrix norms that need singular values: ord 2 (the largest), -2 (the smallest) and "nuc" (their
 * sum), of each matrix over (rowAxis, colAxis). numpy computes them with an SVD of every matrix.
 */
import { invalid, show } from "../../errors.js";
import type { AnyArray } from "../any-array.js";
import type { NormResult } from "./norm.js";

export type SingularValueOrd = 2 | -2 | "nuc";

/**
 * TODO(linalg.svd): the hook for the svd code. Compute the singular values `s` of the matrices of
 * `x.moveaxis([rowAxis, colAxis], [-2, -1])` (shape [..., min(m, n)]) and return s.max / s.min / s.sum
 * over the last axis (with keepdims, reshaped with length 1 at rowAxis and colAxis, as numpy). Until then
 * these ords are refused with a message that says why.
 */
export function singularValueNorm(x: AnyArray, ord: SingularValueOrd, rowAxis: number, colAxis: number, keepdims: boolean): NormResult {
  void x, rowAxis, colAxis, keepdims;
  throw invalid(
    "INVALID_ARGUMENT",
    `linalg.norm ord ${show(ord)} of a matrix needs its singular values, which come with linalg.svd (not in tessera yet); ord "fro", 1, -1, Infinity and -Infinity work now`,
  );
}
