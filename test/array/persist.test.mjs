/**
 * persist(): values kept in the engine's kernel memory, read in place by later graphs, freed when dropped
 * (also when V8 would not collect the small handles by itself: the engine collects when memory runs out),
 * and a plan that fails part-way leaks nothing.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { fromArray, random, ChunkedArray, compute } from "../../dist/index.js";
import { currentEngine } from "../../dist/scheduler/engine.js";
import { sameArray } from "../helpers/check.mjs";

const heap = async () => {
  if (!currentEngine()) await random.random([2], { seed: 1 }).sum().compute(); // the engine starts with the first compute
  return currentEngine().heap;
};

test("a persisted array has the values, shape, chunks and dtype of the array it came from", async () => {
  const x = random.random([300, 170], { chunks: [64, 50], seed: 7 }).mul(3).sub(1);
  const p = await x.persist();
  assert.ok(p instanceof ChunkedArray);
  assert.equal(p.shape, x.shape);
  assert.equal(p.chunks, x.chunks);
  assert.is(p.dtype, "float64");
  sameArray(await p.compute(), await x.compute());
  const [a, b] = await compute(p.sum(), x.sum());
  assert.ok(Object.is(a, b), `sum of the persisted ${a} vs recomputed ${b}`);
  // later graphs read it like any array, with other chunkings and dtypes
  sameArray(await p.add(p.rechunk(25)).max({ axis: 0 }).compute(), await x.mul(2).max({ axis: 0 }).compute());
  const f = await x.astype("float32").persist();
  assert.is(f.dtype, "float32");
  sameArray(await f.compute(), await x.astype("float32").compute());
});

test("persisting a fromArray array keeps a copy: changing the source afterwards does not change it", async () => {
  const src = Float64Array.from({ length: 40 }, (_, i) => i);
  const p = await fromArray(src, { shape: [8, 5], chunks: 3 }).persist();
  src.fill(-1);
  assert.is(await p.sum().compute(), (39 * 40) / 2);
});

test("the kernel memory of a persisted array is in use while it is held and freed once it is dropped", async () => {
  const h = await heap();
  h.reclaim(); // start from what earlier tests left behind
  const before = h.bytesInUse;
  let p = await random.random([512, 512], { chunks: 128, seed: 1 }).persist();
  assert.ok(h.bytesInUse >= before + 512 * 512 * 8, `in use ${h.bytesInUse}, before ${before}`);
  assert.is(h.reclaim(), 0, "nothing to free while it is held");
  assert.ok((await p.sum().compute()) > 0);
  p = null;
  await new Promise((r) => setImmediate(r)); // a new job: the persist call's own references are gone
  assert.ok(h.reclaim() >= 512 * 512 * 8);
  assert.is(h.bytesInUse, before);
});

test("a loop that persists and drops arrays reuses the memory instead of growing it", async () => {
  const h = await heap();
  h.reclaim();
  const x = random.random([2048, 2048], { chunks: 1024, seed: 3 }); // 32 MiB
  let p = await x.persist();
  const start = h.memory.buffer.byteLength;
  const sums = [];
  for (let i = 0; i < 12; i++) {
    p = await x.add(i).persist(); // the previous p is dropped here
    sums.push(await p.sum().compute());
  }
  const grown = h.memory.buffer.byteLength - start;
  // without collection it would grow by 12 x 32 MiB; the heap sweeps once 64 MiB of persisted arrays are outstanding
  assert.ok(grown <= 4 * 32 * 2 ** 20, `memory grew by ${(grown / 2 ** 20).toFixed(0)} MiB`);
  const base = await x.sum().compute();
  sums.forEach((s, i) => assert.ok(Math.abs(s - (base + i * 2048 * 2048)) < 1e-6 * s, `sum ${i}: ${s}`));
  p = null;
});

test("c = a + b persisted again after c is dropped reuses c's memory, with a and b held (no new pages)", async () => {
  const h = await heap();
  h.reclaim();
  // 96 MiB each: a and b held, as the benchmark's add_existing (whose second round grew by all of c)
  const a = await random.random([3072, 4096], { chunks: 1024, seed: 5 }).persist();
  const b = await random.random([3072, 4096], { chunks: 1024, seed: 6 }).persist();
  let c = await a.add(b).persist();
  const want = await c.sum().compute();
  c = null;
  await new Promise((r) => setImmediate(r)); // the persist call's own references are gone
  const before = h.memory.buffer.byteLength;
  c = await a.add(b).persist();
  const grown = h.memory.buffer.byteLength - before;
  assert.ok(grown < 32 * 2 ** 20, `memory grew by ${(grown / 2 ** 20).toFixed(0)} MiB instead of taking the dropped c's back`);
  assert.is(await c.sum().compute(), want);
});

test.run();
