/**
 * The command line: the tutorial pipeline with no script, or a user pipeline module.
 * Exit codes: 0 success, 1 a compute error, 2 bad arguments or a script that cannot be loaded.
 */
import { availableParallelism } from "node:os";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import * as tessera from "../index.js";
import { TesseraError } from "../errors.js";
import type { ProgressEvent } from "../scheduler/compute.js";
import { progressBar } from "../scheduler/progress-bar.js";
import { USAGE, UsageError, parseArgs, type RunArgs } from "./args.js";
import { abortWorld, allgatherBytes, closeWorld, initWorld, onWorldFailure, transportReport, worldFailureSent } from "../comm/index.js";
import { launchLocal } from "../comm/launch.js";
import { envLimits } from "../transport/limits.js";
import { useRanks } from "../scheduler/engine.js";
import { kernelsName } from "../kernels/backend.js";
import { formatResult } from "./output.js";
import { serveRanks } from "../dashboard/index.js";
import { NEVER_SETTLED, watchUnsettled } from "./unsettled.js";

/**
 * Progress: --progress shows it (a bar on a TTY, a line per tenth of the work in a log); without the flag,
 * a bar on a TTY once a run has taken over 2 s. `done` ends the bar's line before the result is printed.
 */
function progressOption(a: RunArgs): { progress?: (e: ProgressEvent) => void; done: () => void } {
  // under several ranks only rank 0 reports (srun merges every rank's stderr into one log)
  if (tessera.world.rank !== 0) return { done: () => {} };
  if (a.progress === false || (a.progress === undefined && !process.stderr.isTTY)) return { done: () => {} };
  const bar = progressBar(process.stderr);
  process.on("exit", () => bar.done());
  return { progress: (e) => (a.progress || e.elapsed > 2 ? bar.update(e) : undefined), done: () => bar.done() };
}

async function tutorial(a: RunArgs): Promise<void> {
  if (a.n > 0 && a.chunk > a.n) a.chunk = a.n;
  const t0 = performance.now();
  const x = tessera.random.random([a.n, a.n], { chunks: a.chunk, seed: a.seed });
  const bar = progressOption(a);
  const result = (await x.add(1).sum().compute({ workers: a.workers, progress: bar.progress })) as number;
  bar.done();
  const seconds = (performance.now() - t0) / 1000;
  const elements = a.n * a.n;
  const rate = elements / seconds;
  const workers = a.workers ?? (await import("../scheduler/engine.js")).defaultWorkerCount();
  if (tessera.world.rank !== 0) return;
  if (a.json) {
    console.log(formatResult({ ranks: tessera.world.size, pipeline: "random.random([n, n]).add(1).sum()", n: a.n, chunk: a.chunk, seed: a.seed, workers, result, seconds, elementsPerSecond: rate }, true));
  } else {
    console.log(`random.random([${a.n}, ${a.n}], { chunks: ${a.chunk}, seed: ${a.seed} }).add(1).sum()`);
    console.log(`result:     ${result}`);
    console.log(`elapsed:    ${seconds.toFixed(3)} s`);
    const ranks = tessera.world.size > 1 ? `${tessera.world.size} ranks x ` : "";
    console.log(`throughput: ${(rate / 1e9).toFixed(3)}e9 elements/s (${ranks}${workers} workers)`);
  }
}

async function script(a: RunArgs): Promise<void> {
  const url = pathToFileURL(resolve(a.script!)).href;
  let mod: { default?: unknown };
  try {
    mod = await import(url);
  } catch (e) {
    throw new UsageError(`cannot load script ${a.script}: ${(e as Error).message}`);
  }
  if (typeof mod.default !== "function") throw new UsageError(`script ${a.script} must default-export an async function ({ tessera, argv }) => value`);
  const t0 = performance.now();
  const running = Promise.resolve((mod.default as (ctx: unknown) => unknown)({ tessera, argv: a.scriptArgs }));
  watchUnsettled(running, tessera.world.size > 1, neverSettled);
  let value = await running;
  if (value instanceof tessera.ChunkedArray) {
    // a lazy result is computed (on every rank: compute() is collective), not printed as {}
    const bar = progressOption(a);
    value = await value.compute({ workers: a.workers, progress: bar.progress });
    bar.done();
  }
  const seconds = (performance.now() - t0) / 1000;
  if (tessera.world.rank !== 0) return;
  const out = value instanceof tessera.NDArray ? value.toArray() : value;
  console.log(a.json ? formatResult({ result: out ?? null, seconds }, true) : formatResult(out ?? null, false));
}

/** Set once the world broke: the failure is reported and the process exits when the other ranks were told. */
let worldFailed: Promise<never> | null = null;

