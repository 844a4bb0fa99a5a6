// nan-reductions (nansum ... nanargmax): NaN is left out, all-NaN slices give numpy's results, every axis
// combination and chunking agrees with the plain-JS reference, and with numpy itself where it is installed.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { fromArray, compute, random, where, NDArray, ChunkedArray, ComputeError } from "../../dist/index.js";
import * as R from "../helpers/reference.mjs";
import { sameArray, closeArray, closeNumber, throwsCode, rejectsCode, sameBytes } from "../helpers/check.mjs";

const PY = "/usr/bin/python3";
const hasNumpy = spawnSync(PY, ["-c", "import numpy"]).status === 0;
const peer = hasNumpy ? test : process.env.TESSERA_INTEROP === "1" ? () => test("numpy is installed", () => assert.unreachable("python3-numpy is missing")) : test.skip;

const SHAPE = [4, 5, 6];
const N = R.sizeOf(SHAPE);
const AXES = [undefined, [0], [1], [2], [0, 1], [0, 2], [1, 2], -1];
const CHUNKINGS = [
  [2, 2, 4],
  [[1, 3], [5], [1, 2, 3]],
  [4, 5, 6],
];
/**
 * Small integers (exact sums in any order) with NaN sprinkled in, and the whole row [1, 2, :] NaN and
 * the whole column [:, 3, 4] NaN: all-NaN slices along axes 2 and 0.
 */
const VALUES = Array.from({ length: N }, (_, i) => {
  const [a, b, c] = R.unravel(i, SHAPE);
  if ((a === 1 && b === 2) || (b === 3 && c === 4) || i % 7 === 3) return NaN;
  return ((i * 37 + 11) % 23) - 11;
});
/** Powers of two with NaN: exact products in any order. */
const POW2 = VALUES.map((v, i) => (Number.isNaN(v) ? NaN : [1, -1, 2, 0.5, 1, -2, 0.5][(i * 5 + 3) % 7]));
const T = { float64: Float64Array, float32: Float32Array, int32: Int32Array, bool: Uint8Array };

function arrayOf(dtype, values, chunks) {
  const ref = R.array(values, SHAPE, dtype);
  return { x: fromArray(T[dtype].from(ref.data), { shape: SHAPE, chunks }), ref };
}

const axisName = (a) => (a === undefined ? "all" : JSON.stringify(a));
const full = (axis) => R.normalizeAxes(axis, 3).length === 3;

/** Whether a reference group along `axis` is all NaN (nanargmin/nanargmax raise on those). */
function hasAllNaNSlice(ref, axis) {
  try {
    R.reduce("nanargmin", ref, { axis });
    return false;
  } catch {
    return true;
  }
}

function check(got, want, isFull, keepdims, rtol, what) {
  if (isFull && !keepdims) {
    assert.is(typeof got, "number", `${what}: a full nan-reduction resolves to a number`);
    const w = R.scalar(want);
    if (rtol) closeNumber(got, w, { rtol, what });
    else assert.ok(Object.is(got, w), `${what}: ${got} vs ${w}`);
    return;
  }
  assert.instance(got, NDArray, what);
  if (rtol) closeArray(got, want, { rtol, what });
  else sameArray(got, want, { what });
}

