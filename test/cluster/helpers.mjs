// Shared by the cluster tests: clusters and worker processes that are always stopped (PIDs tracked,
// killed in finally), and bit-for-bit comparison of results.
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import * as assert from "uvu/assert";
import { LocalCluster, NDArray } from "../../dist/index.js";

export const WORKER = fileURLToPath(new URL("../../dist/worker.js", import.meta.url));

/** Every worker process a test started, killed by PID at the end whatever happened. */
const started = new Set();
export function killAll() {
  for (const pid of started) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      /* gone already */
    }
  }
  started.clear();
}

/** A LocalCluster whose lines are kept (not printed) and whose worker PIDs are tracked. */
export async function localCluster(opts = {}) {
  const lines = [];
  const cluster = await LocalCluster.start({ workers: 2, threadsPerWorker: 1, log: (l) => lines.push(l), ...opts });
  const track = () => cluster.pids.forEach((p) => started.add(p));
  track();
  cluster.scheduler.onWorkers(() => track());
  return { cluster, lines, track };
}

/** Starts `node dist/worker.js ...args`; `exit` resolves with its code and output. */
export function startWorker(args, env = {}) {
  const child = spawn(process.execPath, [WORKER, ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  started.add(child.pid);
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (out += d));
  const exit = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal, out })));
  return { child, pid: child.pid, exit };
}

/** A port nothing listens on (it was free a moment ago). */
export async function freePort() {
  const s = createServer();
  await new Promise((r) => s.listen(0, "127.0.0.1", r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Resolves once cond() holds (checked every 50 ms), or fails after `ms`. */
export async function until(cond, ms, what) {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) assert.unreachable(`${what} within ${ms / 1000} s`);
    await sleep(50);
  }
  return (Date.now() - t0) / 1000;
}

/** Results equal bit for bit: numbers by Object.is, NDArrays by shape, dtype and bytes. */
export function sameBits(a, b, what) {
  if (a instanceof NDArray || b instanceof NDArray) {
    assert.ok(a instanceof NDArray && b instanceof NDArray, `${what}: both NDArrays`);
    assert.equal(a.shape, b.shape, `${what}: shape`);
    assert.is(a.dtype, b.dtype, `${what}: dtype`);
    const x = Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength);
    const y = Buffer.from(b.data.buffer, b.data.byteOffset, b.data.byteLength);
    assert.ok(x.equals(y), `${what}: the same bytes`);
    return;
  }
  assert.ok(Object.is(a, b), `${what}: ${a} is ${b}`);
}
