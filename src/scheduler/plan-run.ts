/**
 * One run of a plan: the dependency counts over its chunk tasks and what is ready to run. A task is
 * ready when every chunk it reads is complete (all its writers done); a chunk's memory is released
 * after its last reader. Worker tasks (program, mapBlocks) are handed out in batches of consecutive
 * ready tasks; combine tasks run here, on the scheduler's thread, as soon as they are ready.
 *
 * The same run drives the worker pool (run-on-pool.ts), the eager in-thread path (inthread.ts) and a
 * rank's share of a plan (ranks.ts): `owns` says which tasks this process runs, `arrive` completes
 * chunks computed elsewhere.
 */
import { Grid } from "../grid.js";
import type { TaskGraph } from "../plan/task-graph.js";
import { storageOf, type LayerTasks } from "../plan/tasks.js";
import type { Plan } from "../plan/types.js";
import { runHostTask } from "./host-tasks.js";
import type { ChunkMemory } from "./memory.js";
import { ReadyRanges } from "./ready.js";

export interface Batch {
  layer: number;
  start: number;
  end: number;
}

export interface RunHooks {
  /** does this process run task t of layer l (default: every task) */
  owns?(layer: number, t: number): boolean;
  /** a chunk this process wrote is complete (ranks send it where it is read) */
  onComplete?(buffer: number, chunk: number): void;
  /** a chunk of an output buffer is complete; return true to release it now (it was copied out) */
  onOutput?(buffer: number, chunk: number): boolean;
  /** a chunk of a persisted output is complete and nothing in the run reads it any more: take it */
  onPersisted?(buffer: number, chunk: number): void;
}

/** Program, mapBlocks, read, write and gemm tasks run on workers and count as "chunks" in progress; combine and take tasks run here. */
export const isWorkerLayer = (plan: Plan, l: number) => {
  const k = plan.layers[l]!.kind;
  return k === "program" || k === "mapBlocks" || k === "read" || k === "write" || k === "gemm";
};

export class PlanRun {
  readonly plan: Plan;
  readonly tasks: LayerTasks[];
  private readonly layerBase: number[];
  private readonly chunkBase: number[];
  private readonly chunkBuffer: Int32Array;
  private readonly chunkIndex: Int32Array;
  private readonly readStart: Int32Array;
  private readonly reads: Int32Array;
  private readonly writeStart: Int32Array;
  private readonly writes: Int32Array;
  private readonly readerStart: Int32Array;
  private readonly readers: Int32Array;
  private readonly writersLeft: Int32Array;
  private readonly readersLeft: Int32Array;
  private readonly pending: Int32Array;
  private readonly owned: Uint8Array;
  private readonly ready: ReadyRanges[];
  private readonly hostQueue: number[] = [];
  /** per layer: tasks this process runs, and how many are done */
  readonly ownedCount: number[];
  readonly doneCount: number[];
  private readonly outputBuffers = new Map<number, boolean>(); // storage buffer -> persisted
  private remaining = 0;
  /** chunks this process reads that only other ranks write, not arrived yet */
  private remoteLeft = 0;
  /** called when chunks from elsewhere made tasks ready (the driver hands them out) */
  onWake: (() => void) | null = null;

