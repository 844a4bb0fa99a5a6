// eye, tril, triu, diagonal, diag and trace against plain-JS references with numpy's semantics: every
// dtype, uneven chunkings, offsets and k positive, negative and past the matrix, stacks of matrices; the
// results are bit-identical for any chunking and worker count, diagonal is a view (a strided read of
// stored chunks, fused over lazy sources) and eye/tril/triu are computed from index values (no mask stored).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { fromArray, random, arange, compute, eye, tril, triu, diag, diagonal, trace, zeros, NDArray, ChunkedArray } from "../../dist/index.js";
import { lower } from "../../dist/graph/lower.js";
import * as R from "../helpers/reference.mjs";
import { sameArray, sameBytes, throwsCode, closeNumber } from "../helpers/check.mjs";

const PY = "/usr/bin/python3";
const hasNumpy = spawnSync(PY, ["-c", "import numpy"]).status === 0;
const peer = hasNumpy ? test : process.env.TESSERA_INTEROP === "1" ? () => test("numpy is installed", () => assert.unreachable("python3-numpy is missing")) : test.skip;

const T = { float64: Float64Array, float32: Float32Array, int32: Int32Array, bool: Uint8Array };
const DTYPES = ["float64", "float32", "int32", "bool"];

// ---- numpy, in plain JS (C order)

const strides = (s) => s.map((_, d) => R.sizeOf(s.slice(d + 1)));
const at = (a, idx) => a.data[idx.reduce((o, i, d) => o + i * strides(a.shape)[d], 0)];
function build(shape, dtype, f) {
  const data = new Array(R.sizeOf(shape));
  const idx = shape.map(() => 0);
  for (let k = 0; k < data.length; k++) {
    data[k] = f(idx);
    for (let d = shape.length - 1; d >= 0 && ++idx[d] === shape[d]; d--) idx[d] = 0;
  }
  return R.array(data, shape, dtype);
}

/** numpy.diagonal: the other axes in order, then the diagonal. */
function refDiagonal(a, offset = 0, axis1 = 0, axis2 = 1) {
  const nd = a.shape.length;
  const a1 = axis1 < 0 ? axis1 + nd : axis1;
  const a2 = axis2 < 0 ? axis2 + nd : axis2;
  const rest = [...Array(nd).keys()].filter((k) => k !== a1 && k !== a2);
  const r0 = Math.max(0, -offset);
  const c0 = Math.max(0, offset);
  const len = Math.max(0, Math.min(a.shape[a1] - r0, a.shape[a2] - c0));
  return build([...rest.map((k) => a.shape[k]), len], a.dtype, (o) => {
    const idx = new Array(nd);
    rest.forEach((k, i) => (idx[k] = o[i]));
    idx[a1] = o[o.length - 1] + r0;
    idx[a2] = o[o.length - 1] + c0;
    return at(a, idx);
  });
}
const refTri = (a, k, lower) => build(a.shape, a.dtype, (idx) => {
  const [i, j] = idx.slice(-2);
  return (lower ? j - i <= k : j - i >= k) ? at(a, idx) : 0;
});
const refEye = (n, m, k, dtype) => build([n, m], dtype, ([i, j]) => (j - i === k ? 1 : 0));
const refDiagOf = (v, k) => {
  const n = v.shape[0] + Math.abs(k);
  return build([n, n], v.dtype, ([i, j]) => (j - i === k ? v.data[Math.min(i, j)] : 0));
};

/** Values of every kind (fractions, negatives, a NaN, -0) as an array of `dtype`. */
function arrayOf(shape, dtype, chunks, seed = 1) {
  const vals = Array.from({ length: R.sizeOf(shape) }, (_, i) => (i === 5 ? NaN : i === 8 ? -0 : Math.sin(i * 1.3 + seed) * 50));
  const v = dtype === "int32" ? vals.map((x) => (Number.isFinite(x) ? Math.round(x) : 7)) : dtype === "bool" ? vals.map((x) => (x > 0 ? 1 : 0)) : vals;
  const ref = R.array(v, shape, dtype);
  return { x: fromArray(T[dtype].from(ref.data), { shape, chunks }), ref };
}

