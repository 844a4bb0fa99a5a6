/**
 * LocalCluster: a scheduler in this process and worker processes on this machine (`node dist/worker.js`,
 * the same worker a SLURM job runs), for tests and laptops. It tracks the workers' PIDs, replaces one that
 * dies (as dask's nanny does: a killed worker's work is recomputed elsewhere meanwhile), scales up and
 * down, and stops every process it started when it closes. The token goes to the workers in their
 * environment (TESSERA_TOKEN), never on their command line.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { ClusterError, invalid, show } from "../errors.js";
import { maxWorkers } from "../scheduler/engine.js";
import { parseSize } from "../sizes.js";
import { ClusterBase } from "./cluster-base.js";
import { checkDashboardOption, startClusterDashboard, type ClusterDashboardOptions } from "./dashboard-hook.js";
import { Scheduler } from "./scheduler.js";
import { TOKEN_ENV } from "./token.js";

export interface LocalClusterOptions {
  /** worker processes (default: up to 4, one per core) */
  workers?: number;
  /** threads per worker (default: the cores shared among the workers, at least 1) */
  threadsPerWorker?: number;
  /** kernel memory per worker: bytes, or a size such as "2GiB" or "3 GB" (default 4 GiB) */
  memoryLimit?: number | string;
  /** interface name or address the scheduler listens on (default 127.0.0.1) */
  host?: string;
  port?: number;
  /** seconds a worker tries to reach the scheduler before it exits (default 60) */
  deathTimeout?: number;
  /** seconds after which each worker retires (its chunks still needed handed off first) and is replaced */
  lifetime?: number;
  /** seconds of random stagger around the lifetime */
  lifetimeStagger?: number;
  /** the scheduler's heartbeat interval and the silence after which a worker is lost, ms */
  heartbeatMs?: number;
  peerTimeoutMs?: number;
  /** how long start() and scale() wait for workers to join, ms (default 60 000) */
  startTimeoutMs?: number;
  /** replace a worker that dies (default true) */
  respawn?: boolean;
  /** where the workers' output and the scheduler's lines go (default: stderr) */
  log?: (line: string) => void;
  /** more environment for the workers */
  env?: Record<string, string>;
  /**
   * a live dashboard of this cluster's workers and computes: `{ port }` (default 8787, a free port when
   * taken; 0: any free port), `true` for the defaults. Off when absent or false. Its link (with its
   * token) goes to `log` and is `cluster.dashboardLink`.
   */
  dashboard?: boolean | ClusterDashboardOptions;
}

const WORKER_SCRIPT = fileURLToPath(new URL("../worker.js", import.meta.url));
const OPTION_KEYS = ["workers", "threadsPerWorker", "memoryLimit", "host", "port", "deathTimeout", "lifetime", "lifetimeStagger", "heartbeatMs", "peerTimeoutMs", "startTimeoutMs", "respawn", "log", "env", "dashboard"];

interface Proc {
  child: ChildProcess;
  pid: number;
  retiring: boolean;
  exited: Promise<void>;
}

function count(v: unknown, what: string, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > maxWorkers()) throw invalid("INVALID_ARGUMENT", `${what} ${show(v)} must be an integer from 0 to ${maxWorkers()}`);
  return v;
}

export class LocalCluster extends ClusterBase {
  private readonly opts: LocalClusterOptions;
  private readonly procs = new Map<number, Proc>();
  private readonly log: (line: string) => void;
  private target = 0;
  private spawned = 0;

  /** kills the worker processes still running when this process exits without closing the cluster */
  private readonly onExit = () => {
    for (const p of this.procs.values()) p.child.kill("SIGKILL");
  };

  private constructor(scheduler: Scheduler, opts: LocalClusterOptions, threads: number) {
    super(scheduler, threads, opts.startTimeoutMs ?? 60_000);
    this.opts = opts;
    this.log = opts.log ?? ((l) => process.stderr.write(l + "\n"));
    process.on("exit", this.onExit);
  }

  /** Starts the scheduler and the workers; resolves once they have joined. */
  static async start(opts: LocalClusterOptions = {}): Promise<LocalCluster> {
    if (opts === null || typeof opts !== "object") throw invalid("INVALID_ARGUMENT", `LocalCluster options ${show(opts)} must be an object`);
    for (const k of Object.keys(opts)) if (!OPTION_KEYS.includes(k)) throw invalid("INVALID_ARGUMENT", `LocalCluster has no option ${show(k)}; it takes ${OPTION_KEYS.join(", ")}`);
    const cores = Math.max(1, availableParallelism());
    const workers = count(opts.workers, "workers", Math.min(4, cores));
    const threads = count(opts.threadsPerWorker, "threadsPerWorker", Math.max(1, Math.floor(cores / Math.max(1, workers))));
    if (threads < 1) throw invalid("INVALID_ARGUMENT", "threadsPerWorker must be at least 1");
    if (opts.memoryLimit !== undefined) parseSize(opts.memoryLimit, "memoryLimit");
    for (const k of ["deathTimeout", "lifetime", "lifetimeStagger"] as const) {
      const v = opts[k];
      if (v !== undefined && !(typeof v === "number" && v >= 0 && Number.isFinite(v) && (k !== "deathTimeout" || v > 0))) throw invalid("INVALID_ARGUMENT", `${k} ${show(v)} must be a number of seconds`);
    }
    const d = opts.dashboard;
    checkDashboardOption(d);
    const scheduler = await Scheduler.start({ host: opts.host, port: opts.port, heartbeatMs: opts.heartbeatMs, peerTimeoutMs: opts.peerTimeoutMs, log: opts.log });
    const cluster = new LocalCluster(scheduler, opts, threads);
    try {
      cluster.dashboard = await startClusterDashboard(d, { scheduler, log: cluster.log });
      await cluster.scale(workers);
    } catch (e) {
      await cluster.close();
      throw e;
    }
    return cluster;
  }

