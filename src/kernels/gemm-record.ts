/**
 * Writes a GEMM record (abi.ts: G) for the GEMM kernel: gemm(rec) then computes C = A·B (beta 0) or
 * C += A·B (beta 1). The one place that spells the record's words, for callers and tests alike.
 */
import { G, GEMM_MAGIC, GEMM_SCRATCH_BYTES, GEMM_WORDS } from "./abi.js";

/** A matrix operand: the byte address of its element [0, 0] and its strides in elements. */
export interface GemmOperand {
  base: number;
  /** elements between consecutive rows (i for A and C, k for B) */
  row: number;
  /** elements between consecutive columns (k for A, j for B and C) */
  col: number;
}

export interface GemmCall {
  /** DT.F64 or DT.F32, for all three operands */
  dtype: number;
  m: number;
  n: number;
  k: number;
  a: GemmOperand;
  b: GemmOperand;
  c: GemmOperand;
  beta: 0 | 1;
  /** 16-aligned byte address of at least GEMM_SCRATCH_BYTES of scratch */
  scratch: number;
  scratchBytes?: number;
}

/** Writes the record at byte address rec (8-aligned) of buffer. */
export function writeGemmRecord(buffer: ArrayBufferLike, rec: number, g: GemmCall): void {
  const w = new Float64Array(buffer, rec, GEMM_WORDS);
  w[G.MAGIC] = GEMM_MAGIC;
  w[G.DTYPE] = g.dtype;
  w[G.M] = g.m;
  w[G.N] = g.n;
  w[G.K] = g.k;
  w[G.A] = g.a.base;
  w[G.A_ROW] = g.a.row;
  w[G.A_COL] = g.a.col;
  w[G.B] = g.b.base;
  w[G.B_ROW] = g.b.row;
  w[G.B_COL] = g.b.col;
  w[G.C] = g.c.base;
  w[G.C_ROW] = g.c.row;
  w[G.C_COL] = g.c.col;
  w[G.BETA] = g.beta;
  w[G.SCRATCH] = g.scratch;
  w[G.SCRATCH_BYTES] = g.scratchBytes ?? GEMM_SCRATCH_BYTES;
}
