/**
 * The dashboard's state: its sources (sources.ts), the shared task stream and errors, the memory
 * history and an optional jobs provider; `sample()` (a few times a second) reads the sources, and
 * `snapshot()` answers the page, /snapshot and /metrics from the last sample.
 *
 * Runs with the same id from several sources are one compute seen by several ranks (each runs its
 * share): their operations are summed, and the compute is finished when every source says so.
 */
import { LIMITS, SNAPSHOT_VERSION, type JobRow, type JobsProvider, type MemoryPoint, type OperationRow, type RunRow, type Snapshot, type WorkerRow } from "./snapshot.js";
import type { Source } from "./sources.js";
import { Stream } from "./stream.js";

export class Model {
  readonly stream = new Stream();
  readonly sources: Source[] = [];
  readonly startedAt = Date.now();
  private rows: WorkerRow[] = [];
  private readonly memory: MemoryPoint[] = [];
  private jobRows: JobRow[] | null = null;
  private jobsPending = false;
  private sampleCount = 0;
  /** something ran at the last sample (a compute going, a bar running): pages are updated at full rate */
  active = false;
  /** changes when a compute finishes or fails, an error comes, or a worker comes or goes: what a page
   * that paces its updates is sent at once rather than at its next frame */
  stateKey = "";

  constructor(
    readonly kind: Snapshot["kind"],
    private readonly jobs?: JobsProvider,
  ) {
    if (jobs) this.jobRows = [];
  }

  add(s: Source): void {
    this.sources.push(s);
  }

  /** Reads the sources: worker rows, running bars; every other call a memory point. */
  sample(now = Date.now()): void {
    this.rows = this.sources.flatMap((s) => s.workers());
    let running = 0;
    for (const s of this.sources) {
      const bars = s.runningBars();
      running += bars.length;
      this.stream.setRunning(s.name, bars);
    }
    let runsRunning = 0;
    let runsEnded = 0;
    for (const s of this.sources) for (const r of s.runs()) r.status === "running" ? runsRunning++ : runsEnded++;
    this.active = running > 0 || runsRunning > 0 || this.rows.some((r) => r.running > 0);
    this.stateKey = `${runsEnded}:${this.stream.errorCount}:${this.rows.length}`;
    if (this.sampleCount++ % 2 === 0) {
      const p: MemoryPoint = { t: now, used: 0, rss: 0, limit: 0 };
      for (const r of this.rows) {
        p.used += r.memoryUsed;
        p.rss += r.rss ?? 0;
        p.limit += r.memoryLimit;
      }
      this.memory.push(p);
      if (this.memory.length > LIMITS.memoryPoints) this.memory.shift();
    }
    this.pollJobs();
  }

  private pollJobs(): void {
    if (!this.jobs || this.jobsPending) return;
    this.jobsPending = true;
    Promise.resolve()
      .then(() => this.jobs!())
      .then(
        (list) => (this.jobRows = list.slice(0, LIMITS.jobs).map((j) => ({ id: String(j.id), state: String(j.state), reason: j.reason ?? null, walltimeLeft: j.walltimeLeft ?? null }))),
        () => {}, // a provider that fails keeps the last rows
      )
      .finally(() => (this.jobsPending = false));
  }

  /** The runs of every source, those of several sources merged (oldest first, at most LIMITS.runs). */
  runs(): RunRow[] {
    const byId = new Map<string, RunRow[]>();
    for (const s of this.sources) for (const r of s.runs()) {
      const list = byId.get(r.id);
      if (list) list.push(r);
      else byId.set(r.id, [r]);
    }
    const n = this.sources.length;
    const out: RunRow[] = [];
    for (const [id, list] of byId) out.push(list.length === 1 && n === 1 ? list[0]! : merge(id, list, n));
    out.sort((a, b) => a.started - b.started);
    return out.slice(-LIMITS.runs);
  }

  /** `since`: the last bar seq the caller has; `memorySince`: its last memory point's time. */
  snapshot(opts: { since?: number; memorySince?: number } = {}): Snapshot {
    const runs = this.runs();
    const totals = { workers: this.rows.length, threads: 0, tasksDone: 0, tasksFailed: 0, runsFinished: 0, runsFailed: 0, runsRunning: 0 };
    for (const r of this.rows) totals.threads += r.threads;
    for (const s of this.sources) {
      const t = s.totals();
      totals.tasksDone += t.tasksDone;
      totals.tasksFailed += t.tasksFailed;
    }
    for (const r of runs) {
      if (r.status === "finished") totals.runsFinished++;
      else if (r.status === "failed") totals.runsFailed++;
      else totals.runsRunning++;
    }
    const memorySince = opts.memorySince ?? 0;
    return {
      version: SNAPSHOT_VERSION,
      kind: this.kind,
      now: Date.now(),
      startedAt: this.startedAt,
      workers: this.rows.map((r) => ({ ...r })),
      runs,
      stream: { lanes: [...this.stream.lanes], bars: this.stream.since(opts.since ?? 0), running: this.stream.runningBars(), seq: this.stream.lastSeq },
      memory: this.memory.filter((p) => p.t > memorySince),
      errors: [...this.stream.errors],
      jobs: this.jobRows ? this.jobRows.map((j) => ({ ...j })) : null,
      totals,
    };
  }

  close(): void {
    for (const s of this.sources) s.close();
  }
}

/** One compute's rows from several sources (ranks): summed; finished once all `sources` finished it. */
function merge(id: string, list: RunRow[], sources: number): RunRow {
  const ops = new Map<string, OperationRow>();
  const order: string[] = [];
  for (const r of list) for (const o of r.operations) {
    const k = `${o.kind}:${o.label}`;
    const m = ops.get(k);
    if (!m) {
      ops.set(k, { ...o });
      order.push(k);
    } else {
      m.total += o.total;
      m.done += o.done;
      m.running += o.running;
      m.waiting += o.waiting;
      m.failed += o.failed;
    }
  }
  const failed = list.some((r) => r.status === "failed");
  const finished = list.length >= sources && list.every((r) => r.status === "finished");
  const ended = failed || finished ? Math.max(...list.map((r) => r.ended ?? 0)) : null;
  return {
    id,
    status: failed ? "failed" : finished ? "finished" : "running",
    started: Math.min(...list.map((r) => r.started)),
    ended,
    done: list.reduce((a, r) => a + r.done, 0),
    total: list.reduce((a, r) => a + r.total, 0),
    operations: order.map((k) => ops.get(k)!),
  };
}
