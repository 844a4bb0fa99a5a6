/** Creation functions, chunk specifications and array metadata. */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { zeros, ones, full, arange, linspace, fromArray, random, compute, NDArray, ChunkedArray } from "../../dist/index.js";
import { rejectsCode, throwsCode } from "../helpers/check.mjs";

const values = async (x) => Array.from((await x.compute()).data);

// ------------------------------------------------------------------------ constants

test("zeros / ones / full: values, shapes and dtypes", async () => {
  const z = zeros([2, 3]);
  assert.instance(z, ChunkedArray);
  assert.is(z.dtype, "float64");
  assert.equal(z.shape, [2, 3]);
  assert.equal(await values(z), [0, 0, 0, 0, 0, 0]);
  assert.equal(await values(ones(4, { chunks: 3 })), [1, 1, 1, 1]);
  assert.equal(ones(4).shape, [4]);
  assert.is(ones([2], { dtype: "int32" }).dtype, "int32");
  const oi = await ones([3], { dtype: "int32" }).compute();
  assert.instance(oi.data, Int32Array);
  assert.is(zeros([2], { dtype: "bool" }).dtype, "bool");
  assert.equal(await values(full([2, 2], 7.5)), [7.5, 7.5, 7.5, 7.5]);
  assert.is(full([2], 7).dtype, "float64", "a number fills float64 by default");
  assert.is(full([2], true).dtype, "bool", "a boolean fills bool");
  assert.equal(await values(full([3], true)), [1, 1, 1]);
  assert.equal(await values(full([3], -4, { dtype: "int32" })), [-4, -4, -4]);
  assert.equal(await values(full([2], 2.9, { dtype: "int32" })), [2, 2], "a fill value cast to int32 truncates");
  const f = await full([2], 0.1, { dtype: "float32" }).compute();
  assert.equal(Array.from(f.data), [Math.fround(0.1), Math.fround(0.1)]);
  const n = await full([2, 2], NaN).compute();
  assert.ok(n.data.every(Number.isNaN));
  // 0-d and size-0
  const s = await full([], 3).compute();
  assert.equal(s.shape, []);
  assert.is(s.get(), 3);
  const e = await zeros([0, 4]).compute();
  assert.equal(e.shape, [0, 4]);
  assert.is(e.data.length, 0);
});

test("bad shapes are INVALID_SHAPE naming the value; bad dtypes INVALID_DTYPE; unknown options INVALID_ARGUMENT", () => {
  throwsCode(() => zeros([2, -1]), "INVALID_SHAPE", "-1");
  throwsCode(() => zeros([2.5]), "INVALID_SHAPE", "2.5");
  throwsCode(() => ones([Infinity]), "INVALID_SHAPE");
  throwsCode(() => zeros([NaN]), "INVALID_SHAPE");
  throwsCode(() => zeros("3"), "INVALID_SHAPE", '"3"');
  throwsCode(() => full([2], 1, { dtype: "float16" }), "INVALID_DTYPE", '"float16"');
  throwsCode(() => zeros([2], { chunk: 1 }), "INVALID_ARGUMENT", '"chunk"');
  throwsCode(() => full([2], "x"), "INVALID_ARGUMENT", '"x"');
});

// ------------------------------------------------------------------------ arange

