// Views and movement (get with slices, integers, null, newaxis, "...", one integer array; transpose, flip,
// swapaxes, moveaxis, squeeze, expandDims, broadcastTo, reshape, ravel, take, concatenate, stack) against
// a plain-JS reference over many shapes and uneven chunkings, on materialized, persisted and lazy
// sources; the plan shows views of lazy sources fused and views of stored arrays read in place.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { fromArray, arange, random, concatenate, stack, slice, newaxis, compute, NDArray, ChunkedArray } from "../../dist/index.js";
import { lower } from "../../dist/graph/lower.js";
import { rejectsCode, throwsCode } from "../helpers/check.mjs";

// ---- a small numpy, in plain JS (C order)

const sizeOf = (s) => s.reduce((a, b) => a * b, 1);
const stridesOf = (s) => s.map((_, d) => sizeOf(s.slice(d + 1)));
const at = (a, idx) => a.data[idx.reduce((o, i, d) => o + i * stridesOf(a.shape)[d], 0)];
function build(shape, f) {
  const data = new Array(sizeOf(shape));
  const idx = shape.map(() => 0);
  for (let k = 0; k < data.length; k++) {
    data[k] = f(idx);
    for (let d = shape.length - 1; d >= 0 && ++idx[d] === shape[d]; d--) idx[d] = 0;
  }
  return { shape, data };
}

/** Python's slice.indices */
function sliceIndices(sl, n) {
  const step = sl.step ?? 1;
  const norm = (v, lo, hi) => (v < 0 ? Math.max(v + n, lo) : Math.min(v, hi));
  let start, stop;
  if (step > 0) {
    start = sl.start === null ? 0 : norm(sl.start, 0, n);
    stop = sl.stop === null ? n : norm(sl.stop, 0, n);
  } else {
    start = sl.start === null ? n - 1 : norm(sl.start, -1, n - 1);
    stop = sl.stop === null ? -1 : norm(sl.stop, -1, n - 1);
  }
  const len = step > 0 ? Math.max(0, Math.ceil((stop - start) / step)) : Math.max(0, Math.ceil((start - stop) / -step));
  return Array.from({ length: len }, (_, i) => start + i * step);
}

function refGet(a, sels) {
  const nd = a.shape.length;
  const consuming = sels.filter((s) => s !== newaxis && s !== "...").length;
  const ex = [];
  for (const s of sels) {
    if (s === "...") for (let i = 0; i < nd - consuming; i++) ex.push(null);
    else ex.push(s);
  }
  while (ex.filter((s) => s !== newaxis).length < nd) ex.push(null);
  // per output axis: the input axis and the positions it takes, or a new axis
  const outAxes = [];
  const fixed = new Array(nd).fill(0);
  let k = 0;
  for (const s of ex) {
    if (s === newaxis) outAxes.push({ k: -1, pos: [0] });
    else if (typeof s === "number") fixed[k++] = s < 0 ? s + a.shape[k - 1] : s;
    else if (Array.isArray(s)) outAxes.push({ k: k, pos: s.map((i) => (i < 0 ? i + a.shape[k] : i)) }), k++;
    else outAxes.push({ k: k, pos: sliceIndices(s ?? { start: null, stop: null, step: null }, a.shape[k]) }), k++;
  }
  return build(outAxes.map((o) => o.pos.length), (idx) => {
    const src = [...fixed];
    outAxes.forEach((o, d) => o.k >= 0 && (src[o.k] = o.pos[idx[d]]));
    return at(a, src);
  });
}
const refTranspose = (a, perm) => build(perm.map((k) => a.shape[k]), (idx) => at(a, a.shape.map((_, k) => idx[perm.indexOf(k)])));
const refFlip = (a, axes) => build(a.shape, (idx) => at(a, idx.map((i, d) => (axes.includes(d) ? a.shape[d] - 1 - i : i))));

// ---- inputs

