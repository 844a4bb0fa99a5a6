/**
 * Eager evaluation in the calling thread, for NDArray operations: a private kernel memory and instance
 * per thread, the same lowering and the same chunk executor as the pool, run synchronously.
 */
import { lower, type OutputRequest } from "../graph/lower.js";
import { MAX_REGS, MAX_TILE, SCRATCH_BYTES } from "../kernels/abi.js";
import { createSharedMemory, instantiateKernels } from "../kernels/wasm.js";
import { StageRunner, type ExecContext } from "../worker/executor.js";
import { Grid } from "../worker/geometry.js";
import { Heap } from "./heap.js";

let ctx: (ExecContext & { heap: Heap }) | null = null;

function context(): ExecContext & { heap: Heap } {
  if (ctx) return ctx;
  const memory = createSharedMemory(64);
  const heap = new Heap(memory, 1 << 20);
  const programBytes = 64 * 1024;
  const areas = {
    program: heap.alloc(programBytes),
    programBytes,
    regs: heap.alloc(MAX_REGS * MAX_TILE * 8),
    scratch: heap.alloc(SCRATCH_BYTES),
  };
  ctx = { memory, heap, kernels: instantiateKernels(memory), areas };
  return ctx;
}

export function computeInThread(outputs: OutputRequest[]) {
  const c = context();
  const plan = lower(outputs, c.heap);
  try {
    for (const step of plan.steps) {
      if (step.kind === "host") step.run();
      else {
        const arena = step.spec.arenaBytes ? c.heap.alloc(step.spec.arenaBytes) : 0;
        try {
          new StageRunner(step.spec, c, arena).runRangeSync(0, new Grid(step.spec.grid).nchunks);
        } finally {
          if (arena) c.heap.free(arena);
        }
      }
    }
    return plan.results();
  } finally {
    plan.release();
  }
}