test("arange(stop), (start, stop), (start, stop, step): values and int32 vs float64", async () => {
  const a = arange(5);
  assert.is(a.dtype, "int32");
  assert.equal(await values(a), [0, 1, 2, 3, 4]);
  assert.equal(await values(arange(2, 8)), [2, 3, 4, 5, 6, 7]);
  assert.equal(await values(arange(2, 8, 3)), [2, 5]);
  assert.equal(await values(arange(-3, 3, 2)), [-3, -1, 1]);
  assert.equal(await values(arange(10, 0, -3)), [10, 7, 4, 1], "negative step");
  assert.equal(await values(arange(1, -1, -0.5)), [1, 0.5, 0, -0.5]);
  const f = arange(0, 1, 0.25);
  assert.is(f.dtype, "float64");
  assert.equal(await values(f), [0, 0.25, 0.5, 0.75]);
  assert.is(arange(0.5).dtype, "float64");
  assert.equal(await values(arange(2.5)), [0, 1, 2]);
  assert.is(arange(5, { dtype: "float64" }).dtype, "float64");
  assert.is(arange(1, 5, { dtype: "float32" }).dtype, "float32");
  assert.equal(await values(arange(1, 5, 2, { dtype: "float32" })), [1, 3]);
  // numpy: start + i * step (not repeated addition): 0.1 steps
  const t = await arange(0, 1, 0.1, { chunks: 3 }).compute();
  assert.is(t.data.length, 10);
  for (let i = 0; i < 10; i++) assert.ok(Object.is(t.data[i], i * 0.1), `arange(0, 1, 0.1)[${i}] = ${t.data[i]}, expected ${i * 0.1}`);
  // chunked like any other array
  const big = arange(1000, { chunks: 300 });
  assert.equal(big.chunks, [[300, 300, 300, 100]]);
  const bv = await big.compute();
  assert.ok(bv.data.every((v, i) => v === i));
});

test("arange: empty ranges, zero step, non-finite and int32 overflow", async () => {
  for (const args of [[0], [5, 5], [5, 0], [0, 5, -1], [-1]]) {
    const e = arange(...args);
    assert.equal(e.shape, [0], `arange(${args}) is empty`);
    assert.is((await e.compute()).data.length, 0);
  }
  throwsCode(() => arange(0, 5, 0), "INVALID_ARGUMENT", "0");
  throwsCode(() => arange(0, 2 ** 31 + 5), "INVALID_ARGUMENT", String(2 ** 31 + 5));
  throwsCode(() => arange(), "INVALID_ARGUMENT");
  throwsCode(() => arange(1, 2, 3, 4), "INVALID_ARGUMENT");
  assert.is(arange(2 ** 31 - 3, 2 ** 31 - 1).dtype, "int32");
  assert.equal(await values(arange(2 ** 31 - 3, 2 ** 31 - 1)), [2 ** 31 - 3, 2 ** 31 - 2]);
});

test("error messages name non-finite values (Infinity, NaN) instead of JSON's null", () => {
  throwsCode(() => arange(Infinity), "INVALID_ARGUMENT", "Infinity");
  throwsCode(() => arange(0, NaN), "INVALID_ARGUMENT", "NaN");
  throwsCode(() => zeros([2, Infinity]), "INVALID_SHAPE", "Infinity");
});

// ------------------------------------------------------------------------ linspace

test("linspace: endpoint, exact last value, num 0 and 1, default 50, decreasing", async () => {
  assert.equal(await values(linspace(0, 1, 5)), [0, 0.25, 0.5, 0.75, 1]);
  assert.equal(await values(linspace(0, 1, 5, { endpoint: false })), [0, 0.2, 0.4, 0.6000000000000001, 0.8]);
  assert.equal(await values(linspace(1, 0, 3)), [1, 0.5, 0]);
  for (const [a, b, n] of [[0, 0.3, 7], [0.1, 0.7, 3], [-1.1, 2.3, 11], [0, 1e-7, 49], [3, 1.3, 13]]) {
    const v = await linspace(a, b, n, { chunks: 4 }).compute();
    assert.is(v.data.length, n);
    assert.ok(Object.is(v.data[n - 1], b), `linspace(${a}, ${b}, ${n}) ends at ${v.data[n - 1]}, not ${b}`);
    assert.ok(Object.is(v.data[0], a), `linspace(${a}, ${b}, ${n}) starts at ${v.data[0]}`);
    const step = (b - a) / (n - 1);
    for (let i = 1; i < n - 1; i++) assert.ok(Object.is(v.data[i], a + i * step), `linspace(${a}, ${b}, ${n})[${i}]`);
  }
  assert.equal(await values(linspace(2, 3, 1)), [2]);
  assert.equal(await values(linspace(2, 3, 1, { endpoint: false })), [2]);
  assert.equal(linspace(2, 3, 0).shape, [0]);
  assert.equal(await values(linspace(2, 3, 0)), []);
  assert.equal(linspace(0, 49).shape, [50]);
  assert.equal(await values(linspace(0, 49)), Array.from({ length: 50 }, (_, i) => i));
  assert.is(linspace(0, 1, 3).dtype, "float64");
  const f = await linspace(0, 1, 3, { dtype: "float32" }).compute();
  assert.instance(f.data, Float32Array);
  throwsCode(() => linspace(0, 1, -1), "INVALID_ARGUMENT", "-1");
  throwsCode(() => linspace(0, 1, 2.5), "INVALID_ARGUMENT", "2.5");
  throwsCode(() => linspace(0, 1, 5, { endpoints: false }), "INVALID_ARGUMENT", '"endpoints"');
});

