/**
 * The engine's block kernels by name: plain-JS tasks a plan names as a mapBlocks layer whose fn is
 * "builtin:<name>", run on a chunk in place (worker/map-blocks-task.ts BuiltinBlockTasks): the dense
 * factorizations (dense.ts, float64) and the selections (blockwise.ts, any dtype).
 */
import { BLOCK_KERNELS as DENSE } from "./dense.js";
import { SELECT_BLOCK_KERNELS, type Block } from "./blockwise.js";

/** A chunk as a block kernel sees it: its values (C order), shape, and global index of its first element. */
export type KernelBlock = Block;

export type BlockKernel = (input: KernelBlock, output: KernelBlock, args: readonly unknown[]) => void;

const float64Only = (name: string, f: (typeof DENSE)[string]): BlockKernel => (input, output, args) => {
  if (!(input.data instanceof Float64Array) || !(output.data instanceof Float64Array)) throw new Error(`internal: block kernel ${name} takes float64 blocks`);
  f({ data: input.data, shape: input.shape }, { data: output.data, shape: output.shape }, args);
};

export const BLOCK_KERNELS: Record<string, BlockKernel> = {
  ...Object.fromEntries(Object.entries(DENSE).map(([name, f]) => [name, float64Only(name, f)])),
  ...(SELECT_BLOCK_KERNELS as Record<string, BlockKernel>),
};
