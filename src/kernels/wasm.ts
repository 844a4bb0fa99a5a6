/**
 * Loads the compiled kernels (tessera.simd.wasm, built from assembly/ next to this file in dist/kernels/)
 * and binds them to a shared memory. TESSERA_KERNELS (backend.ts) selects the native interpreter (the
 * default when built; native.ts), these wasm kernels, or the plain-JS twins.
 *
 * TESSERA_GEMM=fma selects tessera.fma.wasm instead: the same sources built with relaxed SIMD, whose GEMM
 * microkernel uses f64x2.relaxed_madd / f32x4.relaxed_madd (a fused multiply-add where the CPU has one:
 * one rounding per step instead of two, so results differ from the canonical arithmetic of abi.ts in the
 * last bits, and from host to host; the interpreter is unchanged). Never the default: bit-identical
 * results between the plain build, the JS twin and every rank need the plain build.
 *
 * Relaxed SIMD on this Node (measured on v20.20.2, V8 11.3.244.8-node.38): WebAssembly.validate() of a
 * module using f64x2.relaxed_madd returns false by default ("Compiling function #0 failed: simd opcode not
 * available, enable with --experimental-relaxed-simd"); with `node --experimental-wasm-relaxed-simd`, or
 * after v8.setFlagsFromString("--experimental-wasm-relaxed-simd") in the running process before compiling,
 * it validates, and on an x86-64 CPU with FMA3 it fuses (fma(1+2^-30, 1+2^-30, -(1+2^-29)) = 2^-60, where
 * mul then add gives 0). So with TESSERA_GEMM=fma the loader sets that flag itself when the module does
 * not validate, and fails loudly if it still does not: an explicit opt-in never falls back silently.
 */
import { readFileSync } from "node:fs";
import { setFlagsFromString } from "node:v8";
import { invalid, show } from "../errors.js";
import { kernelBackend } from "./backend.js";
import { blasInfo, blasMissing, nativeGemm } from "./native-gemm.js";
import { runGemmReference } from "./gemm-reference.js";
import { type NativeLevel, loadNativeKernels, nativeLevel, nativeRun } from "./native.js";
import { runReference } from "./reference.js";
import type { ZstdStreamFns } from "../zstd-stream.js";

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

/**
 * The streamed decoder's stages (assembly/zstd-stream.ts, in the small memory of storage/zstd.ts's
 * ZstdChunkReader), for chunks not decoded in place (an edge chunk, a task over several storage chunks, a
 * dtype converted from disk): the output stage keeps the frame's window (at most ZSTD_STREAM_WINDOW_BYTES:
 * zstd's levels up to 4 on large chunks, and every chunk of up to 2 MiB) and at least a megabyte of new
 * output; the input stage a megabyte of the file. A frame with a larger window is decoded whole there.
 */
export const ZSTD_STREAM_WINDOW_BYTES = 2 << 20;
export const ZSTD_OUT_STAGE_BYTES = ZSTD_STREAM_WINDOW_BYTES + (1 << 20);
export const ZSTD_IN_STAGE_BYTES = 1 << 20;
/** The stage sizes storage/zstd.ts's streamed reads take (streamerAt). */
export const ZSTD_STAGES = { outBytes: ZSTD_OUT_STAGE_BYTES, inBytes: ZSTD_IN_STAGE_BYTES, maxWindow: ZSTD_STREAM_WINDOW_BYTES } as const;

/**
 * Bytes of the zstd encoder's workspace (assembly/zstd-encode.ts: zstdCompressWorkBytes), and of each part
 * of a chunk it compresses per call: the worker's zstd area holds the workspace, then the output of one part
 * (zstdCompressBound(ZSTD_PART_BYTES)), which is written to the file before the next part is compressed.
 */
export const ZSTD_ENCODE_WORK_BYTES = 710656;
export const ZSTD_PART_BYTES = 1 << 20;
/** zstdCompressBound(ZSTD_PART_BYTES) */
export const ZSTD_PART_OUT_BYTES = 1049133;
/**
 * The encoder's match window (assembly/zstd-encode-state.ts WINDOW_LOG): a part of a chunk reads back at most
 * this far before its start, so a chunk that is not in memory as stored (an edge chunk padded to full size,
 * a dtype converted on disk) is encoded from a stage holding this much of it before the part, then the part:
 * never the whole chunk (storage/zstd-write.ts ZstdChunkWriter).
 */
