// adapt() on a LocalCluster: workers come while work waits and go once idle, within [minimum, maximum];
// no new request while the workers asked for are still on their way.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Client, random } from "../../dist/index.js";
import { killAll, localCluster, sameBits, until } from "./helpers.mjs";

test("adapt grows from 0 for a compute and shrinks back to the minimum once idle", async () => {
  const { cluster, track } = await localCluster({ workers: 0 });
  const client = await Client.connect(cluster);
  try {
    const spawned = [];
    cluster.scheduler.onWorkers((ev, w) => ev === "join" && spawned.push(w.pid));
    const ad = cluster.adapt({ minimum: 0, maximum: 2, intervalMs: 100, idleMs: 1000 });
    assert.is(ad.maximum, 2);
    const x = random.random([400, 400], { chunks: 50, seed: 5 });
    const y = x.mapBlocks((b) => {
      const t = Date.now();
      while (Date.now() - t < 10);
      return b.add(1);
    }, { trace: false }).sum();
    const f = client.compute(y);
    await until(() => cluster.workers.length > 0, 20_000, "a worker started for the waiting compute");
    track();
    sameBits(await f.result({ timeout: 60_000 }), await x.add(1).sum().compute({ scheduler: "threads" }), "computed on adaptive workers");
    assert.ok(spawned.length <= 2, `at most the maximum (${spawned.length} started)`);
    await until(() => cluster.pids.length === 0, 15_000, "idle workers retired down to the minimum");
    assert.is(cluster.workers.length, 0);
    assert.throws(() => cluster.adapt({ minimum: 3, maximum: 1 }), (e) => e.code === "INVALID_ARGUMENT");
    // scale() by hand ends adaptive scaling
    cluster.adapt({ minimum: 1, maximum: 1, intervalMs: 100 });
    await until(() => cluster.workers.length === 1, 20_000, "the minimum is kept");
    track();
    await cluster.scale(0);
    await new Promise((r) => setTimeout(r, 500));
    assert.is(cluster.pids.length, 0, "adapt no longer runs after scale()");
  } finally {
    await client.close();
    await cluster.close();
    killAll();
  }
});

test.run();
