/**
 * QR, SVD and least squares of tall-and-skinny arrays chunked along rows only, by the TSQR method dask
 * uses (Benson, Gleich, Demmel 2013), lazily:
 *
 *   1. each row block A_i = Q1_i R_i (Householder, a block kernel per task; Q1_i padded with zero rows to
 *      the tallest block, so the blocks stack as one [blocks, rows, n] array without moving data);
 *   2. the stacked R_i (blocks·n x n, one task) = Q2 R;
 *   3. Q_i = Q1_i Q2_i, one batched matmul over the blocks; the padding rows are dropped.
 *
 * svd takes the SVD of R (one-sided Jacobi, n x n) and U = Q U_R; lstsq solves R x = Q^T b. Every step is
 * a fixed sequence of deterministic tasks: the same bits for any worker or rank count.
 */
import { invalid } from "../errors.js";
import { newId, type MapBlocksNode } from "../graph/nodes.js";
import { ChunkedArray } from "./chunked.js";
import { computeEager } from "./eager.js";
import { NDArray, fromRawResult } from "./ndarray.js";
import { slice } from "./selectors.js";
import { concatenate } from "./join.js";

type Tall = ChunkedArray | NDArray;

const asChunked = (a: Tall): ChunkedArray => (a instanceof NDArray ? new ChunkedArray(a.node, a.shape.map((n) => [n])) : a);

/** A mapBlocks layer running a block kernel of kernels/dense.ts (float64 in, float64 out). */
function blockKernel(x: ChunkedArray, name: string, args: unknown[], chunks: number[][]): ChunkedArray {
  const shape = chunks.map((c) => c.reduce((a, b) => a + b, 0));
  const node: MapBlocksNode = { kind: "mapBlocks", id: newId(), input: x.node, inputChunks: x.chunks, chunks, fn: `builtin:${name}`, args, shape, dtype: "float64" };
  return new ChunkedArray(node, chunks);
}

/** Checks a is a 2-d array chunked along rows only, each block at least as tall as it is wide. */
function checkTall(a: ChunkedArray, what: string): void {
  if (a.ndim !== 2) throw invalid("INVALID_SHAPE", `${what} takes a 2-d array, got shape [${a.shape.join(", ")}]`);
  const [m, n] = a.shape as [number, number];
  if (a.chunks[1]!.length !== 1) {
    throw invalid("INVALID_CHUNKS", `${what} needs an array chunked along rows only; it has ${a.chunks[1]!.length} blocks of columns: use a.rechunk([${JSON.stringify(a.chunks[0])}, ${n}]) first`);
  }
  const short = a.chunks[0]!.findIndex((r) => r < n);
  if (short >= 0 || m < n) {
    throw invalid("INVALID_CHUNKS", `${what} of an array with ${n} columns needs row blocks of at least ${n} rows; block ${short} has ${a.chunks[0]![short] ?? m}: rechunk along rows so that every block, the last one too, has ${n} rows or more`);
  }
}

/** The TSQR factors of a (float64): Q [m, n] and R [n, n]. */
function tsqr(a: ChunkedArray): { q: ChunkedArray; r: ChunkedArray } {
  const [m, n] = a.shape as [number, number];
  const rows = a.chunks[0]!;
  const b = rows.length;
  const tallest = Math.max(...rows);
  const x = a.dtype === "float64" ? a : a.astype("float64");
  // 1. per block [Q1_i padded to `tallest` rows; R_i]
  const stage1 = blockKernel(x, "qr", [tallest], [rows.map(() => tallest + n), [n]]).reshape([b, tallest + n, n]);
  const q1 = stage1.get(null, slice(0, tallest), null);
  const rs = stage1.get(null, slice(tallest, null), null).reshape([b * n, n]).rechunk([b * n, n]);
  // 2. the stacked R_i = Q2 R
  const stage2 = blockKernel(rs, "qr", [b * n], [[b * n + n], [n]]);
  const q2 = stage2.get(slice(0, b * n), null).reshape([b, n, n]);
  const r = stage2.get(slice(b * n, null), null);
  // 3. Q_i = Q1_i Q2_i, then the padding rows dropped
  const padded = q1.matmul(q2).reshape([b * tallest, n]);
  const regular = rows.every((h, i) => h === tallest || i === b - 1);
  let q: ChunkedArray;
  if (regular) q = padded.get(slice(0, m), null);
  else {
    const keep: number[] = [];
    rows.forEach((h, i) => {
      for (let k = 0; k < h; k++) keep.push(i * tallest + k);
    });
    q = padded.take(keep, { axis: 0 });
  }
  return { q: q.rechunk([rows, [n]]), r };
}

/** Results of a lazy input stay lazy; NDArray inputs are computed at once (one plan for all of them). */
function deliver(results: ChunkedArray[], input: Tall): (ChunkedArray | NDArray)[] {
  if (!(input instanceof NDArray)) return results;
  const raw = computeEager(results.map((r) => ({ node: r.node, chunks: r.shape.map((s) => [s]) })));
  return raw.map((v, i) => fromRawResult(v!, results[i]!.dtype));
}

