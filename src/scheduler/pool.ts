/**
 * A pool of worker_threads sharing one kernel memory. The pool runs batches (a range of a layer's tasks)
 * on a given worker and tells when each is done; which batch goes where is the caller's choice
 * (run-on-pool.ts). A worker learns a layer's spec once, before its first batch of that layer. Idle
 * workers are unref'd: they never keep the process alive. A worker that dies is replaced, and the batch
 * it held fails with WORKER_DIED.
 */
import { Worker } from "node:worker_threads";
import { ComputeError, ERROR_CODES, type ErrorCode } from "../errors.js";
import { MAX_REGS, MAX_TILE, SCRATCH_BYTES } from "../kernels/abi.js";
import { GEMM_AREA_BYTES } from "../worker/gemm-task.js";
import { ZSTD_AREA_BYTES } from "../kernels/wasm.js";
import { MAX_STREAMS, STREAM_WINDOW_BYTES, type FromWorker, type TaskSpec, type ToWorker, type WorkerAreas } from "../worker/messages.js";
import type { Heap } from "./heap.js";

const PROGRAM_BYTES = 64 * 1024;
/** Codes a worker's error keeps on the main thread (the rest of the rank layer's do not come from tasks). */
const PASSED_CODES = new Set<string>(ERROR_CODES.filter((c) => !["WORKER_DIED", "ABORTED", "RANK_LOST", "AUTH_FAILED", "RENDEZVOUS_FAILED", "COMM_TIMEOUT", "COLLECTIVE_MISMATCH", "WORLD_CLOSED", "GRAPH_MISMATCH"].includes(c)));

/** A failed batch: which task, with the worker's error. */
export class TaskFailure extends ComputeError {
  constructor(
    code: ErrorCode,
    message: string,
    readonly task: number,
  ) {
    super(code, message);
  }
}

interface Pending {
  batch: number;
  resolve: () => void;
  reject: (e: Error) => void;
  /** a batch of storage writes: it runs no user code and ends by itself, so a stop waits for it */
  writes: boolean;
  /** settles when the worker answered */
  answered: Promise<void>;
}

/** How long a stop waits for batches of storage writes before it terminates their worker anyway. */
const WRITE_GRACE_MS = 10_000;

interface Slot {
  worker: Worker;
  areas: WorkerAreas;
  /** layers whose spec this worker has (layer id -> arena address) */
  layers: Map<number, number>;
  /** batches sent and not answered, in order (the worker runs them one after another) */
  busy: Pending[];
  /** it ran durable writes (fsync) since it last settled: their chunks may still sync and rename in the background */
  unsettled: boolean;
}

/** Batches a worker may hold at once: the next is waiting there while it runs one, so no round trip idles it. */
export const BATCHES_IN_FLIGHT = 2;

export class WorkerPool {
  private slots: Slot[] = [];
  private nextBatch = 1;
  private closed = false;

  constructor(
    private readonly heap: Heap,
    private readonly module: WebAssembly.Module | null,
    private readonly entry: URL,
    size: number,
  ) {
    for (let i = 0; i < size; i++) this.slots.push(this.spawn(this.allocAreas()));
  }

  get size(): number {
    return this.slots.length;
  }

  private allocAreas(): WorkerAreas {
    const program = this.heap.alloc(PROGRAM_BYTES);
    const regs = this.heap.alloc(MAX_REGS * MAX_TILE * 8);
    const scratch = this.heap.alloc(SCRATCH_BYTES);
    const gemm = this.heap.alloc(GEMM_AREA_BYTES);
    const zstd = this.heap.alloc(ZSTD_AREA_BYTES);
    const window = this.heap.alloc(MAX_STREAMS * STREAM_WINDOW_BYTES);
    return { program, programBytes: PROGRAM_BYTES, regs, scratch, gemm, zstd, window };
  }

