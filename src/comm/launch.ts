/**
 * `run.js --np P`: starts P local rank processes (`node dist/run.js ...argv`, or another script) with
 * TESSERA_RANK/SIZE/TOKEN/COORDINATOR set (rank 0 listens on loopback) and a private rendezvous directory
 * (TESSERA_RENDEZVOUS_DIR, mode 0700, removed when the ranks have exited) where the ranks of a large world
 * say where they listen (on-demand.ts), forwards SIGINT/SIGTERM to them,
 * and when one fails, stops the others (by PID) unless they exit by themselves within a moment (a rank
 * that failed has told them why, and each says so before it exits). Resolves with 0 when all succeed, else
 * the first failure's exit code (128 + signal number for a signal).
 */
import { spawn, type ChildProcess, type StdioOptions } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { availableParallelism, constants, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { newToken } from "../transport/auth.js";
import { commError } from "./errors.js";

export interface LaunchOptions {
  /** the script each rank runs (default: dist/run.js) */
  script?: string;
  /** extra environment for the ranks (added to process.env) */
  env?: Record<string, string | undefined>;
  /** default "inherit" */
  stdio?: StdioOptions;
  /** node options for the ranks (e.g. ["--enable-source-maps"]), after the ones rankNodeFlags chooses */
  execArgv?: string[];
  /** after a failure, how long the siblings get between SIGTERM and SIGKILL, ms (default 2000) */
  killGraceMs?: number;
  /** after a failure, how long the siblings get to exit by themselves before SIGTERM, ms (default 1000) */
  stopGraceMs?: number;
  /** called with each child as it starts */
  onSpawn?: (child: ChildProcess, rank: number) => void;
  /** the coordinator port (default: a free port chosen now) */
  port?: number;
}

const RUN_JS = join(dirname(fileURLToPath(import.meta.url)), "..", "run.js");

/**
 * A free TCP port on loopback (released before returning; rank 0 binds it moments later). Taken below the
 * kernel's ephemeral range when it can: a port the kernel handed out (port 0) is one it may hand out again
 * meanwhile as the source port of any outgoing connection (a world of 33 ranks makes hundreds), and rank 0's
 * listen then fails with EADDRINUSE (seen under load); below the range only another listener can take it.
 */
export async function freePort(host = "127.0.0.1"): Promise<number> {
  const [lo] = ephemeralRange();
  const span = Math.min(8192, lo - 10_000);
  for (let i = 0; span > 0 && i < 20; i++) {
    const port = lo - 1 - Math.floor(Math.random() * span);
    if (await canListen(host, port)) return port;
  }
  return listenAny(host);
}

/** The kernel's ephemeral port range (Linux; the IANA default elsewhere). */
export function ephemeralRange(): [number, number] {
  try {
    const [a, b] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/).map(Number);
    if (Number.isInteger(a) && Number.isInteger(b) && a! > 1024) return [a!, b!];
  } catch {
    /* not Linux */
  }
  return [49152, 65535];
}

function canListen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once("error", () => resolve(false));
    s.listen(port, host, () => s.close(() => resolve(true)));
  });
}

