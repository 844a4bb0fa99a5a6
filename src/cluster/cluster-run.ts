/**
 * One compute on the cluster, as the scheduler drives it: the plan's task graph with, per task, whether
 * it waits, is ready, runs (in which batch, on which worker) or is done, and per chunk where it is held
 * (`holder`, and copies other workers fetched), how many of its writers are left and how many reads of it
 * are still to come. Readiness, release after the last reader and the deepest-layer-first order are a
 * local run's (scheduler/plan-run.ts); what is new is where: tasks wait in the queue of the worker holding
 * most of their input bytes (or of their write group's home, placement.ts), or in a queue any worker
 * takes from, and a worker with nothing of its own steals tasks that move few bytes.
 *
 * The run does not talk to workers: it answers the scheduler's questions (the next batch for a worker)
 * and keeps, per worker, the messages to send (releases, output requests) in an outbox the scheduler
 * drains. Lost workers are handled in recovery.ts.
 */
import { ClusterError, ComputeError } from "../errors.js";
import { storageOf } from "../plan/tasks.js";
import type { TaskGraph } from "../plan/task-graph.js";
import { ReadyRanges } from "../scheduler/ready.js";
import type { InputBinding } from "../scheduler/inputs.js";
import type { RunResult } from "../scheduler/results.js";
import type { ProgressEvent } from "../scheduler/run-on-pool.js";
import { ClusterStore, type ResidentChunks } from "./cluster-store.js";
import { RunData } from "./run-data.js";
import { BatchTransfers, NOBODY, RunChunks } from "./run-chunks.js";

export { NOBODY, SCHEDULER } from "./run-chunks.js";
/** The queue of tasks any worker may take. */
const ANY = 0;

export const enum TaskState {
  Waiting = 0,
  Ready = 1,
  Running = 2,
  Done = 3,
}

/** At most this many bytes of new chunk memory per batch (at least one task), as a local run. */
const BATCH_BYTES = 64 * 2 ** 20;
/** A worker with nothing of its own takes tasks from another's queue when they move at most this much. */
const STEAL_BYTES = 8 * 2 ** 20;
/** A task running on this many workers that died fails its compute (dask's allowed-failures). */
export const ALLOWED_FAILURES = 3;

/** What the run needs to know of a worker. */
export interface WorkerView {
  id: number;
  threads: number;
  host: string;
  listenHost: string;
  listenPort: number;
}

export interface Batch {
  id: number;
  worker: number;
  layer: number;
  start: number;
  end: number;
  /** input chunks the batch reads that its worker did not hold (it will hold copies once the batch ran) */
  copies: number[];
  /** the batch holds a suspected task, alone on its worker */
  exclusive: boolean;
}

/** A batch to send: the scheduler pushes `push` (input chunks) first, then the assignment. */
export interface Assignment {
  batch: Batch;
  push: number[];
  /** chunks to get from worker `from` (w itself: a copy between its runs); `src`: they are chunks of another (resident) run */
  fetch: { from: number; chunks: number[]; src?: { run: number; chunks: number[] } }[];
}

export interface RunCallbacks {
  /** the results, one per output: for a persisted output, its ClusterStore (the run stays, resident) */
  onDone(results: (RunResult | ClusterStore)[]): void;
  onError(e: Error): void;
  onProgress?(e: ProgressEvent): void;
}

export class ClusterRun extends RunChunks implements ResidentChunks {
  // per task
  readonly state: Uint8Array;
  readonly batchOf: Int32Array;
  readonly pending: Int32Array;
  readonly suspicious: Uint8Array;
  // per write group
  readonly groupHome: Int32Array;
  /** worker id (ANY: 0) -> per layer ready ranges */
  queues = new Map<number, ReadyRanges[]>();
  /** suspected tasks, each run alone */
  suspects: number[] = [];
  readonly batches = new Map<number, Batch>();
  /** workers this run began on (they get `end` when it is over) */
  readonly begun = new Set<number>();
  remaining = 0;
  outputsLeft = 0;
  /** ready tasks whose persisted inputs are being recomputed (their holder was lost) */
  private blocked: number[] = [];
  /** the run persists outputs: once done it stays, holding them, until released */
  readonly resident: boolean;
  private doneOnce = false;
  private ended = false;
  private doneWorkerTasks = 0;
  private readonly t0 = performance.now();

