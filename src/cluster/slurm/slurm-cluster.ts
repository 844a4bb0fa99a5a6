/**
 * SlurmCluster: the scheduler in this process (on a login node) and workers in SLURM batch jobs, as
 * dask-jobqueue's SLURMCluster. `scale(n)` counts workers (jobs = ceil(n / processes)), `scale({ jobs })`
 * jobs; both return once the jobs are submitted (they may wait in the queue: computes stay pending until a
 * worker joins; `waitForWorkers(n)` waits for them). The jobs' states and why they wait come from squeue
 * every `pollMs`; a job that ends while it is still wanted (walltime, a node failure, a scancel from
 * outside) is replaced, unless its jobs keep ending before any worker joins (then it says so and stops
 * trying). `close()` scancels every job it submitted and removes the token file.
 *
 * The token is written to a file of mode 0600 in `sharedDirectory` (every node must see it: a home
 * directory does on most clusters); the job script names the file, never the token.
 */
import { randomBytes } from "node:crypto";
import { lookup } from "node:dns/promises";
import { chmodSync, mkdirSync, rmSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ClusterError, invalid, show } from "../../errors.js";
import { resolveInterface } from "../../comm/rendezvous.js";
import { parseSize } from "../../sizes.js";
import { ClusterBase } from "../cluster-base.js";
import { Scheduler } from "../scheduler.js";
import type { WorkerInfo } from "../worker-registry.js";
import { writeTokenFile } from "../token.js";
import { startClusterDashboard } from "../dashboard-hook.js";
import { Slurm, cancelAtExit, type JobState, type SlurmCommands } from "./commands.js";
import { jobScript } from "./job-script.js";
import { jobSpec, type JobSpec, type SlurmClusterOptions } from "./options.js";

export type { SlurmClusterOptions };

const WORKER_SCRIPT = fileURLToPath(new URL("../../worker.js", import.meta.url));
/** States after which a job is gone (squeue's codes). */
const FINAL = new Set(["COMPLETED", "CANCELLED", "FAILED", "TIMEOUT", "NODE_FAIL", "PREEMPTED", "OUT_OF_MEMORY", "BOOT_FAIL", "DEADLINE", "SPECIAL_EXIT", "REVOKED"]);
/** Jobs in a row that end before any of their workers joined, after which no more are submitted. */
const MAX_BARREN_JOBS = 3;
/** How long a compute waits with no worker before the cluster says which jobs it waits for, and how often after. */
const WAIT_REPORT_MS = 5000;
const WAIT_REPEAT_MS = 30_000;

/** A job as `cluster.jobs` lists it. */
export interface SlurmJob {
  id: string;
  /** PENDING, RUNNING, COMPLETING, ..., or a final state (COMPLETED, CANCELLED, TIMEOUT, ...) */
  state: string;
  /** why SLURM holds it ("Resources", "Priority", ...) or "None" */
  reason: string;
  /** seconds of walltime left (from squeue), or null */
  timeLeft: number | null;
  nodes: string;
  /** the workers of this job in the scheduler now */
  workers: number[];
  /** when it was submitted (ms since the epoch) */
  submitted: number;
}

interface JobRecord extends SlurmJob {
  /** this cluster cancelled it or asked its workers to retire: it is not replaced */
  leaving: boolean;
  /** a worker of it joined once */
  joined: boolean;
  /** squeue answers in a row that did not list it */
  unlisted: number;
}

/** Scale by workers (a number), or by jobs, cores or memory as dask-jobqueue's scale(jobs=, cores=, memory=). */
export type ScaleRequest = number | { jobs?: number; workers?: number; cores?: number; memory?: number | string };

