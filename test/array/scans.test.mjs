// cumsum, cumprod and diff as numpy's: every axis (and the flattened array), every dtype, uneven
// chunkings; a scan is one sequential pass, so its values are bit-identical for any chunking and worker
// count and equal numpy's bit for bit (where numpy is installed).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { fromArray, compute, random, arange, zeros, concatenate, slice, NDArray, ChunkedArray } from "../../dist/index.js";
import * as R from "../helpers/reference.mjs";
import { sameArray, throwsCode, sameBytes } from "../helpers/check.mjs";

const PY = "/usr/bin/python3";
const hasNumpy = spawnSync(PY, ["-c", "import numpy"]).status === 0;
const peer = hasNumpy ? test : process.env.TESSERA_INTEROP === "1" ? () => test("numpy is installed", () => assert.unreachable("python3-numpy is missing")) : test.skip;

const SHAPE = [5, 6, 7];
const N = R.sizeOf(SHAPE);
const CHUNKINGS = [
  [2, 4, 3],
  [[1, 4], [3, 1, 2], [7]],
  [5, 6, 7],
  [1, 1, 1],
];
const T = { float64: Float64Array, float32: Float32Array, int32: Int32Array, bool: Uint8Array };
/** Fractions whose sums are inexact in float32 and float64 (so association shows), some NaN and inf. */
const VALUES = Array.from({ length: N }, (_, i) => (i === 77 ? NaN : i === 150 ? Infinity : Math.sin(i * 1.7) * 10 + 0.1));
/** Values near 1 for products (no overflow to inf within an axis). */
const NEAR_ONE = Array.from({ length: N }, (_, i) => 1 + Math.cos(i * 0.9) / 7);

function arrayOf(dtype, values, chunks) {
  const v = dtype === "int32" ? values.map((x) => (Number.isFinite(x) ? Math.round(x * 1000) : 7)) : dtype === "bool" ? values.map((x) => (x > 0 ? 1 : 0)) : values;
  const ref = R.array(v, SHAPE, dtype);
  return { x: fromArray(T[dtype].from(ref.data), { shape: SHAPE, chunks }), ref };
}

for (const dtype of ["float64", "float32", "int32", "bool"]) {
  for (const [ci, chunks] of CHUNKINGS.entries()) {
    test(`${dtype} cumsum/cumprod along every axis and flattened, chunking ${ci} ${JSON.stringify(chunks)}: numpy's sequential values, bit for bit`, async () => {
      const s = arrayOf(dtype, VALUES, chunks);
      const p = arrayOf(dtype, dtype === "int32" ? VALUES.map((v, i) => (i % 5) - 2) : NEAR_ONE, chunks);
      const outs = [];
      const wants = [];
      for (const axis of [undefined, 0, 1, 2, -1, -3]) {
        for (const [op, src] of [["cumsum", s], ["cumprod", p]]) {
          const r = src.x[op](axis === undefined ? undefined : { axis });
          assert.instance(r, ChunkedArray);
          const want = R.scan(op, src.ref, axis);
          assert.equal(r.shape, want.shape, `${op} axis ${axis}: shape`);
          assert.is(r.dtype, want.dtype, `${op} axis ${axis}: dtype`);
          outs.push(r);
          wants.push({ want, what: `${dtype} ${op} axis ${axis}` });
        }
      }
      const got = await compute(...outs);
      got.forEach((g, i) => sameArray(g, wants[i].want, { what: wants[i].what }));
    });
  }
}

test("scans are bit-identical across chunkings and worker counts (random data, long chains of blocks)", async () => {
  const base = random.normal(0, 1, [300, 200], { seed: 4 });
  const runs = [];
  for (const [chunks, workers] of [[[300, 200], 1], [[7, 13], 2], [[50, 1], 3], [[1, 200], 2], [[64, 64], 1]]) {
    const x = base.rechunk(chunks);
    runs.push({ what: `chunks ${JSON.stringify(chunks)} workers ${workers}`, out: await compute(x.cumsum({ axis: 0 }), x.cumsum({ axis: 1 }), x.cumsum(), x.mul(0.01).add(1).cumprod({ axis: 0 }), { workers }) });
  }
  for (const r of runs.slice(1)) r.out.forEach((v, i) => sameBytes(v.data, runs[0].out[i].data, `${r.what} output ${i}`));
  // and the same as the plain-JS sequential pass
  const ref = R.fromND(await base.compute());
  sameArray(runs[0].out[0], R.scan("cumsum", ref, 0), { what: "cumsum axis 0" });
  sameArray(runs[0].out[2], R.scan("cumsum", ref), { what: "cumsum flattened" });
});

