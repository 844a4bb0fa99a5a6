/**
 * The matrix norms that need singular values: ord 2 (the largest), -2 (the smallest) and "nuc" (their
 * sum), of the matrix over (rowAxis, colAxis), from the TSQR singular values (tsqr.ts), as numpy computes
 * them from an SVD. Of 2-d arrays; a stack of matrices is refused.
 */
import { invalid, show } from "../../errors.js";
import { ChunkedArray } from "../chunked.js";
import { NDArray } from "../ndarray.js";
import { resultOf } from "../products.js";
import { singularValues } from "../tsqr.js";
import type { AnyArray } from "../any-array.js";
import type { NormResult } from "./norm.js";

export type SingularValueOrd = 2 | -2 | "nuc";

export function singularValueNorm(x: AnyArray, ord: SingularValueOrd, rowAxis: number, colAxis: number, keepdims: boolean): NormResult {
  if (x.ndim !== 2) {
    throw invalid("INVALID_AXIS", `linalg.norm ord ${show(ord)} is computed for one matrix (a 2-d array); this array has ${x.ndim} dimensions: norm each matrix separately`);
  }
  let m = x instanceof NDArray ? new ChunkedArray(x.node, x.shape.map((n) => [n])) : x;
  if (rowAxis > colAxis) m = m.T;
  const s = singularValues(m.dtype === "float32" || m.dtype === "float64" ? m : m.astype("float64"));
  let r: ChunkedArray = ord === 2 ? s.max() : ord === -2 ? s.min() : s.sum();
  if (x.dtype === "float32") r = r.astype("float32");
  if (keepdims) r = r.reshape([1, 1]);
  return resultOf({ node: r.node, chunks: r.chunks }, [x]) as NormResult;
}