const castBack = (x: ChunkedArray, like: Tall) => (like.dtype === "float32" ? x.astype("float32") : x);

/**
 * linalg.qr(a): a = q r for a tall-and-skinny a (m x n, chunked along rows only, blocks of at least n
 * rows): q [m, n] with orthonormal columns (chunked as a), r [n, n] upper triangular (dask's reduced QR).
 */
export function qr(a: Tall): [ChunkedArray | NDArray, ChunkedArray | NDArray] {
  const x = asChunked(a);
  checkTall(x, "linalg.qr");
  const { q, r } = tsqr(x);
  return deliver([castBack(q, a), castBack(r, a)], a) as [ChunkedArray | NDArray, ChunkedArray | NDArray];
}

/** The SVD of the TSQR's R: U_R [n, n], s [n] (descending), V^T [n, n]. */
function svdOfR(r: ChunkedArray): { ur: ChunkedArray; s: ChunkedArray; vt: ChunkedArray } {
  const n = r.shape[1]!;
  const f = blockKernel(r.rechunk([n, n]), "svd", [], [[2 * n + 1], [n]]);
  return { ur: f.get(slice(0, n), null), s: f.get(n, null), vt: f.get(slice(n + 1, null), null) };
}

/**
 * linalg.svd(a) of a tall-and-skinny a (as linalg.qr): [u, s, v] with a = u diag(s) v, u [m, n] with
 * orthonormal columns, s [n] descending, v [n, n] (numpy's vh), as dask's svd.
 */
export function svd(a: Tall): [ChunkedArray | NDArray, ChunkedArray | NDArray, ChunkedArray | NDArray] {
  const x = asChunked(a);
  checkTall(x, "linalg.svd");
  const { q, r } = tsqr(x);
  const { ur, s, vt } = svdOfR(r);
  return deliver([castBack(q.matmul(ur), a), castBack(s, a), castBack(vt, a)], a) as [ChunkedArray | NDArray, ChunkedArray | NDArray, ChunkedArray | NDArray];
}

/**
 * The singular values (descending) of a 2-d array of any shape and chunks, lazily: of its transpose when
 * it is wide, on row blocks at least as tall as it is wide (rechunked when it is not so already).
 */
export function singularValues(a: ChunkedArray): ChunkedArray {
  let x = a.shape[0]! < a.shape[1]! ? a.T : a;
  const [m, n] = x.shape as [number, number];
  if (x.chunks[1]!.length !== 1 || x.chunks[0]!.some((r) => r < n)) {
    const size = Math.max(n, Math.max(...x.chunks[0]!));
    const rows: number[] = [];
    for (let s = 0; s < m; s += size) rows.push(Math.min(size, m - s));
    if (rows.length > 1 && rows[rows.length - 1]! < n) rows[rows.length - 2]! += rows.pop()!;
    x = x.rechunk([rows, [n]]);
  }
  return svdOfR(tsqr(x).r).s;
}

/**
 * linalg.lstsq(a, b): the x minimizing ||b - a x||_2 for a tall-and-skinny a (as linalg.qr) and b [m] or
 * [m, k] chunked along rows as a: [x, residuals, rank, s] as numpy's (residuals: the squared norms of
 * the residual columns, shape [1] for a 1-d b; rank: a 0-d int32 array; s: a's singular values).
 */
export function lstsq(a: Tall, b: Tall): (ChunkedArray | NDArray)[] {
  const x = asChunked(a);
  checkTall(x, "linalg.lstsq");
  const y0 = asChunked(b);
  if ((y0.ndim !== 1 && y0.ndim !== 2) || y0.shape[0] !== x.shape[0]) {
    throw invalid("SHAPE_MISMATCH", `linalg.lstsq: b of shape [${y0.shape.join(", ")}] does not match a of shape [${x.shape.join(", ")}] (b needs ${x.shape[0]} rows)`);
  }
  const [m, n] = x.shape as [number, number];
  const y = (y0.ndim === 1 ? y0.reshape([m, 1]) : y0).astype("float64");
  const k = y.shape[1]!;
  const { q, r } = tsqr(x);
  const qtb = q.T.matmul(y.rechunk([x.chunks[0]!, [k]]));
  const system = concatenate([r, qtb], { axis: 1 }) as ChunkedArray;
  const solution = blockKernel(system.rechunk([n, n + k]), "solveUpper", [], [[n], [k]]);
  const res = y.sub(x.astype("float64").matmul(solution));
  const residuals = res.mul(res).sum({ axis: 0 });
  const { s } = svdOfR(r);
  // numpy's matrix_rank: singular values above max(s) * max(m, n) * eps
  const rank = s.gt(s.max().mul(Math.max(m, n) * 2 ** -52)).astype("int32").sum().astype("int32");
  const sol = y0.ndim === 1 ? solution.reshape([n]) : solution;
  return deliver([castBack(sol, a), residuals, rank as ChunkedArray, castBack(s, a)], a);
}
