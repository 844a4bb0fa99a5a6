/**
 * Records the runs one source sees (this process's engine, or a cluster's scheduler) as the observer
 * interface tells them (scheduler/observe.ts): per-operation progress, task-stream bars and errors.
 *
 * Lanes: a worker with T threads has T lanes; a batch handed to it takes a free lane and starts at once,
 * or waits (it is queued in the worker) and starts on the first lane that frees, so the stream shows
 * when batches ran, not when they were sent.
 */
import type { RunInfo, RunObserver, RunWatch } from "../scheduler/observe.js";
import { LIMITS, type OperationRow, type RunRow } from "./snapshot.js";
import type { NamedBar, Stream } from "./stream.js";

export interface RecorderOptions {
  /** the source's name in the stream and the errors ("local", "rank 1", "cluster") */
  source: string;
  /** a worker's name and thread count (local: the pool threads are the workers, one thread each) */
  worker(id: number): { name: string; threads: number };
  now?: () => number;
}

interface Running {
  bar: NamedBar;
  worker: number;
  slot: number;
  op: OperationRow;
}

interface WorkerLanes {
  slots: (Running | null)[];
  waiting: Running[];
}

interface RunRecord {
  row: RunRow;
  memory?: () => { bytes: number; chunks: number };
  running: Map<string, Running>;
}

export class Recorder implements RunObserver {
  private readonly runs: RunRecord[] = [];
  private readonly lanes = new Map<number, WorkerLanes>();
  private nextRun = 1;
  private readonly now: () => number;
  /** chunk tasks done and failed since the recorder started */
  tasksDone = 0;
  tasksFailed = 0;
  runsFinished = 0;
  runsFailed = 0;

  constructor(
    private readonly stream: Stream,
    private readonly opts: RecorderOptions,
  ) {
    this.now = opts.now ?? Date.now;
  }

  run(info: RunInfo): RunWatch {
    const started = this.now();
    const operations: OperationRow[] = info.layers.map((l) => ({ label: l.label, kind: l.kind, total: l.tasks, done: 0, running: 0, waiting: 0, failed: 0 }));
    const row: RunRow = { id: String(this.nextRun++), status: "running", started, ended: null, done: 0, total: operations.reduce((a, o) => a + o.total, 0), operations };
    const rec: RunRecord = { row, memory: info.memory, running: new Map() };
    this.runs.push(rec);
    this.trim();
    const key = (layer: number, start: number, worker: number) => `${worker}:${layer}:${start}`;
    let over = false;
    return {
      batch: (layer, start, end, worker, transfer) => {
        if (over) return;
        const op = operations[layer];
        if (!op) return;
        const n = end - start;
        op.running += n;
        const r: Running = { bar: { lane: "", run: row.id, op: op.label, start: 0, end: null, tasks: n, transfer, failed: false }, worker, slot: -1, op };
        rec.running.set(key(layer, start, worker), r);
        this.place(r);
      },
      done: (layer, start, end, worker) => {
        if (over) return;
        const k = key(layer, start, worker);
        const r = rec.running.get(k);
        if (!r) return;
        rec.running.delete(k);
        const n = end - start;
        r.op.running -= n;
        r.op.done += n;
        // tasks of host layers (a cluster runs its combine tasks on workers too) show in the stream, not in the counts
        if (r.op.total > 0) {
          row.done += n;
          this.tasksDone += n;
        }
        this.finishBar(r, false);
      },
      sent: (peer, layer, bytes, started) => {
        if (over) return;
        // a transfer to another rank: a bar of its own lane, drawn as a transfer
        this.stream.add({ lane: `${this.opts.source} · sends`, run: row.id, op: `${operations[layer]?.label ?? `layer ${layer}`} → rank ${peer} (${bytes} B)`, start: started, end: this.now(), tasks: 0, transfer: true, failed: false });
      },
      failed: (layer, task, block, message) => {
        if (over) return;
        const op = operations[layer];
        if (op) op.failed += 1;
        this.tasksFailed++;
        this.stream.addError({ time: this.now(), run: row.id, op: op?.label ?? `layer ${layer}`, task, block: block ? [...block] : null, message, where: this.opts.source });
      },
      ended: (error) => {
        if (over) return;
        over = true;
        row.status = error ? "failed" : "finished";
        row.ended = this.now();
        if (error) this.runsFailed++;
        else this.runsFinished++;
        // what still runs (a failure stopped it) ends here, marked failed when the run failed
        for (const r of rec.running.values()) {
          r.op.running -= r.bar.tasks;
          this.finishBar(r, error !== null);
        }
        rec.running.clear();
        rec.memory = undefined;
      },
    };
  }