/** Every chunk of `chunks` (a view's) lies within one chunk of the input along each axis the view follows. */
function startsOf(blocks) {
  const s = [0];
  for (const b of blocks) s.push(s[s.length - 1] + b);
  return s;
}

// ---- eye

test("eye(N, M, { k, dtype, chunks }) as numpy.eye, for every dtype and chunking; lazy: computed from index values", async () => {
  const outs = [];
  const wants = [];
  for (const [n, m, k] of [[5, undefined, 0], [4, 7, 2], [7, 4, -3], [6, 6, 6], [6, 6, -9], [1, 1, 0], [0, 3, 0], [3, 0, 1], [10, 7, -1]]) {
    for (const dtype of DTYPES) {
      for (const chunks of [undefined, 3, n === 10 ? [[2, 5, 3], -1] : 2]) {
        const opts = { k, dtype, ...(chunks === undefined ? {} : { chunks }) };
        const e = m === undefined ? eye(n, opts) : eye(n, m, opts);
        assert.instance(e, ChunkedArray);
        assert.equal(e.shape, [n, m ?? n]);
        assert.is(e.dtype, dtype);
        outs.push(e);
        wants.push({ want: refEye(n, m ?? n, k, dtype), what: `eye(${n}, ${m}, ${JSON.stringify(opts)})` });
      }
    }
  }
  const got = await compute(...outs);
  got.forEach((g, i) => sameArray(g, wants[i].want, { what: wants[i].what }));
  assert.equal(eye(3).dtype, "float64", "float64 by default");
  assert.equal(eye(10, 7, { chunks: 4 }).chunks, [[4, 4, 2], [4, 3]]);
  assert.equal(eye(3, null, { k: 1 }).shape, [3, 3], "M null is N, as numpy's None");
  // a lazy source: nothing read or stored but the result (and a reduction of it stores nothing at all)
  const { plan } = lower([{ node: eye(300, { chunks: 100 }).sum().node, chunks: [] }]);
  assert.ok(plan.kernels.every((kern) => kern.slots.every((s) => s.kind === "index" || s.kind === "partial")), "only index slots and the partials");
  assert.is(await eye(20_000, { chunks: 3000 }).sum().compute(), 20_000);
  assert.is(await eye(2000, 3000, { k: 1500, chunks: 700 }).sum().compute(), 1500);
});

// ---- tril / triu

for (const dtype of DTYPES) {
  test(`${dtype} tril/triu on 2-d and stacked arrays, k from below to past the matrix, uneven chunks: numpy's values, chunks kept`, async () => {
    const cases = [
      { shape: [10, 7], chunks: [3, 3] },
      { shape: [10, 7], chunks: [[1, 4, 5], [7]] },
      { shape: [4, 9], chunks: [[4], [2, 2, 5]] },
      { shape: [3, 5, 4], chunks: [2, 2, 3] },
      { shape: [2, 2, 3, 6], chunks: [1, 2, 2, 4] },
    ];
    const outs = [];
    const wants = [];
    for (const [ci, c] of cases.entries()) {
      const { x, ref } = arrayOf(c.shape, dtype, c.chunks, ci);
      for (const k of [0, 1, -1, 2, -3, 6, 9, -12, 40]) {
        for (const lower of [true, false]) {
          const r = (lower ? tril : triu)(x, k);
          assert.instance(r, ChunkedArray);
          assert.is(r.dtype, dtype, "dtype preserved");
          assert.equal(r.chunks, x.chunks, "the input's chunks");
          outs.push(r);
          wants.push({ want: refTri(ref, k, lower), what: `${lower ? "tril" : "triu"}(${JSON.stringify(c.shape)}, ${k})` });
        }
      }
    }
    const got = await compute(...outs);
    got.forEach((g, i) => sameArray(g, wants[i].want, { what: wants[i].what }));
  });
}

