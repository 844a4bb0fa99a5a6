/**
 * Runs a plan: host steps on this thread, stages on the worker pool, in order; progress as events.
 */
import { ComputeError } from "../errors.js";
import { Grid } from "../worker/geometry.js";
import { exchangeStage, rankRange, type RankComm } from "./distributed.js";
import { checkWorkers, getEngine, type Engine } from "./engine.js";
import type { Heap } from "./heap.js";
import type { Allocator, Plan, RawArray } from "./plan.js";

export interface ProgressEvent {
  /** stage number (1-based) and how many stages the plan has */
  stage: number;
  stages: number;
  label: string;
  /** chunks done and total in this stage */
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

/** What a compute() hands the pool: how to plan on the engine's memory, and the graph's fingerprint. */
export interface PlanRequest {
  /** builds the plan on the engine's memory */
  plan(mem: Allocator): Plan;
  /** a fingerprint of the graph, compared across ranks */
  fingerprint(): string;
  /** which outputs are persisted (their buffers outlive the plan) */
  keep: boolean[];
}

export type PoolResult = number | boolean | (RawArray & { persisted?: Persisted });

/** The computes of this process run one at a time: they share the pool, its memory and (under ranks) the world. */
let running: Promise<unknown> = Promise.resolve();

export function runOnPool(req: PlanRequest, opts: RunOptions = {}): Promise<PoolResult[]> {
  const workers = opts.workers === undefined ? undefined : checkWorkers(opts.workers);
  const mine = running.then(() => runAlone(req, opts, workers));
  running = mine.catch(() => {}); // a failed compute does not fail the ones queued behind it
  return mine;
}

async function runAlone(req: PlanRequest, opts: RunOptions, workers: number | undefined): Promise<PoolResult[]> {
  const engine = await getEngine(workers);
  if (comm) await checkSameGraph(comm, req.fingerprint());
  const plan = req.plan(engine.heap);
  let ok = false;
  try {
    await runPlan(engine, plan, opts, workers);
    const results = plan.results();
    ok = true;
    return results.map((r, i) => (req.keep[i] && typeof r === "object" ? { ...r, persisted: persisted(engine.heap, r.addr!) } : r));
  } finally {
    plan.release(ok); // a failed plan's persisted buffers are never handed out
  }
}

export interface Persisted {
  home: object;
  addr: number;
  /** frees the buffer once `owner` is garbage */
  register(owner: object): void;
}

/** A persisted buffer: freed when nothing refers to `owner` any more (the heap adopts it). */
function persisted(heap: Heap, addr: number): Persisted {
  return { home: heap.memory, addr, register: (owner) => heap.adopt(addr, owner) };
}

/** The ranks compute() splits its chunks among; null: this process alone. */
let comm: RankComm | null = null;

/** Makes compute() run rank-partitioned over `c` (set by the launcher once the world is up). */
export function useRanks(c: RankComm | null): void {
  comm = c && c.size > 1 ? c : null;
}

async function checkSameGraph(c: RankComm, fp: string): Promise<void> {
  const all = await c.allgatherBytes(new TextEncoder().encode(fp));
  const theirs = all.map((b) => new TextDecoder().decode(b));
  const differ = theirs.flatMap((f, r) => (f !== theirs[0] ? [r] : []));
  if (differ.length) {
    throw new ComputeError("GRAPH_MISMATCH", `ranks ${differ.join(", ")} built a different graph than rank 0: every rank must run the same compute() calls in the same order`);
  }
}

/**
 * Runs the plan with the user's progress callback isolated: if it throws, the run is aborted and
 * compute() rejects with TASK_FAILED carrying the callback's error (it must not crash the process
 * from inside a worker's message handler).
 */
async function runPlan(engine: Engine, plan: Plan, opts: RunOptions, workers: number | undefined): Promise<void> {
  const user = opts.onProgress;
  if (!user) return runSteps(engine, plan, opts, workers);
  const inner = new AbortController();
  const forward = () => inner.abort();
  if (opts.signal?.aborted) inner.abort();
  else opts.signal?.addEventListener("abort", forward, { once: true });
  let thrown: { error: unknown } | null = null;
  const onProgress = (e: ProgressEvent) => {
    if (thrown) return;
    try {
      user(e);
    } catch (error) {
      thrown = { error };
      inner.abort();
    }
  };
  try {
    await runSteps(engine, plan, { ...opts, signal: inner.signal, onProgress }, workers);
  } catch (e) {
    if (!thrown) throw e; // otherwise the abort it caused: report the callback's error below
  } finally {
    opts.signal?.removeEventListener("abort", forward);
  }
  if (thrown) {
    const cause = (thrown as { error: unknown }).error;
    throw new ComputeError("TASK_FAILED", `the progress callback threw: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

async function runSteps(engine: Engine, plan: Plan, opts: RunOptions, workers: number | undefined): Promise<void> {
  const t0 = performance.now();
  const ranks = comm;
  const stages = plan.steps.filter((s) => s.kind === "stage").length;
  let stage = 0;
  for (const step of plan.steps) {
    if (step.kind === "host") {
      step.run();
      continue;
    }
    stage++;
    const total = new Grid(step.spec.grid).nchunks;
    const label = step.label;
    const n = stage;
    await engine.pool.runStage(step.spec, total, {
      signal: opts.signal,
      workers,
      range: ranks ? rankRange(total, ranks.rank, ranks.size) : undefined,
      onProgress: opts.onProgress && ((p) => opts.onProgress!({ stage: n, stages, label, done: p.done, total: p.total, elapsed: (performance.now() - t0) / 1000 })),
    });
    if (ranks) await exchangeStage(step, ranks, () => engine.heap.buffer);
  }
}