const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? "" : "s"}`;

function nonNegativeInt(v: unknown, what: string): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > 100_000) throw invalid("INVALID_ARGUMENT", `${what} ${show(v)} must be an integer from 0 to 100000`);
  return v;
}

/** The address the scheduler listens on: the interface asked for, else the one this host's name resolves to. */
async function schedulerHost(iface: string | undefined, log: (l: string) => void): Promise<string> {
  if (iface) return resolveInterface(iface);
  try {
    const { address } = await lookup(hostname());
    log(`tessera: SlurmCluster listens on ${address} (the address of ${hostname()}; pass interface to choose another network)`);
    return address;
  } catch (e) {
    throw new ClusterError("INVALID_ARGUMENT", `the host name ${JSON.stringify(hostname())} does not resolve (${(e as Error).message}): pass interface (e.g. "ib0", "eth0" or an address) for the scheduler to listen on`);
  }
}

export class SlurmCluster extends ClusterBase {
  readonly spec: JobSpec;
  /** the token file the jobs read (mode 0600) */
  readonly tokenFile: string;
  private readonly slurm: SlurmCommands;
  private readonly log: (line: string) => void;
  private readonly records = new Map<string, JobRecord>();
  private readonly pollMs: number;
  private readonly poller: NodeJS.Timeout;
  private polling: Promise<void> | null = null;
  private targetJobs = 0;
  /**
   * jobs whose sbatch has not answered yet: counted with the wanted ones, or a poll during a slow sbatch
   * (the scale's first job submitted, its second on the way) submitted the missing job a second time
   */
  private submitting = 0;
  private barren = 0;
  private waitingSince = 0;
  private lastWaitReport = 0;
  private readonly offWorkers: () => void;
  private readonly onExit = () => {
    cancelAtExit(this.activeIds());
    rmSync(this.tokenFile, { force: true });
  };

  private constructor(scheduler: Scheduler, spec: JobSpec, tokenFile: string, opts: SlurmClusterOptions, slurm: SlurmCommands) {
    super(scheduler, spec.threadsPerWorker, opts.startTimeoutMs ?? 600_000);
    this.spec = spec;
    this.tokenFile = tokenFile;
    this.slurm = slurm;
    this.log = opts.log ?? ((l) => process.stderr.write(l + "\n"));
    this.pollMs = Math.max(100, opts.pollMs ?? 2000);
    this.offWorkers = scheduler.onWorkers((event, w, why) => this.workerEvent(event, w, why));
    this.poller = setInterval(() => void this.poll(), this.pollMs);
    this.poller.unref();
    process.on("exit", this.onExit);
  }

  /**
   * Starts the scheduler and writes the token file; submits no job (call scale() or adapt()).
   * `slurm` replaces the SLURM commands (tests, sites with wrappers).
   */
  static async start(opts: SlurmClusterOptions, slurm: SlurmCommands = new Slurm()): Promise<SlurmCluster> {
    const spec = jobSpec(opts);
    const log = opts.log ?? ((l: string) => process.stderr.write(l + "\n"));
    if (opts.port !== undefined && (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535)) throw invalid("INVALID_ARGUMENT", `port ${show(opts.port)} must be an integer from 0 to 65535`);
    if (opts.walltime === undefined) log(`tessera: SlurmCluster jobs ask for the default walltime ${"00:30:00"} (pass walltime to choose)`);
    const host = await schedulerHost(spec.interface, log);
    try {
      mkdirSync(spec.sharedDirectory, { recursive: true, mode: 0o700 });
    } catch (e) {
      throw new ClusterError("INVALID_ARGUMENT", `cannot create the shared directory ${JSON.stringify(spec.sharedDirectory)} for the token file: ${(e as Error).message}`);
    }
    if (spec.logDirectory) mkdirSync(spec.logDirectory, { recursive: true });
    const scheduler = await Scheduler.start({ host, port: opts.port, heartbeatMs: opts.heartbeatMs, peerTimeoutMs: opts.peerTimeoutMs, log: opts.log });
    const tokenFile = join(spec.sharedDirectory, `cluster-${process.pid}-${randomBytes(6).toString("hex")}.token`);
    try {
      writeTokenFile(tokenFile, scheduler.token);
      chmodSync(tokenFile, 0o600);
    } catch (e) {
      await scheduler.close();
      throw new ClusterError("INVALID_ARGUMENT", `cannot write the token file ${JSON.stringify(tokenFile)}: ${(e as Error).message}`);
    }
    const cluster = new SlurmCluster(scheduler, spec, tokenFile, opts, slurm);
    try {
      cluster.dashboard = await startClusterDashboard(opts.dashboard, {
        scheduler,
        jobs: () => cluster.jobs.map((j) => ({ id: j.id, state: j.state, reason: j.reason === "None" ? null : j.reason, walltimeLeft: j.timeLeft })),
        log: cluster.log,
      });
    } catch (e) {
      await cluster.close();
      throw e;
    }
    return cluster;
  }

  /** The jobs this cluster submitted that have not ended, as squeue last said (and the workers of each). */
  get jobs(): SlurmJob[] {
    return [...this.records.values()].filter((r) => !FINAL.has(r.state)).map(({ leaving: _l, joined: _j, unlisted: _u, ...job }) => ({ ...job, workers: [...job.workers] }));
  }

  /** The exact sbatch script each job runs. */
  jobScript(): string {
    return jobScript(this.spec, this.address, this.tokenFile, WORKER_SCRIPT);
  }

  private activeIds(): string[] {
    return [...this.records.values()].filter((r) => !FINAL.has(r.state)).map((r) => r.id);
  }

  private wanted(): JobRecord[] {
    return [...this.records.values()].filter((r) => !FINAL.has(r.state) && !r.leaving);
  }

  /** the jobs wanted and those on their way (sbatch not answered yet) */
  private wantedCount(): number {
    return this.wanted().length + this.submitting;
  }

  /** closed, or more jobs wanted and on their way than the target: the newest is not wanted */
  private unwanted(): boolean {
    return this.closing !== null || this.wantedCount() > this.targetJobs;
  }

  private jobsFor(req: ScaleRequest): number {
    const per = this.spec.processes;
    if (typeof req === "number") return Math.ceil(nonNegativeInt(req, "scale") / per);
    if (req === null || typeof req !== "object") throw invalid("INVALID_ARGUMENT", `scale ${show(req)} must be a number of workers or { jobs }, { workers }, { cores } or { memory }`);
    const keys = Object.keys(req).filter((k) => (req as Record<string, unknown>)[k] !== undefined);
    if (keys.length !== 1 || !["jobs", "workers", "cores", "memory"].includes(keys[0]!)) throw invalid("INVALID_ARGUMENT", `scale ${show(req)} takes exactly one of jobs, workers, cores, memory`);
    if (req.jobs !== undefined) return nonNegativeInt(req.jobs, "scale jobs");
    if (req.workers !== undefined) return Math.ceil(nonNegativeInt(req.workers, "scale workers") / per);
    if (req.cores !== undefined) return Math.ceil(nonNegativeInt(req.cores, "scale cores") / this.spec.cores);
    return Math.ceil(parseSize(req.memory, "scale memory") / this.spec.memory);
  }

  /**
   * Asks for `n` workers (or { jobs }, { cores }, { memory }): submits the missing jobs, or retires the
   * newest ones (pending jobs are cancelled first; a running job's workers hand off their chunks, then stop).
   * Resolves once SLURM has the jobs, not when they run (see waitForWorkers).
   */
  async scale(req: ScaleRequest): Promise<void> {
    if (this.closing) throw new ClusterError("CLUSTER_CLOSED", "scale on a closed cluster");
    const jobs = this.jobsFor(req);
    this.stopAdapting();
    await this.scaleJobs(jobs);
  }

  private async scaleJobs(jobs: number): Promise<void> {
    this.targetJobs = jobs;
    this.barren = 0;
    const wanted = this.wanted();
    const count = wanted.length + this.submitting;
    if (count < jobs) {
      await this.submit(jobs - count);
      return;
    }
    if (wanted.length <= jobs) return; // the rest are on their way (submit cancels any no longer wanted)
    // newest first, pending before running (nothing to hand off)
    const leave = wanted.sort((a, b) => Number(a.state === "RUNNING") - Number(b.state === "RUNNING") || Number(b.id) - Number(a.id)).slice(0, wanted.length - jobs);
    await this.release(leave, "the cluster scaled down");
  }

  private async submit(n: number): Promise<void> {
    const script = this.jobScript();
    this.submitting += n;
    for (let i = 0; i < n; i++) {
      // closed or scaled down while the jobs before it were submitted: this one is not wanted any more
      if (this.unwanted()) {
        this.submitting--;
        continue;
      }
      let id: string;
      try {
        id = await this.slurm.submit(script);
      } catch (e) {
        this.submitting -= n - i;
        throw e;
      }
      this.submitting--;
      const record: JobRecord = { id, state: "PENDING", reason: "None", timeLeft: null, nodes: "", workers: [], submitted: Date.now(), leaving: false, joined: false, unlisted: 0 };
      this.records.set(id, record);
      this.log(`tessera: submitted job ${id} (${plural(this.spec.processes, "worker")} of ${plural(this.spec.threadsPerWorker, "thread")})`);
      // closed, or scaled down, while sbatch ran: the job is not wanted any more
      if (this.unwanted()) await this.release([record], this.closing ? "the cluster closed" : "the cluster scaled down");
    }
  }

  /** Lets jobs go: pending ones are cancelled, running ones' workers retire gracefully (then their job ends). */
  private async release(records: JobRecord[], reason: string): Promise<void> {
    const cancel: string[] = [];
    for (const r of records) {
      r.leaving = true;
      if (r.workers.length === 0) cancel.push(r.id);
      else for (const w of r.workers) this.scheduler.retire(w, reason);
    }
    await this.slurm.cancel(cancel);
  }

  /** @internal (Adaptable) workers asked for: the wanted jobs' */
  requested(): number {
    return this.wantedCount() * this.spec.processes;
  }

  /** @internal (Adaptable) n more workers: whole jobs */
  grow(n: number): void {
    if (this.closing) return;
    const more = Math.ceil(n / this.spec.processes);
    this.targetJobs = this.wantedCount() + more;
    this.submit(more).catch((e) => this.log(`tessera: adaptive scaling could not submit a job: ${(e as Error).message}`));
  }

  /** @internal (Adaptable) retires these workers, only as whole jobs (no job is left half-used: no submit/cancel loop) */
  retire(ids: number[]): void {
    const idle = new Set(ids);
    const whole = this.wanted().filter((r) => r.workers.length > 0 && r.workers.every((w) => idle.has(w)));
    if (whole.length === 0) return;
    this.targetJobs = Math.max(0, this.wantedCount() - whole.length);
    this.release(whole, "idle (adaptive scaling)").catch((e) => this.log(`tessera: adaptive scaling could not cancel a job: ${(e as Error).message}`));
  }

  private jobOf(w: WorkerInfo): JobRecord | undefined {
    const m = new RegExp(`^${this.spec.jobName.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}-(\\d+)(?:-\\d+)?$`).exec(w.name);
    return m ? this.records.get(m[1]!) : undefined;
  }

  private workerEvent(event: "join" | "leave", w: WorkerInfo, why?: string): void {
    const r = this.jobOf(w);
    if (!r) return;
    if (event === "join") {
      r.workers.push(w.id);
      r.joined = true;
      this.barren = 0;
      if (r.state === "PENDING") r.state = "RUNNING";
      this.log(`tessera: worker ${w.name} joined (job ${r.id} on ${w.host}, ${plural(w.threads, "thread")})`);
      if (r.leaving) this.scheduler.retire(w.id, "its job is no longer wanted");
    } else {
      r.workers = r.workers.filter((id) => id !== w.id);
      if (!r.leaving && !this.closing) this.log(`tessera: worker ${w.name} of job ${r.id} left (${why ?? "gone"})`);
    }
  }

  /** Reads the jobs' states; replaces jobs that ended while wanted; says what a waiting compute waits for. */
  private poll(): Promise<void> {
    this.polling ??= this.pollOnce()
      .catch((e) => this.log(`tessera: ${(e as Error).message}`))
      .finally(() => (this.polling = null));
    return this.polling;
  }

  private async pollOnce(): Promise<void> {
    if (this.closing) return;
    const ids = this.activeIds();
    if (ids.length) {
      const states = await this.slurm.states(ids);
      for (const id of ids) this.update(this.records.get(id)!, states.get(id));
    }
    if (this.wantedCount() < this.targetJobs && !this.closing) {
      if (this.barren >= MAX_BARREN_JOBS) return;
      await this.submit(this.targetJobs - this.wantedCount());
    }
    this.reportWaiting();
  }

  private update(r: JobRecord, s: JobState | undefined): void {
    const was = r.state;
    if (s) r.unlisted = 0;
    // a job SLURM no longer lists has ended (it forgets jobs MinJobAge after they end); one answer without
    // it is not enough (a busy controller), and a job whose workers are still connected has not ended
    else if (++r.unlisted < 2 || r.workers.length > 0) return;
    const next = s ?? { state: r.state === "PENDING" || r.state === "RUNNING" || r.state === "COMPLETING" ? "COMPLETED" : r.state, reason: r.reason, timeLeft: null, nodes: r.nodes };
    r.state = next.state;
    r.reason = next.reason;
    r.timeLeft = next.timeLeft;
    r.nodes = next.nodes || r.nodes;
    if (FINAL.has(r.state) && !FINAL.has(was)) {
      if (!r.joined) this.barren++;
      if (!r.leaving && !this.closing) {
        const hint = r.joined ? "" : `: none of its workers joined${this.spec.logDirectory ? ` (see ${this.spec.logDirectory}/${this.spec.jobName}-${r.id}.err)` : " (see its slurm-" + r.id + ".out)"}`;
        this.log(`tessera: job ${r.id} ended (${r.state}${r.reason && r.reason !== "None" ? `, ${r.reason}` : ""})${hint}`);
        if (this.barren >= MAX_BARREN_JOBS) {
          this.log(`tessera: ${MAX_BARREN_JOBS} jobs in a row ended before any worker joined: no more are submitted until scale() is called again (check cluster.jobScript() and the jobs' logs)`);
        }
      }
    }
  }

  private reportWaiting(): void {
    const { queued, workers } = this.scheduler.load();
    const now = Date.now();
    if (queued === 0 || workers > 0) {
      this.waitingSince = 0;
      return;
    }
    if (this.waitingSince === 0) this.waitingSince = now;
    if (now - this.waitingSince < WAIT_REPORT_MS || now - this.lastWaitReport < WAIT_REPEAT_MS) return;
    this.lastWaitReport = now;
    const jobs = this.wanted();
    const what = jobs.length
      ? jobs.map((r) => `job ${r.id} ${r.state}${r.state === "PENDING" && r.reason !== "None" ? ` (${r.reason})` : ""}`).join(", ")
      : "no job is submitted: call cluster.scale(n) or cluster.adapt()";
    this.log(`tessera: work has waited ${Math.round((now - this.waitingSince) / 1000)} s for workers: ${what}`);
  }

  /** Stops the scheduler, scancels every job it submitted that has not ended, removes the token file. Safe to call twice. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.adaptive?.stop();
      clearInterval(this.poller);
      this.offWorkers();
      await this.polling;
      const ids = this.activeIds();
      for (const id of ids) this.records.get(id)!.leaving = true;
      await this.dashboard?.close();
      // the workers are told to stop first (their jobs end cleanly), then SLURM cancels what is left
      await this.scheduler.close();
      let failure: Error | null = null;
      try {
        await this.slurm.cancel(ids);
      } catch (e) {
        failure = e as Error;
      }
      rmSync(this.tokenFile, { force: true });
      process.off("exit", this.onExit);
      // the jobs are gone from squeue (or at least ending) before close() returns
      const deadline = Date.now() + 15_000;
      while (!failure && Date.now() < deadline) {
        const left = await this.slurm.states(ids).catch(() => new Map<string, JobState>());
        if ([...left.values()].every((s) => FINAL.has(s.state))) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      for (const id of ids) this.records.get(id)!.state = "CANCELLED";
      if (failure) throw failure;
    })();
    return this.closing;
  }
}
