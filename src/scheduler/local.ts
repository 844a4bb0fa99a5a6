/**
 * Runs a plan: host steps on this thread, stages on the worker pool, in order; progress as events.
 */
import type { Plan } from "../graph/lower.js";
import { Grid } from "../worker/geometry.js";
import { getEngine, checkWorkers } from "./engine.js";
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
  const plan = lower(outputs, engine.heap);
  try {
    await runPlan(plan, opts, workers);
    return plan.results();
  } finally {
    plan.release();
  }
}

async function runPlan(plan: Plan, opts: RunOptions, workers: number | undefined): Promise<void> {
  const engine = await getEngine(workers);
  const t0 = performance.now();
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
      onProgress: opts.onProgress && ((p) => opts.onProgress!({ stage: n, stages, label, done: p.done, total: p.total, elapsed: (performance.now() - t0) / 1000 })),
    });
  }
}
