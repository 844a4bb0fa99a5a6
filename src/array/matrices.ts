/**
 * numpy's matrix helpers as top-level functions: eye, tril, triu, diag, diagonal, trace. Lazy and fused for
 * a ChunkedArray (eye is a lazy source), computed at once for an NDArray; numpy's semantics throughout.
 */
import { invalid, show } from "../errors.js";
import { checkDType, type DType } from "../dtype.js";
import type { ChunkedArray } from "./chunked.js";
import type { NDArray } from "./ndarray.js";
import type { ChunkSpec } from "./chunks.js";
import { lazy } from "./creation.js";
import { checkOptions } from "./options.js";
import { arrayResult, checkArray, type AnyArray } from "./any-array.js";
import { diagFromVector, eyeNode, triangleNode } from "./triangles.js";
import { integerOption, type DiagonalOptions } from "./views.js";
import type { TraceOptions } from "./base.js";

export interface EyeOptions {
  /** the diagonal of ones: 0 the main one, positive above it, negative below */
  k?: number;
  dtype?: DType;
  chunks?: ChunkSpec;
}

/**
 * eye(n, m?, { k, dtype, chunks }): the n x m (default n x n) matrix with ones on the k-th diagonal and
 * zeros elsewhere (numpy.eye, dask.array.eye). A lazy source: no chunk is stored until a result needs it.
 */
export function eye(n: number, m?: number | null | EyeOptions, opts?: EyeOptions): ChunkedArray {
  if (m !== null && typeof m === "object") return eye(n, undefined, m);
  const o = checkOptions<EyeOptions>(opts, ["k", "dtype", "chunks"], "eye");
  const size = (v: unknown, what: string) => {
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) throw invalid("INVALID_SHAPE", `eye ${what} ${show(v)} must be a non-negative integer`);
    return v;
  };
  const rows = size(n, "N");
  const cols = m === undefined || m === null ? rows : size(m, "M");
  const k = integerOption(o.k ?? 0, "eye k");
  const dtype = o.dtype === undefined ? "float64" : checkDType(o.dtype);
  const node = eyeNode(rows, cols, k, dtype);
  return lazy(node, o.chunks);
}

/** numpy.tril: x with the elements above its k-th diagonal set to 0 (on the last two axes). */
export function tril(x: ChunkedArray, k?: number): ChunkedArray;
export function tril(x: NDArray, k?: number): NDArray;
export function tril(x: AnyArray, k: number = 0): AnyArray {
  const a = checkArray(x, "tril input");
  return arrayResult(a, (chunks) => ({ node: triangleNode(a.node, k, true), chunks }));
}

/** numpy.triu: x with the elements below its k-th diagonal set to 0 (on the last two axes). */
export function triu(x: ChunkedArray, k?: number): ChunkedArray;
export function triu(x: NDArray, k?: number): NDArray;
export function triu(x: AnyArray, k: number = 0): AnyArray {
  const a = checkArray(x, "triu input");
  return arrayResult(a, (chunks) => ({ node: triangleNode(a.node, k, false), chunks }));
}

/**
 * numpy.diag: of a 1-d array, the square matrix with it on the k-th diagonal (zeros elsewhere); of a 2-d
 * array, its k-th diagonal (a view).
 */
export function diag(v: ChunkedArray, k?: number): ChunkedArray;
export function diag(v: NDArray, k?: number): NDArray;
export function diag(v: AnyArray, k: number = 0): AnyArray {
  const a = checkArray(v, "diag input");
  const kk = integerOption(k, "diag k");
  if (a.ndim === 2) return a.diagonal({ offset: kk });
  if (a.ndim !== 1) throw invalid("INVALID_SHAPE", `diag takes a 1-d or 2-d array, got shape [${a.shape.join(", ")}]`);
  return arrayResult(a, (chunks) => diagFromVector(a.node, chunks[0]!, kk));
}

/** numpy.diagonal: as x.diagonal(opts). */
export function diagonal(x: ChunkedArray, opts?: DiagonalOptions): ChunkedArray;
export function diagonal(x: NDArray, opts?: DiagonalOptions): NDArray;
export function diagonal(x: AnyArray, opts?: DiagonalOptions): AnyArray {
  return checkArray(x, "diagonal input").diagonal(opts);
}

/** numpy.trace: as x.trace(opts), the sum along the diagonal. */
export function trace(x: ChunkedArray, opts?: TraceOptions): ChunkedArray;
export function trace(x: NDArray, opts?: TraceOptions): number | NDArray;
export function trace(x: AnyArray, opts?: TraceOptions): ChunkedArray | NDArray | number | boolean {
  return checkArray(x, "trace input").trace(opts);
}