let seed = 12345;
const rnd = (n) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
const randomChunks = (shape) => shape.map((n) => {
  const blocks = [];
  for (let s = 0; s < n; ) {
    const b = Math.min(n - s, 1 + rnd(Math.max(1, n)));
    blocks.push(b);
    s += b;
  }
  return blocks.length ? blocks : [0];
});

/** The same values three ways: user data, a persisted copy, and a lazy expression over iota. */
async function sources(shape) {
  const ref = build(shape, (idx) => idx.reduce((o, i, d) => o + i * stridesOf(shape)[d], 0) * 0.5 + 1);
  const chunks = randomChunks(shape);
  const data = fromArray(Float64Array.from(ref.data), { shape, chunks });
  const lazy = arange(sizeOf(shape), { dtype: "float64" }).mul(0.5).add(1).reshape(shape).rechunk(chunks);
  const stored = await data.persist();
  return { ref, arrays: { data, lazy, stored, nd: await data.compute() } };
}

async function valuesOf(a) {
  const r = a instanceof NDArray || typeof a === "number" ? a : await a.compute();
  // an element picked by integers alone is a number (numpy's scalar), from an NDArray or a ChunkedArray
  if (typeof r === "number") return { shape: [], data: [r] };
  return { shape: r.shape, data: Array.from(r.data) };
}

async function same(got, want, what) {
  const v = await valuesOf(got);
  assert.equal(v.shape, want.shape, `${what}: shape`);
  assert.equal(v.data, want.data, `${what}: values`);
}

function randomSelectors(shape) {
  const sels = [];
  let usedArray = false;
  for (let d = 0; d < shape.length; d++) {
    const n = shape[d];
    const r = rnd(6);
    if (rnd(5) === 0) sels.push(newaxis);
    if (r === 0 && n > 0) sels.push(rnd(2 * n) - n);
    else if (r === 1) sels.push(null);
    else if (r === 2 && n > 0 && !usedArray) {
      usedArray = true;
      sels.push(Array.from({ length: 1 + rnd(4) }, () => rnd(2 * n) - n));
    } else {
      const part = () => (rnd(3) === 0 ? null : rnd(2 * n + 3) - n - 1);
      const step = [null, 1, 2, 3, -1, -2][rnd(6)];
      sels.push(slice(part(), part(), step));
    }
  }
  if (rnd(4) === 0 && sels.length) sels.splice(rnd(sels.length), shape.length > 1 ? 2 : 1, "...");
  return sels;
}

const SHAPES = [[7], [5, 6], [3, 4, 5], [2, 3, 2, 4], [0, 3], [4, 1, 3], [1]];

test("get: integers, slices (negative steps, empty), null, newaxis, ellipsis and an integer array, on every kind of source", async () => {
  for (const shape of SHAPES) {
    const { ref, arrays } = await sources(shape);
    for (let trial = 0; trial < 12; trial++) {
      const sels = randomSelectors(shape);
      const want = refGet(ref, sels);
      for (const [name, a] of Object.entries(arrays)) {
        const got = a.get(...sels);
        if (name === "nd" && want.shape.length === 0 && sels.every((s) => typeof s === "number")) {
          assert.is(got, want.data[0], `nd.get(${sels}) of [${shape}]`);
          continue;
        }
        await same(got, want, `${name}.get(${sels.map(String)}) of [${shape}]`);
      }
    }
  }
});