  /** `graph` is the plan's task graph; tasks its outputs do not need are never run (nor owned). */
  constructor(
    graph: TaskGraph,
    readonly memory: ChunkMemory,
    private readonly hooks: RunHooks = {},
  ) {
    const plan = (this.plan = graph.plan);
    this.tasks = graph.tasks;
    this.layerBase = graph.layerBase;
    this.chunkBase = graph.chunkBase;
    this.chunkBuffer = graph.chunkBuffer;
    this.chunkIndex = graph.chunkIndex;
    this.readStart = graph.readStart;
    this.reads = graph.reads;
    this.writeStart = graph.writeStart;
    this.writes = graph.writes;
    const nt = graph.taskCount;
    const nc = graph.chunkCount;
    this.owned = new Uint8Array(nt);
    this.ownedCount = plan.layers.map(() => 0);
    this.doneCount = plan.layers.map(() => 0);
    this.tasks.forEach((lt, l) => {
      for (let t = 0; t < lt.count; t++) {
        const i = this.layerBase[l]! + t;
        const mine = graph.needed[i] === 1 && (hooks.owns ? hooks.owns(l, t) : true);
        this.owned[i] = mine ? 1 : 0;
        if (mine) this.ownedCount[l]!++;
      }
    });
    this.writersLeft = new Int32Array(nc);
    this.readersLeft = new Int32Array(nc);
    const readerCount = new Int32Array(nc + 1);
    for (let i = 0; i < nt; i++) {
      for (let w = this.writeStart[i]!; w < this.writeStart[i + 1]!; w++) this.writersLeft[this.writes[w]!]!++;
      if (!this.owned[i]) continue;
      for (let r = this.readStart[i]!; r < this.readStart[i + 1]!; r++) {
        this.readersLeft[this.reads[r]!]!++;
        readerCount[this.reads[r]!]!++;
      }
    }
    this.readerStart = new Int32Array(nc + 1);
    for (let c = 0; c < nc; c++) this.readerStart[c + 1] = this.readerStart[c]! + readerCount[c]!;
    this.readers = new Int32Array(this.readerStart[nc]!);
    const fill = this.readerStart.slice(0, nc);
    for (let i = 0; i < nt; i++) {
      if (!this.owned[i]) continue;
      for (let r = this.readStart[i]!; r < this.readStart[i + 1]!; r++) this.readers[fill[this.reads[r]!]!++] = i;
    }
    // outputs hold their chunks until they are copied out (persisted ones for good)
    for (const o of plan.outputs) {
      const b = storageOf(plan, o.buffer);
      this.outputBuffers.set(b, (this.outputBuffers.get(b) ?? false) || o.persist);
    }
    for (const [b] of this.outputBuffers) {
      const base = this.chunkBase[b]!;
      for (let k = 0; k < memory.grid(b).nchunks; k++) this.readersLeft[base + k]!++;
    }
    // pending inputs per task; tasks with none are ready
    this.pending = new Int32Array(nt);
    this.ready = plan.layers.map(() => new ReadyRanges());
    for (let i = 0; i < nt; i++) {
      let p = 0;
      for (let r = this.readStart[i]!; r < this.readStart[i + 1]!; r++) if (this.writersLeft[this.reads[r]!]! > 0) p++;
      this.pending[i] = p;
    }
    this.remaining = this.ownedCount.reduce((a, b) => a + b, 0);
    if (hooks.owns) {
      const localWriters = new Int32Array(nc);
      for (let i = 0; i < nt; i++) if (this.owned[i]) for (let w = this.writeStart[i]!; w < this.writeStart[i + 1]!; w++) localWriters[this.writes[w]!]!++;
      for (let c = 0; c < nc; c++) if (this.writersLeft[c]! > 0 && localWriters[c] === 0 && this.readersLeft[c]! > 0) this.remoteLeft++;
    }
  }

  /** Keeps a chunk's memory past its last local reader (until unhold): ranks send it elsewhere. Before start(). */
  hold(buffer: number, k: number): void {
    this.readersLeft[this.chunkBase[buffer]! + k]!++;
  }

  unhold(buffer: number, k: number): void {
    this.readDone(this.chunkBase[buffer]! + k);
  }

  /** Some chunk this process needs is still to come from another rank. */
  waitingForOthers(): boolean {
    return this.remoteLeft > 0;
  }