function listenAny(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, host, () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/**
 * V8 options for P ranks started on a host of `cores` cores. When the ranks fill every core, V8's
 * background optimizing compiler has no core of its own: a rank's hot collective loop is compiled on a
 * thread that takes the core of a rank (its own or a peer's) that is spinning or about to be woken, and
 * every peer waits for it. Measured on 2 vCPUs with 4 ranks (bench/shm.mjs protocol, 8 interleaved runs
 * each): the median allreduce of one number over the first 2,000 ops after start-up 19.5 µs (15-47) by
 * default, 14.5 µs (12-16) with the compile done in the rank's own turn; the steady state and the tutorial
 * under `--np 2` unchanged. With a core to spare the background compile is free, so it stays on.
 */
export function rankNodeFlags(np: number, cores: number = availableParallelism()): string[] {
  return np >= cores ? ["--no-concurrent-recompilation"] : [];
}

const LAUNCHER_VARS = /^(SLURM_|OMPI_|PMI_|PMIX_|MPI_LOCAL|TESSERA_(RANK|SIZE|LOCAL_RANK|TOKEN|COORDINATOR|RENDEZVOUS|RENDEZVOUS_DIR)$)/;

export async function launchLocal(np: number, argv: string[], opts: LaunchOptions = {}): Promise<number> {
  if (!Number.isInteger(np) || np < 1 || np > 4096) {
    throw commError("INVALID_ARGUMENT", `--np ${np} is not a whole number of ranks between 1 and 4096`);
  }
  const port = opts.port ?? (await freePort());
  const token = newToken();
  const dir = mkdtempSync(join(tmpdir(), "tessera-ranks-")); // 0700: only this user may list or write it
  const base: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !LAUNCHER_VARS.test(k)) base[k] = v;
  for (const [k, v] of Object.entries(opts.env ?? {})) {
    if (v === undefined) delete base[k];
    else base[k] = v;
  }
  const children: ChildProcess[] = [];
  const graceMs = opts.killGraceMs ?? 2000;
  const stopGraceMs = opts.stopGraceMs ?? 1000;
  let result: number | null = null;
  let stopping = false;
  const killTimers: NodeJS.Timeout[] = [];

  const stopAll = (sig: NodeJS.Signals) => {
    for (const c of children) {
      if (c.exitCode === null && c.signalCode === null && c.pid) {
        try {
          process.kill(c.pid, sig);
          // a stopped (frozen) rank acts on the signal only once continued, as SLURM does it
          if (sig !== "SIGKILL") process.kill(c.pid, "SIGCONT");
        } catch {
          /* gone */
        }
      }
    }
  };
  const forward = (sig: NodeJS.Signals) => () => {
    stopping = true;
    stopAll(sig);
    const t = setTimeout(() => stopAll("SIGKILL"), graceMs);
    t.unref();
    killTimers.push(t);
  };
  const onInt = forward("SIGINT");
  const onTerm = forward("SIGTERM");
  process.on("SIGINT", onInt);
  process.on("SIGTERM", onTerm);

  const nodeArgs = [...rankNodeFlags(np), ...(opts.execArgv ?? [])];
  try {
    const exits = Array.from({ length: np }, (_, rank) => {
      const child = spawn(process.execPath, [...nodeArgs, opts.script ?? RUN_JS, ...argv], {
        stdio: opts.stdio ?? "inherit",
        env: {
          ...base,
          TESSERA_RANK: String(rank),
          TESSERA_SIZE: String(np),
          TESSERA_LOCAL_RANK: String(rank),
          TESSERA_TOKEN: token,
          TESSERA_COORDINATOR: `127.0.0.1:${port}`,
          TESSERA_RENDEZVOUS_DIR: dir,
        },
      });
      children.push(child);
      opts.onSpawn?.(child, rank);
      return new Promise<number>((resolve) => {
        child.once("error", (err) => {
          process.stderr.write(`tessera: rank ${rank} could not start: ${err.message}\n`);
          resolve(127);
        });
        child.once("exit", (code, signal) => {
          const rc = code ?? (signal ? 128 + (constants.signals[signal] ?? 0) : 1);
          if (rc !== 0 && result === null) {
            result = rc;
            if (!stopping) {
              const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
              process.stderr.write(`tessera: rank ${rank} ${how}; stopping the other ${np - 1} rank${np === 2 ? "" : "s"}\n`);
              stopping = true;
              // the others normally notice at once and exit with their own message: SIGTERM only those that do not
              const term = setTimeout(() => {
                stopAll("SIGTERM");
                const t = setTimeout(() => stopAll("SIGKILL"), graceMs);
                t.unref();
                killTimers.push(t);
              }, stopGraceMs);
              term.unref();
              killTimers.push(term);
            }
          }
          resolve(rc);
        });
      });
    });
    const codes = await Promise.all(exits);
    return result ?? codes.find((c) => c !== 0) ?? 0;
  } finally {
    for (const t of killTimers) clearTimeout(t);
    rmSync(dir, { recursive: true, force: true });
    process.off("SIGINT", onInt);
    process.off("SIGTERM", onTerm);
  }
}
