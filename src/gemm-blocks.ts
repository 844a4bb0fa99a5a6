/**
 * Which operand blocks a gemm task multiplies (plan/types.ts GemmLayer): one definition shared by the
 * plan's task graph (what a task reads) and the worker that runs it (where the blocks are).
 *
 * The output is [...batch, M, N] on blocks (...batchBlocks, i, j); operand A is [...batch', M, K] and B
 * [...batch', K, N] with the same rank, where a batch axis of A or B has extent 1 (broadcast: block 0)
 * or the output's blocks. For contraction block kb, A's block is (...batch, i, kb) and B's
 * (...batch, kb, j).
 */

/** The block index of an operand for output block `out` and contraction block kb, written into `into`. */
export function operandBlock(operandShape: readonly number[], out: readonly number[], kb: number, side: "a" | "b", into: number[]): number[] {
  const nd = out.length;
  for (let d = 0; d < nd - 2; d++) into[d] = operandShape[d] === 1 ? 0 : out[d]!;
  if (side === "a") {
    into[nd - 2] = out[nd - 2]!;
    into[nd - 1] = kb;
  } else {
    into[nd - 2] = kb;
    into[nd - 1] = out[nd - 1]!;
  }
  into.length = nd;
  return into;
}