  /** Marks the initially ready tasks and runs what can run here; call once before handing out batches. */
  start(): void {
    this.tasks.forEach((lt, l) => {
      const base = this.layerBase[l]!;
      let runStart = -1;
      for (let t = 0; t <= lt.count; t++) {
        const ok = t < lt.count && this.owned[base + t] === 1 && this.pending[base + t] === 0;
        if (ok && runStart < 0) runStart = t;
        if (!ok && runStart >= 0) {
          this.markReady(l, runStart, t);
          runStart = -1;
        }
      }
    });
    this.runHostTasks();
  }

  private markReady(l: number, a: number, b: number): void {
    if (!isWorkerLayer(this.plan, l)) for (let t = a; t < b; t++) this.hostQueue.push(this.layerBase[l]! + t);
    else this.ready[l]!.add(a, b);
  }

  /** Every task of this process ran and every chunk it needs from other ranks arrived. */
  get finished(): boolean {
    return this.remaining === 0 && this.remoteLeft === 0;
  }

  /** Tasks ready to hand out, deepest layer first (consumers free memory, so they go before producers). */
  hasReady(): boolean {
    return this.ready.some((r) => r.size > 0);
  }

  /** Tasks of layer `l` ready to hand out. */
  readyIn(l: number): number {
    return this.ready[l]!.size;
  }

  /** The layer the next batch comes from (-1: none is ready). */
  nextLayer(): number {
    for (let l = this.ready.length - 1; l >= 0; l--) if (this.ready[l]!.size) return l;
    return -1;
  }

  /** The next batch: up to `max(layer, readyCount)` consecutive ready tasks of the deepest ready layer. */
  next(max: (layer: number, ready: number) => number): Batch | null {
    for (let l = this.ready.length - 1; l >= 0; l--) {
      const r = this.ready[l]!;
      if (!r.size) continue;
      const got = r.take(max(l, r.size));
      if (got) return { layer: l, start: got[0], end: got[1] };
    }
    return null;
  }

  /** Before a batch runs: its input chunks staged in, its output chunks given memory. */
  begin(b: Batch): void {
    const base = this.layerBase[b.layer]!;
    for (let t = b.start; t < b.end; t++) {
      const i = base + t;
      for (let r = this.readStart[i]!; r < this.readStart[i + 1]!; r++) {
        const c = this.reads[r]!;
        this.memory.stageIn(this.chunkBuffer[c]!, this.chunkIndex[c]!);
      }
      for (let w = this.writeStart[i]!; w < this.writeStart[i + 1]!; w++) {
        const c = this.writes[w]!;
        this.memory.allocate(this.chunkBuffer[c]!, this.chunkIndex[c]!);
      }
    }
  }

  /** After a batch ran: completes what it wrote, releases what it read last, runs host tasks now ready. */
  finish(b: Batch): void {
    const base = this.layerBase[b.layer]!;
    for (let t = b.start; t < b.end; t++) this.taskDone(base + t);
    this.doneCount[b.layer]! += b.end - b.start;
    this.runHostTasks();
  }

  private taskDone(i: number): void {
    this.remaining--;
    for (let w = this.writeStart[i]!; w < this.writeStart[i + 1]!; w++) {
      const c = this.writes[w]!;
      if (--this.writersLeft[c]! === 0) this.completed(c, true);
    }
    for (let r = this.readStart[i]!; r < this.readStart[i + 1]!; r++) this.readDone(this.reads[r]!);
  }

  private readDone(c: number): void {
    const left = --this.readersLeft[c]!;
    if (left === 0) this.memory.release(this.chunkBuffer[c]!, this.chunkIndex[c]!);
    else if (left === 1 && this.outputBuffers.get(this.chunkBuffer[c]!) === true) this.persistIfUnread(c);
  }

