/**
 * SlurmCluster's options, checked once into a JobSpec: what one batch job asks SLURM for and what its
 * workers are told. The names and meanings are dask-jobqueue's SLURMCluster's (cores and memory are per
 * job; processes is workers per job), in this project's spelling; the differences are stated here.
 */
import { homedir } from "node:os";
import { isAbsolute, resolve } from "node:path";
import { invalid, show } from "../../errors.js";
import { MAX_KERNEL_BYTES } from "../../scheduler/heap.js";
import { parseDuration, parseSize } from "../../sizes.js";
import { checkDashboardOption, type ClusterDashboardOptions } from "../dashboard-hook.js";

export interface SlurmClusterOptions {
  /** CPU cores per job (--cpus-per-task); the job's workers share them as threads */
  cores: number;
  /** memory per job: "10 GB" (10^9 bytes), "10 GiB" (2^30 bytes) or bytes; --mem is rounded up to what SLURM reads */
  memory?: number | string;
  /** ask with --mem-per-cpu instead of --mem (sites that refuse --mem): `true` (memory / cores) or a size per CPU */
  memoryPerCpu?: boolean | number | string;
  /** worker processes per job (default 1: one worker whose threads use all the job's cores and one kernel memory) */
  processes?: number;
  /** the job's walltime (-t): "HH:MM:SS", "D-HH:MM:SS", "90" (minutes, as sbatch), "55m", or a number of seconds (default "00:30:00", dask-jobqueue's, written in the script) */
  walltime?: string | number;
  /** partition (-p) */
  queue?: string;
  /** account (-A) */
  account?: string;
  /** job name (-J, default "tessera-worker") */
  jobName?: string;
  /** more #SBATCH directives, as written after "#SBATCH " (e.g. "--gres=gpu:1", "--constraint=skylake") */
  jobExtraDirectives?: string[];
  /** directives to leave out: any line containing one of these (e.g. "--mem" at a site that sets it) */
  jobDirectivesSkip?: string[];
  /** shell lines run before the worker starts (module load, environment) */
  jobScriptPrologue?: string[];
  /** network interface (name such as "ib0", or an address) the scheduler listens on and workers use */
  interface?: string;
  /** the scheduler's port (default any free one) */
  port?: number;
  /** where the jobs' stdout and stderr go (-o, -e; default: SLURM's, the submit directory) */
  logDirectory?: string;
  /** the workers' scratch directory on their node (TMPDIR in the job) */
  localDirectory?: string;
  /** a directory every node sees (default ~/.tessera): the token file (mode 0600) is written there */
  sharedDirectory?: string;
  /** more arguments for each worker's command line */
  workerExtraArgs?: string[];
  /** seconds a worker tries to reach the scheduler before it exits (default 60) */
  deathTimeout?: number;
  /** when workers retire, before the walltime (default: walltime minus a margin of 10%, 1 to 10 minutes); false: never */
  lifetime?: number | string | false;
  /** random stagger around the lifetime (default a third of the margin) */
  lifetimeStagger?: number | string;
  /** the node executable on the compute nodes (default: this process's, process.execPath) */
  node?: string;
  /** how often the jobs' states are read from squeue, ms (default 2000) */
  pollMs?: number;
  /** scheduler heartbeat and worker silence limit, ms */
  heartbeatMs?: number;
  peerTimeoutMs?: number;
  /** how long waitForWorkers() waits by default, ms (default 10 minutes: jobs queue) */
  startTimeoutMs?: number;
  /** where the cluster's lines go (default stderr) */
  log?: (line: string) => void;
  /** a live dashboard of the cluster, its workers and its jobs: `{ port }` (default 8787) or true; off when absent */
  dashboard?: boolean | ClusterDashboardOptions;
}

const OPTION_KEYS = [
  "cores", "memory", "memoryPerCpu", "processes", "walltime", "queue", "account", "jobName", "jobExtraDirectives", "jobDirectivesSkip",
  "jobScriptPrologue", "interface", "port", "logDirectory", "localDirectory", "sharedDirectory", "workerExtraArgs", "deathTimeout",
  "lifetime", "lifetimeStagger", "node", "pollMs", "heartbeatMs", "peerTimeoutMs", "startTimeoutMs", "log", "dashboard",
];

