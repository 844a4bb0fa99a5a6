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

export function defaultWorkerCount(): number {
  for (const v of [process.env.TESSERA_WORKERS, process.env.SLURM_CPUS_PER_TASK]) {
    const n = Number(v);
    if (v && Number.isInteger(n) && n > 0) return n;
  }
  return Math.max(1, os.availableParallelism());
}

export function checkWorkers(n: unknown): number {
  if (typeof n !== "number" || !Number.isInteger(n) || n < 1 || n > 1024) {
    throw invalid("INVALID_ARGUMENT", `workers ${show(n)} must be an integer from 1 to 1024`);
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