test("transpose, .T, swapaxes, moveaxis and flip", async () => {
  for (const shape of SHAPES) {
    const { ref, arrays } = await sources(shape);
    const nd = shape.length;
    const perm = [...Array(nd).keys()].sort(() => rnd(3) - 1);
    for (const [name, a] of Object.entries(arrays)) {
      await same(a.transpose(perm), refTranspose(ref, perm), `${name}.transpose(${perm}) of [${shape}]`);
      await same(a.T, refTranspose(ref, [...Array(nd).keys()].reverse()), `${name}.T of [${shape}]`);
      await same(a.flip(), refFlip(ref, [...Array(nd).keys()]), `${name}.flip() of [${shape}]`);
      await same(a.flip(nd - 1), refFlip(ref, [nd - 1]), `${name}.flip(${nd - 1})`);
      if (nd >= 2) {
        const sw = [...Array(nd).keys()];
        [sw[0], sw[nd - 1]] = [sw[nd - 1], sw[0]];
        await same(a.swapaxes(0, -1), refTranspose(ref, sw), `${name}.swapaxes(0, -1) of [${shape}]`);
        const mv = [...Array(nd).keys()].filter((k) => k !== 0);
        mv.push(0);
        await same(a.moveaxis(0, -1), refTranspose(ref, mv), `${name}.moveaxis(0, -1) of [${shape}]`);
      }
      // a view of a view: transpose of a flipped stepped slice
      const sel = shape.map((n) => slice(null, null, -2));
      await same(a.get(...sel).T, refTranspose(refGet(ref, sel), [...Array(nd).keys()].reverse()), `${name} stepped, then T`);
    }
  }
});

test("squeeze, expandDims, broadcastTo", async () => {
  const { ref, arrays } = await sources([4, 1, 3]);
  for (const [name, a] of Object.entries(arrays)) {
    await same(a.squeeze(), { shape: [4, 3], data: ref.data }, `${name}.squeeze()`);
    await same(a.squeeze(1), { shape: [4, 3], data: ref.data }, `${name}.squeeze(1)`);
    await same(a.expandDims(0), { shape: [1, 4, 1, 3], data: ref.data }, `${name}.expandDims(0)`);
    await same(a.expandDims([-1, 0]), { shape: [1, 4, 1, 3, 1], data: ref.data }, `${name}.expandDims([-1, 0])`);
    await same(a.broadcastTo([2, 4, 5, 3]), build([2, 4, 5, 3], (i) => at(ref, [i[1], 0, i[3]])), `${name}.broadcastTo`);
    throwsCode(() => a.squeeze(0), "INVALID_AXIS", "length is 4");
    throwsCode(() => a.broadcastTo([4, 2, 2]), "SHAPE_MISMATCH");
  }
});

test("reshape and ravel over lined-up and rechunked chunks (dask's rules), -1 included", async () => {
  const cases = [
    [[6, 4], [24]], [[6, 4], [3, 8]], [[6, 4], [2, 3, 4]], [[2, 3, 4], [6, 4]], [[2, 3, 4], [4, 6]], [[2, 3, 4], [-1]],
    [[4, 1, 3], [12]], [[12], [4, 1, 3]], [[5, 6], [6, 5]], [[2, 3, 4], [2, -1]],
  ];
  for (const [from, to] of cases) {
    const { ref, arrays } = await sources(from);
    const want = { shape: to.includes(-1) ? to.map((n) => (n === -1 ? sizeOf(from) / -sizeOf(to) : n)) : to, data: ref.data };
    for (const [name, a] of Object.entries(arrays)) {
      const r = a.reshape(to);
      await same(r, want, `${name}.reshape([${from}] -> [${to}])`);
      if (r instanceof ChunkedArray) assert.equal(r.chunks.map((c) => c.reduce((x, y) => x + y, 0)), want.shape, "chunks cover the shape");
      await same(a.ravel(), { shape: [sizeOf(from)], data: ref.data }, `${name}.ravel()`);
      await same(r.add(1).max({ axis: 0, keepdims: true }), await valuesOf(fromArray(Float64Array.from(ref.data), { shape: want.shape }).add(1).max({ axis: 0, keepdims: true })), `${name} reshaped, reduced`);
    }
  }
});

