/**
 * Loads the native twin of the tile interpreter (native/kernels/, C++ through node-addon-api, built by
 * `npm install` when a compiler is there), or returns null when it is not built, cannot load, or this is
 * not an x86-64 CPU. It runs the same programs on the same shared memory as the wasm kernels, bit for bit
 * (EXP LOG SIN COS POW included: it carries a port of AssemblyScript's Math; the other libm ops of
 * abi.ts may differ in the last bit), at the widest dispatch level the CPU supports: AVX-512, AVX2+FMA
 * (FMA is never used for arithmetic: every operation rounds as in wasm), or scalar (SSE2).
 * TESSERA_NATIVE_LEVEL=avx512|avx2|scalar picks a level (tests run every level the CPU has).
 */
import { addonLoader } from "../native-addon.js";
import { invalid, show } from "../errors.js";
import { RC } from "./abi.js";

export type NativeLevel = "avx512" | "avx2" | "scalar";
export const NATIVE_LEVELS: readonly NativeLevel[] = ["avx512", "avx2", "scalar"];

/** WebAssembly.RuntimeError (the @types/node globals do not declare it): the error class of a wasm trap. */
const WasmRuntimeError = (WebAssembly as unknown as { RuntimeError: ErrorConstructor }).RuntimeError;

/** The addon's functions (see native/kernels/addon.cc). */
export interface NativeKernelsAddon {
  /** the levels this CPU runs, best first */
  levels(): NativeLevel[];
  /** binds to the memory under `view` (its base); run(prog, byteLength) returns an RC code */
  bind(view: Uint8Array, level?: NativeLevel): (prog: number, byteLength: number) => number;
  /** madvise(MADV_HUGEPAGE) over `bytes` from the base of the memory under `view`: 0 or the errno */
  adviseHugePages(view: Uint8Array, bytes: number): number;
  /** abi.h's numbers, by their C names */
  constants: Record<string, number>;
}

const addon = addonLoader<NativeKernelsAddon>("tessera_kernels.node", "the native kernels", () => (process.arch !== "x64" ? `the native kernels are built for x86-64 only (this is ${process.arch})` : null));

/** Where `npm install` puts the addon. */
export const NATIVE_KERNELS_PATH = addon.path;

/** The addon, or null (whyNativeKernelsMissing() says why). */
export function loadNativeKernels(): NativeKernelsAddon | null {
  return addon.load();
}

export function whyNativeKernelsMissing(): string {
  return addon.why();
}

/** The level TESSERA_NATIVE_LEVEL asks for (validated against this CPU), or the best one. */
export function nativeLevel(addon: NativeKernelsAddon, env: Record<string, string | undefined> = process.env): NativeLevel {
  const have = addon.levels();
  const want = env.TESSERA_NATIVE_LEVEL;
  if (want === undefined || want === "") return have[0]!;
  if (!(NATIVE_LEVELS as readonly string[]).includes(want)) {
    throw invalid("INVALID_ARGUMENT", `TESSERA_NATIVE_LEVEL ${show(want)} must be one of ${NATIVE_LEVELS.join(", ")}`);
  }
  if (!have.includes(want as NativeLevel)) {
    throw invalid("INVALID_ARGUMENT", `TESSERA_NATIVE_LEVEL ${show(want)}: this CPU runs only ${have.join(", ")}`);
  }
  return want as NativeLevel;
}

/**
 * run(prog) of the native interpreter on `memory`. The memory's length is cached and re-read when a
 * program seems to reach past it (a shared memory only grows); a program that really does gets the error
 * the wasm kernels' trap gives (a WebAssembly.RuntimeError), not an RC, so both backends fail alike.
 */
export function nativeRun(addon: NativeKernelsAddon, memory: WebAssembly.Memory, level: NativeLevel): (prog: number) => number {
  const bound = addon.bind(new Uint8Array(memory.buffer), level);
  let length = memory.buffer.byteLength;
  return (prog: number) => {
    let rc = bound(prog >>> 0, length);
    if (rc === RC.OUT_OF_BOUNDS) {
      const now = memory.buffer.byteLength;
      if (now !== length) rc = bound(prog >>> 0, (length = now));
      if (rc === RC.OUT_OF_BOUNDS) throw new WasmRuntimeError("memory access out of bounds");
    }
    return rc;
  };
}