// ------------------------------------------------------------------------ fromArray

test("fromArray: nested arrays give their shape; booleans give bool; 0-d from a number", async () => {
  const a = fromArray([[1, 2, 3], [4, 5, 6]]);
  assert.equal(a.shape, [2, 3]);
  assert.is(a.dtype, "float64");
  assert.equal((await a.compute()).toArray(), [[1, 2, 3], [4, 5, 6]]);
  const d = fromArray([[[1, 2], [3, 4]], [[5, 6], [7, 8]]], { chunks: 1 });
  assert.equal(d.shape, [2, 2, 2]);
  assert.equal(d.numblocks, [2, 2, 2]);
  assert.equal(await values(d), [1, 2, 3, 4, 5, 6, 7, 8]);
  const b = fromArray([[true, false], [false, true]]);
  assert.is(b.dtype, "bool");
  assert.equal((await b.compute()).toArray(), [[true, false], [false, true]]);
  assert.is(fromArray([true, 2]).dtype, "float64", "mixed booleans and numbers are numbers");
  assert.equal(await values(fromArray([true, 2])), [1, 2]);
  const s = fromArray(4.5);
  assert.equal(s.shape, []);
  assert.is((await s.compute()).get(), 4.5);
  const e = fromArray([]);
  assert.equal(e.shape, [0]);
  assert.equal(fromArray([[], []]).shape, [2, 0]);
  assert.is(fromArray([1, 2], { dtype: "int32" }).dtype, "int32");
  assert.equal(await values(fromArray([1.7, -1.7], { dtype: "int32" })), [1, -1]);
});

test("fromArray: ragged nested arrays are INVALID_SHAPE naming where", () => {
  throwsCode(() => fromArray([[1, 2], [3]]), "INVALID_SHAPE", "[1]");
  throwsCode(() => fromArray([[1, 2], 3]), "INVALID_SHAPE");
  throwsCode(() => fromArray([1, [2, 3]]), "INVALID_ARGUMENT");
  throwsCode(() => fromArray([[[1], [2]], [[3], [4, 5]]]), "INVALID_SHAPE", "[1, 1]");
  throwsCode(() => fromArray([1, "2"]), "INVALID_ARGUMENT", '"2"');
  throwsCode(() => fromArray("abc"), "INVALID_ARGUMENT", '"abc"');
  throwsCode(() => fromArray(new Int16Array(3)), "INVALID_DTYPE", "Int16Array");
});

