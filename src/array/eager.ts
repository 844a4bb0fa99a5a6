/** Eager evaluation for NDArray operations: lower on the thread's kernel memory and run in place. */
import { TesseraError } from "../errors.js";
import { lower, type OutputRequest } from "../graph/lower.js";
import { eagerContexts, runInThread, type EagerResult } from "../scheduler/inthread.js";

export function computeEager(outputs: OutputRequest[]): EagerResult[] {
  const contexts = eagerContexts();
  for (let i = 0; ; i++) {
    const c = contexts[i]!;
    try {
      return runInThread(c, lower(outputs, c.heap));
    } catch (e) {
      // a mapBlocks block region that is full falls back to the thread's private memory (with copies)
      if (i + 1 < contexts.length && e instanceof TesseraError && e.code === "TOO_LARGE") continue;
      throw e;
    }
  }
}