test("a lined-up reshape of a persisted array shares its chunks (no copy); a lazy source reshapes by its sources", async () => {
  const x = fromArray(Float64Array.from({ length: 60 }, (_, i) => i), { shape: [6, 10], chunks: [2, 10] });
  const p = await x.persist();
  const { plan } = lower([{ node: p.reshape(60).sum().node, chunks: [] }]);
  assert.ok(plan.buffers.some((b) => b.alias !== undefined), "the reshape is an alias of the stored chunks");
  assert.is(plan.layers.filter((l) => l.kind === "program").length, 1, "one pass: no rechunking copy");
  const r = random.random([40, 50], { chunks: [10, 50], seed: 3 });
  const { plan: fused } = lower([{ node: r.reshape(2000).add(1).sum().node, chunks: [] }]);
  assert.is(fused.layers.filter((l) => l.kind === "program").length, 1);
  assert.is(fused.buffers.filter((b) => b.components === undefined && b.input === undefined).length, 1, "only the result buffer: no chunk stored");
  // each [10, 50] chunk is 500 consecutive flat indices: the same chunks, values and tiles as a flat random
  // array with chunks 500, so the sums agree to the last bit
  assert.ok(Object.is(await r.reshape(2000).sum().compute(), await random.random([2000], { chunks: 500, seed: 3 }).sum().compute()), "reshape's sum is the flat array's");
  const flat = await r.reshape(2000).compute();
  const direct = await r.compute();
  assert.equal(Array.from(flat.data), Array.from(direct.data), "values follow the flat index");
});

test("take and get with an integer array; lazy indices checked when computed", async () => {
  const { ref, arrays } = await sources([6, 5]);
  const idx = [4, -1, 0, 4, 2];
  for (const [name, a] of Object.entries(arrays)) {
    await same(a.take(idx, { axis: 1 }), refGet(ref, [null, idx]), `${name}.take(axis 1)`);
    await same(a.take(idx, { axis: 0 }), refGet(ref, [idx]), `${name}.take(axis 0)`);
    await same(a.take([1, 3, 5], { axis: 0 }), refGet(ref, [[1, 3, 5]]), `${name}.take evenly spaced (a view)`);
    await same(a.take([7, 0]), { shape: [2], data: [ref.data[7], ref.data[0]] }, `${name}.take of the flattened array`);
    throwsCode(() => a.take([6], { axis: 0 }), "INDEX_ERROR", "index 6 is out of bounds for axis 0 with size 6");
  }
  const lazyIdx = fromArray(Int32Array.from([3, 0, -2, 1]), { chunks: 2 });
  await same(arrays.data.get(lazyIdx), refGet(ref, [[3, 0, -2, 1]]), "lazy indices");
  await same(arrays.lazy.take(lazyIdx, { axis: 1 }), refGet(ref, [null, [3, 0, -2, 1]]), "lazy indices on a lazy source");
  await rejectsCode(arrays.data.take(fromArray(Int32Array.from([0, 9]), { chunks: 1 }), { axis: 0 }).compute(), "INDEX_ERROR", "index 9");
});

test("concatenate and stack, with promotion, uneven chunks, empty parts; eager with NDArrays", async () => {
  const a = await sources([3, 4]);
  const b = await sources([5, 4]);
  const refCat0 = { shape: [8, 4], data: [...a.ref.data, ...b.ref.data] };
  for (const [name, x] of Object.entries(a.arrays)) {
    const y = b.arrays[name];
    await same(concatenate([x, y], { axis: 0 }), refCat0, `${name}: concatenate axis 0`);
    await same(concatenate([x.T, y.T], { axis: 1 }), refTranspose(refCat0, [1, 0]), `${name}: concatenate axis 1`);
    await same(concatenate([x, x.get(slice(0, 0)), y]), refCat0, `${name}: with an empty part`);
    await same(stack([x, x.add(1)], { axis: 1 }), build([3, 2, 4], (i) => at(a.ref, [i[0], i[2]]) + i[1]), `${name}: stack axis 1`);
  }
  const ints = fromArray(Int32Array.from([1, 2, 3]));
  const c = concatenate([ints, fromArray([0.5, 1.5])]);
  assert.is(c.dtype, "float64", "int32 with float64 promotes");
  assert.equal(Array.from((await c.compute()).data), [1, 2, 3, 0.5, 1.5]);
  assert.instance(concatenate([await ints.compute(), await ints.compute()]), NDArray, "all eager: an NDArray");
  throwsCode(() => concatenate([a.arrays.data, fromArray([1, 2])]), "SHAPE_MISMATCH", "dimensions");
  throwsCode(() => concatenate([a.arrays.data, fromArray(new Float64Array(15), { shape: [3, 5] })]), "SHAPE_MISMATCH", "axis 1");
  throwsCode(() => stack([a.arrays.data, b.arrays.data]), "SHAPE_MISMATCH");
});

