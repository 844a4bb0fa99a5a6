// Futures on a LocalCluster: submit / map / gather / wait / asCompleted / cancel, and every status:
// pending, finished, error (the message of what threw; other futures unaffected), cancelled, lost.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Client, Future, LocalCluster, NDArray, asCompleted, fromArray, random, wait } from "../../dist/index.js";
import { killAll, localCluster, sameBits, sleep } from "./helpers.mjs";

let env;
test.before(async () => {
  env = await localCluster();
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

test("submit and map run functions on the workers; gather collects their values", async () => {
  const c = env.client;
  const f = c.submit((a, b) => a * b + 1, 6, 7);
  assert.ok(f instanceof Future);
  assert.is(await f.result(), 43);
  assert.is(f.status, "finished");
  const squares = c.map((v) => v * v, [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.equal(await c.gather(squares), [1, 4, 9, 16, 25, 36, 49, 64]);
  // a future as an argument: its value is passed
  assert.is(await c.submit((a, b) => a + b, f, 100).result(), 143);
  // async functions, structured values, NDArrays both ways
  const o = await c.submit(async (n) => ({ n, list: [n, n + 1], typed: new Float32Array([n]) }), 3).result();
  assert.equal(o, { n: 3, list: [3, 4], typed: new Float32Array([3]) });
  const arr = await env.client.compute(fromArray([[1, 2], [3, 4]]).add(0)).result();
  const back = await c.submit((a) => a.mul(2).add(1), arr).result();
  assert.ok(back instanceof NDArray);
  assert.equal(Array.from(back.data), [3, 5, 7, 9]);
  // a compute's future as an argument
  const s = env.client.compute(random.random([100], { chunks: 10, seed: 1 }).sum());
  sameBits(await c.submit((v) => v, s).result(), await s.result(), "a compute result passed on");
});

test("a function that throws: status error with its message; the other futures are unaffected", async () => {
  const c = env.client;
  const bad = c.submit((n) => {
    throw new RangeError(`no ${n} here`);
  }, 42);
  const good = c.map((v) => v + 1, [1, 2, 3]);
  await bad.settled();
  assert.is(bad.status, "error");
  try {
    await bad.result();
    assert.unreachable("it rejects");
  } catch (e) {
    assert.match(e.message, /RangeError: no 42 here/);
  }
  assert.match(bad.exception().message, /no 42 here/);
  assert.equal(await c.gather(good), [2, 3, 4]);
  assert.equal(await c.gather([...good, bad], { errors: "skip" }), [2, 3, 4]);
  // a dependency that failed fails its dependents
  const dep = c.submit((v) => v, bad);
  await dep.settled();
  assert.is(dep.status, "error");
  assert.match(dep.exception().message, /an argument of submit-\d+ failed: .*no 42 here/);
  // a compute whose mapBlocks function throws: error, with the task and the message
  const x = random.random([200, 200], { chunks: 50, seed: 2 });
  const failing = env.client.compute(x.mapBlocks((b, info) => {
    if (info.blockIndex[0] === 2) throw new Error("block two is cursed");
    return b;
  }).sum());
  const fine = env.client.compute(x.sum());
  await failing.settled();
  assert.is(failing.status, "error");
  assert.match(failing.exception().message, /task \d+ \(block \[2, \d\]\) of mapBlocks.*block two is cursed/);
  assert.is(failing.exception().code, "TASK_FAILED");
  sameBits(await fine.result(), await x.sum().compute({ scheduler: "threads" }), "the other compute");
});

test("cancel: a pending future is cancelled, result() rejects with CANCELLED; a finished one keeps its value", async () => {
  const c = env.client;
  const slow = c.submit(() => new Promise((r) => setTimeout(() => r("late"), 3000)));
  await sleep(100);
  assert.is(slow.status, "pending");
  slow.cancel();
  assert.is(slow.status, "cancelled");
  try {
    await slow.result();
    assert.unreachable();
  } catch (e) {
    assert.is(e.code, "CANCELLED");
  }
  const done = c.submit(() => 1);
  await done.result();
  done.cancel();
  assert.is(done.status, "finished");
  assert.is(await done.result(), 1);
  // a compute cancelled while it runs
  const x = random.random([400, 400], { chunks: 50, seed: 3 });
  const f = env.client.compute(x.mapBlocks((b) => {
    const t = Date.now();
    while (Date.now() - t < 20);
    return b;
  }, { trace: false }).sum());
  await sleep(100);
  f.cancel();
  assert.is(f.status, "cancelled");
  // the cluster goes on
  sameBits(await env.client.compute(x.sum()).result(), await x.sum().compute({ scheduler: "threads" }), "after a cancel");
});

test("wait (ALL_COMPLETED, FIRST_COMPLETED, timeout) and asCompleted (in the order they finish)", async () => {
  const c = env.client;
  const after = (ms, v) => c.submit((ms, v) => new Promise((r) => setTimeout(() => r(v), ms)), ms, v);
  const fast = after(50, "fast");
  const slow = after(1500, "slow");
  const first = await wait([slow, fast], { returnWhen: "FIRST_COMPLETED" });
  assert.equal(first.done, [fast]);
  assert.equal(first.notDone, [slow]);
  try {
    await wait([slow], { timeout: 50 });
    assert.unreachable();
  } catch (e) {
    assert.is(e.code, "TIMEOUT");
  }
  try {
    await slow.result({ timeout: 10 });
    assert.unreachable();
  } catch (e) {
    assert.is(e.code, "TIMEOUT");
    assert.is(slow.status, "pending", "a timed-out result() leaves the future alone");
  }
  const all = await wait([slow, fast]);
  assert.is(all.done.length, 2);
  assert.is(all.notDone.length, 0);
  const order = [];
  // (two workers with one call thread each: two calls at a time)
  for await (const f of asCompleted([after(700, "b"), after(10, "a")])) order.push(await f.result());
  assert.equal(order, ["a", "b"]);
});

test("lost: a cluster that closes under pending work; closed clients refuse work", async () => {
  const empty = await LocalCluster.start({ workers: 0, log: () => {} });
  const client = await Client.connect(empty);
  const f = client.compute(random.random([10], { chunks: 5 }).sum());
  const g = client.submit(() => 1);
  await sleep(100);
  assert.is(f.status, "pending");
  await empty.close();
  await empty.close(); // safe twice
  assert.is(f.status, "lost");
  assert.is(g.status, "lost");
  try {
    await f.result();
    assert.unreachable();
  } catch (e) {
    assert.is(e.code, "CLUSTER_CLOSED");
  }
  await client.close();
  try {
    client.submit(() => 1);
    assert.unreachable();
  } catch (e) {
    assert.is(e.code, "CLIENT_CLOSED");
  }
  // a client closing cancels what it still has pending
  const c2 = await Client.connect({ log: () => {} });
  const p = c2.submit(() => 2);
  await c2[Symbol.asyncDispose]();
  assert.is(p.status, "cancelled");
  assert.is(p.exception().code, "CLIENT_CLOSED");
});

test.run();
