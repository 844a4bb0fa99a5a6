// persist() on the cluster: the chunks stay on the workers, later computes read them there (bit for bit
// what a local compute gives), a chunk lost with a worker is recomputed from its lineage, and the
// chunks go when the client closes.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Client, random } from "../../dist/index.js";
import { killAll, localCluster, sameBits, until } from "./helpers.mjs";

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

const x = random.random([600, 400], { chunks: 100, seed: 31 });
const y = x.mapBlocks((b) => b.mul(3).add(1), { trace: false });

test("client.persist: the chunks stay on the workers; computes on them give the local bits", async () => {
  const p = await env.client.persist(y);
  assert.equal(p.shape, [600, 400]);
  assert.equal(p.chunks, y.chunks);
  for (const [what, a, b] of [
    ["sum", p.sum(), y.sum()],
    ["mean along axis 0", p.mean({ axis: 0 }), y.mean({ axis: 0 })],
    ["transposed with the original", p.T.sub(x.T).max({ axis: 1 }), y.T.sub(x.T).max({ axis: 1 })],
  ]) sameBits(await env.client.compute(a).result(), await b.compute({ scheduler: "threads" }), what);
  // the same persisted array read twice in one plan, and again later
  sameBits(await env.client.compute(p.add(p).sum()).result(), await y.add(y).sum().compute({ scheduler: "threads" }), "twice in one plan");
  // a local compute cannot read it
  try {
    await p.sum().compute({ scheduler: "threads" });
    assert.unreachable("a local compute refuses it");
  } catch (e) {
    assert.is(e.code, "INVALID_ARGUMENT");
    assert.match(e.message, /persisted on a cluster: compute it with its client/);
  }
});

test("a worker holding persisted chunks is killed: they are recomputed, the result is the same", async () => {
  const p = await env.client.persist(y);
  const expected = await y.sum({ axis: 1 }).compute({ scheduler: "threads" });
  sameBits(await env.client.compute(p.sum({ axis: 1 })).result(), expected, "before");
  const before = env.cluster.scheduler.stats.tasksRecomputed;
  const victim = env.cluster.workers[0];
  process.kill(victim.pid, "SIGKILL");
  await until(() => !env.cluster.workers.some((w) => w.pid === victim.pid), 10_000, "the killed worker noticed");
  sameBits(await env.client.compute(p.sum({ axis: 1 })).result(), expected, "after the loss");
  assert.ok(env.cluster.scheduler.stats.tasksRecomputed > before, "persisted chunks recomputed from their lineage");
  await until(() => env.cluster.workers.length === 2, 20_000, "a replacement joined");
  env.track();
});

test("a worker holding persisted chunks is killed while a compute reads them: the readers wait for the recomputed chunks", async () => {
  const p = await env.client.persist(y);
  const slow = (a) => a.mapBlocks((b) => {
    const t = Date.now();
    while (Date.now() - t < 25);
    return b.sqrt();
  }, { trace: false }).sum({ axis: 0 });
  const expected = await slow(y).compute({ scheduler: "threads" });
  const victim = env.cluster.workers[1];
  let killed = false;
  const f = env.client.compute(slow(p), {
    progress: (e) => {
      if (!killed && e.done >= 6) {
        killed = true;
        process.kill(victim.pid, "SIGKILL");
      }
    },
  });
  sameBits(await f.result(), expected, "read across the loss");
  assert.ok(killed, "killed mid-compute");
  await until(() => env.cluster.workers.length === 2, 20_000, "a replacement joined");
  env.track();
});

test("asDefault: x.persist() persists on the cluster; its chunks go when the client closes", async () => {
  const client = await Client.connect(env.cluster);
  client.asDefault();
  const p = await y.persist();
  assert.is(await p.sum().compute(), await env.client.compute(y.sum()).result());
  await client.close();
  const f = env.client.compute(p.sum());
  await f.settled();
  assert.is(f.status, "error");
  assert.is(f.exception().code, "RELEASED");
});

test.run();