test("a concatenation of lazy sources is fused: one kernel per input, nothing stored", async () => {
  const x = random.random([300, 200], { chunks: [100, 50], seed: 1 });
  const y = random.normal(0, 1, [150, 200], { chunks: [75, 50], seed: 2 });
  const c = concatenate([x, y.mul(2)], { axis: 0 }).mean({ axis: 1 });
  const { plan } = lower([{ node: c.node, chunks: c.chunks }]);
  assert.equal(plan.layers.map((l) => l.kind), ["program", "program", "combine"]);
  assert.ok(plan.kernels.every((k) => k.slots.every((s) => s.kind === "index" || s.kind === "partial")), "no buffer read or written but the partials");
  // the values: as over the concatenation materialized
  const m = await concatenate([x, y.mul(2)], { axis: 0 }).compute();
  const ref = await fromArray(m.data, { shape: m.shape, chunks: [[100, 100, 100, 75, 75], [50, 50, 50, 50]] }).mean({ axis: 1 }).compute();
  assert.equal(Array.from((await c.compute()).data), Array.from(ref.data));
});

test("bad selectors and movements: stable codes naming the value", async () => {
  const x = fromArray(new Float64Array(12), { shape: [3, 4] });
  throwsCode(() => x.get(3), "INDEX_ERROR", "index 3 is out of bounds for axis 0 with size 3");
  throwsCode(() => x.get(0, -5), "INDEX_ERROR", "axis 1");
  throwsCode(() => x.get(0, 0, 0), "INDEX_ERROR", "too many indices");
  throwsCode(() => x.get("...", 0, "..."), "INDEX_ERROR", "single ellipsis");
  throwsCode(() => x.get(slice(0, 2, 0)), "INVALID_ARGUMENT", "step cannot be zero");
  throwsCode(() => x.get(slice(0.5, 2)), "INVALID_ARGUMENT", "0.5");
  throwsCode(() => x.get(1.5), "INDEX_ERROR", "1.5");
  throwsCode(() => x.get([0], [1]), "INDEX_ERROR", "one integer array");
  throwsCode(() => x.reshape([5, 3]), "INVALID_SHAPE", "size 12");
  throwsCode(() => x.reshape([-1, -1]), "INVALID_SHAPE", "one -1");
  throwsCode(() => x.transpose([0, 0]), "INVALID_AXIS", "repeat");
  throwsCode(() => x.transpose([0, 2]), "INVALID_AXIS", "2");
  throwsCode(() => x.moveaxis(0, 5), "INVALID_AXIS");
  throwsCode(() => x.expandDims(4), "INVALID_AXIS");
});