for (const dtype of ["float64", "float32"]) {
  for (const [ci, chunks] of CHUNKINGS.entries()) {
    test(`${dtype} nan-reductions over axes and keepdims, chunking ${ci} ${JSON.stringify(chunks)}`, async () => {
      const { x, ref } = arrayOf(dtype, VALUES, chunks);
      const p = arrayOf(dtype, POW2, chunks);
      const outs = [];
      const checks = [];
      for (const axis of AXES) {
        for (const keepdims of [false, true]) {
          const opts = axis === undefined ? { keepdims } : { axis, keepdims };
          for (const op of ["nansum", "nanprod", "nanmean", "nanvar", "nanstd", "nanmin", "nanmax"]) {
            const src = op === "nanprod" ? p : { x, ref };
            const r = src.x[op](opts);
            assert.instance(r, ChunkedArray);
            const want = R.reduce(op, src.ref, opts);
            assert.equal(r.shape, want.shape, `${op} axis ${axisName(axis)} keepdims ${keepdims}: shape`);
            assert.equal(r.chunks.length, want.shape.length, `${op}: chunks per axis`);
            assert.is(r.dtype, want.dtype, `${op} axis ${axisName(axis)}: dtype`);
            outs.push(r);
            const rtol = ["nanmean", "nanvar", "nanstd"].includes(op) ? (dtype === "float32" ? 1e-6 : 1e-12) : 0;
            checks.push({ want, isFull: full(axis), keepdims, rtol, what: `${dtype} ${op} axis ${axisName(axis)} keepdims ${keepdims}` });
          }
        }
      }
      for (const axis of [undefined, 1, -1]) {
        for (const op of ["nanargmin", "nanargmax"]) {
          if (hasAllNaNSlice(ref, axis)) continue;
          outs.push(x[op](axis === undefined ? {} : { axis }));
          checks.push({ want: R.reduce(op, ref, { axis }), isFull: axis === undefined, keepdims: false, rtol: 0, what: `${dtype} ${op} axis ${axisName(axis)}` });
        }
      }
      const results = await compute(...outs);
      results.forEach((got, i) => check(got, checks[i].want, checks[i].isFull, checks[i].keepdims, checks[i].rtol, checks[i].what));
    });
  }
}

test("all-NaN slices: nansum 0, nanprod 1, nanmean/nanvar/nanstd/nanmin/nanmax NaN (numpy's values)", async () => {
  const m = [
    [NaN, NaN, NaN],
    [1, NaN, 3],
  ];
  const x = fromArray(m, { chunks: [1, 2] });
  const [s, p, me, v, sd, mn, mx] = await compute(...["nansum", "nanprod", "nanmean", "nanvar", "nanstd", "nanmin", "nanmax"].map((op) => x[op]({ axis: 1 })));
  assert.equal(Array.from(s.data), [0, 4]);
  assert.equal(Array.from(p.data), [1, 3]);
  assert.ok(Number.isNaN(me.data[0]) && me.data[1] === 2, `nanmean ${Array.from(me.data)}`);
  assert.ok(Number.isNaN(v.data[0]) && v.data[1] === 1, `nanvar ${Array.from(v.data)}`);
  assert.ok(Number.isNaN(sd.data[0]) && sd.data[1] === 1, `nanstd ${Array.from(sd.data)}`);
  assert.ok(Number.isNaN(mn.data[0]) && mn.data[1] === 1, `nanmin ${Array.from(mn.data)}`);
  assert.ok(Number.isNaN(mx.data[0]) && mx.data[1] === 3, `nanmax ${Array.from(mx.data)}`);
  // ddof that leaves no degree of freedom: NaN (numpy warns and gives nan), not Infinity
  const [v1] = await compute(x.nanvar({ axis: 1, ddof: 2 }));
  assert.ok(Number.isNaN(v1.data[1]), `nanvar ddof 2 of two values: ${v1.data[1]}`);
  // NaN only: the full reductions
  const all = fromArray([NaN, NaN], { chunks: 1 });
  assert.is(await all.nansum().compute(), 0);
  assert.ok(Number.isNaN(await all.nanmax().compute()));
  // infinities are values, not NaN
  assert.is(await fromArray([NaN, -Infinity, 2]).nanmin().compute(), -Infinity);
  assert.is(await fromArray([NaN, Infinity, 2], { chunks: 1 }).nanargmax().compute(), 1);
});

