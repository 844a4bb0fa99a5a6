/**
 * V8's full garbage collection, for the heap (heap.ts): persisted buffers are freed when their owners
 * are garbage, but the owners are small JS objects that V8 feels no pressure to collect while the
 * kernel memory behind them fills up.
 */
import v8 from "node:v8";
import vm from "node:vm";

let gcFn: (() => void) | null | undefined;

/** V8's gc(): the global one under --expose-gc, else one from a context made after setting the flag. */
function fullGc(): (() => void) | null {
  if (gcFn !== undefined) return gcFn;
  const g = (globalThis as { gc?: unknown }).gc;
  if (typeof g === "function") return (gcFn = g as () => void);
  try {
    v8.setFlagsFromString("--expose-gc");
    const f = vm.runInNewContext("gc") as unknown;
    gcFn = typeof f === "function" ? (f as () => void) : null;
  } catch {
    gcFn = null;
  }
  return gcFn;
}

/**
 * Runs a full collection, synchronously. Afterwards WeakRefs to collected objects deref to undefined
 * (finalizers run later, in a task of their own). False when gc() cannot be reached.
 */
export function collectGarbage(): boolean {
  const gc = fullGc();
  if (!gc) return false;
  gc();
  return true;
}