/** dask-jobqueue's default walltime. */
export const DEFAULT_WALLTIME = "00:30:00";
/** The largest kernel memory one worker has (a WebAssembly memory's 4 GiB). */
const MAX_WORKER_MEMORY = MAX_KERNEL_BYTES;
/** Of a worker's share of the job's memory, what its kernel memory may use (the rest: Node, its heap, buffers). */
const KERNEL_SHARE = 0.85;

/** One job, checked: what it asks SLURM for and what its workers get. */
export interface JobSpec {
  cores: number;
  processes: number;
  threadsPerWorker: number;
  /** bytes per job; per CPU with memoryPerCpu */
  memory: number;
  memoryPerCpu: number | null;
  /** kernel memory per worker, bytes (whole MiB) */
  workerMemory: number;
  walltime: number;
  queue?: string;
  account?: string;
  jobName: string;
  extraDirectives: string[];
  directivesSkip: string[];
  prologue: string[];
  interface?: string;
  logDirectory?: string;
  localDirectory?: string;
  sharedDirectory: string;
  workerExtraArgs: string[];
  deathTimeout: number;
  /** seconds, or null: no lifetime */
  lifetime: number | null;
  lifetimeStagger: number;
  node: string;
}

function positiveInt(v: unknown, what: string, max = 1 << 20): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1 || v > max) throw invalid("INVALID_ARGUMENT", `${what} ${show(v)} must be an integer from 1 to ${max}`);
  return v;
}

function words(v: unknown, what: string): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.some((s) => typeof s !== "string")) throw invalid("INVALID_ARGUMENT", `${what} ${show(v)} must be an array of strings`);
  for (const s of v as string[]) if (/[\n\r]/.test(s)) throw invalid("INVALID_ARGUMENT", `${what} entry ${show(s)} holds a line break: give one entry per line`);
  return v as string[];
}

function name(v: unknown, what: string): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "string" || v.trim() === "" || /[\s'"\\$`]/.test(v)) throw invalid("INVALID_ARGUMENT", `${what} ${show(v)} must be a non-empty name without spaces, quotes or $`);
  return v;
}

function directory(v: unknown, what: string): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "string" || v === "" || /[\n\r]/.test(v)) throw invalid("INVALID_ARGUMENT", `${what} ${show(v)} must be a directory path`);
  return isAbsolute(v) ? v : resolve(v);
}

/** The margin before the walltime at which workers retire by default: 10% of it, from 1 to 10 minutes, at most half. */
export function lifetimeMargin(walltime: number): number {
  return Math.min(walltime / 2, Math.max(60, Math.min(600, Math.round(walltime * 0.1))));
}

