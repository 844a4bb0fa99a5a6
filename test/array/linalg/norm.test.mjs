// linalg.norm as numpy.linalg.norm: every vector ord over every axis, the matrix ords over every axis pair
// (stacks too), keepdims, the flattened 2-norm without axis; int32/bool give float64 and float32 stays
// float32; a full norm resolves to a number. Values against numpy's formulas in plain JS (float64), and
// against numpy itself where it is installed.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { fromArray, random, compute, linalg, zeros, NDArray, ChunkedArray } from "../../../dist/index.js";
import { lower } from "../../../dist/graph/lower.js";
import * as R from "../../helpers/reference.mjs";
import { throwsCode, closeNumber } from "../../helpers/check.mjs";

const PY = "/usr/bin/python3";
const hasNumpy = spawnSync(PY, ["-c", "import numpy"]).status === 0;
const peer = hasNumpy ? test : process.env.TESSERA_INTEROP === "1" ? () => test("numpy is installed", () => assert.unreachable("python3-numpy is missing")) : test.skip;

const T = { float64: Float64Array, float32: Float32Array, int32: Int32Array, bool: Uint8Array };
const { norm } = linalg;

function arrayOf(shape, dtype, chunks, seed = 1) {
  const vals = Array.from({ length: R.sizeOf(shape) }, (_, i) => Math.sin(i * 1.3 + seed) * 20 + (i % 7 === 3 ? 0 : 0.25));
  const v = dtype === "int32" ? vals.map((x) => Math.round(x)) : dtype === "bool" ? vals.map((x) => (x > 0 ? 1 : 0)) : vals;
  const ref = R.array(v, shape, dtype);
  return { x: fromArray(T[dtype].from(ref.data), { shape, chunks }), ref };
}

// ---- numpy's formulas, in float64

const strides = (s) => s.map((_, d) => R.sizeOf(s.slice(d + 1)));
/** For each index of the axes not in `axes` (C order): the values along `axes`, nested in their order. */
function slices(a, axes) {
  const nd = a.shape.length;
  const rest = [...Array(nd).keys()].filter((k) => !axes.includes(k));
  const st = strides(a.shape);
  const out = [];
  const restShape = rest.map((k) => a.shape[k]);
  for (let o = 0; o < R.sizeOf(restShape); o++) {
    const ro = R.unravel(o, restShape);
    const base = rest.reduce((s, k, i) => s + ro[i] * st[k], 0);
    const along = (d, off) => (d === axes.length ? a.data[off] : Array.from({ length: a.shape[axes[d]] }, (_, i) => along(d + 1, off + i * st[axes[d]])));
    out.push(along(0, base));
  }
  return { out, shape: restShape, rest };
}
const sum = (xs) => xs.reduce((s, v) => s + v, 0);
function vectorRef(v, ord) {
  const abs = v.map(Math.abs);
  if (ord === undefined || ord === 2) return Math.sqrt(sum(v.map((x) => x * x)));
  if (ord === Infinity) return Math.max(...abs);
  if (ord === -Infinity) return Math.min(...abs);
  if (ord === 0) return v.filter((x) => x !== 0).length;
  if (ord === 1) return sum(abs);
  return sum(abs.map((x) => x ** ord)) ** (1 / ord);
}
function matrixRef(m, ord) {
  const rows = m.length;
  const cols = rows ? m[0].length : 0;
  if (ord === undefined || ord === "fro") return Math.sqrt(sum(m.flat().map((x) => x * x)));
  const colSums = Array.from({ length: cols }, (_, j) => sum(m.map((r) => Math.abs(r[j]))));
  const rowSums = m.map((r) => sum(r.map(Math.abs)));
  if (ord === 1) return Math.max(...colSums);
  if (ord === -1) return Math.min(...colSums);
  if (ord === Infinity) return Math.max(...rowSums);
  return Math.min(...rowSums);
}
/** { data, shape } of numpy.linalg.norm(a, ord, axis, keepdims) for axis an array of 1 or 2 axes. */
function normRef(a, ord, axes, keepdims) {
  const nd = a.shape.length;
  const ax = axes.map((k) => (k < 0 ? k + nd : k));
  const { out } = slices(a, ax);
  const data = out.map((s) => (ax.length === 1 ? vectorRef(s, ord) : matrixRef(s, ord)));
  const shape = keepdims ? a.shape.map((n, k) => (ax.includes(k) ? 1 : n)) : a.shape.filter((_, k) => !ax.includes(k));
  return { data, shape };
}

const TOL = { float64: 1e-13, float32: 2e-6, int32: 1e-13, bool: 1e-13 };
const resultDType = (d) => (d === "float32" ? "float32" : "float64");