test("plans: a slice of a random source stays fused (one kernel, no stored chunk); a transpose of a persisted array is a strided read", async () => {
  const r = random.random([400, 400], { chunks: [100, 100], seed: 1 });
  const { plan } = lower([{ node: r.get(slice(null, null, 2), slice(10, -10)).add(1).sum().node, chunks: [] }]);
  assert.equal(plan.layers.map((l) => l.kind), ["program", "combine"]);
  const slots = plan.kernels[0].slots;
  assert.ok(slots.every((s) => s.kind === "index" || s.kind === "partial"), "no buffer read or written but the partials");
  const p = await r.persist();
  const { plan: t } = lower([{ node: p.T.add(p).sum({ axis: 0 }).node, chunks: [p.chunks[0]] }]);
  assert.equal(t.layers.map((l) => l.kind), ["program", "combine"], "one pass over the stored chunks");
  const reads = t.kernels[0].slots.filter((s) => s.kind === "read");
  assert.is(reads.length, 2);
  assert.ok(reads.some((s) => s.map.source[0] === 1 && s.map.source[1] === 0), "the transposed read maps axes across");
  // and the values: the fused slice against the materialized one
  const sliced = r.get(slice(null, null, 2), slice(10, -10));
  const m = await sliced.compute();
  const ref = fromArray(m.data, { shape: m.shape, chunks: sliced.chunks });
  const [s1, s2] = [await sliced.sum({ axis: 1 }).compute(), await ref.sum({ axis: 1 }).compute()];
  assert.equal(Array.from(s1.data), Array.from(s2.data), "bit-identical row sums");
});

test("a random source read other than in rows is generated in rows into a box first, then read with strides (same bits as persisted)", async () => {
  const x = random.random([300, 300], { chunks: 100, seed: 4 });
  const { plan } = lower([{ node: x.T.add(x).sum({ axis: 0 }).node, chunks: [[100, 100, 100]] }]);
  assert.equal(plan.layers.map((l) => l.kind), ["program", "program", "combine"], "the box, then one pass");
  const p = await x.persist();
  const [a, b] = await compute(x.T.add(x).sum({ axis: 0 }), p.T.add(p).sum({ axis: 0 }));
  assert.equal(Array.from(a.data), Array.from(b.data));
  // a stepped slice along the row reads a box too, and only the box it needs
  const s = x.get(slice(10, 20), slice(null, null, -3));
  const { plan: sp } = lower([{ node: s.sum().node, chunks: [] }]);
  const box = sp.buffers.find((buf) => buf.shape.length === 2 && buf.shape[0] === 10);
  assert.ok(box, "a 10-row box");
  const full = await x.compute();
  const want = refGet({ shape: [300, 300], data: Array.from(full.data) }, [slice(10, 20), slice(null, null, -3)]);
  assert.equal(Array.from((await s.compute()).data), want.data);
});

test("views are bit-identical across chunkings of the view's materialization, worker counts", async () => {
  const r = random.random([300, 200], { chunks: [64, 50], seed: 9 });
  const v = r.get(slice(5, null, 3), slice(null, null, -1)).T;
  const one = await v.compute({ workers: 1 });
  const two = await v.compute({ workers: 2 });
  assert.equal(Array.from(one.data), Array.from(two.data));
  const full = await r.compute();
  const ref = refTranspose(refGet({ shape: [300, 200], data: Array.from(full.data) }, [slice(5, null, 3), slice(null, null, -1)]), [1, 0]);
  assert.equal(Array.from(one.data), ref.data);
});

test("a column (or a one-wide slab) of a random source: the same values as the array's, generated where they are read", async () => {
  const x = random.random([300, 50], { chunks: [70, 50], seed: 12 });
  const full = await x.compute();
  for (const [sel, pick] of [
    [[null, 0], (i) => full.data[i * 50]],
    [[null, -1], (i) => full.data[i * 50 + 49]],
    [[slice(null, null, 3), 7], (i) => full.data[i * 3 * 50 + 7]],
  ]) {
    const col = await x.get(...sel).compute();
    for (let i = 0; i < col.shape[0]; i++) assert.ok(Object.is(col.data[i], pick(i)), `${JSON.stringify(sel)} element ${i}`);
  }
  const s = await x.get(slice(10, 200), slice(3, 4)).sum().compute();
  let want = 0;
  for (let i = 10; i < 200; i++) want += full.data[i * 50 + 3];
  assert.ok(Math.abs(s - want) <= 1e-12 * want, "a one-wide slab's sum");
});

test.run();
