/**
 * The process's engine: one shared kernel memory, its heap and a worker pool, created on first use.
 * Pool size: `workers` option, else TESSERA_WORKERS, else SLURM_CPUS_PER_TASK, else os.availableParallelism().
 */
import os from "node:os";
import { invalid, show } from "../errors.js";
import { createSharedMemory, kernelModule } from "../kernels/wasm.js";
import { Heap } from "./heap.js";
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

export interface Engine {
  heap: Heap;
  pool: WorkerPool;
}

let engine: Engine | null = null;

/** The engine, with at least `workers` workers (the pool is rebuilt when it must grow). */
export async function getEngine(workers?: number): Promise<Engine> {
  const kernels = process.env.TESSERA_KERNELS;
  if (kernels && kernels !== "js" && kernels !== "wasm") {
    throw invalid("INVALID_ARGUMENT", `TESSERA_KERNELS ${show(kernels)} must be "wasm" (the default) or "js"`);
  }
  const want = workers ?? defaultWorkerCount();
  if (engine && engine.pool.size >= want) return engine;
  if (engine) await engine.pool.close();
  else {
    const memory = createSharedMemory(Math.ceil(RESERVED / 65536) + 16);
    engine = { heap: new Heap(memory, RESERVED), pool: null as unknown as WorkerPool };
  }
  engine.pool = new WorkerPool(engine.heap, process.env.TESSERA_KERNELS === "js" ? null : kernelModule(), want);
  return engine;
}

/** Stops the workers. Not needed for the process to exit (idle workers are unref'd). */
export async function shutdown(): Promise<void> {
  const e = engine;
  engine = null;
  if (e) await e.pool.close();
}
