/**
 * The entry module of a cluster worker's call threads: runs functions given to client.submit() as
 * source text (rebuilt here: like mapBlocks functions they must not capture variables), one call at a
 * time, and posts back the value or the error.
 */
import { parentPort } from "node:worker_threads";
import { decodeValue, encodeValue } from "./values.js";

export interface CallRequest {
  call: number;
  fn: string;
  /** the arguments, serialized; those in `deps` are null there */
  args: Uint8Array;
  /** arguments that are other calls' values (serialized), by position */
  deps?: { arg: number; value: Uint8Array }[];
}
export type CallReply = { call: number; ok: true; value: Uint8Array } | { call: number; ok: false; code: string; message: string; stack?: string };

const port = parentPort;
if (!port) throw new Error("tessera's call thread must run in a worker thread");
const cache = new Map<string, (...a: unknown[]) => unknown>();

port.on("message", (m: CallRequest) => {
  void (async () => {
    try {
      let fn = cache.get(m.fn);
      if (!fn) {
        fn = new Function(`"use strict"; return (${m.fn});`)() as (...a: unknown[]) => unknown;
        if (typeof fn !== "function") throw new TypeError("the source given to submit() is not a function");
        if (cache.size > 64) cache.clear();
        cache.set(m.fn, fn);
      }
      const args = decodeValue(m.args) as unknown[];
      for (const d of m.deps ?? []) args[d.arg] = decodeValue(d.value);
      const value = await fn(...args);
      const bytes = encodeValue(value, "the function's result");
      port.postMessage({ call: m.call, ok: true, value: bytes } satisfies CallReply, [bytes.buffer as ArrayBuffer]);
    } catch (e) {
      const err = e as Error & { code?: unknown };
      const message = err instanceof Error ? `${err.name === "Error" || typeof err.code === "string" ? "" : `${err.name}: `}${err.message}` : `a thrown ${typeof e}: ${String(e)}`;
      port.postMessage({ call: m.call, ok: false, code: typeof err?.code === "string" ? err.code : "TASK_FAILED", message, stack: err?.stack } satisfies CallReply);
    }
  })();
});
