/**
 * The plain-JS twin of the GEMM kernel (assembly/gemm.ts): the same record (abi.ts: G), the same checks
 * and RC codes, and the canonical arithmetic in plain loops, so its results are the wasm kernel's bit for
 * bit (NaN payloads aside). The test oracle and the engine's fallback (TESSERA_KERNELS=js).
 */
import { DT, G, GEMM_MAGIC, GEMM_SCRATCH_BYTES, GEMM_WORDS, RC } from "./abi.js";

const TWO31 = 2147483648;

const isInt = (x: number): boolean => Math.abs(x) <= Number.MAX_SAFE_INTEGER + 1 && Math.floor(x) === x;

/** Whether the rows×cols operand at base (element strides rs, cs) lies inside [0, memBytes). */
function inside(base: number, rows: number, cols: number, rs: number, cs: number, e: number, memBytes: number): boolean {
  if (rows === 0 || cols === 0) return true;
  const di = rows > 1 ? (rows - 1) * rs : 0;
  const dk = cols > 1 ? (cols - 1) * cs : 0;
  const lo = base + (Math.min(di, 0) + Math.min(dk, 0)) * e;
  const hi = base + (Math.max(di, 0) + Math.max(dk, 0)) * e + e;
  return lo >= 0 && hi <= memBytes;
}

/** Runs the GEMM record at byte address rec of buffer; returns an RC code (abi.ts). */
export function runGemmReference(buffer: ArrayBufferLike, rec: number): number {
  const memBytes = buffer.byteLength;
  if (rec % 8 !== 0 || rec < 0 || rec + GEMM_WORDS * 8 > memBytes) return RC.BAD_HEADER;
  const dv = new DataView(buffer);
  const w = (i: number): number => dv.getFloat64(rec + 8 * i, true);
  if (w(G.MAGIC) !== GEMM_MAGIC) return RC.BAD_MAGIC;
  const dt = w(G.DTYPE);
  if (dt !== DT.F64 && dt !== DT.F32) return RC.BAD_HEADER;
  const e = dt === DT.F64 ? 8 : 4;
  const m = w(G.M), n = w(G.N), k = w(G.K);
  if (![m, n, k].every((x) => isInt(x) && x >= 0 && x < TWO31)) return RC.BAD_HEADER;
  const a = w(G.A), ars = w(G.A_ROW), acs = w(G.A_COL);
  const b = w(G.B), brs = w(G.B_ROW), bcs = w(G.B_COL);
  const c = w(G.C), crs = w(G.C_ROW), ccs = w(G.C_COL);
  if (![a, ars, acs, b, brs, bcs, c, crs, ccs].every(isInt)) return RC.BAD_HEADER;
  const beta = w(G.BETA);
  if (beta !== 0 && beta !== 1) return RC.BAD_HEADER;
  const s = w(G.SCRATCH), sb = w(G.SCRATCH_BYTES);
  if (!(isInt(s) && isInt(sb) && s >= 0 && sb >= GEMM_SCRATCH_BYTES && s + GEMM_SCRATCH_BYTES <= memBytes)) return RC.BAD_HEADER;
  if (s % 16 !== 0) return RC.BAD_HEADER;
  if (!inside(a, m, k, ars, acs, e, memBytes) || !inside(b, k, n, brs, bcs, e, memBytes) || !inside(c, m, n, crs, ccs, e, memBytes)) {
    return RC.BAD_HEADER;
  }
  if (m === 0 || n === 0) return RC.OK;
  // element addresses; a stride along a dimension of 1 is never multiplied by a nonzero index
  const f32 = dt === DT.F32;
  const get = f32 ? (p: number) => dv.getFloat32(p, true) : (p: number) => dv.getFloat64(p, true);
  const set = f32 ? (p: number, v: number) => dv.setFloat32(p, v, true) : (p: number, v: number) => dv.setFloat64(p, v, true);
  const acc = new Float64Array(n); // row i of the accumulators: each element's chain runs over k in order
  for (let i = 0; i < m; i++) {
    const crow = c + i * crs * e;
    for (let j = 0; j < n; j++) acc[j] = beta === 1 ? get(crow + j * ccs * e) : 0;
    for (let kk = 0; kk < k; kk++) {
      const x = get(a + (i * ars + kk * acs) * e);
      const brow = b + kk * brs * e;
      if (f32) for (let j = 0; j < n; j++) acc[j] = Math.fround(acc[j]! + Math.fround(x * get(brow + j * bcs * e)));
      else for (let j = 0; j < n; j++) acc[j] = acc[j]! + x * get(brow + j * bcs * e);
    }
    for (let j = 0; j < n; j++) set(crow + j * ccs * e, acc[j]!);
  }
  return RC.OK;
}