test("fromArray: typed arrays with shape (copied), NDArray sources", async () => {
  const src = new Float64Array([1, 2, 3, 4, 5, 6]);
  const a = fromArray(src, { shape: [3, 2], chunks: [2, 1] });
  assert.equal(a.shape, [3, 2]);
  assert.equal(a.chunks, [[2, 1], [1, 1]]);
  src[0] = 100;
  assert.equal(await values(a), [1, 2, 3, 4, 5, 6], "the data was copied at creation");
  for (const [T, dtype] of [[Float32Array, "float32"], [Int32Array, "int32"], [Uint8Array, "bool"], [Float64Array, "float64"]]) {
    const x = fromArray(T.from([1, 0, 1, 1]), { shape: [2, 2] });
    assert.is(x.dtype, dtype);
    const nd = await x.compute();
    assert.instance(nd.data, T);
    assert.equal(Array.from(nd.data), [1, 0, 1, 1]);
  }
  assert.equal(fromArray(new Int32Array(5)).shape, [5], "1-D by default");
  let err;
  try {
    fromArray(new Float64Array(5), { shape: [2, 3] });
  } catch (e) {
    err = e;
  }
  assert.ok(err && ["SHAPE_MISMATCH", "INVALID_SHAPE"].includes(err.code), `typed array of the wrong length: ${err?.code}`);
  assert.ok(err.message.includes("5") && err.message.includes("[2, 3]"), err.message);
  // NDArray
  const nd = await fromArray([[1, 2], [3, 4]]).compute();
  assert.instance(nd, NDArray);
  const c = fromArray(nd, { chunks: 1 });
  assert.equal(c.numblocks, [2, 2]);
  assert.equal(await values(c.mul(2)), [2, 4, 6, 8]);
  nd.data[0] = 50;
  assert.equal(await values(c), [1, 2, 3, 4], "an NDArray source is copied too");
});

// ------------------------------------------------------------------------ chunks

test("full with int32 truncates fractions and refuses what int32 cannot hold; bool fills are 0/1", async () => {
  assert.equal(await values(full([2], -2.7, { dtype: "int32" })), [-2, -2]);
  assert.equal(await values(full([2], 2 ** 31 - 1, { dtype: "int32" })), [2 ** 31 - 1, 2 ** 31 - 1]);
  for (const v of [2 ** 31 + 5, -(2 ** 31) - 1, 2 ** 40, NaN, Infinity]) {
    throwsCode(() => full([2], v, { dtype: "int32" }), "INVALID_ARGUMENT", "does not fit int32");
  }
  assert.equal(await values(full([2], 5, { dtype: "bool" })), [1, 1]);
  assert.equal(await values(full([1], 0, { dtype: "bool" })), [0]);
  // NaN is true, as numpy's bool(nan) and as astype("bool") gives
  assert.equal(await values(full([2], NaN, { dtype: "bool" })), [1, 1]);
  assert.equal(await values(full([2], NaN).astype("bool")), [1, 1]);
  assert.equal(await values(full([1], -0, { dtype: "bool" })), [0]);
});

test("fromArray with dtype int32 refuses values no int32 holds (as full and numpy), naming the value; astype saturates", async () => {
  for (const [v, shown] of [[2 ** 40, "1099511627776"], [2 ** 31, "2147483648"], [-(2 ** 31) - 1, "-2147483649"], [NaN, "NaN"], [-Infinity, "-Infinity"]]) {
    throwsCode(() => fromArray([1, v], { dtype: "int32" }), "INVALID_ARGUMENT", shown, "int32", "index 1");
    throwsCode(() => fromArray(new Float64Array([v]), { dtype: "int32" }), "INVALID_ARGUMENT", shown);
  }
  throwsCode(() => fromArray(new Float32Array([3e9]), { dtype: "int32" }), "INVALID_ARGUMENT", "3000000000");
  // a fraction truncates; the edges fit
  assert.equal(await values(fromArray([2 ** 31 - 0.5, -(2 ** 31) - 0.5, -2.9], { dtype: "int32" })), [2 ** 31 - 1, -(2 ** 31), -2]);
  assert.equal(await values(fromArray([2 ** 40]).astype("int32")), [2 ** 31 - 1], "astype saturates by design");
  assert.equal(await values(fromArray([true, false], { dtype: "int32" })), [1, 0]);
});

