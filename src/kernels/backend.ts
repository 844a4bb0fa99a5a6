/**
 * Which kernels run the tile programs, decided in this one place: TESSERA_KERNELS=native | wasm | js.
 * Default: native when the addon is built and loads on this CPU, else wasm. An explicit
 * TESSERA_KERNELS=native that cannot be honoured is an error, never a silent fallback.
 */
import { invalid, show } from "../errors.js";
import { type NativeLevel, loadNativeKernels, nativeLevel, whyNativeKernelsMissing } from "./native.js";

export type KernelBackend = "native" | "wasm" | "js";

/** The backend for this process (throws INVALID_ARGUMENT on a bad TESSERA_KERNELS or TESSERA_NATIVE_LEVEL). */
export function kernelBackend(env: Record<string, string | undefined> = process.env): KernelBackend {
  const v = env.TESSERA_KERNELS;
  if (v === "js" || v === "wasm") return v;
  if (v !== undefined && v !== "" && v !== "native") {
    throw invalid("INVALID_ARGUMENT", `TESSERA_KERNELS ${show(v)} must be "native", "wasm" or "js" (default: native when built, else wasm)`);
  }
  const addon = loadNativeKernels();
  if (!addon) {
    if (v === "native") throw invalid("INVALID_ARGUMENT", `TESSERA_KERNELS=native: ${whyNativeKernelsMissing()}`);
    return "wasm";
  }
  nativeLevel(addon, env); // validates TESSERA_NATIVE_LEVEL
  return "native";
}

/** The Kernels.name the workers of this process get (wasm.ts instantiateKernels): js, wasm-simd or native-<level>. */
export function kernelsName(env: Record<string, string | undefined> = process.env): "js" | "wasm-simd" | `native-${NativeLevel}` {
  const backend = kernelBackend(env);
  if (backend === "native") return `native-${nativeLevel(loadNativeKernels()!, env)}`;
  return backend === "js" ? "js" : "wasm-simd";
}