export const ZSTD_ENCODE_WINDOW_BYTES = 1 << 19;
/**
 * Bytes of a worker's zstd area (WorkerAreas.zstd): the decoder's workspace when reading in place, the
 * encoder's workspace and one part's output when writing a chunk from where it lies (never both at once:
 * each runs to its end synchronously). The stages of streamed reads and staged writes are not here but in
 * small memories of the worker's own (storage/zstd.ts, zstd-write.ts): fixed areas of the kernel memory
 * count against every worker's memory limit, even where no storage task runs.
 */
export const ZSTD_AREA_BYTES = Math.max(ZSTD_WORK_BYTES, ZSTD_ENCODE_WORK_BYTES + ZSTD_PART_OUT_BYTES);

/**
 * zstdCompress(dst, cap, src, from, to, total, work) of assembly/zstd-encode.ts: compresses bytes [from, to)
 * of the total-byte chunk at src (parts in order, from a multiple of 128 KiB) into dst; bytes written, or a
 * negative code.
 */
export type ZstdCompress = (dst: number, cap: number, src: number, from: number, to: number, total: number, work: number) => number;

/** zstdDecompress(dst, cap, src, srcLen, work) of assembly/zstd.ts: bytes written, or a negative code. */
export type ZstdDecompress = (dst: number, cap: number, src: number, srcLen: number, work: number) => number;

/** Which interpreter runs programs: the wasm kernels, the JS twin, or the native one at its dispatch level. */
export type KernelsName = "wasm-simd" | "js" | `native-${NativeLevel}`;


export interface Kernels {
  readonly name: KernelsName;
  /** Runs the program at byte address prog; returns an RC code (abi.ts). */
  run(prog: number): number;
  /** Runs the GEMM record at byte address rec; returns an RC code (abi.ts: G). */
  gemm(rec: number): number;
  /** zstd decoding in the same memory, with a workspace of ZSTD_WORK_BYTES (absent for the JS twin) */
  readonly zstd?: ZstdDecompress;
  /** zstd encoding in the same memory, with a workspace of ZSTD_ENCODE_WORK_BYTES (absent for the JS twin) */
  readonly zstdCompress?: ZstdCompress;
}

/**
 * Which GEMM arithmetic the kernels run: "blas" (an optimized BLAS on this machine: kernels/native-gemm.ts;
 * the default where one loads), "plain" (the canonical arithmetic of abi.ts: the default without a BLAS,
 * and the bits the JS twin and every machine share; run by the GEMM addon's native canonical kernel where
 * it is built, unless TESSERA_KERNELS=wasm, else by the wasm kernel) or "fma" (the relaxed-SIMD wasm build). TESSERA_GEMM names one; an explicit
 * "blas" without a BLAS is an error, never a silent fallback.
 */
export function gemmFlavour(env: Record<string, string | undefined> = process.env): "plain" | "fma" | "blas" {
  const v = gemmSetting(env);
  // kernels forced to wasm or the JS twin keep their canonical GEMM too, unless BLAS is asked for by name
  const forced = env.TESSERA_KERNELS === "wasm" || env.TESSERA_KERNELS === "js";
  if (v === "") return !forced && blasInfo() ? "blas" : "plain";
  if (v === "blas" && !blasInfo()) throw invalid("INVALID_ARGUMENT", `TESSERA_GEMM "blas": ${blasMissing()}`);
  return v;
}

/** TESSERA_GEMM as named ("" when unset), validated; nothing is loaded to decide the default. */
function gemmSetting(env: Record<string, string | undefined> = process.env): "" | "plain" | "fma" | "blas" {
  const v = env.TESSERA_GEMM;
  if (v === undefined || v === "") return "";
  if (v === "plain" || v === "fma" || v === "blas") return v;
  throw invalid("INVALID_ARGUMENT", `TESSERA_GEMM ${show(v)} must be "blas" (the default where a BLAS loads), "plain" or "fma"`);
}