test("nanargmin/nanargmax of an all-NaN slice reject with EMPTY_REDUCTION (numpy: All-NaN slice encountered)", async () => {
  const x = fromArray([
    [NaN, NaN],
    [2, 1],
  ], { chunks: 1 });
  await rejectsCode(x.nanargmin({ axis: 1 }).compute(), "EMPTY_REDUCTION", "nanargmin");
  await rejectsCode(x.nanargmax({ axis: 1 }).compute(), "EMPTY_REDUCTION", "nanargmax");
  const e = await x.nanargmin({ axis: 1 }).compute().catch((err) => err);
  assert.instance(e, ComputeError);
  // along the other axis every slice has a value; NaN is skipped, ties go to the first index
  const a = await x.nanargmin({ axis: 0 }).compute();
  assert.is(a.dtype, "int32");
  assert.equal(Array.from(a.data), [1, 1]);
  assert.is(await x.nanargmax().compute(), 2, "flat index over all values, NaN included");
  assert.is(await fromArray([NaN, 5, 5, NaN], { chunks: 1 }).nanargmax().compute(), 1);
});

test("int32 and bool arrays hold no NaN: nan-reductions are the plain ones (values and dtypes)", async () => {
  const ints = VALUES.map((v) => (Number.isNaN(v) ? 0 : v));
  for (const dtype of ["int32", "bool"]) {
    const { x, ref } = arrayOf(dtype, dtype === "bool" ? ints.map((v) => (v > 0 ? 1 : 0)) : ints, [2, 3, 4]);
    for (const op of R.NAN_REDUCTIONS) {
      const axis = op.includes("arg") ? 2 : [0, 2];
      const r = x[op]({ axis });
      const want = R.reduce(op.slice(3), ref, { axis });
      assert.is(r.dtype, want.dtype, `${dtype} ${op} dtype`);
      const got = await r.compute();
      if (op === "nanvar" || op === "nanstd" || op === "nanmean") closeArray(got, want, { rtol: 1e-12, what: `${dtype} ${op}` });
      else sameArray(got, want, { what: `${dtype} ${op}` });
    }
  }
});

test("nan-reduction options: errors name the nan-reduction and the value", () => {
  const x = fromArray(new Float64Array(24), { shape: [2, 3, 4] });
  throwsCode(() => x.nanmean({ axis: 3 }), "INVALID_AXIS", "3");
  throwsCode(() => x.nansum({ axes: 1 }), "INVALID_ARGUMENT", "nansum", '"axes"');
  throwsCode(() => x.nanmean({ ddof: 1 }), "INVALID_ARGUMENT", "nanmean", '"ddof"');
  throwsCode(() => x.nanvar({ ddof: -1 }), "INVALID_ARGUMENT", "-1");
  throwsCode(() => x.nanargmax({ axis: [0, 1] }), "INVALID_AXIS", "nanargmax", "[0,1]");
  throwsCode(() => x.nanstd({ keepdims: 1 }), "INVALID_ARGUMENT", "1");
  throwsCode(() => x.nanstd(7), "INVALID_ARGUMENT", "nanstd", "7");
  const e = fromArray(new Float64Array(0), { shape: [0, 3] });
  throwsCode(() => e.nanmin(), "EMPTY_REDUCTION", "nanmin");
  throwsCode(() => e.nanargmax({ axis: 0 }), "EMPTY_REDUCTION", "nanargmax");
});

test("NDArray nan-reductions agree with ChunkedArray ones and resolve at once", async () => {
  const { x, ref } = arrayOf("float64", VALUES, [2, 2, 4]);
  const nd = await x.compute();
  for (const op of ["nansum", "nanmean", "nanvar", "nanmin", "nanmax", "nanargmin"]) {
    const want = R.scalar(R.reduce(op, ref));
    const got = nd[op]();
    assert.is(typeof got, "number", `NDArray ${op}()`);
    closeNumber(got, want, { rtol: 1e-12, what: `NDArray ${op}()` });
    if (op !== "nanargmin") closeArray(nd[op]({ axis: 1, keepdims: true }), R.reduce(op, ref, { axis: 1, keepdims: true }), { rtol: 1e-12, what: `NDArray ${op} axis 1` });
  }
});

