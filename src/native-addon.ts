/**
 * Loading one of the native addons of native/build/Release (built by `npm install`: scripts/build-native.mjs).
 * Each addon's own loader (transport/shm-addon.ts, kernels/native.ts, kernels/native-gemm.ts,
 * storage/native-zstd.ts) names its file and what it needs; this is the part they share: require once per
 * thread (each worker thread has its own module state), and when it cannot be had, null and why. A root
 * module, because the loaders sit in sibling layers.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

/** Where `npm install` puts the addon `file` (relative to dist/ and src/ alike). */
export function addonPath(file: string): string {
  return fileURLToPath(new URL(`../native/build/Release/${file}`, import.meta.url));
}

/** An addon loaded on first use: load() is the module or null, why() the reason for null ("" when loaded). */
export interface AddonLoader<T> {
  readonly path: string;
  load(): T | null;
  why(): string;
}

/**
 * The loader of `file`, called `what` in its reasons ("the GEMM addon"); `unsupported()` says why this
 * platform cannot run it, or null when it can.
 */
export function addonLoader<T>(file: string, what: string, unsupported: () => string | null = () => null): AddonLoader<T> {
  const path = addonPath(file);
  let cached: T | null | undefined;
  let reason = "";
  const load = (): T | null => {
    if (cached !== undefined) return cached;
    cached = null;
    const bad = unsupported();
    if (bad) reason = bad;
    else if (!existsSync(path)) reason = `${what} is not built (${path} is absent: run npm install with a C++ compiler)`;
    else {
      try {
        cached = createRequire(import.meta.url)(path) as T;
      } catch (e) {
        reason = `${what} does not load: ${(e as Error).message}`;
      }
    }
    return cached;
  };
  return { path, load, why: () => (load(), reason) };
}
