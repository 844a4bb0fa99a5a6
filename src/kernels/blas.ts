/**
 * The BLAS bridge (native/blas/blas.cc): GEMM records run by an optimized BLAS found on this machine
 * (OpenBLAS, its single-threaded build first), on the calling thread's kernel memory. The matmul's
 * default where it loads; TESSERA_GEMM (wasm.ts) chooses.
 *
 * What holds with it: on one machine (CPU, library and its version), results are bit-identical across
 * worker counts, rank counts and runs, because each call is single-threaded and deterministic and the
 * engine's K blocking follows the operands' chunks, never the workers. They are not the canonical bits of
 * abi.ts (BLAS kernels use FMA and their own blocking), so they differ from the wasm and JS kernels, between
 * CPUs and between chunkings of K, in the last bits; TESSERA_GEMM=plain keeps the canonical arithmetic.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

/** Where `npm install` puts the addon (relative to dist/kernels/ and src/kernels/ alike). */
export const BLAS_ADDON_PATH = fileURLToPath(new URL("../../native/build/Release/tessera_blas.node", import.meta.url));

/**
 * Libraries tried in order: TESSERA_BLAS_LIBRARY when set (and then only it), else OpenBLAS's serial
 * build, then its threaded builds (used with one thread per call), at Debian's and common paths.
 */
export function blasCandidates(env: NodeJS.ProcessEnv = process.env): string[] {
  const own = env.TESSERA_BLAS_LIBRARY;
  if (own) return [own];
  const dirs = ["/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib", "/usr/local/lib"];
  return [
    ...dirs.map((d) => `${d}/openblas-serial/libopenblas.so.0`),
    ...dirs.map((d) => `${d}/openblas-pthread/libopenblas.so.0`),
    ...dirs.map((d) => `${d}/openblas-openmp/libopenblas.so.0`),
    ...dirs.map((d) => `${d}/libopenblas.so.0`),
  ];
}

/** The library that loaded: its path and what OpenBLAS says of itself. */
export interface BlasInfo {
  library: string;
  corename: string;
  config: string;
}

interface BlasAddon {
  load(paths: string[]): BlasInfo | null;
  gemm(memory: Uint8Array, rec: number): number;
  RC_FALLBACK: number;
}

let addon: BlasAddon | null | undefined;
let info: BlasInfo | null = null;
let whyMissing = "";

/** The bridge with a library loaded, or null (blasMissing() says why). Loads once per thread. */
function loaded(): BlasAddon | null {
  if (addon !== undefined) return addon;
  addon = null;
  if (process.platform !== "linux") whyMissing = `the BLAS bridge needs Linux (this is ${process.platform})`;
  else if (!existsSync(BLAS_ADDON_PATH)) whyMissing = `the BLAS bridge is not built (${BLAS_ADDON_PATH} is absent: run npm install with a C++ compiler)`;
  else {
    try {
      const a = createRequire(import.meta.url)(BLAS_ADDON_PATH) as BlasAddon;
      const candidates = blasCandidates();
      info = a.load(candidates.filter((p) => existsSync(p)));
      if (info) addon = a;
      else whyMissing = `no BLAS library found (tried ${candidates.length === 1 ? candidates[0] : "OpenBLAS at the usual paths"}; Debian: apt-get install libopenblas0-serial)`;
    } catch (e) {
      whyMissing = `the BLAS bridge does not load: ${(e as Error).message}`;
    }
  }
  return addon;
}

/** The BLAS library in use, or null. */
export function blasInfo(): BlasInfo | null {
  return loaded() ? info : null;
}

/** Why blasInfo() is null ("" when it is not). */
export function blasMissing(): string {
  loaded();
  return whyMissing;
}

/**
 * gemm(rec) by BLAS on `memory`, with `canonical` (the wasm kernel on the same memory) for the records
 * the bridge leaves to it (operands that neither have a unit stride nor fit the scratch packed, misaligned
 * addresses), or null without a BLAS. The view over the memory is renewed when the memory has grown.
 */
export function blasGemm(memory: WebAssembly.Memory, canonical: (rec: number) => number): ((rec: number) => number) | null {
  const a = loaded();
  if (!a) return null;
  let view = new Uint8Array(memory.buffer);
  return (rec: number) => {
    if (view.byteLength !== memory.buffer.byteLength) view = new Uint8Array(memory.buffer);
    const rc = a.gemm(view, rec);
    return rc === a.RC_FALLBACK ? canonical(rec) : rc;
  };
}