test("a 1-d scan over a thousand blocks carries from block to block; fused before and after", async () => {
  const x = arange(100_000, { chunks: 100 });
  const c = x.cumsum();
  assert.equal(c.chunks, x.chunks, "the chunks of the input");
  const [last, mid, total] = await compute(c.get(-1), c.get(54_321), c.sum());
  assert.is(last, 99_999 * 100_000 / 2);
  assert.is(mid, 54_321 * 54_322 / 2);
  let want = 0;
  for (let i = 0; i < 100_000; i++) want += (i * (i + 1)) / 2;
  assert.is(total, want, "sum of the running sums");
  // an elementwise expression scanned, and arithmetic on the scan, in the same compute
  const f = arange(100_000, { chunks: 100, dtype: "float64" });
  const y = f.mul(2).add(1).cumsum().sub(f.add(1).mul(f.add(1)));
  const got = await y.compute();
  assert.ok(got.data.every((v) => v === 0), "sum of the first n odd numbers is n^2");
});

test("cumsum of a slice, a transpose and a concatenation of lazy sources", async () => {
  const a = random.random([40, 30], { chunks: [9, 7], seed: 2 });
  const ref = R.fromND(await a.compute());
  const view = a.get(slice(5, null, 2), slice(null, null, -1));
  const sl = await view.cumsum({ axis: 0 }).compute();
  sameArray(sl, R.scan("cumsum", R.fromND(await view.compute()), 0), { what: "a[5::2, ::-1].cumsum(axis 0)" });
  const cat = concatenate([a, a.mul(2)], { axis: 0 }).cumsum({ axis: 0 });
  const catRef = R.scan("cumsum", { data: [...ref.data, ...ref.data.map((v) => v * 2)], shape: [80, 30], dtype: "float64" }, 0);
  sameArray(await cat.compute(), catRef, { what: "concatenate([a, 2a]).cumsum(axis 0)" });
  const t = await a.T.cumsum({ axis: 1 }).compute();
  const tRef = R.scan("cumsum", { data: Array.from((await a.T.compute()).data), shape: [30, 40], dtype: "float64" }, 1);
  sameArray(t, tRef, { what: "a.T.cumsum(axis 1)" });
  const both = await a.add(1).cumsum({ axis: 1 }).compute();
  sameArray(both, R.scan("cumsum", { ...ref, data: ref.data.map((v) => v + 1) }, 1), { what: "(a + 1).cumsum(axis 1)" });
});

test("NDArray scans agree, and empty axes give empty results", async () => {
  const { x, ref } = arrayOf("float64", VALUES, [2, 4, 3]);
  const nd = await x.compute();
  const c = nd.cumsum({ axis: 1 });
  assert.instance(c, NDArray);
  sameArray(c, R.scan("cumsum", ref, 1));
  sameArray(nd.cumprod(), R.scan("cumprod", ref));
  const e = await zeros([3, 0], { chunks: [2, 1] }).cumsum({ axis: 0 }).compute();
  assert.equal(e.shape, [3, 0]);
  const e1 = await zeros([0]).cumprod().compute();
  assert.equal(e1.shape, [0]);
});

