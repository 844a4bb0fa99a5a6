/**
 * `--nworkers N`: one batch job's several worker processes (SlurmCluster's `processes`), started by the
 * job's one command as dask's `--nworkers` does. Each child is this worker command with `--nworkers 1` and
 * its own name (NAME-0, NAME-1, ...); the token comes to each the way it came to this process (its file,
 * or the environment it inherits). Signals are passed on (scancel's SIGTERM reaches every worker), and
 * this process ends when every child has, with the worst exit code, so the job's state says whether its
 * workers stopped cleanly.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

const WORKER_SCRIPT = fileURLToPath(new URL("../worker.js", import.meta.url));

/** argv without --nworkers and --name (and their values), for a child's own. */
function childArgs(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const flag = arg.startsWith("--") && arg.includes("=") ? arg.slice(0, arg.indexOf("=")) : arg;
    if (flag === "--nworkers" || flag === "--name") {
      if (flag === arg) i++;
      continue;
    }
    out.push(arg);
  }
  return out;
}

export function runWorkerGroup(argv: string[], n: number, name: string): Promise<number> {
  const base = childArgs(argv);
  const children: ChildProcess[] = [];
  const forward = (signal: NodeJS.Signals) => () => {
    for (const c of children) c.kill(signal);
  };
  const handlers = (["SIGTERM", "SIGINT", "SIGHUP", "SIGUSR1", "SIGUSR2"] as const).map((s) => [s, forward(s)] as const);
  for (const [s, h] of handlers) process.on(s, h);
  let worst = 0;
  const exits = Array.from({ length: n }, (_, i) => {
    const child = spawn(process.execPath, [WORKER_SCRIPT, ...base, "--nworkers", "1", "--name", `${name}-${i}`], { stdio: "inherit" });
    children.push(child);
    return new Promise<void>((resolve) => {
      child.once("error", (e) => {
        process.stderr.write(`tessera worker group: worker ${i} could not start: ${e.message}\n`);
        worst = Math.max(worst, 1);
        resolve();
      });
      child.once("exit", (code, signal) => {
        worst = Math.max(worst, code ?? (signal ? 1 : 0));
        resolve();
      });
    });
  });
  return Promise.all(exits).then(() => {
    for (const [s, h] of handlers) process.off(s, h);
    return worst;
  });
}
