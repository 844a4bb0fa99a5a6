/**
 * SLURM's commands as SlurmCluster uses them: sbatch (the script on stdin, --parsable), squeue (the jobs'
 * state, reason and time left), scancel. Each runs with a deadline; a failure is a ClusterError
 * SLURM_FAILED with the command and what it printed. The commands are looked up on PATH (and in the
 * sbin directories a non-login shell may lack), so a site's wrappers work as the user's shell would.
 */
import { execFile, spawn } from "node:child_process";
import { ClusterError } from "../../errors.js";

/** A job's state as squeue reports it (the codes SLURM documents: PENDING, RUNNING, COMPLETING, ...). */
export interface JobState {
  id: string;
  state: string;
  /** why it waits ("Resources", "Priority", ...), or "None" */
  reason: string;
  /** seconds of walltime left, or null when SLURM does not say */
  timeLeft: number | null;
  /** the node(s) it runs on, or "" */
  nodes: string;
}

export interface SlurmCommands {
  submit(script: string): Promise<string>;
  states(ids: string[]): Promise<Map<string, JobState>>;
  cancel(ids: string[]): Promise<void>;
}

const TIMEOUT_MS = 30_000;
const PATH_EXTRA = ["/usr/sbin", "/sbin"];

function env(): NodeJS.ProcessEnv {
  const path = (process.env.PATH ?? "").split(":");
  return { ...process.env, PATH: [...path, ...PATH_EXTRA.filter((p) => !path.includes(p))].filter(Boolean).join(":") };
}

function failed(cmd: string, args: string[], why: string): ClusterError {
  return new ClusterError("SLURM_FAILED", `${[cmd, ...args].join(" ")} failed: ${why.trim() || "no output"}`);
}

function run(cmd: string, args: string[], stdin?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { env: env(), timeout: TIMEOUT_MS, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err && (err as NodeJS.ErrnoException).code === "ENOENT") {
        reject(failed(cmd, args, `${cmd} is not installed or not on PATH (is this a SLURM login node?)`));
        return;
      }
      if (err && err.killed) {
        reject(failed(cmd, args, `no answer within ${TIMEOUT_MS / 1000} s (is slurmctld up?)\n${stderr}`));
        return;
      }
      const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
    if (stdin !== undefined) child.stdin?.end(stdin);
  });
}

/** Parses squeue's `%L` (time left): "1:00", "59:58", "1-02:03:04", "INVALID", "UNLIMITED", "NOT_SET". */
export function parseTimeLeft(s: string): number | null {
  const m = /^(?:(\d+)-)?(?:(\d+):)?(\d+):(\d+)$/.exec(s.trim());
  if (!m) return null;
  return Number(m[1] ?? 0) * 86400 + Number(m[2] ?? 0) * 3600 + Number(m[3]) * 60 + Number(m[4]);
}

const SQUEUE_FORMAT = "%i|%T|%r|%L|%N";

/** Parses squeue -h -o "%i|%T|%r|%L|%N" lines. */
export function parseSqueue(out: string): Map<string, JobState> {
  const states = new Map<string, JobState>();
  for (const line of out.split("\n")) {
    const f = line.trim().split("|");
    if (f.length < 5 || !f[0]) continue;
    states.set(f[0], { id: f[0], state: f[1]!, reason: f[2]!, timeLeft: parseTimeLeft(f[3]!), nodes: f[4]! });
  }
  return states;
}

/** The real commands (`sbatch`, `squeue`, `scancel`; names can be replaced for sites with wrappers). */
export class Slurm implements SlurmCommands {
  constructor(private readonly names = { sbatch: "sbatch", squeue: "squeue", scancel: "scancel" }) {}

  /** Submits a job script (on stdin, so no file holds it but SLURM's own copy); resolves the job id. */
  async submit(script: string): Promise<string> {
    const args = ["--parsable"];
    const r = await run(this.names.sbatch, args, script);
    const id = /^(\d+)(?:;\S+)?\s*$/m.exec(r.stdout)?.[1];
    if (r.code !== 0 || !id) throw failed(this.names.sbatch, args, r.stderr || r.stdout);
    return id;
  }

  /** The jobs SLURM still knows among `ids` (a job it has forgotten, finished MinJobAge ago, is absent). */
  async states(ids: string[]): Promise<Map<string, JobState>> {
    if (ids.length === 0) return new Map();
    const args = ["-h", "-t", "all", "-j", ids.join(","), "-o", SQUEUE_FORMAT];
    const r = await run(this.names.squeue, args);
    // squeue fails when it knows none of the ids: they have all ended and been forgotten
    if (r.code !== 0 && /Invalid job id/i.test(r.stderr)) return new Map();
    if (r.code !== 0) throw failed(this.names.squeue, args, r.stderr);
    return parseSqueue(r.stdout);
  }

  async cancel(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    const r = await run(this.names.scancel, ids);
    // a job that already ended is not an error to cancel
    if (r.code !== 0 && !/Invalid job id|already completing or completed|Job has finished/i.test(r.stderr)) throw failed(this.names.scancel, ids, r.stderr);
  }
}

/** scancel at process exit, synchronously enough that the jobs do not outlive a script that forgot close(). */
export function cancelAtExit(ids: string[], scancel = "scancel"): void {
  if (ids.length === 0) return;
  try {
    spawn(scancel, ids, { env: env(), stdio: "ignore", detached: true }).unref();
  } catch {
    // nothing more can be done at exit; the jobs end at their walltime or when their workers lose the scheduler
  }
}