test("zeros/ones name themselves when given a dtype string instead of options", () => {
  throwsCode(() => zeros([2], "int32"), "INVALID_ARGUMENT", "zeros options", '{ dtype: "int32" }');
  throwsCode(() => ones([2], 5), "INVALID_ARGUMENT", "ones options 5");
  throwsCode(() => ones([2], { dtyp: "int32" }), "INVALID_ARGUMENT", "ones has no option");
});

test("linspace with int32 floors (numpy 2); endpoint must be a boolean", async () => {
  assert.equal(await values(linspace(-1, 0, 5, { dtype: "int32" })), [-1, -1, -1, -1, 0]);
  assert.equal(await values(linspace(0, 3, 4, { dtype: "int32" })), [0, 1, 2, 3]);
  throwsCode(() => linspace(0, 1, 3, { endpoint: "yes" }), "INVALID_ARGUMENT", 'endpoint "yes"');
});

test("fromArray: { shape } reshapes nested arrays and NDArrays (C order) or is SHAPE_MISMATCH; bool data becomes 0/1", async () => {
  const a = fromArray([1, 2, 3, 4, 5, 6], { shape: [2, 3] });
  assert.equal(a.shape, [2, 3]);
  assert.equal((await a.compute()).toArray(), [[1, 2, 3], [4, 5, 6]]);
  const nd = await fromArray([[1, 2], [3, 4]]).compute();
  assert.equal((await fromArray(nd, { shape: [4] }).compute()).toArray(), [1, 2, 3, 4]);
  throwsCode(() => fromArray([1, 2, 3, 4], { shape: [3, 2] }), "SHAPE_MISMATCH", "[3, 2]");
  throwsCode(() => fromArray(nd, { shape: [5] }), "SHAPE_MISMATCH", "[5]");
  const b = fromArray(new Uint8Array([0, 2, 255, 1]));
  assert.is(b.dtype, "bool");
  assert.equal(await values(b), [0, 1, 1, 1]);
  assert.is(await b.sum().compute(), 3);
});

test("compute() given an NDArray says so (it is not read as the options)", async () => {
  const nd = await ones([2]).compute();
  await rejectsCode(() => compute(nd), "INVALID_ARGUMENT", "argument 0 is an NDArray");
  await rejectsCode(() => compute(ones([2]).sum(), nd), "INVALID_ARGUMENT", "argument 1 is an NDArray");
});

test("chunk specs: number, per-axis, explicit lists, -1, mixed", () => {
  assert.equal(zeros([10, 7], { chunks: 3 }).chunks, [[3, 3, 3, 1], [3, 3, 1]]);
  assert.equal(zeros([10, 7], { chunks: [4, -1] }).chunks, [[4, 4, 2], [7]]);
  assert.equal(zeros([10, 7], { chunks: -1 }).chunks, [[10], [7]]);
  assert.equal(zeros([10, 7], { chunks: [[1, 9], [2, 2, 3]] }).chunks, [[1, 9], [2, 2, 3]]);
  assert.equal(zeros([10, 7], { chunks: [[5, 5], 2] }).chunks, [[5, 5], [2, 2, 2, 1]]);
  assert.equal(zeros([10, 7], { chunks: 100 }).chunks, [[10], [7]], "chunks larger than the axis");
  const x = zeros([10, 7, 3], { chunks: [4, 3, 1] });
  assert.equal(x.numblocks, [3, 3, 3]);
  assert.is(x.ndim, 3);
  assert.is(x.size, 210);
  assert.is(x.nbytes, 1680);
  assert.is(zeros([10], { dtype: "int32" }).nbytes, 40);
  assert.is(zeros([10], { dtype: "bool" }).nbytes, 10);
  // the returned lists are copies
  const c = x.chunks;
  c[0][0] = 99;
  assert.equal(x.chunks[0], [4, 4, 2]);
  assert.equal(zeros([0, 5], { chunks: 2 }).chunks, [[0], [2, 2, 1]]);
});

