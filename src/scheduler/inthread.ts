/**
 * Eager evaluation in the calling thread, for NDArray operations: the same lowering and chunk executor
 * as the pool, run synchronously. Normally on a private kernel memory of this thread (inputs copied in,
 * results copied out); inside a mapBlocks function, on the worker's shared memory in the stage's eager
 * region, where blocks already live: no copies, results are views valid until the block is done.
 */
import { TesseraError } from "../errors.js";
import { MAX_REGS, MAX_TILE, SCRATCH_BYTES } from "../kernels/abi.js";
import { createSharedMemory, instantiateKernels } from "../kernels/wasm.js";
import { GEMM_AREA_BYTES } from "../worker/gemm-task.js";
import { MAX_STREAMS, STREAM_WINDOW_BYTES } from "../worker/messages.js";
import type { ExecContext } from "../worker/program-task.js";
import { syncTasks, type SyncTasks } from "../worker/sync-tasks.js";
import { bindLayer } from "./bind.js";
import { ChunkStore } from "./chunk-store.js";
import { Heap, type Allocator } from "./heap.js";
import type { BoundPlan } from "./inputs.js";
import { ChunkMemory } from "./memory.js";
import { TaskGraph } from "../plan/task-graph.js";
import { PlanRun } from "./plan-run.js";
import { OutputCollector, type RawArray } from "./results.js";

/** Liveness of NDArrays that are views into an eager region. */
export interface Scope {
  alive: boolean;
}

export interface EagerContext extends ExecContext {
  heap: Allocator;
  /** set for block scopes: results are views that die with the scope */
  scope?: Scope;
}

export type EagerResult = (RawArray & { addr?: number; home?: object; scope?: Scope }) | number | boolean;

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
    gemm: heap.alloc(GEMM_AREA_BYTES),
    window: heap.alloc(MAX_STREAMS * STREAM_WINDOW_BYTES),
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

/** Runs a plan on ctx's memory in this thread, synchronously (program and combine layers only). */
export function runInThread(c: EagerContext, bound: BoundPlan): EagerResult[] {
  const { plan, bindings } = bound;
  const memory = new ChunkMemory(plan, bindings, c.heap);
  try {
    const collector = new OutputCollector(plan, memory, c.heap.views === true);
    const run = new PlanRun(new TaskGraph(plan), memory, { onOutput: (b, k) => collector.onOutput(b, k) });
    const runners = new Map<number, SyncTasks>();
    run.start();
    // one task at a time: each chunk's memory is back before the next is made
    for (let b = run.next(() => 1); b; b = run.next(() => 1)) {
      const layer = plan.layers[b.layer]!;
      let r = runners.get(b.layer);
      if (!r) {
        const spec = bindLayer(plan, layer, memory);
        const tasks = syncTasks(spec, c);
        if (!tasks) throw new Error(`internal: a ${spec.kind} layer cannot run in-thread`);
        runners.set(b.layer, (r = tasks));
      }
      run.begin(b);
      r.run(b.start, b.end);
      run.finish(b);
    }
    if (!run.finished) throw new Error("internal: an eager plan did not finish");
    const results = collector.results();
    // views into the region (block scopes) die with the block; other results are JS copies
    return results.map((r) => {
      if (typeof r !== "object" || r instanceof ChunkStore) return r as number | boolean;
      return c.scope && r.addr !== undefined ? { ...r, home: c.memory, scope: c.scope } : r;
    });
  } finally {
    if (!c.scope) memory.releaseAll();
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