  constructor(
    readonly id: number,
    graph: TaskGraph,
    readonly hash: string,
    readonly planText: string,
    bindings: readonly InputBinding[],
    private readonly callbacks: RunCallbacks,
  ) {
    super(graph, new RunData(graph, bindings));
    const nt = graph.taskCount;
    this.state = new Uint8Array(nt);
    this.batchOf = new Int32Array(nt);
    this.pending = new Int32Array(nt);
    this.suspicious = new Uint8Array(nt);
    // inputs persisted on the cluster: their chunks are a resident run's
    graph.plan.buffers.forEach((b) => {
      const bind = b.input !== undefined ? bindings[b.input] : undefined;
      if (bind?.kind !== "store" || !((bind.store as unknown) instanceof ClusterStore)) return;
      const store = bind.store as unknown as ClusterStore;
      if (store.released) throw new ClusterError("RELEASED", "an array persisted on the cluster was released (its client closed, or nothing referred to it) before this compute read it");
      const base = graph.chunkBase[b.id]!;
      const n = b.chunks.reduce((a, c) => a * c.length, 1);
      for (let k = 0; k < n; k++) {
        this.external.set(base + k, { store, chunk: store.chunkOf(k) });
        this.holder[base + k] = NOBODY;
      }
    });
    this.groupHome = new Int32Array(this.groups.count).fill(NOBODY);
    // persisted outputs: held for good (until released), never gathered
    for (const c of this.data.outputChunks(true)) this.outputHold[c] = 3;
    this.resident = graph.plan.outputs.some((o) => o.persist);
    // outputs: held until gathered; an output that is an input is here already
    for (const c of this.data.outputChunks()) {
      if (this.isInput[c]) this.data.putOutput(c, this.data.inputChunk(c));
      else {
        this.outputHold[c] = 1;
        this.outputsLeft++;
      }
    }
    this.rebuild();
  }

  get over(): boolean {
    return this.ended;
  }

  /**
   * Rebuilds every count from the tasks' states (at the start, and after a worker is lost): writers
   * left, reads to come, pending inputs, and the ready queues.
   */
  rebuild(): void {
    const g = this.graph;
    const nt = g.taskCount;
    const nc = g.chunkCount;
    this.writersLeft.fill(0);
    this.readersLeft.fill(0);
    this.remaining = 0;
    for (let i = 0; i < nt; i++) {
      if (!g.needed[i] || this.state[i] === TaskState.Done) continue;
      this.remaining++;
      for (let w = g.writeStart[i]!; w < g.writeStart[i + 1]!; w++) this.writersLeft[g.writes[w]!]!++;
      for (let r = g.readStart[i]!; r < g.readStart[i + 1]!; r++) this.readersLeft[g.reads[r]!]!++;
    }
    for (let c = 0; c < nc; c++) if (this.outputHold[c]) this.readersLeft[c]!++;
    this.queues = new Map();
    this.suspects = [];
    this.blocked = [];
    for (let i = 0; i < nt; i++) {
      if (!g.needed[i] || this.state[i] === TaskState.Done || this.state[i] === TaskState.Running) continue;
      let p = 0;
      for (let r = g.readStart[i]!; r < g.readStart[i + 1]!; r++) if (this.writersLeft[g.reads[r]!]! > 0) p++;
      this.pending[i] = p;
      this.state[i] = TaskState.Waiting;
      if (p === 0) this.enqueue(i);
    }
    // outputs complete and held (their request may have been lost with a worker): ask again
    for (let c = 0; c < nc; c++) {
      if ((this.outputHold[c] === 1 || this.outputHold[c] === 2) && this.writersLeft[c] === 0 && this.available(c)) {
        this.outputHold[c] = 1;
        this.requestOutput(c);
      }
    }
  }

  private queue(worker: number): ReadyRanges[] {
    let q = this.queues.get(worker);
    if (!q) this.queues.set(worker, (q = this.graph.plan.layers.map(() => new ReadyRanges())));
    return q;
  }

  /** The worker a ready task should run on: its group's home, else where most of its input bytes are. */
  private preferred(i: number): number {
    const grp = this.groups.taskGroup[i]!;
    if (grp >= 0 && this.groupHome[grp]! > 0) return this.groupHome[grp]!;
    const g = this.graph;
    let best = ANY;
    let bestBytes = 0;
    const a = g.readStart[i]!;
    const b = g.readStart[i + 1]!;
    if (b - a === 1) {
      const h = this.where(g.reads[a]!);
      return h > 0 ? h : ANY;
    }
    const by = new Map<number, number>();
    for (let r = a; r < b; r++) {
      const c = g.reads[r]!;
      const h = this.where(c);
      if (h <= 0) continue;
      const n = (by.get(h) ?? 0) + this.bytes[c]!;
      by.set(h, n);
      if (n > bestBytes) {
        bestBytes = n;
        best = h;
      }
    }
    return best;
  }