function check(got, want, dtype, what) {
  if (want.shape.length === 0) {
    assert.type(got, "number", `${what}: a full norm is a number`);
    closeNumber(got, want.data[0], { rtol: TOL[dtype], what });
    return;
  }
  assert.equal(got.shape, want.shape, `${what}: shape`);
  assert.is(got.dtype, resultDType(dtype), `${what}: dtype`);
  want.data.forEach((w, i) => closeNumber(got.data[i], w, { rtol: TOL[dtype], what: `${what} element ${i}` }));
}

const VECTOR_ORDS = [undefined, 2, 1, Infinity, -Infinity, 0, 3, 0.5, -1, -2.5];
const MATRIX_ORDS = [undefined, "fro", 1, -1, Infinity, -Infinity];

for (const dtype of ["float64", "float32", "int32", "bool"]) {
  test(`${dtype} vector norms: every ord, every axis, keepdims, uneven chunks`, async () => {
    const { x, ref } = arrayOf([10, 7, 3], dtype, [[3, 3, 4], [2, 5], [3]]);
    const outs = [];
    const wants = [];
    for (const ord of VECTOR_ORDS) {
      for (const axis of [0, 1, 2, -1, [1]]) {
        for (const keepdims of [false, true]) {
          const r = norm(x, { ord, axis, keepdims });
          assert.instance(r, ChunkedArray);
          assert.is(r.dtype, resultDType(dtype));
          outs.push(r);
          wants.push({ want: normRef(ref, ord, Array.isArray(axis) ? axis : [axis], keepdims), what: `${dtype} norm ord ${ord} axis ${axis} keepdims ${keepdims}` });
        }
      }
    }
    const got = await compute(...outs);
    got.forEach((g, i) => check(g, wants[i].want, dtype, wants[i].what));
  });

  test(`${dtype} matrix norms: "fro", 1, -1, Infinity, -Infinity over every axis pair of a stack, keepdims`, async () => {
    const { x, ref } = arrayOf([4, 6, 5], dtype, [3, 4, 2]);
    const outs = [];
    const wants = [];
    for (const ord of MATRIX_ORDS) {
      for (const axis of [[1, 2], [2, 1], [0, 2], [-1, 0], [0, 1]]) {
        for (const keepdims of [false, true]) {
          outs.push(norm(x, { ord, axis, keepdims }));
          wants.push({ want: normRef(ref, ord === "fro" ? undefined : ord, axis, keepdims), what: `${dtype} norm ord ${ord} axis ${axis} keepdims ${keepdims}` });
        }
      }
    }
    const got = await compute(...outs);
    got.forEach((g, i) => check(g, wants[i].want, dtype, wants[i].what));
  });
}

test("without axis: the flattened 2-norm (any shape, ord undefined; 'fro' of 2-d; 2 of 1-d), else a 1-d vector or 2-d matrix norm", async () => {
  const { x, ref } = arrayOf([5, 4, 3], "float64", [2, 3, 2]);
  const flat = Math.sqrt(sum(ref.data.map((v) => v * v)));
  closeNumber(await norm(x).compute(), flat, { rtol: 1e-14, what: "3-d" });
  const k = await norm(x, { keepdims: true }).compute();
  assert.equal(k.shape, [1, 1, 1]);
  closeNumber(k.data[0], flat, { rtol: 1e-14, what: "keepdims" });
  const { x: m, ref: mref } = arrayOf([6, 5], "float64", [4, 2]);
  for (const ord of MATRIX_ORDS) {
    closeNumber(await norm(m, { ord }).compute(), normRef(mref, ord === "fro" ? undefined : ord, [0, 1], false).data[0], { rtol: 1e-14, what: `2-d ord ${ord}` });
  }
  const { x: v, ref: vref } = arrayOf([13], "float32", 4);
  for (const ord of VECTOR_ORDS) {
    const r = norm(v, { ord });
    assert.is(r.dtype, "float32");
    closeNumber(await r.compute(), vectorRef(vref.data, ord), { rtol: 2e-6, what: `1-d ord ${ord}` });
  }
  closeNumber(await norm(fromArray(-3.5)).compute(), 3.5, { what: "0-d" });
  assert.is(await norm(zeros([0, 3])).compute(), 0, "empty");
});

