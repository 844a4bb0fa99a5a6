/**
 * Runs a plan on the engine's worker pool: hands each idle worker the next batch of ready tasks (the
 * deepest layer first, guided self-scheduling sizes: big batches first, small ones at the end, capped so
 * a batch does not give new memory to more than BATCH_BYTES at once), holds back producers while the
 * chunks alive exceed the memory budget, reports progress, and stops everything on a failure or an abort.
 */
import { AbortError, ComputeError } from "../errors.js";
import { boxBlock } from "../grid.js";
import type { TaskSpec } from "../worker/messages.js";
import { bindLayer } from "./bind.js";
import type { BoundPlan } from "./inputs.js";
import type { Engine } from "./engine.js";
import { ChunkMemory } from "./memory.js";
import { TaskGraph } from "../plan/task-graph.js";
import { PlanRun, isWorkerLayer, type Batch, type RunHooks } from "./plan-run.js";
import { BATCHES_IN_FLIGHT, TaskFailure } from "./pool.js";
import { OutputCollector, type RunResult } from "./results.js";
import { watchRun, type RunWatch } from "./observe.js";

export interface ProgressEvent {
  /** layers of chunk tasks: the one being worked on (1-based) and how many there are */
  stage: number;
  stages: number;
  /** what the latest finished batch computed */
  label: string;
  /** chunk tasks done and in all (this process's share under several ranks) */
  done: number;
  total: number;
  /** seconds since compute() started */
  elapsed: number;
}

export interface RunOptions {
  workers?: number;
  signal?: AbortSignal;
  onProgress?: (e: ProgressEvent) => void;
}

/**
 * At most this many bytes of new chunk memory per batch (at least one task). A chunk of 2,048² float64
 * (32 MiB) is then a batch of its own: its consumer (a write, a reduction) can start as soon as it is made,
 * instead of when the batch's second chunk is too. At 64 MiB, writing a 4 GiB array in such chunks held
 * 6 chunks at once (206 MiB of kernel memory; peak RSS 300 MiB), at 32 MiB 4 (142 MiB; 226 MiB); the round
 * trip a batch costs (~0.1 ms) is nothing beside the tens of ms such a task takes.
 */
const BATCH_BYTES = 32 * 2 ** 20;
/** Tasks that give new memory to at most this much may have a second batch waiting in a worker (see mayQueue). */
const QUEUE_TASK_BYTES = 1 << 20;
const QUEUE_TASK_ELEMENTS = 1 << 16;
/** ... and long ones too while the layer has this many ready tasks per worker (the tail is handed out one by one). */
const QUEUE_READY_PER_WORKER = 4;
/** Producers wait while the run's chunks hold more than this (and something is running that frees memory). */
const MIN_BUDGET = 512 * 2 ** 20;

export interface PoolRunExtras {
  /** the plan's task graph, when the caller built it already (ranks: their share is cut from it) */
  graph?: TaskGraph;
  hooks?: Omit<RunHooks, "onOutput">;
  /** called with the run before it starts (ranks hold it to deliver chunks from other ranks; `watch` sees their sends) */
  attach?(run: PlanRun, memory: ChunkMemory, watch: RunWatch | null): void;
  /** resolves when the rank layer is done with this run (its outgoing transfers are sent) */
  settle?(): Promise<void>;
  /** nothing runs and nothing is ready: what is missing comes from other ranks */
  idle?(): void;
  fingerprint?: (i: number) => string;
}