interface ZstdExports {
  zstdDecompress(dst: number, cap: number, src: number, srcLen: number, work: number): number;
  zstdWorkBytes(): number;
}
interface ZstdStreamExports {
  zstdStream(outBase: number, outEnd: number, more: number, inBase: number, inEnd: number, final: number, maxWindow: number, work: number): number;
  zstdStreamBegin(): void;
  zstdStreamIn(): number;
  zstdStreamPos(): number;
  zstdStreamWindow(): number;
}
const zstdOf = (e: ZstdExports): ZstdDecompress => {
  const decode = e.zstdDecompress;
  return (dst, cap, src, srcLen, work) => decode(dst >>> 0, cap >>> 0, src >>> 0, srcLen >>> 0, work >>> 0);
};
/** The module's streamed decoder (addresses may wrap: they are taken modulo 2^32). */
const zstdStreamOf = (e: ZstdStreamExports): ZstdStreamFns | undefined => {
  if (typeof e.zstdStream !== "function") return undefined;
  const step = e.zstdStream;
  return {
    begin: e.zstdStreamBegin,
    step: (ob, oe, more, ib, ie, final, mw, w) => step(ob >>> 0, oe >>> 0, more ? 1 : 0, ib >>> 0, ie >>> 0, final ? 1 : 0, mw >>> 0, w >>> 0),
    consumed: () => e.zstdStreamIn() >>> 0,
    made: () => e.zstdStreamPos() >>> 0,
    window: () => e.zstdStreamWindow() >>> 0,
  };
};

interface ZstdEncodeExports {
  zstdCompress(dst: number, cap: number, src: number, from: number, to: number, total: number, work: number): number;
  zstdCompressWorkBytes(): number;
  zstdCompressBound(n: number): number;
  zstdCompressWindowBytes(): number;
}
/** The module's encoder, when it has one whose needs fit the areas reserved for it. */
const zstdEncoderOf = (e: ZstdEncodeExports): ZstdCompress | undefined => {
  if (typeof e.zstdCompress !== "function" || typeof e.zstdCompressWindowBytes !== "function") return undefined;
  if (e.zstdCompressWorkBytes() > ZSTD_ENCODE_WORK_BYTES || e.zstdCompressBound(ZSTD_PART_BYTES) > ZSTD_PART_OUT_BYTES || e.zstdCompressWindowBytes() > ZSTD_ENCODE_WINDOW_BYTES) return undefined;
  const encode = e.zstdCompress;
  return (dst, cap, src, from, to, total, work) => encode(dst >>> 0, cap >>> 0, src >>> 0, from >>> 0, to >>> 0, total >>> 0, work >>> 0);
};

const cached = new Map<string, WebAssembly.Module>();

/**
 * The compiled kernel module (synchronous, cached): tessera.simd.wasm, or tessera.fma.wasm under
 * TESSERA_GEMM=fma. Throws when this engine lacks SIMD or threads (or relaxed SIMD, for the FMA build).
 */
export function kernelModule(): WebAssembly.Module {
  // which module file: only fma has one of its own, so the default (BLAS or not) need not load a BLAS here
  const setting = gemmSetting();
  const flavour = setting === "fma" ? "fma" : setting === "blas" ? gemmFlavour() : "plain";
  const hit = cached.get(flavour);
  if (hit) return hit;
  const file = flavour === "fma" ? "tessera.fma.wasm" : "tessera.simd.wasm";
  const url = new URL(`./${file}`, import.meta.url);
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(url);
  } catch (e) {
    throw new Error(`tessera kernels not found at ${url.pathname}: run \`npm run build\` (${(e as Error).message})`);
  }
  if (flavour === "fma" && !WebAssembly.validate(bytes)) setFlagsFromString("--experimental-wasm-relaxed-simd");
  if (!WebAssembly.validate(bytes)) {
    throw new Error(
      flavour === "fma"
        ? `tessera FMA kernels at ${url.pathname} do not validate even with --experimental-wasm-relaxed-simd: ` +
            `this engine lacks relaxed SIMD (TESSERA_GEMM=fma needs it; unset TESSERA_GEMM for the plain build)`
        : `tessera kernels at ${url.pathname} do not validate: WebAssembly with SIMD (128-bit) and threads ` +
            `(shared memory) is required (Node >= 20)`,
    );
  }
  const module = new WebAssembly.Module(bytes);
  cached.set(flavour, module);
  return module;
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
export function zstdOnOwnMemory(module?: WebAssembly.Module): { memory: WebAssembly.Memory; decompress: ZstdDecompress; stream?: ZstdStreamFns; stages: typeof ZSTD_STAGES; workBytes: number; base: number } {
  const memory = createSharedMemory(2 + Math.ceil(KERNEL_RESERVED_BYTES / 65536));
  const e = new WebAssembly.Instance(module ?? kernelModule(), importsFor(memory)).exports as unknown as ZstdExports & ZstdStreamExports;
  const stream = zstdStreamOf(e);
  return { memory, decompress: zstdOf(e), ...(stream ? { stream } : {}), stages: ZSTD_STAGES, workBytes: e.zstdWorkBytes(), base: KERNEL_RESERVED_BYTES };
}