test("tril/triu default k 0, NDArray in gives NDArray out, fused over lazy sources (no mask stored)", async () => {
  const { x, ref } = arrayOf([6, 5], "float64", [4, 2]);
  sameArray(await tril(x).compute(), refTri(ref, 0, true));
  sameArray(await triu(x).compute(), refTri(ref, 0, false));
  const nd = await x.compute();
  const t = tril(nd, 1);
  assert.instance(t, NDArray);
  sameArray(t, refTri(ref, 1, true));
  sameArray(triu(nd, -1), refTri(ref, -1, false));
  // random -> triu -> sum: one fused pass, nothing stored
  const r = random.random([300, 200], { chunks: [70, 90], seed: 3 });
  const { plan } = lower([{ node: triu(r, 5).add(1).sum({ axis: 0 }).node, chunks: [r.chunks[1]] }]);
  assert.equal(plan.layers.map((l) => l.kind), ["program", "combine"]);
  assert.ok(plan.kernels[0].slots.every((s) => s.kind === "index" || s.kind === "partial"), "no buffer read or written but the partials");
  const full = R.fromND(await r.compute());
  const want = R.reduce("sum", R.binary("add", refTri(full, 5, false), 1), { axis: 0 });
  const got = await triu(r, 5).add(1).sum({ axis: 0 }).compute();
  for (let j = 0; j < 200; j++) closeNumber(got.data[j], want.data[j], { rtol: 1e-13, what: `column ${j}` });
  // tril + triu(k + 1) is the array again
  sameArray(await tril(r, -2).add(triu(r, -1)).compute(), full);
});

// ---- diagonal

test("diagonal as numpy's: offsets, every axis pair (negative, reversed), stacks, every dtype and uneven chunks", async () => {
  const outs = [];
  const wants = [];
  const cases = [
    { shape: [10, 7], chunks: [3, 3], axes: [[0, 1], [1, 0], [-1, -2]] },
    { shape: [7, 10], chunks: [[2, 5], [1, 3, 6]], axes: [[0, 1], [1, 0]] },
    { shape: [3, 5, 4], chunks: [2, 2, 3], axes: [[0, 1], [1, 2], [2, 0], [-1, 1], [0, 2]] },
    { shape: [2, 4, 3, 5], chunks: [1, 3, 2, 2], axes: [[1, 3], [3, 0], [2, 1]] },
  ];
  for (const dtype of DTYPES) {
    for (const [ci, c] of cases.entries()) {
      const { x, ref } = arrayOf(c.shape, dtype, c.chunks, ci);
      for (const [axis1, axis2] of c.axes) {
        for (const offset of [0, 1, -1, 2, -3, 6, -9, 11]) {
          const d = x.diagonal({ offset, axis1, axis2 });
          const want = refDiagonal(ref, offset, axis1, axis2);
          assert.instance(d, ChunkedArray);
          assert.equal(d.shape, want.shape, `shape of diagonal ${JSON.stringify(c.shape)} ${offset} ${axis1} ${axis2}`);
          assert.is(d.dtype, dtype);
          outs.push(d);
          wants.push({ want, what: `${dtype} ${JSON.stringify(c.shape)}.diagonal(${offset}, ${axis1}, ${axis2})` });
        }
      }
    }
  }
  const got = await compute(...outs);
  got.forEach((g, i) => sameArray(g, wants[i].want, { what: wants[i].what }));
  const { x, ref } = arrayOf([10, 7], "float64", [3, 3]);
  sameArray(await x.diagonal().compute(), refDiagonal(ref), { what: "defaults" });
  sameArray(await diagonal(x, { offset: 2 }).compute(), refDiagonal(ref, 2), { what: "top-level diagonal" });
  const nd = await x.compute();
  assert.instance(nd.diagonal(), NDArray);
  sameArray(nd.diagonal({ offset: -4 }), refDiagonal(ref, -4));
  sameArray(diagonal(nd, { axis1: 1, axis2: 0 }), refDiagonal(ref, 0, 1, 0));
});