  private enqueue(i: number): void {
    this.state[i] = TaskState.Ready;
    if (this.suspicious[i]) {
      this.suspects.push(i);
      return;
    }
    const l = this.layerOf(i);
    const t = i - this.layerBase[l]!;
    this.queue(this.preferred(i))[l]!.add(t, t + 1);
  }

  /** Tasks ready and not handed out. */
  readyCount(): number {
    let n = this.suspects.length;
    for (const q of this.queues.values()) for (const r of q) n += r.size;
    return n;
  }

  /** Bytes task i would move to `worker` (its inputs held elsewhere). */
  private moveBytes(i: number, worker: number): number {
    const g = this.graph;
    let n = 0;
    for (let r = g.readStart[i]!; r < g.readStart[i + 1]!; r++) {
      const c = g.reads[r]!;
      if (!this.holders(c).includes(worker) && !(this.copies.get(c) ?? []).includes(worker)) n += this.bytes[c]!;
    }
    return n;
  }

  /**
   * The next batch for worker w (which has room for one), or null. `workers`: the live workers and
   * their total threads (for guided batch sizes); `idle`: w runs nothing now (a suspected task runs only
   * on an idle worker, alone); `room`: bytes of new chunks w may still take (its memory budget less what
   * it holds): a batch that needs more waits, unless w is idle (then it runs, and fails with TOO_LARGE
   * if it truly does not fit).
   */
  nextBatch(w: WorkerView, idle: boolean, totalThreads: number, batchId: () => number, room = Infinity): Assignment | null {
    if (this.ended) return null;
    if (this.blocked.length) this.unblock();
    if (this.ended) return null;
    if (idle && this.suspects.length) {
      // a suspect whose write group has no home, or has it here
      const k = this.suspects.findIndex((i) => {
        const grp = this.groups.taskGroup[i]!;
        return grp < 0 || this.groupHome[grp]! <= 0 || this.groupHome[grp] === w.id;
      });
      if (k >= 0) {
        const i = this.suspects.splice(k, 1)[0]!;
        const l = this.layerOf(i);
        const t = i - this.layerBase[l]!;
        return this.assign(w, l, t, t + 1, batchId(), true);
      }
    }
    const own = this.queues.get(w.id);
    const any = this.queues.get(ANY);
    for (let l = this.graph.plan.layers.length - 1; l >= 0; l--) {
      for (const q of [own, any]) {
        const r = q?.[l];
        if (!r || r.size === 0) continue;
        const got = this.takeFor(w, l, r, totalThreads, idle ? Infinity : room);
        if (got) return this.assign(w, l, got[0], got[1], batchId(), false);
      }
    }
    // nothing of its own: steal tasks that move few bytes from the longest queue
    let victim: ReadyRanges[] | null = null;
    let most = 0;
    for (const [id, q] of this.queues) {
      if (id === ANY || id === w.id) continue;
      const n = q.reduce((a, r) => a + r.size, 0);
      if (n > most) {
        most = n;
        victim = q;
      }
    }
    if (!victim || most < 2) return null;
    for (let l = victim.length - 1; l >= 0; l--) {
      const r = victim[l]!;
      if (!r.size) continue;
      const got = r.take(1)!;
      const i = this.layerBase[l]! + got[0];
      const grp = this.groups.taskGroup[i]!;
      if ((grp >= 0 && this.groupHome[grp]! > 0) || this.moveBytes(i, w.id) > STEAL_BYTES || (!idle && this.layerWriteBytes[l]! + this.moveBytes(i, w.id) > room)) {
        r.add(got[0], got[1]);
        continue;
      }
      return this.assign(w, l, got[0], got[1], batchId(), false);
    }
    return null;
  }