/**
 * The kernel module's zstd encoder (assembly/zstd-encode.ts) bound to a shared memory of its own (static
 * data below KERNEL_RESERVED_BYTES, the caller's buffers above), for chunks that are not in a kernel memory.
 * Throws when the module cannot be loaded or has no encoder (the caller then encodes with numcodecs).
 */
export function zstdEncoderOnOwnMemory(module?: WebAssembly.Module): { memory: WebAssembly.Memory; compress: ZstdCompress; base: number } {
  const memory = createSharedMemory(2 + Math.ceil(KERNEL_RESERVED_BYTES / 65536));
  const e = new WebAssembly.Instance(module ?? kernelModule(), importsFor(memory)).exports as unknown as ZstdEncodeExports;
  const compress = zstdEncoderOf(e);
  if (!compress) throw new Error("the kernel module has no zstd encoder that fits ZSTD_ENCODE_WORK_BYTES");
  return { memory, compress, base: KERNEL_RESERVED_BYTES };
}

/**
 * Binds kernels to memory (synchronously), the backend kernelBackend() says: the JS twin, the wasm kernels,
 * or the native interpreter for run() beside a wasm instance on the same memory for gemm and zstd.
 */
export function instantiateKernels(memory: WebAssembly.Memory, module?: WebAssembly.Module): Kernels {
  const backend = kernelBackend();
  if (backend === "js") {
    // re-read memory.buffer on each call: a grown shared memory hands out a longer buffer
    return {
      name: "js",
      run: (prog: number) => runReference(memory.buffer, prog),
      gemm: (rec: number) => runGemmReference(memory.buffer, rec),
    };
  }
  const instance = new WebAssembly.Instance(module ?? kernelModule(), importsFor(memory));
  const run = instance.exports.run as (prog: number) => number;
  const canonicalGemm = instance.exports.gemm as (rec: number) => number;
  const wasmGemm = (rec: number) => canonicalGemm(rec >>> 0);
  // chosen on the first GEMM record: a worker that never multiplies matrices never opens a BLAS
  // (with the settings of now: the environment may change before then)
  const env = { TESSERA_GEMM: process.env.TESSERA_GEMM, TESSERA_KERNELS: process.env.TESSERA_KERNELS };
  gemmSetting(env); // a bad TESSERA_GEMM is an error now, not at the first matmul
  let chosen: ((rec: number) => number) | null = null;
  const choose = () => {
    const flavour = gemmFlavour(env);
    const native = flavour === "blas" ? nativeGemm(memory, "blas", wasmGemm) : flavour === "plain" && env.TESSERA_KERNELS !== "wasm" ? nativeGemm(memory, "canonical", wasmGemm) : null;
    return native ?? wasmGemm;
  };
  const gemm = (rec: number) => (chosen ??= choose())(rec);
  const z = instance.exports as unknown as ZstdExports;
  const zstd = typeof z.zstdDecompress === "function" && z.zstdWorkBytes() <= ZSTD_WORK_BYTES ? zstdOf(z) : undefined;
  const zstdCompress = zstdEncoderOf(instance.exports as unknown as ZstdEncodeExports);
  const extras = { ...(zstd ? { zstd } : {}), ...(zstdCompress ? { zstdCompress } : {}) };
  if (backend === "native") {
    const addon = loadNativeKernels()!;
    const level = nativeLevel(addon);
    return { name: `native-${level}`, run: nativeRun(addon, memory, level), gemm, ...extras };
  }
  return { name: "wasm-simd", run: (prog: number) => run(prog >>> 0), gemm, ...extras };
}