test("nan-reductions are bit-identical across worker counts and chunkings of the same blocks' data", async () => {
  const r = random.random([300, 400], { chunks: [70, 90], seed: 5 });
  const y = where(r.lt(0.2), NaN, r.mul(100));
  const outs = () => [y.nansum(), y.nanmean(), y.nanvar({ ddof: 1 }), y.nanstd({ axis: 0 }), y.nanmin({ axis: 1 }), y.nanargmax()];
  const runs = [];
  for (const workers of [1, 2, 3]) runs.push(await compute(...outs(), { workers }));
  for (let k = 1; k < runs.length; k++) {
    runs[k].forEach((v, i) => {
      if (typeof v === "number") assert.ok(Object.is(v, runs[0][i]), `output ${i}: run ${k} gave ${v}, run 0 gave ${runs[0][i]}`);
      else sameBytes(v.data, runs[0][i].data, `output ${i} run ${k}`);
    });
  }
});

peer("nan-reductions agree with numpy (values, dtypes, all-NaN slices), float64 and float32", async () => {
  const cases = [];
  const outs = [];
  for (const dtype of ["float64", "float32"]) {
    const x = fromArray(T[dtype].from(VALUES.map((v, i) => (Number.isNaN(v) ? v : v + i / 8))), { shape: SHAPE, chunks: [3, 2, 4] });
    for (const op of ["nansum", "nanprod", "nanmean", "nanvar", "nanstd", "nanmin", "nanmax"]) {
      for (const axis of [null, 0, 2, [0, 1]]) {
        cases.push({ dtype, op, axis, ddof: op === "nanvar" || op === "nanstd" ? 1 : null });
        const opts = { ...(axis === null ? {} : { axis }), ...(op === "nanvar" || op === "nanstd" ? { ddof: 1 } : {}) };
        outs.push(x[op](opts));
      }
    }
  }
  const code = `
import json, sys, numpy as np, warnings
warnings.simplefilter("ignore")
vals = np.array(json.loads(sys.argv[1]), dtype=np.float64)
idx = np.arange(vals.size) / 8
out = []
for c in json.loads(sys.stdin.read()):
    a = np.where(np.isnan(vals), vals, vals + idx).astype(c["dtype"]).reshape(${JSON.stringify(SHAPE)})
    axis = tuple(c["axis"]) if isinstance(c["axis"], list) else c["axis"]
    kw = {} if c["ddof"] is None else {"ddof": c["ddof"]}
    r = np.asarray(getattr(np, c["op"])(a, axis=axis, **kw))
    out.append({"dtype": r.dtype.name, "values": [repr(float(v)) for v in r.ravel().astype(np.float64)]})
print(json.dumps(out))`;
  const py = spawnSync(PY, ["-c", code, JSON.stringify(VALUES.map((v) => (Number.isNaN(v) ? null : v)))], { input: JSON.stringify(cases), encoding: "utf8" });
  assert.is(py.status, 0, py.stderr);
  const want = JSON.parse(py.stdout);
  const got = await compute(...outs);
  got.forEach((g, i) => {
    const c = cases[i];
    const what = `${c.dtype} ${c.op} axis ${JSON.stringify(c.axis)}`;
    assert.is(outs[i].dtype, want[i].dtype, `${what}: dtype`);
    const w = want[i].values.map((v) => (v === "nan" ? NaN : Number(v)));
    const values = typeof g === "number" ? [g] : Array.from(g.data);
    assert.is(values.length, w.length, `${what}: size`);
    // numpy sums float32 pairwise in float32; tessera accumulates in float64 and rounds once
    const rtol = c.dtype === "float32" ? 2e-6 : 1e-12;
    values.forEach((v, j) => {
      if (Number.isNaN(w[j])) assert.ok(Number.isNaN(v), `${what}[${j}]: numpy NaN, tessera ${v}`);
      else closeNumber(v, w[j], { rtol, atol: rtol, what: `${what}[${j}]` });
    });
  });
});

test.run();
