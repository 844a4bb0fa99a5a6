// tessera kernels: one entry point, the tile interpreter (see src/kernels/abi.ts for the program format).
import { runProgram } from "./interpreter";

/** Runs the program at byte address prog of the shared memory; returns an RC code (0 = OK). */
export function run(prog: u32): i32 {
  return runProgram(<usize>prog);
}

// Zstandard decoding of storage chunks (src/storage/zstd.ts binds it to a memory of its own or the kernels').
export { zstdDecompress, zstdWorkBytes } from "./zstd";