test("diagonal's chunks: each lies in one chunk of the input along both axes (cut where either axis changes chunk)", () => {
  const x = zeros([10, 7], { chunks: [[3, 3, 3, 1], [3, 3, 1]] });
  assert.equal(x.diagonal({ offset: 1 }).chunks, [[2, 1, 2, 1]]);
  assert.equal(x.diagonal({ offset: -2 }).chunks, [[1, 2, 1, 2, 1]]);
  assert.equal(x.diagonal().chunks, [[3, 3, 1]]);
  assert.equal(x.diagonal({ offset: 7 }).chunks, [[0]]);
  for (const offset of [-9, -4, -1, 0, 2, 5]) {
    const d = x.diagonal({ offset });
    const starts = startsOf(d.chunks[0]);
    const rows = startsOf(x.chunks[0]);
    const cols = startsOf(x.chunks[1]);
    const blockOf = (s, p) => s.findIndex((_, b) => p >= s[b] && p < s[b + 1]);
    for (let b = 0; b + 1 < starts.length; b++) {
      const [lo, hi] = [starts[b], starts[b + 1] - 1];
      const [r0, c0] = [Math.max(0, -offset), Math.max(0, offset)];
      assert.is(blockOf(rows, lo + r0), blockOf(rows, hi + r0), `offset ${offset} block ${b}: one row chunk`);
      assert.is(blockOf(cols, lo + c0), blockOf(cols, hi + c0), `offset ${offset} block ${b}: one column chunk`);
    }
  }
  const s = zeros([4, 6, 5], { chunks: [3, 2, 4] }).diagonal({ axis1: 2, axis2: 0 });
  assert.equal(s.chunks, [[2, 2, 2], [3, 1]], "the other axes keep their chunks, the diagonal last");
});

test("diagonal is a view: a strided read of stored chunks (stride of both axes), fused over lazy sources; identical for any chunking and worker count", async () => {
  const r = random.random([300, 260], { chunks: [70, 90], seed: 5 });
  const p = await r.persist();
  const { plan } = lower([{ node: p.diagonal({ offset: 3 }).mul(2).node, chunks: p.diagonal({ offset: 3 }).chunks }]);
  assert.equal(plan.layers.map((l) => l.kind), ["program"], "one pass over the stored chunks: no copy");
  const reads = plan.kernels[0].slots.filter((s) => s.kind === "read");
  assert.is(reads.length, 1);
  assert.equal(reads[0].map.source, [0, 0], "both input axes follow the diagonal");
  assert.equal(reads[0].map.offset, [0, 3]);
  const full = R.fromND(await p.compute());
  const want = refDiagonal(full, 3);
  const runs = [];
  for (const [src, workers] of [[p, 1], [p, 2], [r, 1], [r, 2], [r.rechunk([13, 300]), 2], [p.rechunk([300, 7]), 1]]) {
    const [d, m, t] = await compute(src.diagonal({ offset: 3 }), src.diagonal({ offset: -50 }).add(1), src.T.diagonal({ offset: 10 }), { workers });
    sameArray(d, want, { what: `diagonal of ${src === p ? "persisted" : "lazy"} chunks ${JSON.stringify(src.chunks.map((c) => c.length))}` });
    runs.push([m, t]);
  }
  for (const run of runs.slice(1)) run.forEach((v, i) => sameBytes(v.data, runs[0][i].data, `output ${i}`));
  sameArray(runs[0][0], R.binary("add", refDiagonal(full, -50), 1));
  sameArray(runs[0][1], refDiagonal(R.fromND(await p.T.compute()), 10));
});

// ---- diag

