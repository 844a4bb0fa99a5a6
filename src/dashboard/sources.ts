/**
 * What the dashboard watches. A source gives its workers' rows and its runs; its bars and errors go to
 * the shared stream as they happen. Three kinds:
 * - this process's engine (a library user, or one rank of an SPMD run): one row, the pool threads as lanes;
 * - a cluster's scheduler: a row per worker process (CPU and RSS read from /proc when it is on this host);
 * - another rank, as its reports (rank-report.ts) say.
 */
import { hostname } from "node:os";
import type { Scheduler } from "../cluster/scheduler.js";
import { currentEngine } from "../scheduler/engine.js";
import { observeRuns } from "../scheduler/observe.js";
import { ProcMeter, SelfMeter } from "./proc-stats.js";
import { Recorder } from "./recorder.js";
import type { RunRow, WorkerRow } from "./snapshot.js";
import type { NamedBar, Stream } from "./stream.js";

export interface Source {
  readonly name: string;
  workers(): WorkerRow[];
  runs(): RunRow[];
  runningBars(): NamedBar[];
  totals(): { tasksDone: number; tasksFailed: number };
  close(): void;
}

/** A source whose runs, bars and totals are its recorder's (the engine's and the cluster's). */
abstract class RecordedSource implements Source {
  abstract readonly name: string;
  abstract readonly recorder: Recorder;
  abstract workers(): WorkerRow[];
  abstract close(): void;

  runs(): RunRow[] {
    return this.recorder.rows();
  }

  runningBars(): NamedBar[] {
    return this.recorder.runningBars();
  }

  totals(): { tasksDone: number; tasksFailed: number } {
    return { tasksDone: this.recorder.tasksDone, tasksFailed: this.recorder.tasksFailed };
  }
}

/** This process's engine. `label`: its name in the tables ("local", or "rank 2" under ranks). */
export class EngineSource extends RecordedSource {
  readonly recorder: Recorder;
  private readonly meter = new SelfMeter();
  private readonly stop: () => void;

  constructor(
    stream: Stream,
    readonly name = "local",
  ) {
    super();
    const prefix = name === "local" ? "" : `${name} · `;
    this.recorder = new Recorder(stream, { source: name, worker: (w) => ({ name: `${prefix}thread ${w}`, threads: 1 }) });
    this.stop = observeRuns(this.recorder);
  }

  workers(): WorkerRow[] {
    const engine = currentEngine();
    const { cpu, rss } = this.meter.read();
    const live = this.recorder.liveChunks();
    return [
      {
        id: this.name, name: this.name, host: hostname(), pid: process.pid, threads: engine?.pool.size ?? 0, cpu, rss,
        memoryUsed: engine?.heap.bytesInUse ?? 0, memoryLimit: engine?.heap.limit ?? 0, chunks: live.chunks,
        running: this.recorder.runningTasks(), lastHeartbeat: Date.now(), status: "running",
      },
    ];
  }

  close(): void {
    this.stop();
  }
}

/** A cluster's scheduler and its workers. */
export class ClusterSource extends RecordedSource {
  readonly name = "cluster";
  readonly recorder: Recorder;
  private readonly meter = new ProcMeter();
  private readonly known = new Map<number, { name: string; threads: number }>();
  private readonly stops: (() => void)[] = [];
  private readonly host = hostname();

  constructor(
    private readonly scheduler: Scheduler,
    stream: Stream,
  ) {
    super();
    for (const w of scheduler.workerList) this.known.set(w.id, { name: w.name, threads: w.threads });
    this.recorder = new Recorder(stream, { source: "cluster", worker: (id) => this.known.get(id) ?? { name: `worker ${id}`, threads: 1 } });
    this.stops.push(
      scheduler.onWorkers((event, w) => {
        if (event === "join") this.known.set(w.id, { name: w.name, threads: w.threads });
        else this.recorder.forgetWorker(w.id);
      }),
      scheduler.observe(this.recorder),
    );
  }

  workers(): WorkerRow[] {
    const states = this.scheduler.workerStates();
    this.meter.keep(new Set(states.map((s) => s.info.pid)));
    return states.map((s) => {
      const here = s.info.host === this.host;
      const { cpu, rss } = here ? this.meter.read(s.info.pid) : { cpu: null, rss: null };
      return {
        id: String(s.info.id), name: s.info.name, host: s.info.host, pid: s.info.pid, threads: s.info.threads, cpu, rss,
        memoryUsed: s.bytes, memoryLimit: s.info.memory, chunks: s.chunks, running: s.running, lastHeartbeat: s.lastHeard,
        status: s.retiring ? "retiring" : "running",
      };
    });
  }

  close(): void {
    for (const s of this.stops) s();
  }
}

/** What another rank reported last (rank-report.ts): its bars and errors went to the stream on arrival. */
export class ReportedSource implements Source {
  row: WorkerRow | null = null;
  private rows: RunRow[] = [];
  private bars: NamedBar[] = [];
  private done = { tasksDone: 0, tasksFailed: 0 };

  constructor(readonly name: string) {}

  /** A report arrived (`at`: when; it is the rank's last heartbeat). */
  update(r: { row: WorkerRow; runs: RunRow[]; running: NamedBar[]; totals: { tasksDone: number; tasksFailed: number } }, at: number): void {
    this.row = { ...r.row, lastHeartbeat: at };
    this.rows = r.runs;
    this.bars = r.running;
    this.done = r.totals;
  }

  workers(): WorkerRow[] {
    return this.row ? [this.row] : [];
  }

  runs(): RunRow[] {
    return this.rows;
  }

  runningBars(): NamedBar[] {
    return this.bars;
  }

  totals() {
    return this.done;
  }

  close(): void {}
}
