/**
 * A pool of worker_threads sharing one kernel memory. A stage's chunks are handed out in batches
 * (guided self-scheduling: big batches first, small ones at the end), so tiny tasks do not each pay a
 * message round trip and the last batches still balance. Idle workers are unref'd: they never keep
 * the process alive. A worker that dies is replaced, and the stage fails with WORKER_DIED.
 */
import { Worker } from "node:worker_threads";
import { AbortError, ComputeError, type ErrorCode } from "../errors.js";
import { MAX_REGS, MAX_TILE, SCRATCH_BYTES } from "../kernels/abi.js";
import type { FromWorker, StageSpec, ToWorker, WorkerAreas } from "../worker/messages.js";
import type { Heap } from "./heap.js";
import { Grid } from "../worker/geometry.js";

const PROGRAM_BYTES = 64 * 1024;
const WORKER_URL = new URL("../worker/worker.js", import.meta.url);
/** the block adapter lives in the array layer, which this layer must not import: workers load it by URL */
const API_URL = new URL("../array/block-scope.js", import.meta.url).href;
/** codes a worker's failure keeps (README's error table names them); any other error is TASK_FAILED */
const PASSED_CODES = new Set<string>(["SHAPE_MISMATCH", "DTYPE_MISMATCH", "KERNEL_FAILED", "TOO_LARGE", "TASK_FAILED", "RELEASED"]);

export interface StageProgress {
  stage: number;
  done: number;
  total: number;
}

export interface RunStageOptions {
  signal?: AbortSignal;
  onProgress?: (p: StageProgress) => void;
  /** how many of the pool's workers to use */
  workers?: number;
  /** only chunks [lo, hi) (this rank's share); default all */
  range?: [number, number];
}

interface Slot {
  worker: Worker;
  areas: WorkerAreas;
  /** batch in flight: [start, end) */
  busy: { batch: number; start: number; end: number } | null;
  onMessage: ((m: FromWorker) => void) | null;
  onExit: ((why: string) => void) | null;
}

export class WorkerPool {
  private slots: Slot[] = [];
  private nextBatch = 1;
  private closed = false;

  constructor(
    private readonly heap: Heap,
    private readonly module: WebAssembly.Module | null,
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
    return { program, programBytes: PROGRAM_BYTES, regs, scratch };
  }

  private spawn(areas: WorkerAreas): Slot {
    const worker = newWorker();
    const slot: Slot = { worker, areas, busy: null, onMessage: null, onExit: null };
    worker.on("message", (m: FromWorker) => slot.onMessage?.(m));
    worker.on("error", (e) => slot.onExit?.(`threw ${e.message}`));
    worker.on("exit", (code) => {
      if (!this.closed) slot.onExit?.(`exited with code ${code}`);
    });
    worker.unref();
    const init: ToWorker = { type: "init", memory: this.heap.memory, module: this.module, areas, adapterUrl: API_URL };
    worker.postMessage(init);
    return slot;
  }

  /** Replaces a dead worker, keeping its memory areas. */
  private replace(slot: Slot): void {
    const i = this.slots.indexOf(slot);
    slot.onExit = null;
    slot.onMessage = null;
    void slot.worker.terminate();
    if (i >= 0 && !this.closed) this.slots[i] = this.spawn(slot.areas);
  }

  async runStage(spec: StageSpec, nchunks: number, opts: RunStageOptions = {}): Promise<void> {
    if (this.closed) throw new Error("the worker pool is closed");
    const use = this.slots.slice(0, Math.max(1, Math.min(opts.workers ?? this.slots.length, this.slots.length)));
    const arenas = use.map(() => (spec.arenaBytes > 0 ? this.heap.alloc(spec.arenaBytes) : 0));
    use.forEach((s, i) => {
      s.worker.ref();
      s.worker.postMessage({ type: "stage", spec, arena: arenas[i]! } satisfies ToWorker);
    });
    const [lo, hi] = opts.range ?? [0, nchunks];
    let next = lo;
    let done = 0;
    let error: Error | null = null;
    await new Promise<void>((resolve) => {
      const settle = (e: Error | null) => {
        if (error) return;
        error = e ?? error;
        opts.signal?.removeEventListener("abort", abort);
        resolve();
      };
      const fail = (e: Error) => settle(e);
      const abort = () => fail(new AbortError());
      if (opts.signal?.aborted) return abort();
      opts.signal?.addEventListener("abort", abort, { once: true });
      const dispatch = (s: Slot) => {
        s.busy = null;
        if (error) return;
        if (next >= hi) {
          if (done === hi - lo) settle(null);
          return;
        }
        const size = Math.max(1, Math.ceil((hi - next) / (use.length * 4)));
        s.busy = { batch: this.nextBatch++, start: next, end: Math.min(hi, next + size) };
        next = s.busy.end;
        s.worker.postMessage({ type: "run", stage: spec.id, batch: s.busy.batch, start: s.busy.start, end: s.busy.end } satisfies ToWorker);
      };
      for (const s of use) {
        s.onMessage = (m) => {
          if (!s.busy || m.batch !== s.busy.batch) return;
          if (m.type === "failed") {
            s.busy = null;
            const code = (PASSED_CODES.has(m.code) ? m.code : "TASK_FAILED") as ErrorCode;
            const err = new ComputeError(code, `chunk ${m.chunk} (block [${new Grid(spec.grid).chunk(m.chunk).index.join(", ")}]) of stage ${spec.id} failed: ${m.message}`);
            if (m.stack) err.stack = `${err.name}: ${err.message}\n--- in the worker ---\n${m.stack}`;
            return fail(err);
          }
          done += s.busy.end - s.busy.start;
          opts.onProgress?.({ stage: spec.id, done, total: hi - lo });
          dispatch(s);
        };
        s.onExit = (why) => {
          const lost = s.busy;
          s.busy = null;
          this.replace(s);
          fail(
            new ComputeError(
              "WORKER_DIED",
              `a worker ${why}${lost ? ` while computing chunks ${lost.start}..${lost.end - 1} of stage ${spec.id}` : ""}`,
            ),
          );
        };
      }
      if (hi <= lo) return settle(null);
      use.forEach(dispatch);
    });
    // Workers still busy after a failure or an abort are stopped before their memory is reused.
    await Promise.all(
      use.map(async (s) => {
        s.onMessage = null;
        s.onExit = null;
        if (s.busy) {
          s.busy = null;
          await s.worker.terminate();
          this.replace(s);
        } else if (this.slots.includes(s)) {
          s.worker.postMessage({ type: "drop", stage: spec.id } satisfies ToWorker);
          s.worker.unref();
        }
      }),
    );
    arenas.forEach((a) => a && this.heap.free(a));
    if (error) throw error;
  }

  async close(): Promise<void> {
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
function newWorker(): Worker {
  if (acceptedArgv) return new Worker(WORKER_URL, { execArgv: acceptedArgv });
  const argv = workerExecArgv();
  try {
    const w = new Worker(WORKER_URL, { execArgv: argv });
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
    return new Worker(WORKER_URL, { execArgv: acceptedArgv });
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
