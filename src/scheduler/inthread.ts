/**
 * Eager evaluation in the calling thread, for NDArray operations: the same lowering and chunk executor
 * as the pool, run synchronously. Normally on a private kernel memory of this thread (inputs copied in,
 * results copied out); inside a mapBlocks function, on the worker's shared memory in the stage's eager
 * region, where blocks already live: no copies, results are views valid until the block is done.
 */
import { TesseraError } from "../errors.js";
import type { Allocator, Plan, RawArray } from "./plan.js";
import { MAX_REGS, MAX_TILE, SCRATCH_BYTES } from "../kernels/abi.js";
import { createSharedMemory, instantiateKernels } from "../kernels/wasm.js";
import { StageRunner, type ExecContext } from "../worker/executor.js";
import { Grid } from "../worker/geometry.js";
import { Heap } from "./heap.js";

/** Liveness of NDArrays that are views into an eager region. */
export interface Scope {
  alive: boolean;
}

export interface EagerContext extends ExecContext {
  heap: Allocator;
  /** set for block scopes: results are views that die with the scope */
  scope?: Scope;
}

export type EagerResult = (RawArray & { home?: object; scope?: Scope }) | number | boolean;

let privateCtx: EagerContext | null = null;
let blockCtx: EagerContext | null = null;

function privateContext(): EagerContext {
  if (privateCtx) return privateCtx;
  const memory = createSharedMemory(64);
  const heap = new Heap(memory, 1 << 20);
  const programBytes = 64 * 1024;
  const areas = {
    program: heap.alloc(programBytes),
    programBytes,
    regs: heap.alloc(MAX_REGS * MAX_TILE * 8),
    scratch: heap.alloc(SCRATCH_BYTES),
  };
  privateCtx = { memory, heap, kernels: instantiateKernels(memory), areas };
  return privateCtx;
}

/** Makes NDArray operations of this thread run in `ctx` until the returned function is called. */
export function enterBlockContext(ctx: EagerContext): () => void {
  const prev = blockCtx;
  blockCtx = ctx;
  return () => {
    blockCtx = prev;
  };
}

/** Runs a plan made on ctx.heap in this thread, synchronously. */
export function runInThread(c: EagerContext, plan: Plan): EagerResult[] {
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
    const results = plan.results();
    // views into the region (stored outputs) die with the block; reduction results are JS copies
    return c.scope ? results.map((r) => (typeof r === "object" && r.addr !== undefined ? { ...r, home: c.memory, scope: c.scope } : r)) : results;
  } finally {
    if (!c.scope) plan.release();
  }
}

/**
 * The contexts to try, in order: inside a mapBlocks function the block's region first (no copies),
 * then this thread's private memory (always works; used when the region is full).
 */
export function eagerContexts(): EagerContext[] {
  return blockCtx ? [blockCtx, privateContext()] : [privateContext()];
}

/** A bump allocator over one region, for block scopes: everything is freed at once when the block ends. */
export class RegionHeap implements Allocator {
  private top: number;
  constructor(
    private readonly memory: WebAssembly.Memory,
    private readonly start: number,
    private readonly end: number,
  ) {
    this.top = start;
  }
  get buffer(): ArrayBufferLike {
    return this.memory.buffer;
  }
  get home(): object {
    return this.memory;
  }
  readonly views = true;
  alloc(bytes: number): number {
    const addr = this.top;
    const next = addr + Math.ceil(Math.max(bytes, 1) / 64) * 64;
    if (next > this.end) throw new TesseraError("TOO_LARGE", `a mapBlocks function's NDArray operations need more than the ${this.end - this.start} bytes of its block region`);
    this.top = next;
    return addr;
  }
  free(): void {}
}
