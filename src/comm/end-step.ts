/**
 * Ending a SLURM step whose rank froze. A rank that stops answering heartbeats (SIGSTOP, a hung host, a
 * process stuck in the kernel) is lost to the others, which fail and exit; but srun without
 * --kill-on-bad-exit waits for every task of its step, and a stopped task never exits, so srun (and the
 * job) would wait until the time limit. The rank that notices asks SLURM to SIGKILL the step's tasks
 * (`scancel --signal=KILL <job>.<step>`): only SIGKILL ends a stopped process, and with --signal SLURM
 * does not wait KillWait seconds between SIGTERM and SIGKILL. The surviving ranks are tasks of the same
 * step: they have said why they stop before scancel reaches them (it runs after the failure handlers),
 * and srun then exits non-zero. scancel is started detached, so it completes even as this rank exits.
 */
import { spawn } from "node:child_process";

/** `<job>.<step>` when this process is a task of a SLURM step (SLURM_JOB_ID and SLURM_STEP_ID, both numeric), else null. */
export function slurmStep(env: Record<string, string | undefined>): string | null {
  const job = env.SLURM_JOB_ID ?? "";
  const step = env.SLURM_STEP_ID ?? "";
  return /^\d+$/.test(job) && /^\d+$/.test(step) ? `${job}.${step}` : null;
}

/**
 * Ends this process's SLURM step (if it is a task of one) because `rank` stopped answering: runs scancel
 * after the current handlers (a microtask later), detached. Returns the step, or null when not under SLURM.
 */
export function endFrozenStep(env: Record<string, string | undefined>, rank: number, log = (line: string) => process.stderr.write(line + "\n")): string | null {
  const step = slurmStep(env);
  if (!step) return null;
  queueMicrotask(() => {
    log(`tessera: rank ${rank} stopped answering and may be frozen: ending SLURM step ${step} (scancel --signal=KILL ${step}) so that srun does not wait for it`);
    try {
      const child = spawn("scancel", ["--signal=KILL", step], { detached: true, stdio: "ignore", env: process.env });
      child.on("error", (e) => log(`tessera: could not run scancel to end SLURM step ${step}: ${e.message}`));
      child.unref();
    } catch (e) {
      log(`tessera: could not run scancel to end SLURM step ${step}: ${(e as Error).message}`);
    }
  });
  return step;
}