/** The script waits for what can never come: say so, make the other ranks stop, exit 1. */
function neverSettled(): void {
  const rank = tessera.world.size > 1 ? ` (rank ${tessera.world.rank})` : "";
  console.error(`run.js: ${NEVER_SETTLED}${rank}`);
  stoppingSelf = true;
  abortWorld(`its script's promise never settled`);
  // a moment for the abort to reach the others (a ref'd timer: the loop may be empty)
  setTimeout(() => process.exit(1), 50);
}

let stoppingSelf = false;

/** Joins the world of ranks when launched as one of many; compute() then splits its chunks among them. */
async function joinRanks(a: RunArgs): Promise<tessera.World> {
  const w = await initWorld({
    interface: a.iface, coordinator: a.coordinator, timeoutMs: a.timeout && a.timeout * 1000,
    collectiveTimeoutMs: a.collectiveTimeout === undefined ? undefined : a.collectiveTimeout * 1000,
    leaveAtExit: false, // main() closes it after the script; a script that never settles is reported (unsettled.ts)
  });
  if (a.verbose) {
    const t = transportReport();
    const how = t.transport === "none" ? "none (one rank)" : t.transport === "ws" ? `ws (${t.why})` : `${t.transport} (shared memory with ranks ${t.localRanks.join(",")}${t.transport === "shm+ws" ? ", WebSockets to the others" : ""})`;
    console.error(`run.js: rank ${w.rank}/${w.size}: transport ${how}`);
    console.error(`run.js: rank ${w.rank}/${w.size}: kernels ${kernelsName()}`);
  }
  if (w.size === 1) return w;
  // whatever the script is doing (a compute, a sleep, a wait of its own), a broken world ends this rank
  onWorldFailure((err) => {
    if (stoppingSelf) return; // this rank's own abort: it said why and exits itself
    console.error(`run.js: ${err.code}: ${err.message}; rank ${w.rank} stops`);
    worldFailed ??= worldFailureSent().then(() => process.exit(1));
  });
  useRanks({
    rank: w.rank,
    size: w.size,
    allgatherBytes: (b) => allgatherBytes(w, b),
    sendBytes: (dest, tag, b) => w.send(b, dest, tag),
    recvBytes: async (source, tag) => (await w.recv(source, tag)) as Uint8Array,
  });
  return w;
}

/**
 * --dashboard: rank 0 (or the one process) serves it, other ranks report to it. Ranks report at least
 * four times per collective timeout (rank 0 waits for each report as a recv does).
 */
async function startDashboard(a: RunArgs, w: tessera.World): Promise<{ stop(): Promise<void> } | null> {
  if (a.dashboard === undefined) return null;
  const timeoutMs = a.collectiveTimeout === undefined ? 600_000 : a.collectiveTimeout * 1000;
  const intervalMs = timeoutMs > 0 ? Math.max(50, Math.min(250, timeoutMs / 4)) : 250;
  return serveRanks(w, { port: a.dashboard, intervalMs });
}

export async function main(argv: string[]): Promise<number> {
  if (argv[0] === "worker") return (await import("./worker.js")).workerMain(argv.slice(1));
  let a: RunArgs;
  try {
    a = parseArgs(argv);
  } catch (e) {
    console.error(`run.js: ${(e as Error).message}`);
    return 2;
  }
  if (a.help) {
    console.log(USAGE);
    return 0;
  }
  if (a.np !== undefined && process.env.TESSERA_RANK === undefined) {
    // the launcher: start np ranks running the same command line without --np
    // ranks share this machine's cores unless told otherwise
    const env = process.env.TESSERA_WORKERS || a.workers ? {} : { TESSERA_WORKERS: String(Math.max(1, Math.floor(availableParallelism() / a.np))) };
    try {
      envLimits(process.env); // refused once here rather than by every rank
    } catch (e) {
      console.error(`run.js: ${(e as TesseraError).code}: ${(e as Error).message}`);
      return 2;
    }
    return launchLocal(a.np, a.rankArgv, { env });
  }
  let dash: { stop(): Promise<void> } | null = null;
  try {
    const w = await joinRanks(a);
    dash = await startDashboard(a, w);
    await (a.script ? script(a) : tutorial(a));
    await dash?.stop();
    dash = null;
    await closeWorld();
    return worldFailed ?? 0; // a script may catch the failure's error; the rank still failed
  } catch (e) {
    if (worldFailed) return worldFailed; // reported by the failure handler, which exits
    if (e instanceof UsageError) {
      console.error(`run.js: ${e.message}`);
      return 2;
    }
    if (e instanceof TesseraError) {
      console.error(`run.js: ${e.code}: ${e.message}`);
      return e.code.startsWith("INVALID") || e.code === "SHAPE_MISMATCH" ? 2 : 1;
    }
    console.error(`run.js: ${(e as Error)?.stack ?? String(e)}`);
    return 1;
  }
}
