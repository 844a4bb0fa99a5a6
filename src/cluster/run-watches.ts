/**
 * What watches the cluster's computes (the dashboard): observers see every compute started after they
 * came, batch by batch. With no observer nothing is built per batch (work nobody watches costs nothing).
 */
import type { TaskGraph } from "../plan/task-graph.js";
import { fanOut, type RunObserver, type RunWatch } from "../scheduler/observe.js";
import type { ClusterRun } from "./cluster-run.js";

export class RunWatches {
  private readonly observers: RunObserver[] = [];
  private readonly watches = new Map<number, RunWatch>();

  /** Sees every compute started from now on; returns the function that stops it. */
  observe(o: RunObserver): () => void {
    this.observers.push(o);
    return () => {
      const i = this.observers.indexOf(o);
      if (i >= 0) this.observers.splice(i, 1);
    };
  }

  /** Compute `id` starts: its watch (null when nobody observes). */
  begin(id: number, graph: TaskGraph): RunWatch | null {
    if (!this.observers.length) return null;
    const watch = fanOut(this.observers, watchInfo(graph));
    this.watches.set(id, watch);
    return watch;
  }

  ended(id: number, e: Error | null): void {
    const watch = this.watches.get(id);
    this.watches.delete(id);
    watch?.ended(e);
  }

  /** A batch went to `worker`; `moved`: inputs came from elsewhere first (pushed or fetched). */
  assigned(run: ClusterRun, layer: number, start: number, end: number, worker: number, moved: boolean): void {
    this.watches.get(run.id)?.batch(layer, start, end, worker, moved);
  }

  /** Batch `batch` ran on `worker` (told before the run forgets it). */
  done(run: ClusterRun | undefined, batch: number, worker: number): void {
    if (!run || !this.watches.size) return;
    const b = run.batches.get(batch);
    if (b && b.worker === worker) this.watches.get(run.id)?.done(b.layer, b.start, b.end, worker);
  }

  /** Task `task` of batch `batch` failed on `worker` with `message`. */
  failed(run: ClusterRun | undefined, batch: number, task: number, worker: number, message: string): void {
    if (!run || !this.watches.size) return;
    const b = run.batches.get(batch);
    if (!b) return;
    const i = run.layerBase[b.layer]! + task;
    this.watches.get(run.id)?.failed(b.layer, task, run.blockOf(i), `${run.describe(i)} failed on worker ${worker}: ${message}`);
  }
}

/** A cluster run as its observers first see it: per layer, the needed chunk tasks (what progress counts). */
function watchInfo(graph: TaskGraph): { layers: { label: string; kind: string; tasks: number }[] } {
  const plan = graph.plan;
  return {
    layers: plan.layers.map((layer, l) => {
      let tasks = 0;
      if (layer.kind !== "combine" && layer.kind !== "take") {
        const base = graph.layerBase[l]!;
        for (let t = 0; t < graph.tasks[l]!.count; t++) tasks += graph.needed[base + t]!;
      }
      return { label: layer.label, kind: layer.kind, tasks };
    }),
  };
}
