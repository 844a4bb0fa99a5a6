/**
 * `node dist/worker.js` and `tessera worker`: a cluster worker process (cluster/worker.ts). The token
 * comes from --token-file (mode 0600) or TESSERA_TOKEN, never from the command line.
 * Exit codes: 0 stopped by its scheduler, 1 the scheduler could not be reached (or was lost) within the
 * death timeout, or it refused the token, 2 bad arguments.
 */
import { availableParallelism } from "node:os";
import { WORKER_ENTRY } from "../array/compute.js";
import { runWorker } from "../cluster/worker.js";
import { workerToken } from "../cluster/token.js";
import { TesseraError } from "../errors.js";
import { kernelMemoryLimit, maxWorkers } from "../scheduler/engine.js";
import { parseDuration } from "../sizes.js";
import { runWorkerGroup } from "./worker-group.js";

export const WORKER_USAGE = `usage: node dist/worker.js --scheduler ws://HOST:PORT [options]   (or: tessera worker ...)

A worker of a tessera cluster: it dials the scheduler (the process that opened the cluster: LocalCluster,
SlurmCluster, or Client.connect({ host, port, token })) and computes what it is given.

options:
  --scheduler ADDR     the scheduler's address, ws://host:port (required)
  --token-file PATH    the cluster's token, in a file of mode 0600 (else the TESSERA_TOKEN variable;
                       never on the command line)
  --nthreads N         threads of its pool (default: SLURM_CPUS_PER_TASK or all cores)
  --memory-limit SIZE  its kernel memory, e.g. 4GiB or "10 GB" (GB is 10^9 bytes, GiB 2^30; default 4GiB)
  --death-timeout S    seconds to try to reach the scheduler (at start or after losing it) before
                       exiting with code 1 (default 60)
  --lifetime T         retire after T (seconds, or 90s, 55m, 2h), handing off the chunks still needed
                       to other workers first: before a batch job's walltime
  --lifetime-stagger T a random part of T added to or taken from the lifetime (workers started
                       together do not all leave at once)
  --name NAME          a name for logs and cluster.workers
  --nworkers N         run N worker processes (named NAME-0 ... NAME-(N-1)), each with --nthreads
                       threads: a batch job's workers (SlurmCluster's processes); default 1
  --interface I        network interface (name or address) other workers reach this one on
                       (default: the one it reaches the scheduler from)
  -h, --help           this help`;

class UsageError extends Error {}

export interface WorkerArgs {
  help: boolean;
  scheduler: string;
  tokenFile?: string;
  threads: number;
  memoryLimit?: string;
  deathTimeoutMs: number;
  name?: string;
  interface?: string;
  lifetimeMs?: number;
  lifetimeStaggerMs?: number;
  /** worker processes to run (--nworkers) */
  workers: number;
}

/** A duration in ms: seconds, or a number with s, m or h (dask-jobqueue's "55m"). */
function durationMs(v: string, what: string): number {
  try {
    return Math.round(parseDuration(v, what) * 1000);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

export function parseWorkerArgs(argv: string[], env: Record<string, string | undefined> = process.env): WorkerArgs {
  const a: Partial<WorkerArgs> & { help: boolean } = { help: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf("=");
    const [flag, inline] = arg.startsWith("--") && eq > 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [arg, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case "-h":
      case "--help":
        a.help = true;
        break;
      case "--scheduler":
        a.scheduler = value();
        break;
      case "--token-file":
        a.tokenFile = value();
        break;
      case "--token":
        throw new UsageError("the token is never given on the command line (every user of this machine can read it): use --token-file (mode 0600) or TESSERA_TOKEN");
      case "--nthreads": {
        const v = value();
        const n = Number(v);
        if (!/^\d+$/.test(v) || n < 1 || n > maxWorkers()) throw new UsageError(`--nthreads ${JSON.stringify(v)} must be an integer from 1 to ${maxWorkers()}`);
        a.threads = n;
        break;
      }
      case "--memory-limit": {
        const v = value().replace(/\s+/g, "");
        try {
          kernelMemoryLimit({ TESSERA_KERNEL_MEMORY: v });
        } catch {
          throw new UsageError(`--memory-limit ${JSON.stringify(v)} must be a size from 16MiB to 4GiB (bytes, or with a unit: 512MiB, 2GiB, 3GB)`);
        }
        a.memoryLimit = v;
        break;
      }
      case "--death-timeout": {
        const v = value();
        const s = Number(v);
        if (!(s > 0) || !Number.isFinite(s)) throw new UsageError(`--death-timeout ${JSON.stringify(v)} must be a positive number of seconds`);
        a.deathTimeoutMs = Math.round(s * 1000);
        break;
      }
      case "--name":
        a.name = value();
        break;
      case "--nworkers": {
        const v = value();
        const n = Number(v);
        if (!/^\d+$/.test(v) || n < 1 || n > 256) throw new UsageError(`--nworkers ${JSON.stringify(v)} must be an integer from 1 to 256`);
        a.workers = n;
        break;
      }
      case "--lifetime":
        a.lifetimeMs = durationMs(value(), "--lifetime");
        break;
      case "--lifetime-stagger":
        a.lifetimeStaggerMs = durationMs(value(), "--lifetime-stagger");
        break;
      case "--interface":
        a.interface = value();
        break;
      default:
        throw new UsageError(`unknown option ${JSON.stringify(arg)}`);
    }
  }
  if (a.help) return { help: true, scheduler: "", threads: 1, deathTimeoutMs: 60_000, workers: 1 };
  if (!a.scheduler) throw new UsageError("--scheduler ws://host:port is required");
  const slurm = Number(env.SLURM_CPUS_PER_TASK);
  const threads = a.threads ?? (Number.isInteger(slurm) && slurm > 0 ? Math.min(slurm, maxWorkers()) : Math.max(1, availableParallelism()));
  return { ...a, scheduler: a.scheduler, threads, deathTimeoutMs: a.deathTimeoutMs ?? 60_000, workers: a.workers ?? 1, help: false };
}

export async function workerMain(argv: string[]): Promise<number> {
  let a: WorkerArgs;
  let token: string;
  try {
    a = parseWorkerArgs(argv);
    if (a.help) {
      console.log(WORKER_USAGE);
      return 0;
    }
    token = workerToken(a.tokenFile);
  } catch (e) {
    const code = e instanceof TesseraError ? `${e.code}: ` : "";
    console.error(`tessera worker: ${code}${(e as Error).message}`);
    return 2;
  }
  if (a.workers > 1) return runWorkerGroup(argv, a.workers, a.name ?? "worker");
  if (a.memoryLimit) process.env.TESSERA_KERNEL_MEMORY = a.memoryLimit;
  try {
    return await runWorker({
      scheduler: a.scheduler, token, threads: a.threads, deathTimeoutMs: a.deathTimeoutMs, entry: WORKER_ENTRY,
      name: a.name, interface: a.interface, lifetimeMs: a.lifetimeMs, lifetimeStaggerMs: a.lifetimeStaggerMs,
    });
  } catch (e) {
    const code = e instanceof TesseraError ? `${e.code}: ` : "";
    console.error(`tessera worker: ${code}${(e as Error).message}`);
    return 1;
  }
}
