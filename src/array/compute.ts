/**
 * compute(): runs one or several arrays in one plan (shared intermediates computed once) on the
 * worker pool, with progress and cancellation; persist() keeps a result in the engine's memory.
 */
import { invalid, show } from "../errors.js";
import { computeOnEngine, adoptStore, type ProgressEvent } from "../scheduler/compute.js";
import { lower, type OutputRequest } from "../graph/lower.js";
import { checkWorkers } from "../scheduler/engine.js";
import { progressBar } from "../scheduler/progress-bar.js";
import { ChunkStore } from "../scheduler/chunk-store.js";
import type { RunResult } from "../scheduler/results.js";
import { defaultBackend } from "./backend.js";
import type { ChunkedArray } from "./chunked.js";
import type { Chunks } from "./chunks.js";
import { newId, type Node, type StoredNode } from "../graph/nodes.js";
import { NDArray, fromRawResult } from "./ndarray.js";

export interface ComputeOptions {
  /** number of worker threads to use (default: SLURM_CPUS_PER_TASK or the machine's parallelism) */
  workers?: number;
  /** true: a live bar on stderr when it is a TTY; a function: receives every progress event */
  progress?: boolean | ((e: ProgressEvent) => void);
  /** aborting it rejects compute() with an ABORTED error */
  signal?: AbortSignal;
  /**
   * "threads": this process's worker threads even while a cluster Client is the default (dask's
   * `compute(scheduler="threads")`); absent: the default client's cluster if one is open, else this process
   */
  scheduler?: "threads";
}

export type ComputeResult = number | boolean | NDArray;

const OPTION_KEYS = new Set(["workers", "progress", "signal", "scheduler"]);

/** The worker threads' entry module (it gives mapBlocks functions their NDArrays). */
export const WORKER_ENTRY = new URL("./worker-entry.js", import.meta.url);

export function checkComputeOptions(opts: unknown): ComputeOptions {
  if (opts === undefined) return {};
  if (opts === null || typeof opts !== "object") throw invalid("INVALID_ARGUMENT", `compute options ${show(opts)} must be an object`);
  for (const k of Object.keys(opts)) {
    if (!OPTION_KEYS.has(k)) throw invalid("INVALID_ARGUMENT", `compute has no option ${show(k)}; it takes workers, progress, signal, scheduler`);
  }
  const o = opts as ComputeOptions;
  if (o.progress !== undefined && typeof o.progress !== "boolean" && typeof o.progress !== "function") {
    throw invalid("INVALID_ARGUMENT", `progress ${show(o.progress)} must be a boolean or a function`);
  }
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) {
    throw invalid("INVALID_ARGUMENT", `signal ${show(o.signal)} must be an AbortSignal`);
  }
  if (o.workers !== undefined) checkWorkers(o.workers);
  if (o.scheduler !== undefined && o.scheduler !== "threads") {
    throw invalid("INVALID_ARGUMENT", `scheduler ${show(o.scheduler)} must be "threads" (this process, even while a cluster client is the default)`);
  }
  return o;
}

export async function computeMany(arrays: ChunkedArray[], options?: ComputeOptions): Promise<ComputeResult[]> {
  const results = await run(arrays.map((a) => ({ node: a.node, chunks: a.chunks })), options);
  return results.map((r) => (typeof r === "object" ? fromRawResult(r as Exclude<RunResult, number | boolean | ChunkStore>) : r));
}

/** Computes `node` on `chunks` and keeps the result in the engine's memory: a stored node read in place later. */
export async function persistNode(node: Node, chunks: Chunks, options?: ComputeOptions): Promise<StoredNode> {
  const backend = options?.scheduler === "threads" ? null : defaultBackend.get();
  if (backend) {
    // kept where the default backend computes (a cluster: on its workers)
    const opts = checkComputeOptions(options);
    const bar = opts.progress === true ? progressBar(process.stderr) : null;
    try {
      return await backend.persistOutput(node, chunks, { signal: opts.signal, onProgress: typeof opts.progress === "function" ? opts.progress : bar?.update });
    } finally {
      bar?.done();
    }
  }
  const [r] = await run([{ node, chunks, persist: true }], options);
  if (!(r instanceof ChunkStore)) throw new Error("internal: persist gave no chunk store");
  const stored: StoredNode = { kind: "stored", id: newId(), shape: r.shape, dtype: r.dtype, chunks: r.chunks, store: r, fingerprint: r.fingerprint };
  await adoptStore(WORKER_ENTRY, r, stored);
  return stored;
}

async function run(outputs: OutputRequest[], options?: ComputeOptions): Promise<RunResult[]> {
  const opts = checkComputeOptions(options);
  const bar = opts.progress === true ? progressBar(process.stderr) : null;
  const onProgress = typeof opts.progress === "function" ? opts.progress : bar?.update;
  try {
    const backend = opts.scheduler === "threads" ? null : defaultBackend.get();
    if (backend && !outputs.some((o) => o.persist || o.sink)) return await backend.computeOutputs(outputs, { signal: opts.signal, onProgress });
    const req = { lower: (hashInputs: boolean) => lower(outputs, { hashInputs }) };
    return await computeOnEngine(WORKER_ENTRY, req, { workers: opts.workers, signal: opts.signal, onProgress });
  } finally {
    bar?.done();
  }
}
