// A worker's memory limit: the scheduler keeps each worker's chunks within half its kernel memory
// (as a local run does), so a pipeline whose chunks would not all fit at once waits for releases instead
// of failing with TOO_LARGE; the result is the same bits as a local compute.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Client, random } from "../../dist/index.js";
import { killAll, localCluster, sameBits } from "./helpers.mjs";

test("chunks that do not all fit a worker's memory limit wait for memory rather than fail", async () => {
  const { cluster } = await localCluster({ memoryLimit: "160MiB" });
  const client = await Client.connect(cluster);
  try {
    assert.is(cluster.workers[0].memory, 160 * 2 ** 20);
    // 256 blocks of 2 MB, materialized twice (two mapBlocks on real blocks), 32 MB arenas per worker
    const x = random.random([8000, 8000], { chunks: 500, seed: 1 });
    const y = x.mapBlocks((b) => b.add(1), { trace: false }).mapBlocks((b) => b.mul(2), { trace: false }).sum({ axis: 0 });
    const f = client.compute(y);
    sameBits(await f.result(), await x.add(1).mul(2).sum({ axis: 0 }).compute({ scheduler: "threads" }), "within the limit");
  } finally {
    await client.close();
    await cluster.close();
    killAll();
  }
});

test.run();
