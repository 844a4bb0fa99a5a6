// tessera kernels: one entry point, the tile interpreter (see src/kernels/abi.ts for the program format).
import { runProgram } from "./interpreter";
import { gemm as gemmKernel, gemmPeak as gemmPeakKernel } from "./gemm";

/** Runs the program at byte address prog of the shared memory; returns an RC code (0 = OK). */
export function run(prog: u32): i32 {
  return runProgram(<usize>prog);
}

/** Runs the GEMM record at byte address rec (src/kernels/abi.ts: G); returns an RC code. */
export function gemm(rec: u32): i32 {
  return gemmKernel(<usize>rec);
}

/** The GEMM microkernel alone, reps times on packed panels in the scratch at scratch (bench/gemm-kernel.mjs). */
export function gemmPeak(scratch: u32, kc: i32, reps: i32): void {
  gemmPeakKernel(<usize>scratch, kc, reps);
}

// Zstandard decoding of storage chunks (src/storage/zstd.ts binds it to a memory of its own or the kernels').
export { zstdDecompress, zstdWorkBytes } from "./zstd";
export { zstdStream, zstdStreamBegin, zstdStreamIn, zstdStreamPos, zstdStreamWindow } from "./zstd-stream";

// Zstandard encoding of storage chunks written by toZarr (src/storage/zstd-write.ts), in the same memory.
export { zstdCompress, zstdCompressBound, zstdCompressWindowBytes, zstdCompressWorkBytes } from "./zstd-encode";
