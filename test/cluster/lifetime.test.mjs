// --lifetime: a worker retires before its time is up (a batch job's walltime), handing off the chunks
// still needed to the other workers: nothing is recomputed and the result is the same bit for bit.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Client, random } from "../../dist/index.js";
import { killAll, localCluster, sameBits, startWorker, until } from "./helpers.mjs";

test("a worker reaching its lifetime mid-compute hands its chunks off and leaves; nothing is recomputed", async () => {
  const { cluster, lines } = await localCluster({ workers: 1 });
  const client = await Client.connect(cluster);
  try {
    const x = random.random([1000, 800], { chunks: 100, seed: 21 });
    const y = x.mapBlocks((b) => {
      const t = Date.now();
      while (Date.now() - t < 100);
      return b.add(1);
    }, { trace: false }).sum({ axis: 0 });
    const expected = await x.add(1).sum({ axis: 0 }).compute({ scheduler: "threads" }); // the same bits as mapBlocks(b => b.add(1))
    // 80 tasks of 100 ms, begun on one worker; a second joins and retires 2 s later, mid-compute (the
    // partials of the sums wait for the last task of their column)
    const f = client.compute(y);
    const w = startWorker(["--scheduler", cluster.address, "--nthreads", "1", "--lifetime", "2s", "--lifetime-stagger", "0"], { TESSERA_TOKEN: cluster.scheduler.token });
    await until(() => cluster.workers.length === 2, 15_000, "the worker with a lifetime joined");
    const { code } = await w.exit;
    assert.is(code, 0, "the retired worker exits 0");
    assert.is(f.status, "pending", "it left mid-compute");
    sameBits(await f.result(), expected, "after a hand-off");
    const s = cluster.scheduler.stats;
    assert.ok(s.chunksHandedOff > 0, `chunks handed off (${JSON.stringify(s)})`);
    assert.is(s.tasksRecomputed, 0, "nothing recomputed");
    assert.is(s.workersLost, 0, "a retired worker is not a lost one");
    assert.ok(lines.some((l) => /worker \d+ retires \(its lifetime \(2\.0 s\) is over\): handing off its chunks/.test(l)), lines.join("\n"));
  } finally {
    await client.close();
    await cluster.close();
    killAll();
  }
});

test.run();
