/**
 * A worker thread's loop: holds a kernel instance on the shared memory and runs the task batches the
 * pool sends. The thread's entry module belongs to the layer that can make NDArrays (it passes the block
 * adapter mapBlocks functions need); this module only serves.
 */
import { parentPort } from "node:worker_threads";
import { instantiateKernels } from "../kernels/wasm.js";
import { MapBlocksTasks, type BlockAdapter } from "./map-blocks-task.js";
import type { FromWorker, StorageTaskSpec, ToWorker } from "./messages.js";
import type { ExecContext } from "./program-task.js";
import { StorageTasks } from "./storage-task.js";
import { syncTasks, type SyncTasks } from "./sync-tasks.js";

type Runner = { kind: "sync"; tasks: SyncTasks } | { kind: "async"; tasks: MapBlocksTasks | StorageTasks };

export function serveTasks(adapter: BlockAdapter): void {
  if (!parentPort) throw new Error("tessera's worker must run in a worker thread");
  const port = parentPort;
  let ctx: ExecContext | null = null;
  const runners = new Map<number, Runner>();
  const post = (m: FromWorker) => port.postMessage(m);
  const fail = (batch: number, task: number, e: Error & { task?: number; code?: string }) =>
    post({
      type: "failed",
      batch,
      task: e.task ?? task,
      code: typeof e.code === "string" ? e.code : "TASK_FAILED",
      // a TesseraError's code travels on its own; other errors keep their class name (TypeError: ...)
      message: `${e.name === "Error" || typeof e.code === "string" ? "" : `${e.name}: `}${e.message}`,
      stack: e.stack,
    });

  port.on("message", (m: ToWorker) => {
    switch (m.type) {
      case "init":
        ctx = { memory: m.memory, kernels: instantiateKernels(m.memory, m.module ?? undefined), areas: m.areas };
        return;
      case "layer":
        // a spec that cannot run (a program too large) fails its first batch, not the thread
        try {
          const sync = syncTasks(m.spec, ctx!);
          runners.set(
            m.spec.layer,
            sync
              ? { kind: "sync", tasks: sync }
              : m.spec.kind === "mapBlocks"
                ? { kind: "async", tasks: new MapBlocksTasks(m.spec, ctx!, adapter, m.arena) }
                : { kind: "async", tasks: new StorageTasks(m.spec as StorageTaskSpec, ctx!) },
          );
        } catch (e) {
          runners.delete(m.spec.layer);
          broken.set(m.spec.layer, e as Error);
        }
        return;
      case "drop":
        runners.delete(m.layer);
        broken.delete(m.layer);
        return;
      case "run":
        // one batch after another: a mapBlocks batch awaits its function, and the next must not overlap it
        queue = queue.then(() => runBatch(m));
        return;
      case "settle":
        // after the batches before it: their durable writes may still be syncing in the background
        queue = queue.then(() =>
          import("../storage/durable.js")
            .then((d) => d.settleDeferred())
            .then(
              () => post({ type: "done", batch: m.batch }),
              (e: Error) => fail(m.batch, 0, e),
            ),
        );
        return;
    }
  });
  let queue: Promise<void> = Promise.resolve();

  function runBatch(m: Extract<ToWorker, { type: "run" }>): Promise<void> | void {
    const r = runners.get(m.layer);
    if (!r) {
      const e = broken.get(m.layer) ?? Object.assign(new Error(`layer ${m.layer} is unknown to this worker`), { code: "INTERNAL" });
      return fail(m.batch, m.start, e);
    }
    if (r.kind === "async") {
      return r.tasks.run(m.start, m.end).then(
        () => post({ type: "done", batch: m.batch }),
        (e: Error) => fail(m.batch, m.start, e),
      );
    }
    try {
      r.tasks.run(m.start, m.end);
      post({ type: "done", batch: m.batch });
    } catch (e) {
      fail(m.batch, m.start, e as Error);
    }
  }
  const broken = new Map<number, Error>();
}