export async function runOnPool(engine: Engine, lowered: BoundPlan, opts: RunOptions = {}, extras: PoolRunExtras = {}): Promise<RunResult[]> {
  const { plan, bindings } = lowered;
  const t0 = performance.now();
  const memory = new ChunkMemory(plan, bindings, engine.heap);
  const arenas: number[] = [];
  let collector: OutputCollector | null = null;
  let ok = false;
  let watch: RunWatch | null = null;
  try {
    collector = new OutputCollector(plan, memory, false, engine.heap.home, extras.fingerprint ?? ((i) => `local:${i}:${Math.random()}`));
    const out = collector;
    // persisted chunks may move to JS memory while the run goes on, when the kernel memory is full
    engine.heap.spillable = out.persisted();
    const run = new PlanRun(extras.graph ?? new TaskGraph(plan), memory, { ...extras.hooks, onOutput: (b, k) => out.onOutput(b, k), onPersisted: (b, k) => out.onPersisted(b, k) });
    watch = watchRun(() => ({
      layers: plan.layers.map((l, i) => ({ label: l.label, kind: l.kind, tasks: isWorkerLayer(plan, i) ? run.ownedCount[i]! : 0 })),
      memory: () => ({ bytes: memory.liveBytes, chunks: memory.liveChunks }),
    }));
    extras.attach?.(run, memory, watch);
    await drive(engine, run, memory, opts, t0, arenas, extras.idle, watch);
    await extras.settle?.();
    const results = out.results();
    ok = true;
    watch?.ended(null);
    return results;
  } catch (e) {
    watch?.ended(e as Error);
    throw e;
  } finally {
    engine.heap.spillable = [];
    for (const l of plan.layers) engine.pool.drop(l.id);
    if (!ok) {
      await engine.pool.stopBusy();
      for (const s of collector?.persisted() ?? []) engine.heap.releaseStore(s);
    }
    for (const a of arenas) engine.heap.free(a);
    memory.releaseAll();
  }
}

function drive(engine: Engine, run: PlanRun, memory: ChunkMemory, opts: RunOptions, t0: number, arenas: number[], idle: (() => void) | undefined, watch: RunWatch | null): Promise<void> {
  const plan = run.plan;
  const pool = engine.pool;
  const nworkers = Math.max(1, Math.min(opts.workers ?? pool.size, pool.size));
  const specs = new Map<number, TaskSpec>();
  const spec = (l: number) => {
    let s = specs.get(l);
    if (!s) specs.set(l, (s = bindLayer(plan, plan.layers[l]!, memory)));
    return s;
  };
  const arenaFor = (s: TaskSpec) => () => {
    if (s.kind !== "mapBlocks") return 0;
    const a = engine.heap.alloc(s.eagerBytes);
    arenas.push(a);
    return a;
  };
  const workerLayers = plan.layers.map((_, l) => l).filter((l) => isWorkerLayer(plan, l) && run.ownedCount[l]! > 0);
  const total = workerLayers.reduce((a, l) => a + run.ownedCount[l]!, 0);
  // within half the kernel memory: the rest is for persisted chunks and a task's own staging
  const perTask = workerLayers.reduce((m, l) => Math.max(m, run.writeBytes(l)), 0);
  const budget = Math.min(Math.max(MIN_BUDGET, 4 * nworkers * perTask), engine.heap.limit / 2);
  let done = 0;

  return new Promise<void>((resolve, reject) => {
    let inflight = 0;
    let failed = false;
    const fail = (e: unknown) => {
      if (failed) return;
      failed = true;
      opts.signal?.removeEventListener("abort", onAbort);
      reject(e);
    };
    const onAbort = () => fail(new AbortError());
    if (opts.signal?.aborted) return onAbort();
    opts.signal?.addEventListener("abort", onAbort, { once: true });

    const batchSize = (l: number, ready: number) => {
      const guided = Math.ceil(ready / (nworkers * 4));
      const bytes = run.writeBytes(l);
      const cap = Math.min(BATCH_BYTES, budget / (2 * nworkers));
      return Math.max(1, bytes > 0 ? Math.min(guided, Math.floor(cap / bytes)) : guided);
    };
    const progress = (b: Batch) => {
      if (!opts.onProgress || !isWorkerLayer(plan, b.layer)) return;
      const completed = workerLayers.filter((l) => run.doneCount[l] === run.ownedCount[l]).length;
      opts.onProgress({
        stage: Math.min(workerLayers.length, completed + 1),
        stages: workerLayers.length,
        label: plan.layers[b.layer]!.label,
        done,
        total,
        elapsed: (performance.now() - t0) / 1000,
      });
    };
    /**
     * Whether a second batch of layer l may wait in a busy worker. Not for tasks that make large chunks: a
     * waiting batch holds its output memory (the RSS bound of a write). For the others the round trip it
     * saves (a worker idle from its answer to its next batch: 0.2-0.5 ms on a 2-vCPU VM, 13% of a 512 MiB
     * persisted sum in chunks of 2,000² on one worker) is worth it while it cannot unbalance the workers:
     * one worker, short tasks, or many ready tasks left (guided batches are then a small share of them; the
     * last ones go one by one to whichever worker is free).
     */
    const mayQueue = (l: number) =>
      run.writeBytes(l) <= QUEUE_TASK_BYTES &&
      (nworkers === 1 || run.taskElements(l) <= QUEUE_TASK_ELEMENTS || run.readyIn(l) >= QUEUE_READY_PER_WORKER * nworkers);
    /** Workers with room for another batch, least loaded first. */
    const free = () => {
      let best = -1;
      for (let w = 0; w < nworkers; w++) if (pool.inFlight(w) < BATCHES_IN_FLIGHT && (best < 0 || pool.inFlight(w) < pool.inFlight(best))) best = w;
      return best;
    };
    const pump = (settle = true) => {
      if (failed) return;
      try {
        for (let w = free(); w >= 0 && run.hasReady(); w = free()) {
          if (inflight > 0 && memory.liveBytes > budget) break; // consumers running will free memory first
          const l = run.nextLayer();
          if (pool.inFlight(w) > 0 && !mayQueue(l)) break;
          const b = run.next(batchSize);
          if (!b) break;
          run.begin(b);
          inflight++;
          const s = spec(b.layer);
          watch?.batch(b.layer, b.start, b.end, w, false);
          pool.run(w, s, arenaFor(s), b.start, b.end).then(
            () => {
              if (failed) return;
              inflight--;
              watch?.done(b.layer, b.start, b.end, w);
              pump(false); // hand out what is ready already, before the bookkeeping of this batch
              try {
                run.finish(b);
              } catch (e) {
                return fail(e);
              }
              if (isWorkerLayer(plan, b.layer)) done += b.end - b.start;
              progress(b);
              pump();
            },
            (e: Error) => {
              const d = describeFailure(run, b, e);
              if (watch && !failed) watch.failed(b.layer, e instanceof TaskFailure ? e.task : b.start, failedBlock(run, b, e), d.message);
              fail(d);
            },
          );
        }
        if (!settle) return;
        if (run.finished) {
          opts.signal?.removeEventListener("abort", onAbort);
          resolve();
        } else if (inflight === 0 && !run.hasReady()) {
          if (run.waitingForOthers()) idle?.();
          else fail(new ComputeError("TASK_FAILED", "internal: the plan cannot make progress (no task is ready and none is running)"));
        }
      } catch (e) {
        fail(e);
      }
    };
    run.onWake = pump;
    try {
      run.start();
    } catch (e) {
      return fail(e);
    }
    pump();
  });
}

