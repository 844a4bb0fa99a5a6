/**
 * Loads the compiled kernels (tessera.simd.wasm, built from assembly/ next to this file in dist/kernels/)
 * and binds them to a shared memory. TESSERA_KERNELS=js selects the plain-JS twin instead.
 */
import { readFileSync } from "node:fs";
import { runReference } from "./reference.js";

/** Largest memory the module accepts (pages of 64 KiB): 4 GiB. Must match asconfig.json maximumMemory. */
export const MAX_PAGES = 65536;

/**
 * Bytes at the start of the memory that belong to the kernels (their read-only data: libm tables,
 * written by every instantiation). Nothing else may be placed below this address.
 */
export const KERNEL_RESERVED_BYTES = 65536;

/**
 * Bytes of the zstd decoder's workspace (assembly/zstd.ts): each worker has this much in the kernel memory
 * (WorkerAreas.zstd). The module says its own need (zstdWorkBytes); a larger need disables the in-place path.
 */
export const ZSTD_WORK_BYTES = 675840;

/** zstdDecompress(dst, cap, src, srcLen, work) of assembly/zstd.ts: bytes written, or a negative code. */
export type ZstdDecompress = (dst: number, cap: number, src: number, srcLen: number, work: number) => number;

export interface Kernels {
  readonly name: "wasm-simd" | "js";
  /** Runs the program at byte address prog; returns an RC code (abi.ts). */
  run(prog: number): number;
  /** zstd decoding in the same memory, with a workspace of ZSTD_WORK_BYTES (absent for the JS twin) */
  readonly zstd?: ZstdDecompress;
}

interface ZstdExports {
  zstdDecompress(dst: number, cap: number, src: number, srcLen: number, work: number): number;
  zstdWorkBytes(): number;
}
const zstdOf = (e: ZstdExports): ZstdDecompress => {
  const decode = e.zstdDecompress;
  return (dst, cap, src, srcLen, work) => decode(dst >>> 0, cap >>> 0, src >>> 0, srcLen >>> 0, work >>> 0);
};

let cached: WebAssembly.Module | undefined;

/** The compiled kernel module (synchronous, cached). Throws when this engine lacks SIMD or threads. */
export function kernelModule(): WebAssembly.Module {
  if (cached) return cached;
  const url = new URL("./tessera.simd.wasm", import.meta.url);
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(url);
  } catch (e) {
    throw new Error(`tessera kernels not found at ${url.pathname}: run \`npm run build\` (${(e as Error).message})`);
  }
  if (!WebAssembly.validate(bytes)) {
    throw new Error(
      `tessera kernels at ${url.pathname} do not validate: WebAssembly with SIMD (128-bit) and threads ` +
        `(shared memory) is required (Node >= 20)`,
    );
  }
  cached = new WebAssembly.Module(bytes);
  return cached;
}

/** A shared memory matching the module's import: initialPages up to MAX_PAGES, shared. */
export function createSharedMemory(initialPages: number): WebAssembly.Memory {
  return new WebAssembly.Memory({ initial: initialPages, maximum: MAX_PAGES, shared: true });
}

const importsFor = (memory: WebAssembly.Memory) => ({
  env: {
    memory,
    abort: (_msg: number, _file: number, line: number, col: number) => {
      throw new Error(`tessera kernel abort at ${line}:${col}`);
    },
  },
});

/**
 * The kernel module's zstd decoder (assembly/zstd.ts) bound to a shared memory of its own, which holds
 * the module's static data below KERNEL_RESERVED_BYTES and the decoder's buffers above. Throws when the
 * module cannot be loaded (the caller then decodes with numcodecs).
 */
export function zstdOnOwnMemory(module?: WebAssembly.Module): { memory: WebAssembly.Memory; decompress: ZstdDecompress; workBytes: number; base: number } {
  const memory = createSharedMemory(2 + Math.ceil(KERNEL_RESERVED_BYTES / 65536));
  const e = new WebAssembly.Instance(module ?? kernelModule(), importsFor(memory)).exports as unknown as ZstdExports;
  return { memory, decompress: zstdOf(e), workBytes: e.zstdWorkBytes(), base: KERNEL_RESERVED_BYTES };
}

/** Binds kernels to memory (synchronously). With TESSERA_KERNELS=js, returns the JS twin instead. */
export function instantiateKernels(memory: WebAssembly.Memory, module?: WebAssembly.Module): Kernels {
  if (process.env.TESSERA_KERNELS === "js") {
    // re-read memory.buffer on each call: a grown shared memory hands out a longer buffer
    return { name: "js", run: (prog: number) => runReference(memory.buffer, prog) };
  }
  const instance = new WebAssembly.Instance(module ?? kernelModule(), importsFor(memory));
  const run = instance.exports.run as (prog: number) => number;
  const z = instance.exports as unknown as ZstdExports;
  const zstd = typeof z.zstdDecompress === "function" && z.zstdWorkBytes() <= ZSTD_WORK_BYTES ? zstdOf(z) : undefined;
  return { name: "wasm-simd", run: (prog: number) => run(prog >>> 0), ...(zstd ? { zstd } : {}) };
}
