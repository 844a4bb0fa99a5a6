/**
 * Reclaiming persisted buffers nobody refers to any more. A persisted array is freed by a
 * FinalizationRegistry when its owner is garbage, but its JS handle is a few bytes: V8 feels no pressure
 * to collect it while the kernel memory behind it fills up. So when the kernel memory is exhausted, the
 * engine runs a full collection once, lets the registry's callbacks run, and tries again.
 */
import v8 from "node:v8";
import vm from "node:vm";
import type { Heap } from "./heap.js";

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

/** Collects garbage and waits for the finalizers; true when some of `heap` was freed. */
export async function reclaimUnreachable(heap: Heap): Promise<boolean> {
  const gc = fullGc();
  if (!gc) return false;
  const before = heap.bytesInUse;
  gc();
  // finalization callbacks run in a task of their own after the collection
  for (let i = 0; i < 4 && heap.bytesInUse >= before; i++) await new Promise((r) => setImmediate(r));
  return heap.bytesInUse < before;
}

/** Is this the heap's "kernel memory exhausted" refusal (the one a collection may cure)? */
export function isHeapExhausted(e: unknown): boolean {
  return e instanceof Error && (e as { code?: string }).code === "TOO_LARGE" && (e as { exhausted?: boolean }).exhausted === true;
}
