// Lost work: a worker killed by PID mid-compute (SIGKILL) → its chunks still needed are recomputed
// elsewhere and the result is the same bit for bit; a task that kills 3 workers → KILLED_WORKER naming
// it; a worker that stops answering (SIGSTOP) is lost by heartbeat timeout; scaling during a compute.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Client, random } from "../../dist/index.js";
import { killAll, localCluster, sameBits, until } from "./helpers.mjs";

let env;
test.before(async () => {
  env = await localCluster({ peerTimeoutMs: 2000, heartbeatMs: 500 });
  env.client = await Client.connect(env.cluster);
});
test.after(async () => {
  try {
    await env?.client?.close();
    await env?.cluster?.close();
  } finally {
    killAll();
  }
});

/** mapBlocks on real blocks that take a while (so there is a "mid-compute"), then reductions. */
const slowPlusOne = (x) =>
  x.mapBlocks((b) => {
    const t = Date.now();
    while (Date.now() - t < 25);
    return b.add(1);
  }, { trace: false });

test("a worker killed mid-compute (SIGKILL by PID): the lost chunks are recomputed, the result is the same bit for bit", async () => {
  const x = random.random([800, 600], { chunks: [100, 100], seed: 11 });
  const y = slowPlusOne(x);
  const expected = await y.mean({ axis: 0 }).compute({ scheduler: "threads" });
  const victim = env.cluster.workers[0];
  const before = env.cluster.scheduler.stats.tasksRecomputed;
  let killedAt = -1;
  const f = env.client.compute(y.mean({ axis: 0 }), {
    progress: (e) => {
      if (killedAt < 0 && e.done >= 12) {
        killedAt = e.done;
        process.kill(victim.pid, "SIGKILL");
      }
    },
  });
  const got = await f.result();
  assert.ok(killedAt > 0 && killedAt < 48, `killed mid-compute (after ${killedAt} of 48 tasks)`);
  sameBits(got, expected, "after a lost worker");
  assert.ok(env.cluster.scheduler.stats.tasksRecomputed > before, "tasks were recomputed from their lineage");
  assert.ok(!env.cluster.workers.some((w) => w.pid === victim.pid), "the killed worker is gone from the list");
  // the cluster replaces it
  await until(() => env.cluster.workers.length === 2, 20_000, "a replacement worker joined");
  env.track();
  assert.ok(env.lines.some((l) => l.includes(`worker process ${victim.pid} ended (SIGKILL)`)), env.lines.join("\n"));
});

test("a lost worker is noticed at once when its connection closes, and within seconds when it falls silent (heartbeats)", async () => {
  const [a] = env.cluster.workers;
  const t0 = Date.now();
  process.kill(a.pid, "SIGKILL");
  await until(() => !env.cluster.workers.some((w) => w.pid === a.pid), 10_000, "a killed worker noticed");
  const closeNoticed = (Date.now() - t0) / 1000;
  await until(() => env.cluster.workers.length === 2, 20_000, "a replacement joined");
  env.track();
  const [b] = env.cluster.workers;
  const t1 = Date.now();
  process.kill(b.pid, "SIGSTOP");
  try {
    await until(() => !env.cluster.workers.some((w) => w.pid === b.pid), 10_000, "a silent (stopped) worker noticed");
  } finally {
    process.kill(b.pid, "SIGKILL");
  }
  const silenceNoticed = (Date.now() - t1) / 1000;
  assert.ok(silenceNoticed >= 1, `not before the heartbeat timeout (${silenceNoticed} s)`);
  console.log(`      (a killed worker noticed in ${closeNoticed.toFixed(2)} s, a stopped one in ${silenceNoticed.toFixed(2)} s)`);
  await until(() => env.cluster.workers.length === 2, 20_000, "a replacement joined");
  env.track();
});

test("a task that kills 3 workers fails its compute with KILLED_WORKER naming it; the cluster goes on", async () => {
  const x = random.random([300, 300], { chunks: 100, seed: 12 });
  const f = env.client.compute(
    x.mapBlocks((b, info) => {
      if (info.blockIndex[0] === 1 && info.blockIndex[1] === 2) process.kill(process.pid, "SIGKILL");
      return b;
    }).sum(),
  );
  await f.settled();
  assert.is(f.status, "error");
  const e = f.exception();
  assert.is(e.code, "KILLED_WORKER");
  assert.match(e.message, /task 5 \(block \[1, 2\]\) of mapBlocks .* 3 workers that died/);
  await until(() => env.cluster.workers.length === 2, 20_000, "replacements joined");
  env.track();
  const s = env.client.submit((n) => {
    if (n === 3) process.kill(process.pid, "SIGKILL");
    return n;
  }, 3);
  await s.settled();
  assert.is(s.exception()?.code, "KILLED_WORKER");
  await until(() => env.cluster.workers.length === 2, 20_000, "replacements joined");
  env.track();
  sameBits(await env.client.compute(x.sum()).result(), await x.sum().compute({ scheduler: "threads" }), "the cluster computes on");
});

test("scale from 1 to 3 during a compute, then down to 1: the same result", async () => {
  const x = random.random([600, 600], { chunks: 100, seed: 13 });
  const y = slowPlusOne(x).std({ axis: 1 });
  const expected = await y.compute({ scheduler: "threads" });
  await env.cluster.scale(1);
  assert.is(env.cluster.workers.length, 1);
  const f = env.client.compute(y);
  const up = env.cluster.scale(3);
  env.track();
  await up;
  env.track();
  assert.is(env.cluster.workers.length, 3);
  sameBits(await f.result(), expected, "scaled up during the compute");
  const g = env.client.compute(y);
  await env.cluster.scale(1); // the retired workers hand their chunks off first
  sameBits(await g.result(), expected, "scaled down during the compute");
  assert.is(env.cluster.workers.length, 1);
  await env.cluster.scale(2);
  env.track();
});

test.run();
