// Helpers for tests against a real one-node SLURM cluster (scripts/slurm/cluster.sh): whether SLURM is
// there, the clients' environment, a command runner, and a cluster started in a fresh state directory.
import { spawn, spawnSync } from "node:child_process";
import { accessSync, constants, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";

const CLUSTER = fileURLToPath(new URL("../../scripts/slurm/cluster.sh", import.meta.url));

// Daemons live in /usr/sbin, which a non-login PATH may lack.
export const PATH = [...(process.env.PATH ?? "").split(delimiter), "/usr/sbin", "/sbin"].filter(Boolean).join(delimiter);

function which(cmd) {
  for (const dir of PATH.split(delimiter)) {
    try {
      accessSync(join(dir, cmd), constants.X_OK);
      return join(dir, cmd);
    } catch {}
  }
  return null;
}

/** Why the SLURM tests cannot run here, or null. */
export function skipReason() {
  if (process.env.TESSERA_SLURM !== "1") return "TESSERA_SLURM is not 1";
  const missing = ["srun", "scancel", "sinfo", "slurmctld", "slurmd", "munged"].filter((c) => !which(c));
  if (missing.length) return `not installed: ${missing.join(", ")} (run scripts/slurm/install.sh)`;
  return null;
}

/** The environment for SLURM clients: ours, minus any SLURM_* inherited from an enclosing job, plus SLURM_CONF. */
export function slurmEnv(conf, extra = {}) {
  const env = { PATH };
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("SLURM_") && k !== "PATH") env[k] = v;
  return { ...env, ...(conf ? { SLURM_CONF: conf } : {}), ...extra };
}

/**
 * Starts a command; returns { child, done } where done resolves { code, signal, stdout, stderr, ms } and
 * rejects after `timeout` ms (having killed the command by its PID). `onStderr(text so far)` sees stderr as it comes.
 */
export function start(cmd, args, { cwd, env, timeout = 60_000, onStderr } = {}) {
  const t0 = Date.now();
  const child = spawn(cmd, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  const done = new Promise((resolve, reject) => {
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => {
      stderr += d;
      onStderr?.(stderr);
    });
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${cmd} ${args.join(" ")} did not exit within ${timeout} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeout);
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - t0 });
    });
  });
  return { child, done };
}

/** A cluster in a fresh temporary state directory: start() resolves SLURM_CONF; stop() is safe to call twice. */
export function testCluster() {
  const state = mkdtempSync(join(tmpdir(), "tessera-slurm-"));
  const work = mkdtempSync(join(tmpdir(), "tessera-slurm-work-"));
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    const r = spawnSync("bash", [CLUSTER, "stop", state], { env: slurmEnv(null), encoding: "utf8", timeout: 30_000 });
    if (r.status !== 0) console.error(`test/slurm: cluster.sh stop exited ${r.status}\n${r.stderr}`);
    rmSync(state, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  };
  // Last resort if the runner exits before the after hook (uvu's "Exiting early").
  process.once("exit", stop);
  return {
    work,
    stop,
    async start() {
      const r = await start("bash", [CLUSTER, "start", state], { env: slurmEnv(null), timeout: 90_000 }).done;
      if (r.code !== 0) throw new Error(`cluster.sh start failed:\n${r.stderr}`);
      const m = /^export SLURM_CONF=(\S+)$/m.exec(r.stdout);
      if (!m) throw new Error(`no export line in ${JSON.stringify(r.stdout)}`);
      return m[1];
    },
  };
}
