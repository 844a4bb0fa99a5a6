// Traced mapBlocks: a function that only uses elementwise methods of its block is traced once and fused
// into the graph (no mapBlocks layer, no stored block); anything else runs on real blocks in the
// workers. Both paths give the same values, bit for bit.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { random, fromArray, arange, compute } from "../../dist/index.js";
import { lower } from "../../dist/graph/lower.js";

const kinds = (a) => lower([{ node: a.node, chunks: a.chunks }]).plan.layers.map((l) => l.kind);
const traced = (a) => !kinds(a).includes("mapBlocks");
const bits = (nd) => Array.from(new Uint8Array(nd.data.buffer, nd.data.byteOffset, nd.data.byteLength));

test("the tutorial's x.mapBlocks(b => b.add(1)).sum() is traced: one fused kernel, the same bits as x.add(1).sum()", async () => {
  const x = random.random([1000, 1000], { chunks: 250, seed: 42 });
  const y = x.mapBlocks((b) => b.add(1));
  assert.ok(traced(y), `layers ${kinds(y)}`);
  assert.equal(kinds(y.sum()), ["program", "combine"]);
  const [a, b, c] = await compute(y.sum(), x.add(1).sum(), x.mapBlocks((b) => b.add(1), { trace: false }).sum());
  assert.ok(Object.is(a, b), `${a} vs ${b}`);
  assert.ok(Object.is(a, c), `traced ${a} vs run on blocks ${c}`);
});

test("elementwise chains of every dtype, with args and booleans, traced and run on blocks, agree bit for bit", async () => {
  const x = random.normal(0, 3, [97, 61], { chunks: [[30, 30, 37], [20, 41]], seed: 7 });
  const cases = [
    [(b, info) => b.mul(info.args[0]).sub(info.args[1]).abs().sqrt(), { args: [2.5, 1] }],
    [(b) => b.astype("float32").mul(3).add(0.1), { dtype: "float32" }],
    [(b) => b.astype("int32").mul(7).add(-3), { dtype: "int32" }],
    [(b) => b.gt(0).not(), { dtype: "bool" }],
    [(b) => b.clip(-1, null).exp().log().maximum(b.neg()), {}],
    [(b) => b.copy().add(true), {}],
    [(b) => b.isnan().astype("float64").add(b.tanh()), {}],
  ];
  for (const [fn, opts] of cases) {
    const t = x.mapBlocks(fn, opts);
    const r = x.mapBlocks(fn, { ...opts, trace: false });
    assert.ok(traced(t), `${fn} should trace`);
    assert.ok(!traced(r), "trace: false runs on blocks");
    const [a, b] = await compute(t, r);
    assert.is(a.dtype, b.dtype);
    assert.equal(bits(a), bits(b), `${fn}`);
  }
});

test("functions that are not elementwise on their block run on real blocks (and give their per-block results)", async () => {
  const x = arange(24, { dtype: "float64", chunks: 6 });
  const fallbacks = [
    (b) => { const v = b.data; return b.add(v[0]); },
    (b, info) => b.add(info.blockIndex[0]),
    (b, info) => b.add(info.offset[0]),
    (b) => b.sub(b.mean()),
    (b) => b.flip(),
    (b) => { console.log("side effect"); return b; },
    (b) => { globalThis.__seen = (globalThis.__seen ?? 0) + 1; return b; },
    (b) => b.add(Date.now() * 0),
    async (b) => b.add(1),
    (b) => b.get(0) === 0 ? b : b.add(1),
  ];
  for (const fn of fallbacks) assert.ok(!traced(x.mapBlocks(fn)), `${fn} must not trace`);
  // per-block semantics kept: each block minus its own first element
  const r = await x.mapBlocks((b) => b.sub(b.data[0])).compute();
  assert.equal(Array.from(r.data), Array.from({ length: 24 }, (_, i) => i % 6));
  const f = await x.mapBlocks((b) => b.flip()).compute();
  assert.equal(Array.from(f.data).slice(0, 6), [5, 4, 3, 2, 1, 0]);
  // a function returning another dtype than declared is not traced: the workers report DTYPE_MISMATCH
  const bad = x.mapBlocks((b) => b.gt(1));
  assert.ok(!traced(bad));
  const e = await bad.compute().then(() => null, (err) => err);
  assert.is(e?.code, "DTYPE_MISMATCH");
});

test("a traced block's shape is known when all blocks have one shape; otherwise the function runs on blocks", async () => {
  const even = fromArray(new Float64Array(24), { shape: [4, 6], chunks: [2, 3] });
  const uneven = fromArray(new Float64Array(24), { shape: [4, 6], chunks: [3, 3] });
  const fn = (b) => b.add(b.shape[0] * 10 + b.shape[1]);
  assert.ok(traced(even.mapBlocks(fn)));
  assert.ok(!traced(uneven.mapBlocks(fn)));
  const [a, b] = await compute(even.mapBlocks(fn), uneven.mapBlocks(fn));
  assert.ok(a.data.every((v) => v === 23));
  assert.equal(Array.from(b.data.slice(0, 6)), [33, 33, 33, 33, 33, 33]);
  assert.equal(Array.from(b.data.slice(18, 24)), [13, 13, 13, 13, 13, 13]);
});

test("a function with side effects runs exactly once per block", async () => {
  const counter = new SharedArrayBuffer(4);
  const x = fromArray(new Float64Array(60), { shape: [6, 10], chunks: [2, 5] });
  const y = x.mapBlocks((b, info) => {
    Atomics.add(new Int32Array(info.args[0]), 0, 1);
    return b.add(1);
  }, { args: [counter] });
  assert.is(await y.sum().compute(), 60);
  assert.is(Atomics.load(new Int32Array(counter), 0), 6, "one call per block, none for tracing");
});

test.run();
