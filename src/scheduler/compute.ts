/**
 * The scheduler's entry point for compute(): on the process's engine, one compute at a time, a plan is
 * lowered, checked across ranks, run on the worker pool, and its results returned (persisted outputs
 * as chunk stores the caller hands to an owner).
 */
import { ComputeError } from "../errors.js";
import { planHash } from "../plan/hash.js";
import type { ChunkStore } from "./chunk-store.js";
import { checkWorkers, getEngine, type Engine } from "./engine.js";
import type { BoundPlan } from "./inputs.js";
import { RankShare, checkSamePlan } from "./ranks.js";
import type { RunResult } from "./results.js";
import { runOnPool, type PoolRunExtras, type ProgressEvent, type RunOptions } from "./run-on-pool.js";
import { TaskGraph } from "../plan/task-graph.js";

export type { ProgressEvent, RunOptions };

export interface ComputeRequest {
  /** the plan of this compute; `hashInputs`: ranks compare plans, so user data must enter by content */
  lower(hashInputs: boolean): BoundPlan;
}

/**
 * Runs a compute on the default engine (workers from `entry`, the worker threads' entry module).
 * `settle`: "writes", it ends only once the workers' background writes (durable chunk writes) are on
 * disk, and fails with the first of those that failed; "on-failure" (every write to files), a failed
 * compute ends only once the workers have finished the chunks they were writing, so no temporary chunk
 * file or rename follows the failure the caller sees; "never" (plain computes).
 */
export async function computeOnEngine(entry: URL, req: ComputeRequest, opts: RunOptions = {}, settle: "never" | "on-failure" | "writes" = "never"): Promise<RunResult[]> {
  const workers = opts.workers === undefined ? undefined : checkWorkers(opts.workers);
  const engine = await getEngine(entry, workers);
  return engine.serialize(async () => {
    if (workers !== undefined) await engine.ensureWorkers(workers);
    if (settle === "never") return runIsolated(engine, req, { ...opts, workers });
    let out: RunResult[];
    try {
      out = await runIsolated(engine, req, { ...opts, workers });
    } catch (e) {
      await engine.pool.settle().catch(() => {}); // the compute's own failure is the one to report
      throw e;
    }
    if (settle === "writes") await engine.pool.settle();
    return out;
  });
}

async function runOnce(engine: Engine, req: ComputeRequest, opts: RunOptions): Promise<RunResult[]> {
  const ranks = engine.ranks;
  const bound = req.lower(ranks !== null);
  let hash: string | null = null;
  const fingerprint = (i: number) => `persist:${(hash ??= planHash(bound.plan))}:${i}`;
  if (!ranks) return runOnPool(engine, bound, opts, { fingerprint });
  hash = planHash(bound.plan);
  await checkSamePlan(ranks, hash);
  const plan = bound.plan;
  const graph = new TaskGraph(plan);
  const share = new RankShare(graph, ranks);
  let fail: (e: unknown) => void = () => {};
  const failure = new Promise<never>((_, reject) => (fail = reject));
  const extras: PoolRunExtras = {
    graph,
    hooks: share.hooks(),
    attach: (run, memory, watch) => share.attach(run, memory, (e) => fail(e), watch),
    settle: () => share.settle(),
    idle: () => share.idle(),
    fingerprint,
  };
  failure.catch(() => {});
  return Promise.race([runOnPool(engine, bound, opts, extras), failure]);
}

/**
 * Runs with the user's progress callback isolated: if it throws, the run is aborted and compute()
 * rejects with TASK_FAILED carrying the callback's error (it must not crash the process from inside a
 * worker's message handler).
 */
async function runIsolated(engine: Engine, req: ComputeRequest, opts: RunOptions): Promise<RunResult[]> {
  const user = opts.onProgress;
  if (!user) return runOnce(engine, req, opts);
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
    return await runOnce(engine, req, { ...opts, signal: inner.signal, onProgress });
  } catch (e) {
    if (!thrown) throw e; // otherwise the abort it caused: report the callback's error below
    const cause = (thrown as { error: unknown }).error;
    throw new ComputeError("TASK_FAILED", `the progress callback threw: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  } finally {
    opts.signal?.removeEventListener("abort", forward);
  }
}

/** Hands a persisted store to `owner` on the default engine: its memory is freed once the owner is garbage. */
export async function adoptStore(entry: URL, store: ChunkStore, owner: object): Promise<void> {
  (await getEngine(entry)).heap.adopt(store, owner);
}

/** This process's rank among the ranks compute() splits its work among (0 alone), and their number. */
export async function rankOf(entry: URL): Promise<{ rank: number; size: number }> {
  const e = await getEngine(entry);
  return { rank: e.ranks?.rank ?? 0, size: e.ranks?.size ?? 1 };
}

/** Waits until every rank got here (after a compute that writes files: before one rank renames them). */
export async function barrierRanks(entry: URL): Promise<void> {
  const e = await getEngine(entry);
  if (e.ranks) await e.ranks.allgatherBytes(new Uint8Array(0));
}

/** Every rank's bytes in rank order (alone: its own): how ranks learn an outcome one of them decided. */
export async function allgatherRanks(entry: URL, bytes: Uint8Array): Promise<Uint8Array[]> {
  const e = await getEngine(entry);
  return e.ranks ? e.ranks.allgatherBytes(bytes) : [bytes];
}
