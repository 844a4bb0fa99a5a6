/**
 * The worker_threads entry point: holds a kernel instance on the shared memory and runs the chunk
 * batches the pool sends. User mapBlocks functions see their blocks as NDArrays of the package API,
 * loaded on first use (the worker itself sits below the array layer).
 */
import { parentPort } from "node:worker_threads";
import { instantiateKernels } from "../kernels/wasm.js";
import { StageRunner, type BlockAdapter, type ExecContext } from "./executor.js";
import type { FromWorker, ToWorker } from "./messages.js";

if (!parentPort) throw new Error("tessera's worker must run in a worker thread");
const port = parentPort;
let ctx: ExecContext | null = null;
const runners = new Map<number, StageRunner>();
const post = (m: FromWorker) => port.postMessage(m);

port.on("message", (m: ToWorker) => {
  switch (m.type) {
    case "init": {
      let adapter: Promise<BlockAdapter> | null = null;
      ctx = {
        memory: m.memory,
        kernels: instantiateKernels(m.memory, m.module ?? undefined),
        areas: m.areas,
        blocks: () => (adapter ??= loadAdapter(m.adapterUrl)),
      };
      return;
    }
    case "stage":
      runners.set(m.spec.id, new StageRunner(m.spec, ctx!, m.arena));
      return;
    case "drop":
      runners.delete(m.stage);
      return;
    case "run": {
      const r = runners.get(m.stage);
      if (!r) {
        post({ type: "failed", batch: m.batch, chunk: m.start, code: "INTERNAL", message: `stage ${m.stage} is unknown to this worker` });
        return;
      }
      r.runRange(m.start, m.end).then(
        () => post({ type: "done", batch: m.batch }),
        (e: Error & { chunk?: number; code?: string }) =>
          post({
            type: "failed",
            batch: m.batch,
            chunk: e.chunk ?? m.start,
            code: typeof e.code === "string" ? e.code : "TASK_FAILED",
            message: `${e.name === "Error" ? "" : `${e.name}: `}${e.message}`,
            stack: e.stack,
          }),
      );
      return;
    }
  }
});

async function loadAdapter(url: string): Promise<BlockAdapter> {
  return ((await import(url)) as { blockAdapter: BlockAdapter }).blockAdapter;
}
