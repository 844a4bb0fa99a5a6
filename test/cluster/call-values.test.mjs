// Values of submitted calls stay on the workers that computed them (as in dask): a call that takes another
// call's future as an argument fetches the value from the worker keeping it (not through the scheduler);
// the client gets a value only when it asks (future.result()); a value lost with its worker is computed
// again from its lineage when something still wants it; values nothing wants are dropped on the workers.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Client } from "../../dist/index.js";
import { killAll, localCluster, until } from "./helpers.mjs";

const env = {};
test.before(async () => {
  env.lc = await localCluster({ workers: 2, threadsPerWorker: 1, respawn: false });
  env.cluster = env.lc.cluster;
});
test.after(async () => {
  await env.cluster?.close();
  killAll();
});

const MB8 = 1 << 20; // float64 elements in 8 MiB

test("a chain of calls: the big value moves worker to worker, never through the scheduler until result() asks", async () => {
  const client = await Client.connect(env.cluster, { asDefault: false });
  try {
    const s = env.cluster.scheduler.stats;
    const before = s.valueBytesToScheduler;
    const a = client.submit((n) => new Float64Array(n).fill(1.5), MB8);
    const b = client.submit((v) => v.reduce((t, x) => t + x, 0), a);
    const c = client.submit((v, w) => v.length + w, a, b);
    assert.is(await c.result(), MB8 + 1.5 * MB8);
    assert.is(await b.result(), 1.5 * MB8);
    assert.is(a.status, "finished");
    assert.ok(s.valueBytesToScheduler - before < 1024, `${s.valueBytesToScheduler - before} bytes of values reached the scheduler`);
    const kept = env.cluster.scheduler.keptValues();
    assert.ok(kept.calls >= 3 && kept.bytes > 8 * MB8, JSON.stringify(kept));
    const v = await a.result();
    assert.is(v.length, MB8);
    assert.is(v[MB8 - 1], 1.5);
    assert.ok(s.valueBytesToScheduler - before > 8 * MB8, "result() brought the value");
    assert.is(await a.result(), v, "fetched once, then kept here");
  } finally {
    await client.close();
  }
  // the client closed: nothing of its calls is kept on the workers
  await until(() => env.cluster.scheduler.keptValues().calls === 0, 5000, "the values to be dropped");
});

test("values on two workers feed one call; map over a future; gather", async () => {
  const client = await Client.connect(env.cluster, { asDefault: false });
  try {
    const parts = client.map((k) => Array.from({ length: 1000 }, (_, i) => i * k), [1, 2, 3, 4]);
    const total = client.submit((...xs) => xs.flat().reduce((t, x) => t + x, 0), ...parts);
    assert.is(await total.result(), 499500 * 10);
    const lens = client.map((xs) => xs.length, parts);
    assert.equal(await client.gather(lens), [1000, 1000, 1000, 1000]);
    const workers = new Set(env.cluster.scheduler.workerList.map((w) => env.cluster.scheduler.keptValues(w.id).calls > 0 ? w.id : null).filter(Boolean));
    assert.ok(workers.size >= 1);
  } finally {
    await client.close();
  }
});

test("values lost with their worker are computed again from their lineage when something still wants them", async () => {
  const { cluster } = await localCluster({ workers: 3, threadsPerWorker: 1, respawn: false });
  const client = await Client.connect(cluster, { asDefault: false });
  try {
    const sched = cluster.scheduler;
    const s = sched.stats;
    const seed = client.submit((n) => Array.from({ length: n }, (_, i) => (i * 7919) % 1000), 5000);
    const sq = client.submit((xs) => xs.map((x) => x * x), seed);
    await sq.settled();
    assert.is(sq.status, "finished");
    // kill, by PID, every worker keeping a value (one or two of the three)
    const holders = sched.workerList.filter((w) => sched.keptValues(w.id).calls > 0);
    assert.ok(holders.length >= 1 && holders.length <= 2, `${holders.length} workers keep values`);
    for (const w of holders) process.kill(w.pid, "SIGKILL");
    await until(() => sched.workerList.length === 3 - holders.length, 10_000, "the workers' loss to be noticed");
    assert.ok(s.callsRecomputed >= 1, "no call is computed again");
    const sum = client.submit((xs) => xs.reduce((t, x) => t + x, 0), sq);
    let expected = 0;
    for (let i = 0; i < 5000; i++) expected += ((i * 7919) % 1000) ** 2;
    assert.is(await sum.result({ timeout: 30_000 }), expected);
    const v = await sq.result({ timeout: 30_000 });
    assert.is(v.length, 5000);
    assert.is(v[3], ((3 * 7919) % 1000) ** 2);
    assert.is((await seed.result({ timeout: 30_000 }))[3], (3 * 7919) % 1000);
    assert.is(sched.workerList.length, 3 - holders.length, "the survivors did it");
  } finally {
    await client.close();
    await cluster.close();
  }
});

test.run();
