/**
 * compute(): runs one or several arrays in one plan (shared intermediates computed once) on the
 * worker pool, with progress and cancellation.
 */
import { invalid, show } from "../errors.js";
import { runOnPool, type ProgressEvent } from "../scheduler/local.js";
import { lower } from "../graph/lower.js";
import { fingerprint } from "../graph/fingerprint.js";
import { checkWorkers } from "../scheduler/engine.js";
import { progressBar } from "../scheduler/progress-bar.js";
import type { ChunkedArray } from "./chunked.js";
import type { Chunks } from "./chunks.js";
import type { OutputRequest } from "../graph/lower.js";
import type { Allocator } from "../scheduler/plan.js";
import { newId, type DataNode, type Node } from "../graph/nodes.js";
import { NDArray, fromRawResult } from "./ndarray.js";

export interface ComputeOptions {
  /** number of worker threads to use (default: SLURM_CPUS_PER_TASK or the machine's parallelism) */
  workers?: number;
  /** true: a live bar on stderr when it is a TTY; a function: receives every progress event */
  progress?: boolean | ((e: ProgressEvent) => void);
  /** aborting it rejects compute() with an ABORTED error */
  signal?: AbortSignal;
}

export type ComputeResult = number | boolean | NDArray;

const OPTION_KEYS = new Set(["workers", "progress", "signal"]);

export function checkComputeOptions(opts: unknown): ComputeOptions {
  if (opts === undefined) return {};
  if (opts === null || typeof opts !== "object") throw invalid("INVALID_ARGUMENT", `compute options ${show(opts)} must be an object`);
  for (const k of Object.keys(opts)) {
    if (!OPTION_KEYS.has(k)) throw invalid("INVALID_ARGUMENT", `compute has no option ${show(k)}; it takes workers, progress, signal`);
  }
  const o = opts as ComputeOptions;
  if (o.progress !== undefined && typeof o.progress !== "boolean" && typeof o.progress !== "function") {
    throw invalid("INVALID_ARGUMENT", `progress ${show(o.progress)} must be a boolean or a function`);
  }
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) {
    throw invalid("INVALID_ARGUMENT", `signal ${show(o.signal)} must be an AbortSignal`);
  }
  if (o.workers !== undefined) checkWorkers(o.workers);
  return o;
}

export async function computeMany(arrays: ChunkedArray[], options?: ComputeOptions): Promise<ComputeResult[]> {
  const results = await run(arrays.map((a) => ({ node: a.node, chunks: a.chunks })), options);
  return results.map((r) => (typeof r === "object" ? fromRawResult(r) : r));
}

/** Computes `node` on `chunks` and keeps the result in kernel memory: a data node read in place later. */
export async function persistNode(node: Node, chunks: Chunks, options?: ComputeOptions): Promise<DataNode> {
  const [r] = await run([{ node, chunks, keep: true }], options);
  if (typeof r !== "object" || !r.persisted) throw new Error("internal: persist gave no buffer");
  const p = r.persisted!;
  const data: DataNode = { kind: "data", id: newId(), shape: r.shape, dtype: r.dtype, data: r.data, home: p.home, addr: p.addr };
  p.register(data);
  return data;
}

async function run(outputs: OutputRequest[], options?: ComputeOptions) {
  const opts = checkComputeOptions(options);
  const bar = opts.progress === true ? progressBar(process.stderr) : null;
  const onProgress = typeof opts.progress === "function" ? opts.progress : bar?.update;
  try {
    const req = { plan: (mem: Allocator) => lower(outputs, mem), fingerprint: () => fingerprint(outputs), keep: outputs.map((o) => !!o.keep) };
    return await runOnPool(req, { workers: opts.workers, signal: opts.signal, onProgress });
  } finally {
    bar?.done();
  }
}