test('chunks "auto" aim at about 32 MiB per chunk', () => {
  const MiB = 2 ** 20;
  const bytes = (x, itemsize) => x.chunks.reduce((a, c) => a * Math.max(...c), itemsize);
  const a = random.random([20_000, 20_000], { chunks: "auto", seed: 1 });
  const b = bytes(a, 8);
  assert.ok(b <= 32 * MiB && b >= 16 * MiB, `auto chunk of ${b} bytes`);
  assert.ok(a.chunks.every((c) => c.reduce((s, v) => s + v, 0) === 20_000));
  const f = zeros([20_000, 20_000], { dtype: "float32" });
  const bf = bytes(f, 4);
  assert.ok(bf <= 32 * MiB && bf >= 16 * MiB, `default (auto) float32 chunk of ${bf} bytes`);
  assert.equal(zeros([100, 100]).chunks, [[100], [100]], "a small array is one chunk");
  const mixed = zeros([100_000, 50], { chunks: ["auto", 50] });
  assert.equal(mixed.chunks[1], [50]);
  const bm = bytes(mixed, 8);
  assert.ok(bm <= 32 * MiB && bm >= 8 * MiB, `auto with a fixed axis: ${bm} bytes`);
});

test("bad chunks are INVALID_CHUNKS naming the value", () => {
  throwsCode(() => zeros([10], { chunks: 0 }), "INVALID_CHUNKS", "0");
  throwsCode(() => zeros([10], { chunks: -2 }), "INVALID_CHUNKS", "-2");
  throwsCode(() => zeros([10], { chunks: 2.5 }), "INVALID_CHUNKS", "2.5");
  throwsCode(() => zeros([10], { chunks: NaN }), "INVALID_CHUNKS", "NaN");
  throwsCode(() => zeros([10, 10], { chunks: [3] }), "INVALID_CHUNKS", "[3]");
  throwsCode(() => zeros([10, 7], { chunks: [[3, 3], [7]] }), "INVALID_CHUNKS", "[3,3]", "10");
  throwsCode(() => zeros([10], { chunks: [[5, 0, 5]] }), "INVALID_CHUNKS", "[5,0,5]");
  throwsCode(() => zeros([10], { chunks: [[5, -1, 6]] }), "INVALID_CHUNKS", "[5,-1,6]");
  throwsCode(() => zeros([10], { chunks: "big" }), "INVALID_CHUNKS", '"big"');
  throwsCode(() => zeros([10], { chunks: [[]] }), "INVALID_CHUNKS");
  throwsCode(() => fromArray([1, 2, 3], { chunks: [[1, 1]] }), "INVALID_CHUNKS", "[1,1]");
  throwsCode(() => arange(10).rechunk(0), "INVALID_CHUNKS", "0");
});

test("a chunk over 1 GiB is TOO_LARGE at build time", () => {
  throwsCode(() => zeros([2 ** 28], { chunks: -1 }), "TOO_LARGE");
  throwsCode(() => random.random([40_000, 40_000], { chunks: 20_000, seed: 1 }), "TOO_LARGE");
});

test("rechunk keeps the values and changes the blocks", async () => {
  const x = arange(100, { chunks: 30 });
  const y = x.rechunk(7);
  assert.equal(y.numblocks, [15]);
  assert.equal(y.chunks[0].slice(-1), [2]);
  const [a, b] = await compute(x, y);
  assert.equal(Array.from(a.data), Array.from(b.data));
  const m = fromArray(Float64Array.from({ length: 60 }, (_, i) => i * 1.5), { shape: [6, 10], chunks: [4, 3] });
  const r = m.rechunk([[1, 5], [10]]);
  assert.equal(r.chunks, [[1, 5], [10]]);
  assert.equal(Array.from((await r.compute()).data), Array.from({ length: 60 }, (_, i) => i * 1.5));
  assert.equal(await values(m.rechunk(5).sum({ axis: 1 })), Array.from({ length: 6 }, (_, r0) => 1.5 * (r0 * 100 + 45)));
});

test.run();
