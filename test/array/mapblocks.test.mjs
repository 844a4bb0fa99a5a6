/** mapBlocks: user functions run in the workers on every block. */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { fromArray, compute, zeros, arange, random, NDArray, ChunkedArray } from "../../dist/index.js";
import * as R from "../helpers/reference.mjs";
import { sameArray, rejectsCode, throwsCode, closeNumber, within } from "../helpers/check.mjs";

const SHAPE = [7, 9];
const VALS = Array.from({ length: 63 }, (_, i) => (i % 11) - 4.5);
const src = (chunks = [3, 4]) => fromArray(Float64Array.from(VALS), { shape: SHAPE, chunks });
const ref = R.array(VALS, SHAPE);

test("mapBlocks with args: the function gets an NDArray block and info.args", async () => {
  const y = src().mapBlocks((b, info) => b.mul(info.args[0]).add(info.args[1]), { args: [3, -1] });
  assert.instance(y, ChunkedArray);
  assert.equal(y.shape, SHAPE);
  assert.equal(y.chunks, [[3, 3, 1], [4, 4, 1]]);
  assert.is(y.dtype, "float64");
  const nd = await y.compute();
  assert.instance(nd, NDArray);
  sameArray(nd, R.binary("add", R.binary("mul", ref, 3), -1));
  // structured args: objects, arrays, typed arrays
  const z = src().mapBlocks((b, { args: [o] }) => b.add(o.k[1]).mul(o.t[0]), { args: [{ k: [0, 2], t: new Float64Array([0.5]) }] });
  sameArray(await z.compute(), R.binary("mul", R.binary("add", ref, 2), 0.5));
});

test("mapBlocks info: blockIndex and offset of every block", async () => {
  const x = zeros(SHAPE, { chunks: [3, 4] });
  const byIndex = x.mapBlocks((b, info) => b.add(info.blockIndex[0] * 10 + info.blockIndex[1]));
  const byOffset = x.mapBlocks((b, info) => b.add(info.offset[0] * 1000 + info.offset[1]));
  const shapeSeen = x.mapBlocks((b) => b.add(b.shape[0] * 100 + b.shape[1]));
  const [bi, bo, bs] = await compute(byIndex, byOffset, shapeSeen);
  for (let i = 0; i < 7; i++) {
    for (let j = 0; j < 9; j++) {
      const [I, J] = [Math.floor(i / 3), Math.floor(j / 4)];
      assert.is(bi.get(i, j), I * 10 + J, `blockIndex at [${i}, ${j}]`);
      assert.is(bo.get(i, j), I * 3 * 1000 + J * 4, `offset at [${i}, ${j}]`);
      assert.is(bs.get(i, j), (I < 2 ? 3 : 1) * 100 + (J < 2 ? 4 : 1), `block shape at [${i}, ${j}]`);
    }
  }
});

test("mapBlocks dtype option and chunks option (blocks that change shape)", async () => {
  const y = src().mapBlocks((b) => b.gt(0), { dtype: "bool" });
  assert.is(y.dtype, "bool");
  sameArray(await y.compute(), R.binary("gt", ref, 0));
  const i = src().mapBlocks((b) => b.astype("int32"), { dtype: "int32" });
  sameArray(await i.compute(), R.astype(ref, "int32"));
  // one row-sum per block row: blocks of shape [rows, 1]
  const s = src([[3, 4], [4, 5]]).mapBlocks((b) => b.sum({ axis: 1, keepdims: true }), { chunks: [[3, 4], [1, 1]] });
  assert.equal(s.shape, [7, 2]);
  const nd = await s.compute();
  for (let r = 0; r < 7; r++) {
    const row = VALS.slice(r * 9, r * 9 + 9);
    assert.is(nd.get(r, 0), row.slice(0, 4).reduce((a, b) => a + b, 0), `row ${r} block 0`);
    assert.is(nd.get(r, 1), row.slice(4).reduce((a, b) => a + b, 0), `row ${r} block 1`);
  }
});

test("a wrong result shape rejects with SHAPE_MISMATCH naming the block", async () => {
  // only block [1, 2] (flat index 1 * 3 + 2 = 5 of the 3 x 3 grid) returns a wrong shape
  const y = src().mapBlocks((b, info) => (info.blockIndex[0] === 1 && info.blockIndex[1] === 2 ? b.sum({ axis: 0 }) : b));
  const err = await rejectsCode(y.compute(), "SHAPE_MISMATCH");
  assert.ok(/\[1, ?2\]|(block|chunk) 5\b/.test(err.message), `message names block [1, 2]: ${err.message}`);
  assert.ok(err.message.includes("[3, 1]"), `message gives the expected shape [3, 1]: ${err.message}`);
});

test("a wrong result dtype rejects with DTYPE_MISMATCH", async () => {
  const y = src().mapBlocks((b) => b.astype("float32"));
  const err = await rejectsCode(y.sum().compute(), "DTYPE_MISMATCH", "float32");
  assert.ok(err.message.includes("float64"), err.message);
  await rejectsCode(src().mapBlocks((b) => b.gt(0), { dtype: "int32" }).compute(), "DTYPE_MISMATCH", "bool");
});

test("a non-NDArray result rejects with TASK_FAILED", async () => {
  await rejectsCode(src().mapBlocks((b) => b.sum()).compute(), "TASK_FAILED", "NDArray");
  await rejectsCode(src().mapBlocks(() => undefined).compute(), "TASK_FAILED", "undefined");
  await rejectsCode(src().mapBlocks((b) => ({ data: b.data, shape: b.shape, dtype: b.dtype })).compute(), "TASK_FAILED");
});