/** The block a failed task computed (null: not one task's failure). */
function failedBlock(run: PlanRun, b: Batch, e: Error): number[] | null {
  if (!(e instanceof TaskFailure)) return null;
  const layer = run.plan.layers[b.layer]!;
  const chunkBuffer = layer.kind === "mapBlocks" || layer.kind === "write" ? layer.input : layer.kind === "program" ? -1 : layer.output;
  return layer.kind === "program" ? boxBlock(layer.box, e.task) : run.tasks[b.layer]!.grid(chunkBuffer).chunk(e.task).index;
}

/** A worker's failure, with the task and block it was computing. */
function describeFailure(run: PlanRun, b: Batch, e: Error): Error {
  const layer = run.plan.layers[b.layer]!;
  if (e instanceof TaskFailure) {
    const block = failedBlock(run, b, e)!;
    const err = new ComputeError(e.code, `task ${e.task} (block [${block.join(", ")}]) of ${layer.label} failed: ${e.message}`, { cause: e });
    if (e.stack) err.stack = e.stack.replace(/^[^\n]*/, `${err.name}: ${err.message}`);
    return err;
  }
  if (e instanceof ComputeError && e.code === "WORKER_DIED") {
    return new ComputeError("WORKER_DIED", `${e.message} while computing tasks ${b.start}..${b.end - 1} of ${layer.label}`);
  }
  return e;
}