  /** Takes a range of consecutive ready tasks of layer l for worker w from `r` (tasks homed elsewhere move to their home's queue). */
  private takeFor(w: WorkerView, l: number, r: ReadyRanges, totalThreads: number, room: number): [number, number] | null {
    const wb = this.layerWriteBytes[l]!;
    if (wb > room) return null; // wait for memory to be released
    const guided = Math.max(1, Math.ceil(r.size / (Math.max(1, totalThreads) * 4)));
    const max = Math.max(1, wb > 0 ? Math.min(guided, Math.floor(Math.min(BATCH_BYTES, room) / wb)) : guided);
    while (r.size) {
      const got = r.take(max)!;
      const base = this.layerBase[l]!;
      let k = got[0];
      let blocked = false;
      for (; k < got[1]; k++) {
        const grp = this.groups.taskGroup[base + k]!;
        const home = grp >= 0 ? this.groupHome[grp]! : NOBODY;
        if (home > 0 && home !== w.id) break;
        if (this.external.size && !this.externalsReady(base + k)) {
          blocked = true;
          break;
        }
      }
      if (k < got[1]) {
        // task k must go to its group's home (or wait for a persisted input): move it, put the rest back
        const i = base + k;
        if (blocked) this.blocked.push(i);
        else this.queue(this.groupHome[this.groups.taskGroup[i]!]!)[l]!.add(k, k + 1);
        if (k + 1 < got[1]) r.add(k + 1, got[1]);
      }
      if (k > got[0]) return [got[0], k];
    }
    return null;
  }

  /** Every persisted input task i reads is available (else it waits, blocked, for its recomputation). */
  private externalsReady(i: number): boolean {
    const g = this.graph;
    for (let r = g.readStart[i]!; r < g.readStart[i + 1]!; r++) if (this.external.has(g.reads[r]!) && !this.available(g.reads[r]!)) return false;
    return true;
  }

  /** Blocked tasks whose persisted inputs are back go to the queues again (a released input fails the run). */
  private unblock(): void {
    const still: number[] = [];
    for (const i of this.blocked) {
      if (this.state[i] !== TaskState.Ready) continue;
      const g = this.graph;
      for (let r = g.readStart[i]!; r < g.readStart[i + 1]!; r++) {
        const ext = this.external.get(g.reads[r]!);
        if (ext?.store.released) return this.fail(new ClusterError("RELEASED", "an array persisted on the cluster was released while a compute read it"));
      }
      if (this.externalsReady(i)) this.enqueue(i);
      else still.push(i);
    }
    this.blocked = still;
  }

  private assign(w: WorkerView, layer: number, start: number, end: number, id: number, exclusive: boolean): Assignment {
    const base = this.layerBase[layer]!;
    const moves = new BatchTransfers();
    for (let t = start; t < end; t++) {
      const i = base + t;
      this.state[i] = TaskState.Running;
      this.batchOf[i] = id;
      const grp = this.groups.taskGroup[i]!;
      if (grp >= 0 && this.groupHome[grp]! <= 0) this.groupHome[grp] = w.id;
      this.placeTask(i, w.id, moves);
    }
    const batch: Batch = { id, worker: w.id, layer, start, end, copies: [...moves.copies], exclusive };
    this.batches.set(id, batch);
    // the worker holds them from now on (a chunk it is still fetching it hands out once in)
    for (const c of moves.copies) this.addCopy(c, w.id);
    this.begun.add(w.id);
    return { batch, push: [...moves.push], fetch: moves.fetchList() };
  }

  /** A batch ran: its tasks are done, what they wrote complete, what they read last released. */
  batchDone(id: number): void {
    const b = this.batches.get(id);
    if (!b || this.ended) return;
    this.batches.delete(id);
    const g = this.graph;
    const base = this.layerBase[b.layer]!;
    for (let t = b.start; t < b.end; t++) {
      const i = base + t;
      this.state[i] = TaskState.Done;
      this.remaining--;
      for (let x = g.writeStart[i]!; x < g.writeStart[i + 1]!; x++) {
        const c = g.writes[x]!;
        if (--this.writersLeft[c]! === 0) this.completed(c);
      }
      for (let r = g.readStart[i]!; r < g.readStart[i + 1]!; r++) this.readDone(g.reads[r]!);
    }
    if (this.workerLayer[b.layer]) {
      this.doneWorkerTasks += b.end - b.start;
      this.progress(b.layer);
    }
    this.checkFinished();
  }

  private progress(layer: number): void {
    const cb = this.callbacks.onProgress;
    if (!cb) return;
    const stages = this.workerLayer.filter(Boolean).length;
    try {
      cb({ stage: Math.min(stages, 1 + this.workerLayer.slice(0, layer).filter(Boolean).length), stages, label: this.graph.plan.layers[layer]!.label, done: this.doneWorkerTasks, total: this.total, elapsed: (performance.now() - this.t0) / 1000 });
    } catch (e) {
      this.fail(new ComputeError("TASK_FAILED", `the progress callback threw: ${(e as Error).message}`, { cause: e }));
    }
  }