test("diag of a 1-d array: the square matrix with it on the k-th diagonal (zeros elsewhere), every dtype and chunking", async () => {
  const outs = [];
  const wants = [];
  for (const dtype of DTYPES) {
    for (const [n, chunks] of [[7, 3], [7, [[1, 5, 1]]], [1, 1], [5, 5], [0, 1]]) {
      const { x, ref } = arrayOf([n], dtype, chunks);
      for (const k of [0, 1, -1, 3, -4, 9]) {
        const d = diag(x, k);
        const want = refDiagOf(ref, k);
        assert.instance(d, ChunkedArray);
        assert.equal(d.shape, want.shape);
        assert.is(d.dtype, dtype);
        outs.push(d);
        wants.push({ want, what: `${dtype} diag(v[${n}] chunks ${JSON.stringify(chunks)}, ${k})` });
      }
    }
  }
  const got = await compute(...outs);
  got.forEach((g, i) => sameArray(g, wants[i].want, { what: wants[i].what }));
  const v = arange(7, { chunks: 3 });
  assert.equal(diag(v).chunks, [[3, 3, 1], [3, 3, 1]], "k 0: v's chunks on both axes");
  assert.equal(diag(v, 2).chunks, [[3, 3, 1, 2], [2, 3, 3, 1]], "k 2: padded after the rows, before the columns");
  assert.equal(diag(v, -5).chunks, [[3, 2, 3, 3, 1], [3, 3, 1, 3, 2]]);
  // of a 2-d array: its k-th diagonal; NDArray in, NDArray out
  const { x, ref } = arrayOf([6, 4], "int32", [4, 3]);
  sameArray(await diag(x).compute(), refDiagonal(ref));
  sameArray(await diag(x, -2).compute(), refDiagonal(ref, -2));
  const nd = await arange(4).compute();
  const m = diag(nd, 1);
  assert.instance(m, NDArray);
  assert.equal(m.toArray(), [[0, 0, 0, 0, 0], [0, 0, 1, 0, 0], [0, 0, 0, 2, 0], [0, 0, 0, 0, 3], [0, 0, 0, 0, 0]]);
  assert.equal(diag(diag(nd, -1), -1).toArray(), [0, 1, 2, 3], "diag of diag is the vector again");
  // lazy: a vector of a lazy source is read through the padding, nothing stored
  const rv = arange(500, { chunks: 120 }).mul(0.5);
  const { plan } = lower([{ node: diag(rv, 3).sum().node, chunks: [] }]);
  assert.ok(plan.kernels.every((kern) => kern.slots.every((s) => s.kind === "index" || s.kind === "partial")), "fused: only index slots and partials");
  assert.is(await diag(rv, 3).sum().compute(), 499 * 500 / 4, "the sum of diag(v) is the sum of v");
  const rr = random.random([300], { chunks: 70, seed: 8 });
  sameArray(await diag(rr, -4).compute(), refDiagOf(R.fromND(await rr.compute()), -4), { what: "diag of a random vector" });
});

// ---- trace

