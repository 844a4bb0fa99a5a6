/**
 * The dashboard's data model, as /snapshot serves it and the page receives it over its WebSocket: plain
 * JSON, every list bounded (a long session or a big graph never grows it without limit), times in ms
 * since the epoch, sizes in bytes. `version` changes when a field changes meaning.
 */

export const SNAPSHOT_VERSION = 1;

/** Bounds on what is kept (the oldest goes first). */
export const LIMITS = {
  /** computes kept with their per-operation progress */
  runs: 50,
  /** finished task-stream bars kept */
  bars: 4000,
  /** lanes of the task stream (one per worker thread or rank thread) */
  lanes: 512,
  /** points of the memory chart (sampled twice a second: ten minutes) */
  memoryPoints: 1200,
  errors: 50,
  jobs: 1000,
} as const;

/** A worker process of a cluster, a rank, or this process alone. */
export interface WorkerRow {
  id: string;
  name: string;
  host: string;
  pid: number;
  threads: number;
  /** CPU use in percent of one core (200: two cores busy); null when it cannot be read (another host) */
  cpu: number | null;
  /** resident set size, bytes; null when it cannot be read */
  rss: number | null;
  /** kernel (WebAssembly) memory in use and its limit, bytes */
  memoryUsed: number;
  memoryLimit: number;
  chunks: number;
  /** chunk tasks handed to it and not finished */
  running: number;
  /** when it was last heard from (this process: now) */
  lastHeartbeat: number;
  status: "running" | "retiring";
}

/** One operation (a layer of chunk tasks, named by its label) of a compute. */
export interface OperationRow {
  label: string;
  kind: string;
  total: number;
  done: number;
  running: number;
  waiting: number;
  failed: number;
}

export interface RunRow {
  id: string;
  status: "running" | "finished" | "failed";
  started: number;
  ended: number | null;
  /** chunk tasks done and in all, over its operations */
  done: number;
  total: number;
  operations: OperationRow[];
}

/** A batch of tasks in the task stream: on `lane`, from `start` to `end` (null: still running). */
export interface Bar {
  seq: number;
  lane: number;
  run: string;
  op: string;
  start: number;
  end: number | null;
  tasks: number;
  /** its inputs moved to its worker first (drawn marked, as dask draws transfers) */
  transfer: boolean;
  failed: boolean;
}

export interface ErrorRow {
  time: number;
  run: string;
  op: string;
  task: number;
  /** the failing chunk's block index, when one task failed */
  block: number[] | null;
  message: string;
  /** where: "local", "rank 1", "worker 3" */
  where: string;
}

/** A batch job of a SlurmCluster (given by its jobs provider). */
export interface JobRow {
  id: string;
  /** "pending", "running", ... as the provider says */
  state: string;
  /** why it is pending (SLURM's reason), or null */
  reason: string | null;
  /** seconds of walltime left, or null when unknown */
  walltimeLeft: number | null;
}

export interface MemoryPoint {
  t: number;
  /** kernel memory in use, resident set, and the kernel memory limit, summed over the workers */
  used: number;
  rss: number;
  limit: number;
}

export interface Snapshot {
  version: number;
  /** what it watches: this process, ranks of an SPMD run, or a cluster's scheduler */
  kind: "local" | "ranks" | "cluster";
  now: number;
  startedAt: number;
  workers: WorkerRow[];
  runs: RunRow[];
  stream: {
    lanes: string[];
    /** finished bars with seq > the `since` asked for (all kept when none was) */
    bars: Bar[];
    running: Bar[];
    /** the newest bar's seq: ask `since` it next time */
    seq: number;
  };
  /** points with t > the `memorySince` asked for */
  memory: MemoryPoint[];
  errors: ErrorRow[];
  /** null unless a jobs provider was given (SlurmCluster) */
  jobs: JobRow[] | null;
  totals: {
    workers: number;
    threads: number;
    tasksDone: number;
    tasksFailed: number;
    runsFinished: number;
    runsFailed: number;
    runsRunning: number;
  };
}

/** A SlurmCluster (or anything else) gives its jobs this way; it is called at most a few times a second. */
export type JobsProvider = () => readonly JobRow[] | Promise<readonly JobRow[]>;
