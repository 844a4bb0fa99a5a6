/**
 * INTERIM (replaced by the GEMM kernel of kernels/abi.ts when it lands): the GEMM record layout and a
 * plain loop with the canonical arithmetic, so the plan layer can be built and tested against it.
 */
export const G = { MAGIC: 0, DTYPE: 1, M: 2, N: 3, K: 4, A: 5, A_ROW: 6, A_COL: 7, B: 8, B_ROW: 9, B_COL: 10, C: 11, C_ROW: 12, C_COL: 13, BETA: 14, SCRATCH: 15, SCRATCH_BYTES: 16 } as const;
export const GEMM_WORDS = 17;
export const GEMM_MAGIC = 0x6e33a7c1;
export const GEMM_SCRATCH_BYTES = 512 * 1024;

export function runGemmInterim(buffer: ArrayBufferLike, rec: number): number {
  const w = new Float64Array(buffer, rec, GEMM_WORDS);
  const f32 = w[G.DTYPE] === 1;
  const M = w[G.M]!, N = w[G.N]!, K = w[G.K]!;
  const mem = f32 ? new Float32Array(buffer) : new Float64Array(buffer);
  const sh = f32 ? 2 : 3;
  const a = w[G.A]! / (1 << sh), b = w[G.B]! / (1 << sh), c = w[G.C]! / (1 << sh);
  const ar = w[G.A_ROW]!, ac = w[G.A_COL]!, br = w[G.B_ROW]!, bc = w[G.B_COL]!, cr = w[G.C_ROW]!, cc = w[G.C_COL]!;
  const beta = w[G.BETA] === 1;
  const r = f32 ? Math.fround : (x: number) => x;
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let acc = beta ? mem[c + i * cr + j * cc]! : 0;
      for (let k = 0; k < K; k++) acc = r(acc + r(mem[a + i * ar + k * ac]! * mem[b + k * br + j * bc]!));
      mem[c + i * cr + j * cc] = acc;
    }
  }
  return 0;
}
