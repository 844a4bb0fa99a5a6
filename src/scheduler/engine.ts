/**
 * An engine: one shared kernel memory, its heap, a worker pool, the ranks it computes with (if any),
 * and the queue that makes its computes run one after another (they share the pool, the memory and the
 * world). A process has one default engine, made on first use; a cluster worker makes its own.
 * Pool size: `workers` option, else TESSERA_WORKERS, else SLURM_CPUS_PER_TASK, else os.availableParallelism().
 */
import os from "node:os";
import { invalid, show } from "../errors.js";
import { kernelBackend } from "../kernels/backend.js";
import { adviseHugePages } from "../kernels/huge-pages.js";
import { createSharedMemory, kernelModule } from "../kernels/wasm.js";
import type { RankComm } from "./ranks.js";
import { Heap, MAX_KERNEL_BYTES } from "./heap.js";
import { parseSize } from "../sizes.js";
import { WorkerPool } from "./pool.js";

/** Bytes below which the heap never allocates (kept clear of any static data of the kernels). */
const RESERVED = 1 << 20;

/** Most workers a pool may have: a few per core (more only costs memory and start-up). */
export const maxWorkers = (): number => Math.max(16, 4 * os.availableParallelism());

export function defaultWorkerCount(): number {
  const mine = process.env.TESSERA_WORKERS;
  if (mine) {
    // ours: a typo must not silently fall back to another count
    const n = Number(mine);
    if (!Number.isInteger(n)) throw invalid("INVALID_ARGUMENT", `TESSERA_WORKERS ${show(mine)} must be a positive integer`);
    return checkWorkers(n, "TESSERA_WORKERS");
  }
  const slurm = Number(process.env.SLURM_CPUS_PER_TASK); // SLURM's: used when it makes sense
  if (Number.isInteger(slurm) && slurm > 0) return Math.min(slurm, maxWorkers());
  return Math.max(1, os.availableParallelism());
}

export function checkWorkers(n: unknown, what = "workers"): number {
  const max = maxWorkers();
  if (typeof n !== "number" || !Number.isInteger(n) || n < 1 || n > max) {
    throw invalid("INVALID_ARGUMENT", `${what} ${show(n)} must be an integer from 1 to ${max} (4 per core of this machine, at least 16)`);
  }
  return n;
}

/**
 * The kernel memory limit: TESSERA_KERNEL_MEMORY bytes (a number, or with a unit: 512MiB, 2GiB), at most
 * and by default the 4 GiB a WebAssembly memory holds. Beyond it, persisted chunks move to JS memory.
 */
export function kernelMemoryLimit(env: Record<string, string | undefined> = process.env): number {
  const v = env.TESSERA_KERNEL_MEMORY;
  if (v === undefined || v === "") return MAX_KERNEL_BYTES;
  const bytes = parseSize(v, "TESSERA_KERNEL_MEMORY");
  if (!(bytes >= 16 * 2 ** 20) || bytes > MAX_KERNEL_BYTES) {
    throw invalid("INVALID_ARGUMENT", `TESSERA_KERNEL_MEMORY ${show(v)} must be a size from 16MiB to 4GiB (bytes, or with a unit: 512MiB, 2GiB)`);
  }
  return bytes;
}


export class Engine {
  readonly heap: Heap;
  pool: WorkerPool;
  /** the ranks compute() splits its work among; null: this process alone */
  ranks: RankComm | null = null;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly workerEntry: URL,
    workers: number,
  ) {
    const memory = createSharedMemory(Math.ceil(RESERVED / 65536) + 16);
    adviseHugePages(memory); // TESSERA_HUGE_PAGES=1 only (kernels/huge-pages.ts)
    this.heap = new Heap(memory, RESERVED, kernelMemoryLimit());
    this.pool = new WorkerPool(this.heap, kernelBackend() === "js" ? null : kernelModule(), workerEntry, workers);
  }

  /** Grows the pool to at least `workers` (rebuilding it; between computes only). */
  async ensureWorkers(workers: number): Promise<void> {
    if (this.pool.size >= workers) return;
    await this.pool.close();
    this.pool = new WorkerPool(this.heap, kernelBackend() === "js" ? null : kernelModule(), this.workerEntry, workers);
  }

  /** Runs fn after every compute queued before it; a failed one does not fail the ones behind it. */
  serialize<T>(fn: () => Promise<T>): Promise<T> {
    const mine = this.queue.then(fn);
    this.queue = mine.catch(() => {});
    return mine;
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}

let defaultEngine: Engine | null = null;
let defaultRanks: RankComm | null = null;

/** The process's engine (made with `workers` workers when it is new). `entry`: the worker threads' entry module. */
export async function getEngine(entry: URL, workers?: number): Promise<Engine> {
  const want = workers ?? defaultWorkerCount();
  kernelBackend();
  kernelMemoryLimit();
  if (!defaultEngine) {
    defaultEngine = new Engine(entry, want);
    defaultEngine.ranks = defaultRanks;
  }
  return defaultEngine;
}

/** The default engine if it exists (tests and tools look at its heap). */
export const currentEngine = (): Engine | null => defaultEngine;

/** Makes compute() on the default engine run rank-partitioned over `c` (set by the launcher once the world is up). */
export function useRanks(c: RankComm | null): void {
  defaultRanks = c && c.size > 1 ? c : null;
  if (defaultEngine) defaultEngine.ranks = defaultRanks;
}

/** Stops the default engine's workers. Not needed for the process to exit (idle workers are unref'd). */
export async function shutdown(): Promise<void> {
  const e = defaultEngine;
  defaultEngine = null;
  if (e) await e.close();
}