export function jobSpec(opts: SlurmClusterOptions): JobSpec {
  if (opts === null || typeof opts !== "object") throw invalid("INVALID_ARGUMENT", `SlurmCluster options ${show(opts)} must be an object`);
  for (const k of Object.keys(opts)) if (!OPTION_KEYS.includes(k)) throw invalid("INVALID_ARGUMENT", `SlurmCluster has no option ${show(k)}; it takes ${OPTION_KEYS.join(", ")}`);
  if (opts.cores === undefined) throw invalid("INVALID_ARGUMENT", "SlurmCluster needs cores: the CPU cores of each job (e.g. { cores: 10, memory: \"10 GB\" })");
  const cores = positiveInt(opts.cores, "cores", 4096);
  const processes = opts.processes === undefined ? 1 : positiveInt(opts.processes, "processes", cores);
  if (cores % processes !== 0) throw invalid("INVALID_ARGUMENT", `cores ${cores} do not divide among processes ${processes}: each worker gets the same whole number of threads`);
  let memory: number;
  let memoryPerCpu: number | null = null;
  const perCpu = opts.memoryPerCpu;
  if (perCpu !== undefined && perCpu !== false && perCpu !== true) {
    memoryPerCpu = parseSize(perCpu, "memoryPerCpu");
    memory = memoryPerCpu * cores;
    if (opts.memory !== undefined && parseSize(opts.memory, "memory") !== memory) {
      throw invalid("INVALID_ARGUMENT", `memory ${show(opts.memory)} disagrees with memoryPerCpu ${show(perCpu)} × cores ${cores}: give one of them`);
    }
  } else {
    if (opts.memory === undefined) throw invalid("INVALID_ARGUMENT", "SlurmCluster needs memory: the memory of each job, e.g. \"10 GB\" (10^9 bytes) or \"10 GiB\" (2^30 bytes)");
    memory = parseSize(opts.memory, "memory");
    if (perCpu === true) memoryPerCpu = Math.ceil(memory / cores);
  }
  if (memory < 64 * 2 ** 20 * processes) throw invalid("INVALID_ARGUMENT", `memory ${show(opts.memory ?? perCpu)} is under 64 MiB per worker (${processes} per job)`);
  const share = memory / processes;
  const workerMemory = Math.min(MAX_WORKER_MEMORY, Math.max(16 * 2 ** 20, Math.floor((share * KERNEL_SHARE) / 2 ** 20) * 2 ** 20));
  const walltime = parseDuration(opts.walltime ?? DEFAULT_WALLTIME, "walltime", "slurm");
  if (!(walltime >= 60)) throw invalid("INVALID_ARGUMENT", `walltime ${show(opts.walltime)} is under a minute`);
  let lifetime: number | null;
  let lifetimeStagger: number;
  if (opts.lifetime === false) {
    lifetime = null;
    lifetimeStagger = 0;
  } else if (opts.lifetime === undefined) {
    const margin = lifetimeMargin(walltime);
    lifetime = walltime - margin;
    lifetimeStagger = opts.lifetimeStagger === undefined ? Math.floor(margin / 3) : parseDuration(opts.lifetimeStagger, "lifetimeStagger");
  } else {
    lifetime = parseDuration(opts.lifetime, "lifetime");
    lifetimeStagger = opts.lifetimeStagger === undefined ? 0 : parseDuration(opts.lifetimeStagger, "lifetimeStagger");
  }
  if (lifetime !== null && lifetime + lifetimeStagger >= walltime) {
    throw invalid("INVALID_ARGUMENT", `lifetime ${lifetime} s plus its stagger ${lifetimeStagger} s reach the walltime ${walltime} s: workers would be killed before they retire`);
  }
  const deathTimeout = opts.deathTimeout ?? 60;
  if (typeof deathTimeout !== "number" || !(deathTimeout > 0) || !Number.isFinite(deathTimeout)) throw invalid("INVALID_ARGUMENT", `deathTimeout ${show(deathTimeout)} must be a positive number of seconds`);
  if (opts.node !== undefined && (typeof opts.node !== "string" || opts.node === "")) throw invalid("INVALID_ARGUMENT", `node ${show(opts.node)} must be the path of the node executable`);
  checkDashboardOption(opts.dashboard);
  if (opts.interface !== undefined && (typeof opts.interface !== "string" || opts.interface.trim() === "")) throw invalid("INVALID_ARGUMENT", `interface ${show(opts.interface)} must be an interface name (ib0) or an address`);
  return {
    cores, processes, threadsPerWorker: cores / processes, memory, memoryPerCpu, workerMemory, walltime,
    queue: name(opts.queue, "queue"), account: name(opts.account, "account"), jobName: name(opts.jobName, "jobName") ?? "tessera-worker",
    extraDirectives: words(opts.jobExtraDirectives, "jobExtraDirectives"),
    directivesSkip: words(opts.jobDirectivesSkip, "jobDirectivesSkip"),
    prologue: words(opts.jobScriptPrologue, "jobScriptPrologue"),
    interface: opts.interface?.trim(),
    logDirectory: directory(opts.logDirectory, "logDirectory"),
    localDirectory: directory(opts.localDirectory, "localDirectory"),
    sharedDirectory: directory(opts.sharedDirectory, "sharedDirectory") ?? resolve(homedir(), ".tessera"),
    workerExtraArgs: words(opts.workerExtraArgs, "workerExtraArgs"),
    deathTimeout, lifetime, lifetimeStagger,
    node: opts.node ?? process.execPath,
  };
}