  private completed(c: number): void {
    for (let r = this.readerStart[c]!; r < this.readerStart[c + 1]!; r++) {
      const i = this.readers[r]!;
      if (this.state[i] === TaskState.Waiting && --this.pending[i]! === 0) this.enqueue(i);
    }
    if (this.outputHold[c] === 1) this.requestOutput(c);
    else if (this.readersLeft[c] === 0) this.release(c);
  }

  private readDone(c: number): void {
    // a chunk still being written (again, after a loss) goes once its writers are done (completed)
    if (--this.readersLeft[c]! === 0 && this.writersLeft[c] === 0) this.release(c);
  }

  /** An output chunk arrived from a worker. */
  outputArrived(c: number, bytes: Uint8Array): void {
    if (this.ended || this.outputHold[c] === 0) return;
    try {
      this.data.putOutput(c, bytes);
    } catch (e) {
      return this.fail(e as Error);
    }
    this.outputHold[c] = 0;
    this.outputsLeft--;
    this.readDone(c);
    this.checkFinished();
  }

  /** The stores of the persisted outputs (one per output; null for the others), made once. */
  private stores: (ClusterStore | null)[] | null = null;

  private checkFinished(): void {
    if (this.ended || this.remaining > 0 || this.outputsLeft > 0) return;
    // a resident run stays (it holds what it persisted); it answers once
    if (this.resident) {
      if (this.doneOnce) return;
      this.doneOnce = true;
    } else this.ended = true;
    let results: (RunResult | null)[];
    try {
      results = this.data.results();
    } catch (e) {
      this.ended = true;
      this.callbacks.onError(e as Error);
      return;
    }
    const plan = this.graph.plan;
    this.stores ??= plan.outputs.map((o, i) => {
      if (!o.persist) return null;
      const b = plan.buffers[o.buffer]!;
      const s = storageOf(plan, o.buffer);
      return new ClusterStore(this, this.graph.chunkBase[s]!, [...b.shape], b.dtype, b.chunks.map((c) => [...c]), `cluster:${this.hash}:${this.id}:${i}`);
    });
    this.callbacks.onDone(results.map((r, i) => r ?? this.stores![i]!));
  }

  /** Fails the run (once): a task failed, a task killed its workers, it was cancelled. */
  fail(e: Error): void {
    if (this.ended) return;
    this.ended = true;
    for (const st of this.stores ?? []) if (st) st.released = true;
    if (!this.doneOnce) this.callbacks.onError(e);
  }

  /** A batch failed on its worker: the run fails with the task's error. */
  batchFailed(id: number, task: number, code: string, message: string, stack?: string): void {
    const b = this.batches.get(id);
    if (!b) return;
    const i = this.layerBase[b.layer]! + task;
    const err = new ComputeError(code as ComputeError["code"], `${this.describe(i)} failed: ${message}`);
    if (stack) err.stack = `${err.name}: ${err.message}\n--- on worker ${b.worker} ---\n${stack}`;
    this.fail(err);
  }

  /**
   * A batch's worker could not fetch its inputs: the batch is taken out (its tasks stay running, and
   * wait for nothing, until `requeue`).
   */
  takeBatch(id: number): Batch | null {
    const b = this.batches.get(id);
    if (!b) return null;
    this.batches.delete(id);
    return b;
  }

  /**
   * A batch taken out did not run: its tasks wait again for what they read (recomputed if it was lost).
   * `have`: the chunks its worker holds all the same (the fetches that went through).
   */
  requeue(b: Batch, have: readonly number[] = []): void {
    if (this.ended) return;
    for (const c of b.copies) if (!have.includes(c)) this.removeCopy(c, b.worker);
    const g = this.graph;
    const base = this.layerBase[b.layer]!;
    for (let t = b.start; t < b.end; t++) {
      const i = base + t;
      if (this.state[i] !== TaskState.Running || this.batchOf[i] !== b.id) continue;
      let p = 0;
      for (let r = g.readStart[i]!; r < g.readStart[i + 1]!; r++) if (this.writersLeft[g.reads[r]!]! > 0 || !this.available(g.reads[r]!)) p++;
      this.state[i] = TaskState.Waiting;
      this.pending[i] = p;
      if (p === 0) this.enqueue(i);
    }
  }

  /** Marks the run over (released, cancelled or closed) without callbacks: what it persisted is released. */
  stop(): void {
    this.ended = true;
    for (const st of this.stores ?? []) if (st) st.released = true;
  }
}
