// NDArray operations inside mapBlocks functions run on the worker's shared memory (no copies); arrays
// made there die with their block and say so instead of reading reused memory.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { random, fromArray, compute } from "../../dist/index.js";

test("chained NDArray operations inside mapBlocks match the same chain outside", async () => {
  const x = random.random([300, 200], { chunks: [70, 90], seed: 5 });
  const viaBlocks = x.mapBlocks((b) => b.mul(3).add(1).sqrt().sub(b));
  const direct = x.mul(3).add(1).sqrt().sub(x);
  const [a, b] = await compute(viaBlocks, direct);
  assert.equal(a.shape, [300, 200]);
  assert.ok(a.data.every((v, i) => Object.is(v, b.data[i])), "bit-identical");
});

test("reductions of a block inside mapBlocks (eager, in the block's memory)", async () => {
  const x = fromArray(Float64Array.from({ length: 60 }, (_, i) => i), { shape: [6, 10], chunks: [2, 10] });
  // each block replaced by its row sums broadcast back
  const y = x.mapBlocks((b) => b.sub(b.sum({ axis: 1, keepdims: true })));
  const r = await y.compute();
  for (let row = 0; row < 6; row++) {
    const s = Array.from({ length: 10 }, (_, j) => row * 10 + j).reduce((p, q) => p + q, 0);
    for (let j = 0; j < 10; j++) assert.is(r.data[row * 10 + j], row * 10 + j - s);
  }
});

test("an NDArray kept past its block is RELEASED, not silently stale", async () => {
  const x = random.random([40, 40], { chunks: 20, seed: 1 });
  // the function smuggles a block out through globalThis of the worker, then reads it in the next block
  const y = x.mapBlocks((b, info) => {
    const prev = globalThis.__kept;
    globalThis.__kept = b.add(0);
    if (prev && info.blockIndex.join() !== "0,0") prev.sum();
    return b;
  });
  const err = await y.sum().compute({ workers: 1 }).then(() => null, (e) => e);
  assert.ok(err, "expected a failure");
  assert.is(err.code, "RELEASED", err.message); // the README's code, not TASK_FAILED
  assert.match(err.message, /block is done/);
  assert.match(err.message, /block \[\d+, \d+\]/, "names the block it happened in");
});

test("copy() keeps an NDArray beyond its block", async () => {
  const x = random.random([40, 40], { chunks: 20, seed: 1 });
  const y = x.mapBlocks((b, info) => {
    const prev = globalThis.__copied;
    globalThis.__copied = b.copy();
    return prev && info.blockIndex.join() !== "0,0" ? b.mul(0).add(prev.shape[0]) : b.mul(0).add(20);
  });
  assert.is(await y.sum({}).compute({ workers: 1 }), 20 * 1600);
});

test.run();