test("NDArray in: a number for a full norm, an NDArray along axes; one fused pass over a lazy source", async () => {
  const { x, ref } = arrayOf([6, 5], "int32", [4, 2]);
  const nd = await x.compute();
  const full = norm(nd);
  assert.type(full, "number");
  closeNumber(full, Math.sqrt(sum(ref.data.map((v) => v * v))), { what: "full" });
  const rows = norm(nd, { axis: 1, ord: 1 });
  assert.instance(rows, NDArray);
  assert.equal(Array.from(rows.data), normRef(ref, 1, [1], false).data);
  assert.is(norm(nd, { ord: Infinity }), normRef(ref, Infinity, [0, 1], false).data[0]);
  // random -> norm: one fused pass over the source and its combine (then the square root of the number)
  const r = random.normal(0, 1, [500, 300], { chunks: [128, 100], seed: 6 });
  const { plan } = lower([{ node: norm(r).node, chunks: [] }]);
  assert.equal(plan.layers.map((l) => l.kind), ["program", "combine", "program"]);
  assert.ok(plan.kernels[0].slots.every((s) => s.kind === "index" || s.kind === "partial"), "the source is not stored");
  const a = await norm(r).compute({ workers: 1 });
  const b = await norm(r).compute({ workers: 2 });
  assert.ok(Object.is(a, b), "bit-identical on 1 and 2 workers");
  closeNumber(a, Math.sqrt(sum(Array.from((await r.compute()).data, (v) => v * v))), { rtol: 1e-12 });
});

test("numpy's special values: no rescaling (squares that overflow give Infinity), NaN propagates, ord 0 counts NaN", async () => {
  assert.is(await norm(fromArray([1e200, 1e200])).compute(), Infinity);
  assert.is(await norm(fromArray([1e200, 1e200]), { ord: 1 }).compute(), 2e200);
  const n = fromArray([1, NaN, 0, -2]);
  assert.ok(Number.isNaN(await norm(n).compute()));
  assert.ok(Number.isNaN(await norm(n, { ord: Infinity }).compute()));
  assert.is(await norm(n, { ord: 0 }).compute(), 3);
  assert.is(await norm(fromArray([0, 3, -4]), { ord: -1 }).compute(), 0, "a zero makes a negative p-norm 0");
});

peer("ord 2, -2 and nuc of a matrix: its singular values (TSQR, any shape and chunks), as numpy's", async () => {
  for (const [shape, chunks] of [[[30, 7], [8, 3]], [[6, 25], [4, 10]], [[12, 12], [12, 12]]]) {
    const { x, ref } = arrayOf(shape, "float64", chunks, 3);
    const want = JSON.parse(spawnSync(PY, ["-c", `import json, sys, numpy as np
a = np.array(json.load(sys.stdin)).reshape(${shape[0]}, ${shape[1]})
print(json.dumps([np.linalg.norm(a, o) for o in (2, -2, "nuc")] + [np.linalg.norm(a.T, 2)]))`], { input: JSON.stringify(ref.data), encoding: "utf8" }).stdout);
    const got = await compute(norm(x, { ord: 2 }), norm(x, { ord: -2 }), norm(x, { ord: "nuc" }), norm(x, { ord: 2, axis: [1, 0] }));
    // (these matrices are nearly singular: the smallest singular value is compared to the largest's precision)
    got.forEach((g, i) => closeNumber(g, want[i], { rtol: 1e-12, atol: 1e-12 * want[0], what: `[${shape}] ord ${[2, -2, "nuc", "2 transposed"][i]}` }));
    const kept = await norm(x, { ord: "nuc", keepdims: true, axis: [0, 1] }).compute();
    assert.equal(kept.shape, [1, 1]);
    closeNumber(kept.data[0], want[2], { rtol: 1e-12, what: "keepdims" });
  }
  const nd = await arrayOf([9, 4], "float64", undefined, 2).x.compute();
  assert.type(norm(nd, { ord: 2 }), "number", "an NDArray's norm is a number");
});

