/**
 * The sbatch script of one SlurmCluster job, as `cluster.jobScript()` shows it: a plain bash script in
 * dask-jobqueue's layout (directives, the prologue, the worker command), readable by the person who has to
 * debug it on a cluster. It names the token file, never the token (the file is mode 0600, in a directory
 * every node sees); the scheduler's address and everything else a worker needs are on its command line.
 */
import { formatSize, slurmMemory, slurmTime } from "../../sizes.js";
import type { JobSpec } from "./options.js";

/** Quotes a word for bash when it needs it ('...' with ' written as '\''). */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** A duration for a command line: "55m", "2h", "90s". */
export function shortDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s > 0 && s % 3600 === 0) return `${s / 3600}h`;
  if (s > 0 && s % 60 === 0) return `${s / 60}m`;
  return `${s}s`;
}

/** The #SBATCH lines of a job, before jobDirectivesSkip. */
function directives(spec: JobSpec): string[] {
  const d = [`-J ${spec.jobName}`];
  if (spec.logDirectory) {
    d.push(`-e ${shellQuote(`${spec.logDirectory}/${spec.jobName}-%J.err`)}`);
    d.push(`-o ${shellQuote(`${spec.logDirectory}/${spec.jobName}-%J.out`)}`);
  }
  if (spec.queue) d.push(`-p ${spec.queue}`);
  if (spec.account) d.push(`-A ${spec.account}`);
  d.push("-n 1", "-N 1", `--cpus-per-task=${spec.cores}`);
  d.push(spec.memoryPerCpu !== null ? `--mem-per-cpu=${slurmMemory(spec.memoryPerCpu)}` : `--mem=${slurmMemory(spec.memory)}`);
  d.push(`-t ${slurmTime(spec.walltime)}`);
  d.push(...spec.extraDirectives);
  return d.filter((line) => !spec.directivesSkip.some((skip) => line.includes(skip)));
}

/** The worker command of a job (one line; `tessera-$SLURM_JOB_ID` names its workers after their job). */
export function workerCommand(spec: JobSpec, scheduler: string, tokenFile: string, workerScript: string): string {
  const args = [
    shellQuote(spec.node), shellQuote(workerScript),
    "--scheduler", scheduler,
    "--token-file", shellQuote(tokenFile),
    "--name", `${spec.jobName}-\${SLURM_JOB_ID}`,
    "--nthreads", String(spec.threadsPerWorker),
    "--nworkers", String(spec.processes),
    "--memory-limit", formatSize(spec.workerMemory),
    "--death-timeout", String(spec.deathTimeout),
  ];
  if (spec.lifetime !== null) args.push("--lifetime", shortDuration(spec.lifetime), "--lifetime-stagger", shortDuration(spec.lifetimeStagger));
  if (spec.interface) args.push("--interface", shellQuote(spec.interface));
  args.push(...spec.workerExtraArgs.map(shellQuote));
  return args.join(" ");
}

export function jobScript(spec: JobSpec, scheduler: string, tokenFile: string, workerScript: string): string {
  const lines = ["#!/usr/bin/env bash", ""];
  for (const d of directives(spec)) lines.push(`#SBATCH ${d}`);
  lines.push("");
  const per = spec.processes === 1 ? "1 worker" : `${spec.processes} workers`;
  const threads = spec.threadsPerWorker === 1 ? "1 thread" : `${spec.threadsPerWorker} threads`;
  const retire = spec.lifetime === null ? "no lifetime" : `retiring after ${shortDuration(spec.lifetime)} (± ${shortDuration(spec.lifetimeStagger)}), before the walltime`;
  lines.push(`# tessera cluster job: ${per} of ${threads} and ${formatSize(spec.workerMemory)} of kernel memory each, ${retire}.`);
  lines.push("# The worker reads the cluster's token from the --token-file (mode 0600); it is not in this script.");
  lines.push(...spec.prologue);
  if (spec.localDirectory) lines.push(`export TMPDIR=${shellQuote(spec.localDirectory)}`);
  lines.push(`exec ${workerCommand(spec, scheduler, tokenFile, workerScript)}`);
  return lines.join("\n") + "\n";
}