test("diff: n times along an axis, numpy's dtypes (bool: !=, int32 wraps), empty when n passes the axis", async () => {
  for (const dtype of ["float64", "float32", "int32", "bool"]) {
    const { x, ref } = arrayOf(dtype, VALUES, [2, 4, 3]);
    for (const [n, axis] of [[1, undefined], [1, 0], [2, 1], [3, -1], [0, 2], [6, 1], [9, 1]]) {
      const opts = { n, ...(axis === undefined ? {} : { axis }) };
      const r = x.diff(opts);
      const want = R.diff(ref, n, axis ?? -1);
      assert.equal(r.shape, want.shape, `${dtype} diff ${JSON.stringify(opts)} shape`);
      assert.is(r.dtype, dtype, `${dtype} diff dtype`);
      sameArray(await r.compute(), want, { what: `${dtype} diff ${JSON.stringify(opts)}` });
    }
  }
  const w = await fromArray(new Int32Array([-2147483648, 2147483647]), { shape: [2] }).diff().compute();
  assert.equal(Array.from(w.data), [-1], "int32 wraps, as numpy's int32");
  const nd = await arange(10).compute();
  assert.equal(Array.from(nd.diff().data), [1, 1, 1, 1, 1, 1, 1, 1, 1], "NDArray diff");
});

test("bad input: an axis out of bounds, 0-d arrays, a negative n, unknown options", () => {
  const x = fromArray(new Float64Array(24), { shape: [2, 3, 4] });
  throwsCode(() => x.cumsum({ axis: 3 }), "INVALID_AXIS", "cumsum", "3");
  throwsCode(() => x.cumprod({ axis: -4 }), "INVALID_AXIS", "-4");
  throwsCode(() => x.cumsum({ axis: [0, 1] }), "INVALID_AXIS", "[0,1]");
  throwsCode(() => x.cumsum({ axes: 0 }), "INVALID_ARGUMENT", "cumsum", '"axes"');
  throwsCode(() => x.cumsum(3), "INVALID_ARGUMENT", "cumsum", "3");
  throwsCode(() => x.diff({ n: -1 }), "INVALID_ARGUMENT", "-1");
  throwsCode(() => x.diff({ n: 1.5 }), "INVALID_ARGUMENT", "1.5");
  throwsCode(() => x.diff({ axis: 5 }), "INVALID_AXIS", "5");
  throwsCode(() => x.diff({ prepend: 0 }), "INVALID_ARGUMENT", '"prepend"');
  const s = fromArray(new Float64Array([5]), { shape: [] });
  throwsCode(() => s.diff(), "INVALID_AXIS", "at least one dimension");
  throwsCode(() => s.cumsum({ axis: 0 }), "INVALID_AXIS", "0-d");
});

peer("cumsum and cumprod equal numpy's bit for bit (float64, float32), and diff too", async () => {
  const vals = Array.from({ length: 6 * 50 }, (_, i) => Math.sin(i * 0.37) * 3 + 0.1);
  const outs = [];
  const cases = [];
  for (const dtype of ["float64", "float32"]) {
    const x = fromArray(T[dtype].from(vals), { shape: [6, 50], chunks: [4, 17] });
    for (const [op, axis] of [["cumsum", null], ["cumsum", 0], ["cumsum", 1], ["cumprod", 1], ["diff", 0]]) {
      cases.push({ dtype, op, axis });
      outs.push(op === "diff" ? x.diff({ axis: 0, n: 2 }) : x[op](axis === null ? undefined : { axis }));
    }
  }
  const code = `
import json, sys, numpy as np
vals = np.array(json.loads(sys.argv[1]), dtype=np.float64)
out = []
for c in json.loads(sys.stdin.read()):
    a = vals.astype(c["dtype"]).reshape(6, 50)
    if c["op"] == "diff": r = np.diff(a, n=2, axis=0)
    else: r = getattr(np, c["op"])(a, axis=c["axis"])
    out.append({"dtype": r.dtype.name, "hex": r.astype(np.float64).tobytes().hex()})
print(json.dumps(out))`;
  const py = spawnSync(PY, ["-c", code, JSON.stringify(vals)], { input: JSON.stringify(cases), encoding: "utf8" });
  assert.is(py.status, 0, py.stderr);
  const want = JSON.parse(py.stdout);
  const got = await compute(...outs);
  got.forEach((g, i) => {
    const c = cases[i];
    assert.is(outs[i].dtype, want[i].dtype, `${c.dtype} ${c.op} dtype`);
    const mine = Buffer.from(Float64Array.from(g.data).buffer).toString("hex");
    assert.ok(mine === want[i].hex, `${c.dtype} ${c.op} axis ${c.axis}: bytes differ from numpy's`);
  });
});

test.run();