test("bad input: ords not valid for vectors or matrices, singular-value ords of stacks, bad axes, options", () => {
  const v = fromArray([3, 4]);
  const m = zeros([3, 4]);
  const s = zeros([2, 3, 4]);
  throwsCode(() => norm(s, { ord: "nuc", axis: [0, 2] }), "INVALID_AXIS", "2-d", "3 dimensions");
  throwsCode(() => norm(v, { ord: "fro" }), "INVALID_ARGUMENT", '"fro"', "vectors");
  throwsCode(() => norm(m, { ord: "nuc", axis: 1 }), "INVALID_ARGUMENT", '"nuc"', "vectors");
  throwsCode(() => norm(m, { ord: 3 }), "INVALID_ARGUMENT", "3", "matrices");
  throwsCode(() => norm(m, { ord: 0, axis: [0, 1] }), "INVALID_ARGUMENT", "0", "matrices");
  throwsCode(() => norm(m, { ord: "max" }), "INVALID_ARGUMENT", '"max"');
  throwsCode(() => norm(m, { ord: NaN }), "INVALID_ARGUMENT", "NaN");
  throwsCode(() => norm(s, { ord: 1 }), "INVALID_AXIS", "dimension 3", "axis");
  throwsCode(() => norm(s, { axis: [0, 1, 2] }), "INVALID_AXIS", "[0,1,2]", "pair");
  throwsCode(() => norm(s, { axis: [] }), "INVALID_AXIS", "[]");
  throwsCode(() => norm(s, { axis: [1, -2] }), "INVALID_AXIS", "repeats");
  throwsCode(() => norm(s, { axis: 3 }), "INVALID_AXIS", "3");
  throwsCode(() => norm(s, { axis: 0.5 }), "INVALID_AXIS", "0.5");
  throwsCode(() => norm(s, { axis: "0" }), "INVALID_AXIS", '"0"');
  throwsCode(() => norm(m, { keepdims: 1 }), "INVALID_ARGUMENT", "keepdims", "1");
  throwsCode(() => norm(m, { p: 2 }), "INVALID_ARGUMENT", '"p"');
  throwsCode(() => norm([3, 4]), "INVALID_ARGUMENT", "linalg.norm input");
  throwsCode(() => norm(zeros([3, 0]), { ord: 1 }), "EMPTY_REDUCTION");
});

peer("linalg.norm equals numpy.linalg.norm (values and dtypes) for vector and matrix ords, axes and keepdims", async () => {
  const vals = Array.from({ length: 4 * 6 * 5 }, (_, i) => Math.sin(i * 0.61) * 9 - 1);
  const cases = [];
  for (const dtype of ["float64", "float32", "int32"]) {
    for (const ord of [null, 2, 1, "inf", "-inf", 0, 3, -1.5]) for (const axis of [0, 2, null]) cases.push({ dtype, ord, axis, shape: axis === null ? [13] : [4, 6, 5], keepdims: axis === 2 });
    for (const ord of [null, "fro", 1, -1, "inf", "-inf"]) for (const axis of [[1, 2], [2, 0], null]) cases.push({ dtype, ord, axis, shape: axis === null ? [6, 5] : [4, 6, 5], keepdims: axis !== null && axis[0] === 2 });
  }
  cases.push({ dtype: "float64", ord: null, axis: null, shape: [4, 6, 5], keepdims: false });
  const ordOf = (o) => (o === "inf" ? Infinity : o === "-inf" ? -Infinity : o ?? undefined);
  const outs = cases.map((c) => {
    const n = R.sizeOf(c.shape);
    const data = vals.slice(0, n).map((v) => (c.dtype === "int32" ? Math.round(v) : v));
    const x = fromArray(T[c.dtype].from(data), { shape: c.shape, chunks: c.shape.map((s) => Math.max(1, s - 2)) });
    return norm(x, { ord: ordOf(c.ord), ...(c.axis === null ? {} : { axis: c.axis }), keepdims: c.keepdims });
  });
  const code = `
import json, sys, numpy as np
vals = np.array(json.loads(sys.argv[1]))
out = []
for c in json.loads(sys.stdin.read()):
    n = int(np.prod(c["shape"]))
    v = vals[:n]
    if c["dtype"] == "int32": v = np.round(v)
    x = v.astype(c["dtype"]).reshape(c["shape"])
    ord = {"inf": np.inf, "-inf": -np.inf}.get(c["ord"], c["ord"]) if isinstance(c["ord"], str) else c["ord"]
    axis = tuple(c["axis"]) if isinstance(c["axis"], list) else c["axis"]
    r = np.asarray(np.linalg.norm(x, ord=ord, axis=axis, keepdims=c["keepdims"]))
    out.append({"dtype": r.dtype.name, "shape": list(r.shape), "data": r.astype(np.float64).ravel().tolist()})
print(json.dumps(out))`;
  const py = spawnSync(PY, ["-c", code, JSON.stringify(vals)], { input: JSON.stringify(cases), encoding: "utf8" });
  assert.is(py.status, 0, py.stderr);
  const want = JSON.parse(py.stdout);
  const got = await compute(...outs);
  got.forEach((g, i) => {
    const c = cases[i];
    const what = `norm ${JSON.stringify(c)}`;
    assert.is(outs[i].dtype, want[i].dtype, `${what}: dtype`);
    const data = typeof g === "number" ? [g] : Array.from(g.data);
    assert.equal(typeof g === "number" ? [] : g.shape, want[i].shape, `${what}: shape`);
    data.forEach((v, j) => closeNumber(v, want[i].data[j], { rtol: c.dtype === "float32" ? 3e-6 : 1e-13, what: `${what} element ${j}` }));
  });
});

test.run();