test("a throwing function rejects with TASK_FAILED carrying the thrown message and the chunk", async () => {
  const y = src().mapBlocks((b, info) => {
    if (info.blockIndex[0] === 2) throw new Error("boom in row block " + info.blockIndex[0]);
    return b;
  });
  const err = await rejectsCode(y.max().compute(), "TASK_FAILED", "boom in row block 2");
  assert.ok(/chunk|block/.test(err.message), `names the chunk: ${err.message}`);
  // a thrown non-Error value
  await rejectsCode(src().mapBlocks(() => { throw "plain string"; }).compute(), "TASK_FAILED", "plain string");
});

test("a function capturing a variable rejects with TASK_FAILED (ReferenceError)", async () => {
  const factor = 3;
  const y = src().mapBlocks((b) => b.mul(factor));
  const err = await rejectsCode(y.compute(), "TASK_FAILED", "factor");
  assert.ok(err.message.includes("ReferenceError") || err.message.includes("not defined"), err.message);
});

test("async functions returning promises work", async () => {
  const y = src().mapBlocks(async (b, info) => {
    await new Promise((r) => setTimeout(r, 1));
    return b.add(info.args[0]);
  }, { args: [2] });
  sameArray(await y.compute(), R.binary("add", ref, 2));
  await rejectsCode(src().mapBlocks(async () => { throw new RangeError("async failure"); }).compute(), "TASK_FAILED", "async failure");
});

test("mapBlocks on a mapBlocks, mixed with lazy elementwise ops and rechunk", async () => {
  const y = src().mapBlocks((b) => b.mul(2)).add(1).mapBlocks((b, i) => b.sub(i.args[0]), { args: [0.5] });
  sameArray(await y.compute(), R.binary("sub", R.binary("add", R.binary("mul", ref, 2), 1), 0.5));
  const z = src().mapBlocks((b) => b.abs()).rechunk([2, 5]).mapBlocks((b) => b.neg());
  assert.equal(z.chunks, [[2, 2, 2, 1], [5, 4]]);
  sameArray(await z.compute(), R.unary("neg", R.unary("abs", ref)));
});

test("a mapBlocks result used twice and as a final output", async () => {
  const y = src().mapBlocks((b) => b.mul(b));
  const want = R.binary("mul", ref, ref);
  const [mn, mx] = await compute(y.min(), y.max());
  assert.is(mn, R.scalar(R.reduce("min", want)));
  assert.is(mx, R.scalar(R.reduce("max", want)));
  const [full, s, m0] = await compute(y, y.sum(), y.mean({ axis: 0 }));
  sameArray(full, want);
  assert.is(s, R.scalar(R.reduce("sum", want)));
  sameArray(m0, R.reduce("mean", want, { axis: 0 }));
  sameArray(await y.compute(), want);
});

test("mapBlocks over a large lazy source agrees with the fused equivalent", async () => {
  const x = random.random([1000, 1000], { chunks: 250, seed: 4 });
  const [a, b] = await compute(x.mapBlocks((blk) => blk.add(1)).sum(), x.add(1).sum());
  closeNumber(a, b, { rtol: 1e-13, what: "mapBlocks(+1).sum vs add(1).sum" });
});

test("mutating the block in place does not change the source array", async () => {
  const x = src();
  const before = await x.sum().compute();
  const y = x.mapBlocks((b) => {
    b.data.fill(7);
    return b;
  });
  const r = await y.compute();
  assert.ok(r.data.every((v) => v === 7));
  assert.is(await x.sum().compute(), before, "the source data is unchanged");
  sameArray(await x.compute(), ref);
});

test("after a failed compute the next compute works", async () => {
  await rejectsCode(src().mapBlocks(() => { throw new Error("x"); }).compute(), "TASK_FAILED");
  await rejectsCode(src().mapBlocks((b) => b.astype("int32")).compute(), "DTYPE_MISMATCH");
  const r = await within(10_000, src().mapBlocks((b) => b.add(1)).sum().compute(), "compute after failures");
  assert.is(r, R.scalar(R.reduce("sum", R.binary("add", ref, 1))));
  assert.is(await arange(100).sum().compute(), 4950);
});

test("mapBlocks argument errors at build time", () => {
  const x = src();
  throwsCode(() => x.mapBlocks(42), "INVALID_ARGUMENT", "42");
  throwsCode(() => x.mapBlocks((b) => b, { arg: [] }), "INVALID_ARGUMENT", '"arg"');
  throwsCode(() => x.mapBlocks((b) => b, { args: 3 }), "INVALID_ARGUMENT", "3");
  throwsCode(() => x.mapBlocks((b) => b, { args: [() => 1] }), "INVALID_ARGUMENT");
  throwsCode(() => x.mapBlocks((b) => b, { dtype: "uint8" }), "INVALID_DTYPE", '"uint8"');
  throwsCode(() => x.mapBlocks(Math.abs), "INVALID_ARGUMENT");
  throwsCode(() => x.mapBlocks(((b) => b).bind(null)), "INVALID_ARGUMENT");
  throwsCode(() => x.mapBlocks((b) => b, { chunks: [[3, 3, 1]] }), "INVALID_CHUNKS");
  throwsCode(() => x.mapBlocks((b) => b, { chunks: [[3, 3], [4, 4, 1]] }), "INVALID_CHUNKS", "[3,3]");
  const obj = { f(b) { return b; } };
  // method shorthand source "f(b) { ... }" is not an expression: either it works or it is refused at build time
  let ok = true;
  try {
    x.mapBlocks(obj.f);
  } catch (e) {
    ok = e.code === "INVALID_ARGUMENT";
  }
  assert.ok(ok, "a method shorthand is accepted or refused with INVALID_ARGUMENT");
});

test.run();