  /** PIDs of the worker processes this cluster started and that still run. */
  get pids(): number[] {
    return [...this.procs.keys()];
  }

  private live(): Proc[] {
    return [...this.procs.values()].filter((p) => !p.retiring);
  }

  private spawnOne(): void {
    const o = this.opts;
    const args = [WORKER_SCRIPT, "--scheduler", this.address, "--nthreads", String(this.threadsPerWorker), "--name", `local-${++this.spawned}`];
    if (o.memoryLimit !== undefined) args.push("--memory-limit", String(parseSize(o.memoryLimit, "memoryLimit")));
    if (o.deathTimeout !== undefined) args.push("--death-timeout", String(o.deathTimeout));
    if (o.lifetime !== undefined) args.push("--lifetime", String(o.lifetime));
    if (o.lifetimeStagger !== undefined) args.push("--lifetime-stagger", String(o.lifetimeStagger));
    const child = spawn(process.execPath, args, {
      env: { ...process.env, ...o.env, [TOKEN_ENV]: this.scheduler.token },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const pid = child.pid;
    if (pid === undefined) throw new ClusterError("WORKER_LOST", `could not start a worker process (${process.execPath} ${WORKER_SCRIPT})`);
    const forward = (chunk: Buffer) => {
      for (const line of chunk.toString().split("\n")) if (line.trim()) this.log(`[worker pid ${pid}] ${line}`);
    };
    child.stdout!.on("data", forward);
    child.stderr!.on("data", forward);
    const p: Proc = {
      child, pid, retiring: false,
      exited: new Promise((resolve) => child.once("exit", () => resolve())),
    };
    child.once("exit", (code, signal) => {
      this.procs.delete(pid);
      if (this.closing || p.retiring || this.opts.respawn === false) return;
      // a worker died under us: another takes its place (its work is recomputed meanwhile)
      this.log(`tessera: worker process ${pid} ended (${signal ?? `exit code ${code}`}); starting another`);
      setTimeout(() => {
        if (!this.closing && this.live().length < this.target) this.spawnOne();
      }, 200).unref();
    });
    this.procs.set(pid, p);
  }

  /**
   * Asks for `n` worker processes: starts the missing ones (resolving once they have joined) or retires
   * the newest ones (their chunks still needed are recomputed elsewhere).
   */
  async scale(n: number): Promise<void> {
    if (this.closing) throw new ClusterError("CLUSTER_CLOSED", "scale on a closed cluster");
    const want = count(n, "scale", 0);
    this.stopAdapting();
    this.target = want;
    const live = this.live();
    for (let i = live.length; i < want; i++) this.spawnOne();
    if (live.length > want) {
      const byPid = new Map(this.scheduler.workerList.map((w) => [w.pid, w.id]));
      const retire = live.sort((a, b) => b.pid - a.pid).slice(0, live.length - want);
      for (const p of retire) {
        p.retiring = true;
        const id = byPid.get(p.pid);
        if (id !== undefined) this.scheduler.retire(id, "the cluster scaled down");
        else p.child.kill("SIGTERM");
      }
      // (they finish their batches and hand off their chunks first: at most 30 s)
      await Promise.race([Promise.all(retire.map((p) => p.exited)), sleep(35_000)]);
      for (const p of retire) if (this.procs.has(p.pid)) p.child.kill("SIGKILL");
      return;
    }
    await this.waitForWorkers(want, this.opts.startTimeoutMs ?? 60_000);
  }

  /** @internal (Adaptable) worker processes asked for and not retiring */
  requested(): number {
    return this.live().length;
  }

  /** @internal (Adaptable) starts `n` more workers */
  grow(n: number): void {
    if (this.closing) return;
    this.target = this.live().length + n;
    for (let i = 0; i < n; i++) this.spawnOne();
  }

  /** @internal (Adaptable) retires these workers */
  retire(ids: number[]): void {
    const byId = new Map(this.scheduler.workerList.map((w) => [w.id, w.pid]));
    for (const id of ids) {
      const p = this.procs.get(byId.get(id) ?? -1);
      if (!p || p.retiring) continue;
      p.retiring = true;
      this.scheduler.retire(id, "idle (adaptive scaling)");
    }
    this.target = this.live().length;
  }

  /** Stops the scheduler (pending work is lost) and every worker process. Safe to call twice. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.adaptive?.stop();
      const procs = [...this.procs.values()];
      await this.dashboard?.close();
      await this.scheduler.close();
      await Promise.race([Promise.all(procs.map((p) => p.exited)), sleep(3000)]);
      for (const p of procs) if (this.procs.has(p.pid)) p.child.kill("SIGKILL");
      await Promise.all(procs.map((p) => p.exited));
      process.off("exit", this.onExit);
    })();
    return this.closing;
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());
