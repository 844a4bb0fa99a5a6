/**
 * Runs a plan: host steps on this thread, stages on the worker pool, in order; progress as events.
 */
import type { Plan } from "../graph/lower.js";
import { Grid } from "../worker/geometry.js";
import { getEngine, checkWorkers } from "./engine.js";
import type { Heap } from "./heap.js";
import { ComputeError } from "../errors.js";
import { fingerprint } from "../graph/fingerprint.js";
import { exchangeStage, rankRange, type RankComm } from "./distributed.js";
import { lower, type OutputRequest } from "../graph/lower.js";

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

export async function computeOutputs(outputs: OutputRequest[], opts: RunOptions = {}) {
  const workers = opts.workers === undefined ? undefined : checkWorkers(opts.workers);
  const engine = await getEngine(workers);
  if (comm) await checkSameGraph(comm, outputs);
  const plan = lower(outputs, engine.heap);
  let ok = false;
  try {
    await runPlan(plan, opts, workers);
    const results = plan.results();
    ok = true;
    return results.map((r, i) => (outputs[i]!.keep && typeof r === "object" ? { ...r, persisted: persisted(engine.heap, r.addr!) } : r));
  } finally {
    plan.release(ok); // a failed plan's persisted buffers are never handed out
  }
}

/** A persisted buffer: freed when nothing refers to `owner` any more. */
const registry = new FinalizationRegistry<{ heap: Heap; addr: number }>(({ heap, addr }) => heap.free(addr));
function persisted(heap: Heap, addr: number): { home: object; addr: number; register(owner: object): void } {
  return { home: heap.memory, addr, register: (owner) => registry.register(owner, { heap, addr }) };
}

/** The ranks compute() splits its chunks among; null: this process alone. */
let comm: RankComm | null = null;

/** Makes compute() run rank-partitioned over `c` (set by the launcher once the world is up). */
export function useRanks(c: RankComm | null): void {
  comm = c && c.size > 1 ? c : null;
}

async function checkSameGraph(c: RankComm, outputs: OutputRequest[]): Promise<void> {
  const fp = fingerprint(outputs);
  const all = await c.allgatherBytes(new TextEncoder().encode(fp));
  const theirs = all.map((b) => new TextDecoder().decode(b));
  const differ = theirs.flatMap((f, r) => (f !== theirs[0] ? [r] : []));
  if (differ.length) {
    throw new ComputeError("GRAPH_MISMATCH", `ranks ${differ.join(", ")} built a different graph than rank 0: every rank must run the same compute() calls in the same order`);
  }
}

async function runPlan(plan: Plan, opts: RunOptions, workers: number | undefined): Promise<void> {
  const engine = await getEngine(workers);
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
