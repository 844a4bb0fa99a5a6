/**
 * One compute as a cluster worker runs it: the plan's chunk memory in this process's kernel memory
 * (scheduler/memory.ts, the same planner a local run uses, without its bindings: every input chunk comes
 * from the scheduler or from another worker), and the batches the scheduler assigns, run as a local run
 * runs them: program, mapBlocks, read and write tasks on the thread pool (the layer's spec bound to this
 * memory, scheduler/bind.ts), combine and take tasks here (scheduler/host-tasks.ts). Which tasks run and
 * when their inputs are complete is the scheduler's business; a chunk is freed when it says so.
 */
import type { Engine } from "../scheduler/engine.js";
import { bindLayer } from "../scheduler/bind.js";
import { runHostTask } from "../scheduler/host-tasks.js";
import { ChunkMemory } from "../scheduler/memory.js";
import { BATCHES_IN_FLIGHT } from "../scheduler/pool.js";
import type { TaskGraph } from "../plan/task-graph.js";
import type { TaskSpec } from "../worker/messages.js";

/** A batch that failed: which task, and the worker's error. */
export class BatchError extends Error {
  constructor(
    readonly task: number,
    readonly code: string,
    message: string,
    readonly workerStack?: string,
  ) {
    super(message);
  }
}

export class WorkerRun {
  readonly memory: ChunkMemory;
  private readonly specs = new Map<number, TaskSpec>();
  private readonly arenas: number[] = [];
  /** chunks being fetched or received: settled once in place */
  private readonly incoming = new Map<number, Promise<void>>();
  private readonly running = new Set<Promise<void>>();
  private closed = false;

  constructor(
    readonly id: number,
    readonly graph: TaskGraph,
    private readonly engine: Engine,
    /** a process-wide unique layer id for the pool (two runs' layer 0 must not share a spec) */
    private readonly layerUid: () => number,
    private readonly slots: SlotWaiter,
  ) {
    this.memory = new ChunkMemory(graph.plan, [], engine.heap);
  }

  private locate(c: number): [number, number] {
    return [this.graph.chunkBuffer[c]!, this.graph.chunkIndex[c]!];
  }

  /** This worker holds chunk c (computed here, received, or fetched). */
  has(c: number): boolean {
    const [b, k] = this.locate(c);
    return this.memory.address(b, k) >= 0;
  }

  /** Settles when chunk c, on its way here, is in place (at once if it is not on its way). */
  arriving(c: number): Promise<void> | undefined {
    return this.incoming.get(c);
  }

  /** Notes that chunk c is on its way (a fetch of it started): `done` settles when it is in. */
  expect(c: number, done: Promise<void>): void {
    this.incoming.set(c, done);
    done.then(
      () => this.incoming.delete(c),
      () => this.incoming.delete(c),
    );
  }

  /** Puts the bytes of chunk c in place (a chunk from the scheduler or another worker). */
  put(c: number, bytes: Uint8Array): void {
    if (this.closed) return;
    const [b, k] = this.locate(c);
    const want = this.memory.chunkBytes(b, k);
    if (bytes.byteLength !== want) throw new Error(`chunk ${c} came with ${bytes.byteLength} bytes, expected ${want}`);
    this.memory.allocate(b, k);
    const v = this.memory.view(b, k);
    new Uint8Array(v.buffer, v.byteOffset, v.byteLength).set(bytes);
  }

  /** A copy of chunk c's bytes (to send: the memory may be released or reused while the bytes are in flight). */
  copyOut(c: number): Uint8Array {
    const [b, k] = this.locate(c);
    const v = this.memory.view(b, k);
    return new Uint8Array(v.buffer, v.byteOffset, v.byteLength).slice();
  }

  release(chunks: readonly number[]): void {
    if (this.closed) return;
    for (const c of chunks) {
      const [b, k] = this.locate(c);
      this.memory.release(b, k);
    }
  }

  private spec(l: number): TaskSpec {
    let s = this.specs.get(l);
    if (!s) this.specs.set(l, (s = { ...bindLayer(this.graph.plan, this.graph.plan.layers[l]!, this.memory), layer: this.layerUid() }));
    return s;
  }

  /** Runs tasks [start, end) of layer l (their inputs are in place); rejects with a BatchError. */
  run(l: number, start: number, end: number): Promise<void> {
    const p = this.runBatch(l, start, end);
    const tracked = p.then(
      () => {},
      () => {},
    );
    this.running.add(tracked);
    void tracked.then(() => this.running.delete(tracked));
    return p;
  }

  private async runBatch(l: number, start: number, end: number): Promise<void> {
    if (this.closed) throw new BatchError(start, "ABORTED", "the compute ended on this worker");
    const g = this.graph;
    const base = g.layerBase[l]!;
    try {
      for (let t = start; t < end; t++) {
        const i = base + t;
        for (let w = g.writeStart[i]!; w < g.writeStart[i + 1]!; w++) {
          const [b, k] = this.locate(g.writes[w]!);
          this.memory.allocate(b, k);
        }
      }
    } catch (e) {
      const err = e as Error & { code?: string };
      throw new BatchError(start, typeof err.code === "string" ? err.code : "TASK_FAILED", err.message);
    }
    const layer = g.plan.layers[l]!;
    if (layer.kind === "combine" || layer.kind === "take") {
      for (let t = start; t < end; t++) {
        try {
          runHostTask(g.tasks[l]!, t, this.memory);
        } catch (e) {
          const err = e as Error & { code?: string };
          throw new BatchError(t, typeof err.code === "string" ? err.code : "TASK_FAILED", err.message, err.stack);
        }
      }
      return;
    }
    const spec = this.spec(l);
    const arena = () => {
      if (spec.kind !== "mapBlocks") return 0;
      const a = this.engine.heap.alloc(spec.eagerBytes);
      this.arenas.push(a);
      return a;
    };
    let ran: Promise<void>;
    for (;;) {
      if (this.closed) throw new BatchError(start, "ABORTED", "the compute ended on this worker");
      // a free slot and the batch handed to it in one synchronous step: no other batch takes the slot between
      const w = this.slots.free();
      if (w >= 0) {
        ran = this.engine.pool.run(w, spec, arena, start, end);
        break;
      }
      await this.slots.wait();
    }
    try {
      await ran;
    } catch (e) {
      const err = e as Error & { code?: string; task?: number };
      throw new BatchError(typeof err.task === "number" ? err.task : start, typeof err.code === "string" ? err.code : "TASK_FAILED", err.message, err.stack);
    } finally {
      this.slots.wake();
    }
  }

  /** Frees everything the run holds, once its batches still running have settled. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.running]);
    for (const s of this.specs.values()) this.engine.pool.drop(s.layer);
    for (const a of this.arenas) this.engine.heap.free(a);
    this.memory.releaseAll();
  }
}

/** The pool's slots with room for one more batch, and a wait for one when all are full. */
export class SlotWaiter {
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly engine: Engine) {}

  /** The least loaded pool slot with room, or -1. */
  free(): number {
    const pool = this.engine.pool;
    let best = -1;
    for (let w = 0; w < pool.size; w++) if (pool.inFlight(w) < BATCHES_IN_FLIGHT && (best < 0 || pool.inFlight(w) < pool.inFlight(best))) best = w;
    return best;
  }

  /** Settles when a batch ended on the pool (a slot may have room). */
  wait(): Promise<void> {
    return new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  /** A batch ended on the pool: one waiter may go. */
  wake(): void {
    this.waiting.shift()?.();
  }
}