test("trace: sum of the diagonal (a number for 2-d), offsets and axes, stacks; dtypes as sum's", async () => {
  for (const dtype of DTYPES) {
    for (const [shape, chunks, cases] of [
      [[10, 7], [3, 3], [[0, 0, 1], [2, 0, 1], [-3, 1, 0], [9, 0, 1], [-10, 0, 1]]],
      [[3, 5, 4], [2, 2, 3], [[0, 0, 1], [1, 1, 2], [-2, 2, 0], [0, -1, -2]]],
    ]) {
      const { x, ref } = arrayOf(shape, dtype, chunks);
      for (const [offset, axis1, axis2] of cases) {
        const r = x.trace({ offset, axis1, axis2 });
        const want = R.reduce("sum", refDiagonal(ref, offset, axis1, axis2), { axis: -1 });
        assert.is(r.dtype, dtype === "float32" ? "float32" : "float64", `${dtype} trace dtype as sum's`);
        const got = await r.compute();
        const what = `${dtype} ${JSON.stringify(shape)}.trace(${offset}, ${axis1}, ${axis2})`;
        if (shape.length === 2) {
          assert.type(got, "number", `${what}: a number`);
          closeNumber(got, R.scalar(want), { rtol: dtype === "float32" ? 1e-6 : 1e-14, what });
        } else {
          assert.equal(got.shape, want.shape, what);
          want.data.forEach((w, i) => closeNumber(got.data[i], w, { rtol: dtype === "float32" ? 1e-6 : 1e-14, atol: dtype === "float32" ? 1e-4 : 1e-12, what: `${what} element ${i}` }));
        }
      }
    }
  }
  const { x, ref } = arrayOf([6, 6], "int32", [4, 4]);
  const want = R.scalar(R.reduce("sum", refDiagonal(ref)));
  assert.is(await trace(x).compute(), want, "top-level trace, integers exact");
  const nd = await x.compute();
  assert.is(nd.trace(), want, "NDArray trace is a number");
  assert.is(trace(nd, { offset: 1 }), R.scalar(R.reduce("sum", refDiagonal(ref, 1))));
  const f = trace(x, { dtype: "float32" });
  assert.is(f.dtype, "float32");
  assert.is(await f.compute(), want);
  assert.is(await zeros([3, 4]).trace({ offset: 9 }).compute(), 0, "an empty diagonal sums to 0");
  assert.is(await eye(1000, { chunks: 128 }).trace().compute(), 1000);
  assert.is(await eye(50, 80, { k: 30 }).trace({ offset: 30 }).compute(), 50);
  // bit-identical for any worker count (and any order of completion: a fixed tree of partials)
  const r = random.normal(0, 1, [400, 400], { chunks: [64, 100], seed: 2 });
  const t1 = await r.trace().compute({ workers: 1 });
  const t2 = await r.trace().compute({ workers: 2 });
  assert.ok(Object.is(t1, t2), `trace on 1 and 2 workers: ${t1} vs ${t2}`);
  closeNumber(t1, R.scalar(R.reduce("sum", refDiagonal(R.fromND(await r.compute())))), { rtol: 1e-12, what: "random trace" });
});

// ---- bad input

test("bad input: too few dimensions, bad or equal axes, non-integer k and offsets, bad eye sizes, unknown options", () => {
  const v = fromArray([1, 2, 3]);
  const x = zeros([3, 4, 5]);
  for (const [name, fn] of [["tril", () => tril(v)], ["triu", () => triu(v)], ["diagonal", () => v.diagonal()], ["trace", () => v.trace()]]) {
    throwsCode(fn, "INVALID_SHAPE", name, "two dimensions", "[3]");
  }
  throwsCode(() => diag(x), "INVALID_SHAPE", "diag", "[3, 4, 5]");
  throwsCode(() => diag(fromArray(5)), "INVALID_SHAPE", "diag");
  throwsCode(() => x.diagonal({ axis1: 3 }), "INVALID_AXIS", "axis1", "3");
  throwsCode(() => x.diagonal({ axis2: -4 }), "INVALID_AXIS", "axis2", "-4");
  throwsCode(() => x.diagonal({ axis1: 1, axis2: -2 }), "INVALID_AXIS", "same axis");
  throwsCode(() => x.trace({ axis1: 2, axis2: 2 }), "INVALID_AXIS", "trace", "same axis");
  throwsCode(() => x.diagonal({ offset: 1.5 }), "INVALID_ARGUMENT", "offset", "1.5");
  throwsCode(() => x.trace({ offset: "1" }), "INVALID_ARGUMENT", "trace offset");
  throwsCode(() => x.diagonal({ axis: 0 }), "INVALID_ARGUMENT", '"axis"');
  throwsCode(() => x.trace({ dtype: "int32" }), "INVALID_DTYPE", "int32");
  throwsCode(() => x.trace({ dtype: "complex" }), "INVALID_DTYPE", "complex");
  throwsCode(() => tril(x, 0.5), "INVALID_ARGUMENT", "tril k", "0.5");
  throwsCode(() => triu(x, NaN), "INVALID_ARGUMENT", "triu k", "NaN");
  throwsCode(() => diag(v, Infinity), "INVALID_ARGUMENT", "diag k", "Infinity");
  throwsCode(() => tril([[1, 2], [3, 4]]), "INVALID_ARGUMENT", "tril input", "fromArray");
  throwsCode(() => trace(null), "INVALID_ARGUMENT", "trace input");
  throwsCode(() => eye(-1), "INVALID_SHAPE", "eye N", "-1");
  throwsCode(() => eye(3, 2.5), "INVALID_SHAPE", "eye M", "2.5");
  throwsCode(() => eye(3, { k: 0.5 }), "INVALID_ARGUMENT", "eye k", "0.5");
  throwsCode(() => eye(3, { dtype: "int8" }), "INVALID_DTYPE", "int8");
  throwsCode(() => eye(3, { chunks: 0 }), "INVALID_CHUNKS", "0");
  throwsCode(() => eye(3, 3, { M: 4 }), "INVALID_ARGUMENT", '"M"');
});