  private spawn(areas: WorkerAreas): Slot {
    const worker = newWorker(this.entry);
    const slot: Slot = { worker, areas, layers: new Map(), busy: [], unsettled: false };
    worker.on("message", (m: FromWorker) => this.onMessage(slot, m));
    worker.on("error", (e) => this.lost(slot, `threw ${e.message}`));
    worker.on("exit", (code) => {
      if (!this.closed) this.lost(slot, `exited with code ${code}`);
    });
    worker.unref();
    worker.postMessage({ type: "init", memory: this.heap.memory, module: this.module, areas } satisfies ToWorker);
    return slot;
  }

  private onMessage(s: Slot, m: FromWorker): void {
    const b = s.busy[0];
    if (!b || m.batch !== b.batch) return;
    s.busy.shift();
    if (s.busy.length === 0) s.worker.unref();
    if (m.type === "done") return b.resolve();
    const code = (PASSED_CODES.has(m.code) ? m.code : "TASK_FAILED") as ErrorCode;
    const err = new TaskFailure(code, m.message, m.task);
    if (m.stack) err.stack = `${err.name}: ${err.message}\n--- in the worker ---\n${m.stack}`;
    b.reject(err);
  }

  /** A worker died: its batch fails, and it is replaced (keeping its memory areas). */
  private lost(s: Slot, why: string): void {
    const held = s.busy.splice(0);
    const i = this.slots.indexOf(s);
    if (i >= 0 && !this.closed) {
      void s.worker.terminate();
      this.slots[i] = this.spawn(s.areas);
    }
    for (const b of held) b.reject(new ComputeError("WORKER_DIED", `a worker ${why}`));
  }

  /** Batches worker w holds (sent, not answered). */
  inFlight(w: number): number {
    return this.slots[w]!.busy.length;
  }

  /** Runs tasks [start, end) of a layer on worker `w` (sending the layer's spec first if it lacks it). */
  run(w: number, spec: TaskSpec, arena: () => number, start: number, end: number): Promise<void> {
    if (this.closed) return Promise.reject(new Error("the worker pool is closed"));
    const s = this.slots[w]!;
    if (s.busy.length >= BATCHES_IN_FLIGHT) return Promise.reject(new Error(`internal: worker ${w} already holds ${s.busy.length} batches`));
    if (!s.layers.has(spec.layer)) {
      const a = arena();
      s.layers.set(spec.layer, a);
      s.worker.postMessage({ type: "layer", spec, arena: a } satisfies ToWorker);
    }
    if (spec.kind === "write" && (spec.storage as { fsync?: boolean }).fsync === true) s.unsettled = true; // durable: synced after the task
    return this.ask(s, spec.kind === "write", (batch) => ({ type: "run", layer: spec.layer, batch, start, end }));
  }

  /**
   * Waits until every worker's background writes (toZarr's durable chunks, storage/durable.ts) are on
   * disk; rejects with the first failure (IO_ERROR naming the chunk), but only once every worker settled:
   * rejecting at the first worker's failure let toZarr report it while another worker's chunks were still
   * syncing under their temporary names (renamed just after the caller was told the write had failed).
   */
  async settle(): Promise<void> {
    if (this.closed) return;
    const settled = await Promise.allSettled(this.slots.map((s) => this.settleSlot(s)));
    for (const r of settled) if (r.status === "rejected") throw r.reason;
  }

  /** Worker s's background writes on disk (its batches before them done); rejects with its first failure. */
  private async settleSlot(s: Slot): Promise<void> {
    try {
      await this.ask(s, true, (batch) => ({ type: "settle", batch }));
    } finally {
      s.unsettled = false; // settled either way: the worker answers once every sync ended
    }
  }

  /** Sends worker s the message `make(batch)` of a new batch number; settles when the worker answers it. */
  private ask(s: Slot, writes: boolean, make: (batch: number) => ToWorker): Promise<void> {
    const batch = this.nextBatch++;
    s.worker.ref();
    let answer: () => void = () => {};
    const answered = new Promise<void>((ok) => (answer = ok));
    return new Promise<void>((resolve, reject) => {
      const settle = <A extends unknown[]>(f: (...a: A) => void) => (...a: A) => {
        answer();
        f(...a);
      };
      s.busy.push({ batch, resolve: settle(resolve), reject: settle(reject), writes, answered });
      s.worker.postMessage(make(batch));
    });
  }