  /** A chunk is complete: its readers may become ready; outputs are offered to the caller. */
  private completed(c: number, here: boolean): void {
    const buffer = this.chunkBuffer[c]!;
    const k = this.chunkIndex[c]!;
    if (here) this.hooks.onComplete?.(buffer, k);
    for (let r = this.readerStart[c]!; r < this.readerStart[c + 1]!; r++) {
      const i = this.readers[r]!;
      if (--this.pending[i]! === 0) {
        const l = this.layerOf(i);
        this.markReady(l, i - this.layerBase[l]!, i - this.layerBase[l]! + 1);
      }
    }
    const persisted = this.outputBuffers.get(buffer);
    if (persisted === false && this.hooks.onOutput?.(buffer, k)) this.readDone(c);
    else if (persisted === true) this.persistIfUnread(c);
    else if (persisted === undefined && this.readersLeft[c] === 0) this.memory.release(buffer, k); // read by nothing (a scan's last carry)
  }

  /** A persisted chunk whose only holder left is the output itself goes to its store. */
  private persistIfUnread(c: number): void {
    if (this.readersLeft[c] === 1 && this.writersLeft[c] === 0 && this.hooks.onPersisted) {
      this.readersLeft[c] = 0;
      this.hooks.onPersisted(this.chunkBuffer[c]!, this.chunkIndex[c]!);
    }
  }

  /** A chunk computed by another rank arrived (its bytes are in place): complete it here. */
  arrive(buffer: number, k: number): void {
    const c = this.chunkBase[buffer]! + k;
    if (this.writersLeft[c] === 0) return;
    this.writersLeft[c] = 0;
    this.remoteLeft--;
    this.completed(c, false);
    this.runHostTasks();
    this.onWake?.();
  }

  private layerOf(i: number): number {
    let lo = 0;
    let hi = this.layerBase.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.layerBase[mid]! <= i) lo = mid;
      else hi = mid - 1;
    }
    // (layers with no tasks share their base with the next one; the search lands on the last of them)
    return lo;
  }

  /** Runs combine and take tasks that are ready, on this thread. */
  private runHostTasks(): void {
    while (this.hostQueue.length) {
      const i = this.hostQueue.shift()!;
      const l = this.layerOf(i);
      const t = i - this.layerBase[l]!;
      this.begin({ layer: l, start: t, end: t + 1 });
      runHostTask(this.tasks[l]!, t, this.memory);
      this.taskDone(i);
      this.doneCount[l]!++;
    }
  }

  /** Elements in the largest task of layer l (how long a task runs, roughly). */
  taskElements(l: number): number {
    const layer = this.plan.layers[l];
    if (!layer) return 0;
    let n = this.elements[l];
    if (n === undefined) {
      if (layer.kind === "program") n = new Grid(layer.grid).maxChunkSize();
      else if (layer.kind === "mapBlocks") n = this.memory.grid(layer.input).maxChunkSize();
      else if (layer.kind === "gemm") {
        // a multiply-add per element and step of K: a gemm task is worth that many elementwise ones
        const a = this.plan.buffers[layer.a]!;
        n = this.memory.grid(layer.output).maxChunkSize() * a.shape[a.shape.length - 1]!;
      } else n = 0;
      this.elements[l] = n;
    }
    return n;
  }
  private readonly elements: number[] = [];

  /**
   * Bytes a task of layer l may give new memory to: the chunks it writes and the input chunks it copies in
   * (not a persisted chunk it reads in place). Batches are capped by it; measured on the layer's first task.
   */
  writeBytes(l: number): number {
    if (l < 0 || this.tasks[l]!.count === 0) return 0;
    const i = this.layerBase[l]!;
    let n = 0;
    for (let w = this.writeStart[i]!; w < this.writeStart[i + 1]!; w++) {
      const c = this.writes[w]!;
      n += this.memory.chunkBytes(this.chunkBuffer[c]!, this.chunkIndex[c]!);
    }
    for (let r = this.readStart[i]!; r < this.readStart[i + 1]!; r++) {
      const c = this.reads[r]!;
      if (this.plan.buffers[this.chunkBuffer[c]!]!.input !== undefined) n += this.memory.stageBytes(this.chunkBuffer[c]!, this.chunkIndex[c]!);
    }
    return n;
  }
}