// ---- numpy itself, where installed

peer("eye, tril, triu, diagonal, diag and trace equal numpy's (values and dtypes)", async () => {
  const vals = Array.from({ length: 3 * 6 * 5 }, (_, i) => Math.round(Math.sin(i * 0.7) * 1000) / 8);
  const cases = [
    ["eye", 5, 7, 2], ["eye", 6, 4, -1], ["tril", -1], ["triu", 2], ["tril3", 1], ["diagonal", 1, 0, 1], ["diagonal", -2, 2, 0],
    ["diag1", 3], ["diag1", -2], ["trace", 0], ["trace", 1],
  ];
  const x2 = fromArray(Float64Array.from(vals.slice(0, 30)), { shape: [6, 5], chunks: [4, 2] });
  const x3 = fromArray(Float64Array.from(vals), { shape: [3, 6, 5], chunks: [2, 4, 3] });
  const v = fromArray(Float64Array.from(vals.slice(0, 6)), { chunks: 4 });
  const outs = cases.map(([op, a, b, c]) => {
    if (op === "eye") return eye(a, b, { k: c });
    if (op === "tril") return tril(x2, a);
    if (op === "triu") return triu(x2, a);
    if (op === "tril3") return tril(x3, a);
    if (op === "diagonal") return x3.diagonal({ offset: a, axis1: b, axis2: c });
    if (op === "diag1") return diag(v, a);
    return x3.trace({ offset: a, axis1: 1, axis2: 2 });
  });
  const code = `
import json, sys, numpy as np
vals = np.array(json.loads(sys.argv[1]))
x3 = vals.reshape(3, 6, 5); x2 = vals[:30].reshape(6, 5); v = vals[:6]
out = []
for c in json.loads(sys.stdin.read()):
    op, a = c[0], c[1]
    if op == "eye": r = np.eye(a, c[2], k=c[3])
    elif op == "tril": r = np.tril(x2, a)
    elif op == "triu": r = np.triu(x2, a)
    elif op == "tril3": r = np.tril(x3, a)
    elif op == "diagonal": r = x3.diagonal(a, c[2], c[3])
    elif op == "diag1": r = np.diag(v, a)
    else: r = x3.trace(a, 1, 2)
    out.append({"shape": list(r.shape), "data": r.ravel().tolist()})
print(json.dumps(out))`;
  const py = spawnSync(PY, ["-c", code, JSON.stringify(vals)], { input: JSON.stringify(cases), encoding: "utf8" });
  assert.is(py.status, 0, py.stderr);
  const want = JSON.parse(py.stdout);
  const got = await compute(...outs);
  got.forEach((g, i) => {
    assert.equal(g.shape, want[i].shape, `${cases[i]} shape`);
    assert.equal(Array.from(g.data), want[i].data, `${cases[i]} values`);
  });
});

test.run();