  /** Forgets a layer on every worker (the caller frees the arenas it gave them). */
  drop(layer: number): void {
    for (const s of this.slots) {
      if (!s.layers.delete(layer)) continue;
      s.worker.postMessage({ type: "drop", layer } satisfies ToWorker);
    }
  }

  /**
   * Stops workers that are still busy (after a failure or an abort) before their memory is reused. A
   * worker holding a batch of file writes is let finish it first (a write terminated between its
   * temporary file and the rename would leave the temporary file behind), for up to WRITE_GRACE_MS; the
   * worker runs its batches in order, so a compute batch before the write finishes too, one after it is
   * cut short. (Waiting only when every held batch wrote terminated a worker writing a chunk while it
   * also held the next compute batch: toZarr's chunk writes are a layer of their own.) A worker that
   * wrote durable chunks earlier (toZarr({ fsync: true }): the fdatasync and rename follow the task, in
   * the background) is let finish its batches and those, as long: terminated, it left their temporary
   * files.
   */
  async stopBusy(): Promise<void> {
    await Promise.all(
      this.slots.map(async (s, i) => {
        const writes = s.busy.filter((b) => b.writes);
        if (s.busy.length && (writes.length || s.unsettled)) {
          // a worker whose durable chunks may still sync in the background (their batches answered) is
          // asked to settle: it answers after the batches it holds and those syncs and renames
          const finished = s.unsettled ? this.settleSlot(s).catch(() => {}) : Promise.all(writes.map((b) => b.answered));
          let timer: NodeJS.Timeout | undefined;
          const grace = new Promise<void>((ok) => (timer = setTimeout(ok, WRITE_GRACE_MS)));
          await Promise.race([finished, grace]);
          clearTimeout(timer);
        }
        if (!s.busy.length) return;
        const held = s.busy.splice(0);
        s.worker.removeAllListeners("exit");
        await s.worker.terminate();
        if (!this.closed) this.slots[i] = this.spawn(s.areas);
        for (const b of held) b.reject(new ComputeError("ABORTED", "stopped"));
      }),
    );
  }

  async close(): Promise<void> {
    // background writes first (a worker terminated while its chunk syncs would leave them under their
    // temporary names), as long as WRITE_GRACE_MS
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((ok) => (timer = setTimeout(ok, WRITE_GRACE_MS)));
    await Promise.race([this.settle().catch(() => {}), grace]);
    clearTimeout(timer);
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
    this.slots = [];
  }
}

let acceptedArgv: string[] | null = null;

/**
 * A worker with the parent's node options. Options a worker refuses (V8 flags such as --no-liftoff are
 * process-wide: they apply to the workers anyway) are found once, by trying each alone, and left out.
 */
function newWorker(entry: URL): Worker {
  if (acceptedArgv) return new Worker(entry, { execArgv: acceptedArgv });
  const argv = workerExecArgv();
  try {
    const w = new Worker(entry, { execArgv: argv });
    acceptedArgv = argv;
    return w;
  } catch (e) {
    if ((e as { code?: string }).code !== "ERR_WORKER_INVALID_EXEC_ARGV") throw e;
    acceptedArgv = argv.filter((a) => {
      try {
        void new Worker("", { eval: true, execArgv: [a] }).terminate();
        return true;
      } catch {
        return false;
      }
    });
    return new Worker(entry, { execArgv: acceptedArgv });
  }
}

/** The parent's node options, less those that only make sense for the main script (-e, --input-type...). */
function workerExecArgv(): string[] {
  const out: string[] = [];
  const argv = process.execArgv;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "-e" || a === "--eval" || a === "-p" || a === "--print" || a === "--input-type") {
      i++;
      continue;
    }
    if (a.startsWith("--input-type=") || a.startsWith("--eval=") || a.startsWith("--print=") || a === "-i" || a === "--interactive") continue;
    out.push(a);
  }
  return out;
}
