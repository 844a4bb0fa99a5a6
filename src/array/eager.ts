/** Eager evaluation for NDArray operations: lower, then run in this thread on its kernel memory. */
import { TesseraError } from "../errors.js";
import { lower, type OutputRequest } from "../graph/lower.js";
import { eagerContexts, runInThread, type EagerResult } from "../scheduler/inthread.js";

export function computeEager(outputs: OutputRequest[]): EagerResult[] {
  const contexts = eagerContexts();
  const bound = lower(outputs);
  for (let i = 0; ; i++) {
    const c = contexts[i]!;
    try {
      return runInThread(c, bound);
    } catch (e) {
      // a mapBlocks block region that is full falls back to the thread's private memory (with copies)
      if (i + 1 < contexts.length && e instanceof TesseraError && e.code === "TOO_LARGE") continue;
      throw e;
    }
  }
}