  /** On a free lane of its worker (started now), or queued behind the worker's batches. */
  private place(r: Running): void {
    let w = this.lanes.get(r.worker);
    if (!w) {
      const threads = Math.max(1, Math.min(256, this.opts.worker(r.worker).threads));
      this.lanes.set(r.worker, (w = { slots: new Array(threads).fill(null), waiting: [] }));
    }
    const free = w.slots.indexOf(null);
    if (free < 0) {
      w.waiting.push(r);
      return;
    }
    this.start(r, w, free);
  }

  private start(r: Running, w: WorkerLanes, slot: number): void {
    w.slots[slot] = r;
    r.slot = slot;
    r.bar.start = this.now();
    const name = this.opts.worker(r.worker).name;
    r.bar.lane = w.slots.length > 1 ? `${name} · ${slot}` : name;
  }

  private finishBar(r: Running, failed: boolean): void {
    const w = this.lanes.get(r.worker);
    if (!w) return;
    if (r.slot < 0) {
      // queued and never started (its run ended first): nothing ran
      const i = w.waiting.indexOf(r);
      if (i >= 0) w.waiting.splice(i, 1);
      return;
    }
    r.bar.end = this.now();
    r.bar.failed = failed;
    this.stream.add(r.bar);
    w.slots[r.slot] = null;
    const next = w.waiting.shift();
    if (next) this.start(next, w, r.slot);
  }

  /** A worker left: its lanes go (what it ran is recomputed elsewhere and recorded there). */
  forgetWorker(id: number): void {
    const w = this.lanes.get(id);
    if (!w) return;
    this.lanes.delete(id);
    for (const rec of this.runs) {
      for (const [k, r] of rec.running) {
        if (r.worker !== id) continue;
        rec.running.delete(k);
        r.op.running -= r.bar.tasks;
      }
    }
  }

  private trim(): void {
    while (this.runs.length > LIMITS.runs) {
      const i = this.runs.findIndex((r) => r.row.status !== "running");
      this.runs.splice(i >= 0 ? i : 0, 1);
    }
  }

  /** The runs kept, oldest first (rows copied: the caller may keep them). */
  rows(): RunRow[] {
    return this.runs.map((r) => ({
      ...r.row,
      operations: r.row.operations.filter((o) => o.total > 0).map((o) => ({ ...o, waiting: Math.max(0, o.total - o.done - o.running - o.failed) })),
    }));
  }

  /** The bars running now (started on a lane). */
  runningBars(): NamedBar[] {
    const out: NamedBar[] = [];
    for (const w of this.lanes.values()) for (const s of w.slots) if (s) out.push({ ...s.bar });
    return out;
  }

  /** Tasks handed out and not finished, per worker. */
  runningTasks(worker?: number): number {
    let n = 0;
    for (const rec of this.runs) for (const r of rec.running.values()) if (worker === undefined || r.worker === worker) n += r.bar.tasks;
    return n;
  }

  /** Chunk memory held by the runs going on now (local runs tell it). */
  liveChunks(): { bytes: number; chunks: number } {
    let bytes = 0;
    let chunks = 0;
    for (const rec of this.runs) {
      const m = rec.memory?.();
      if (m) {
        bytes += m.bytes;
        chunks += m.chunks;
      }
    }
    return { bytes, chunks };
  }
}
