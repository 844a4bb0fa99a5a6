/**
 * The GEMM addon (native/gemm/): GEMM records run natively on the calling thread's kernel memory, either
 * by an optimized BLAS found on this machine (OpenBLAS with one thread per call: the default arithmetic
 * where one loads) or by the canonical kernel built for this CPU's widest vectors (AVX-512,
 * AVX2 or SSE2, chosen once; the same bits as the wasm kernel and the JS twin, whatever the width).
 * TESSERA_GEMM chooses the arithmetic (wasm.ts).
 *
 * What holds with BLAS: on one machine (CPU, library and its version), results are bit-identical across
 * worker counts, rank counts and runs, because each call is single-threaded and deterministic and the
 * engine's K blocking follows the operands' chunks, never the workers. They are not the canonical bits of
 * abi.ts (BLAS kernels use FMA and their own blocking), so they differ from the wasm and JS kernels, between
 * CPUs and between chunkings of K, in the last bits; TESSERA_GEMM=plain keeps the canonical arithmetic.
 */
import { existsSync } from "node:fs";
import { addonLoader } from "../native-addon.js";

/**
 * Libraries tried in order: TESSERA_BLAS_LIBRARY when set (and then only it), else OpenBLAS's threaded
 * builds (used with one thread per call), then its serial one, at Debian's and common paths.
 */
export function blasCandidates(env: NodeJS.ProcessEnv = process.env): string[] {
  const own = env.TESSERA_BLAS_LIBRARY;
  if (own) return [own];
  const dirs = ["/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib", "/usr/local/lib"];
  // the threaded build first: told to use one thread (native/gemm/blas.cc), it locks its buffers for
  // concurrent callers; a serial build is safe for them only if built with USE_LOCKING=1, which it does not say
  return [
    ...dirs.map((d) => `${d}/openblas-pthread/libopenblas.so.0`),
    ...dirs.map((d) => `${d}/libopenblas.so.0`),
    ...dirs.map((d) => `${d}/openblas-openmp/libopenblas.so.0`),
    ...dirs.map((d) => `${d}/openblas-serial/libopenblas.so.0`),
  ];
}

/** The library that loaded: its path and what OpenBLAS says of itself. */
export interface BlasInfo {
  library: string;
  corename: string;
  config: string;
}

/** The canonical kernel's builds, widest first. */
export type GemmIsa = "avx512" | "avx2" | "sse2";

/** native/gemm/addon.cc */
interface GemmAddon {
  load(paths: string[]): BlasInfo | null;
  useIsa(name?: string): GemmIsa | null;
  gemm(memory: Uint8Array, rec: number, blas: boolean): number;
  abi: Record<string, number> & { G: Record<string, number> };
}

const loader = addonLoader<GemmAddon>("tessera_gemm.node", "the GEMM addon", () =>
  process.platform !== "linux" || process.arch !== "x64" ? `the GEMM addon is built for Linux on x86-64 (this is ${process.platform} ${process.arch})` : null);
const gemmAddon = (): GemmAddon | null => loader.load();
let blas: BlasInfo | null | undefined;
let blasWhy = "";

/** Why the addon is absent ("" when it loads). */
export function gemmAddonMissing(): string {
  return loader.why();
}

/** The addon's copy of the record's constants (checked against abi.ts by the tests), or null. */
export function gemmAddonAbi(): GemmAddon["abi"] | null {
  return gemmAddon()?.abi ?? null;
}

/** The BLAS library in use, or null (blasMissing() says why). */
export function blasInfo(): BlasInfo | null {
  if (blas !== undefined) return blas;
  blas = null;
  const a = gemmAddon();
  if (!a) blasWhy = loader.why();
  else {
    const candidates = blasCandidates();
    blas = a.load(candidates.filter((p) => existsSync(p)));
    if (!blas) blasWhy = `no BLAS library found (tried ${candidates.length === 1 ? candidates[0] : "OpenBLAS at the usual paths"}; Debian: apt-get install libopenblas0-pthread)`;
  }
  return blas;
}

/** Why blasInfo() is null ("" when it is not). */
export function blasMissing(): string {
  blasInfo();
  return blasWhy;
}

/**
 * The canonical kernel's build this thread runs: the widest the CPU has, or `force` ("avx512", "avx2",
 * "sse2": for tests of every build) when the CPU has it; null without the addon or without that ISA.
 */
export function canonicalIsa(force?: GemmIsa): GemmIsa | null {
  return gemmAddon()?.useIsa(force) ?? null;
}

/**
 * gemm(rec) on `memory` natively: by BLAS (`how` "blas", after blasInfo()) or by the canonical kernel
 * ("canonical"), with `wasm` (the wasm kernel on the same memory) for the records the addon leaves to it
 * (BLAS: operands that neither have a unit stride nor fit the scratch packed; both: misaligned operands),
 * or null without the addon. The view over the memory is renewed when the memory has grown.
 */
export function nativeGemm(memory: WebAssembly.Memory, how: "blas" | "canonical", wasm: (rec: number) => number): ((rec: number) => number) | null {
  const a = gemmAddon();
  if (!a || (how === "blas" && !blasInfo())) return null;
  const fallback = a.abi.RC_FALLBACK;
  const useBlas = how === "blas";
  let view = new Uint8Array(memory.buffer);
  return (rec: number) => {
    if (view.byteLength !== memory.buffer.byteLength) view = new Uint8Array(memory.buffer);
    const rc = a.gemm(view, rec >>> 0, useBlas);
    return rc === fallback ? wasm(rec) : rc;
  };
}
