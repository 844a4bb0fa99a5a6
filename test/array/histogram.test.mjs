// histogram and bincount as numpy's: every dtype, uneven chunkings, values on and one ulp around the
// edges, NaN and infinities, weights, density, explicit edges; counts are exact and identical for any
// chunking and worker count; a fused input stores nothing; numpy itself is the peer where installed.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { fromArray, compute, random, histogram, bincount, NDArray, ChunkedArray } from "../../dist/index.js";
import * as S from "../helpers/select-reference.mjs";
import { throwsCode, rejectsCode } from "../helpers/check.mjs";
import { lower } from "../../dist/graph/lower.js";

const PY = "/usr/bin/python3";
const hasNumpy = spawnSync(PY, ["-c", "import numpy"]).status === 0;
const peer = hasNumpy ? test : process.env.TESSERA_INTEROP === "1" ? () => test("numpy is installed", () => assert.unreachable("python3-numpy is missing")) : test.skip;

const T = { float64: Float64Array, float32: Float32Array, int32: Int32Array, bool: Uint8Array };
const SHAPE = [37, 23];
const N = SHAPE[0] * SHAPE[1];
const CHUNKINGS = [[37, 23], [10, 7], [[1, 36], [5, 5, 13]], [4, 23]];

/** One ulp up (dir 1) or down (-1) in float64. */
function ulp(x, dir) {
  if (x === 0) return dir * 5e-324;
  const a = new Float64Array([x]);
  const u = new BigInt64Array(a.buffer);
  u[0] += BigInt(dir * Math.sign(x));
  return a[0];
}

/** Values of `dtype` for bins over [lo, hi]: uniform ones, the edges themselves, one ulp either side, specials. */
function valuesFor(dtype, lo, hi, bins, seed) {
  let s = seed;
  const r = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  const edges = Array.from({ length: bins + 1 }, (_, i) => lo + (i * (hi - lo)) / bins);
  const out = [];
  for (let i = 0; i < N; i++) {
    const u = r();
    let v;
    if (u < 0.25) v = edges[Math.floor(r() * edges.length)];
    else if (u < 0.45) v = ulp(edges[Math.floor(r() * edges.length)], r() < 0.5 ? 1 : -1);
    else if (u < 0.5) v = [NaN, Infinity, -Infinity, -0][Math.floor(r() * 4)];
    else v = lo + (hi - lo) * (r() * 1.3 - 0.15);
    out.push(v);
  }
  if (dtype === "int32") return out.map((v) => (Number.isFinite(v) ? Math.round(v) : 3));
  if (dtype === "bool") return out.map((v) => (v > 0.5 ? 1 : 0));
  return dtype === "float32" ? out.map(Math.fround) : out;
}

const CASES = [
  { dtype: "float64", bins: 10, range: [0, 1] },
  { dtype: "float64", bins: 7, range: [-2.5, 3.7] },
  { dtype: "float32", bins: 13, range: [0.1, 0.7] },
  // float32(0.7) < 0.7 and float32(1.1) > 1.1: numpy compares float32 data with the range in float32
  { dtype: "float32", bins: 6, range: [0.7, 1.1] },
  { dtype: "float32", bins: 5, range: [-1, 1e300] }, // beyond float32: numpy computes in float64
  { dtype: "int32", bins: 13, range: [0, 50] },
  { dtype: "bool", bins: 3, range: [0, 1] },
];

for (const c of CASES) {
  test(`histogram ${c.dtype} bins ${c.bins} range [${c.range}]: numpy's counts and edges on every chunking, lazily`, async () => {
    const vals = valuesFor(c.dtype, c.range[0], Math.min(c.range[1], 100), c.bins, 7 + c.bins);
    const want = S.histogram(vals, c.dtype, { bins: c.bins, range: c.range });
    const outs = [];
    let edges;
    for (const chunks of CHUNKINGS) {
      const x = fromArray(T[c.dtype].from(vals), { shape: SHAPE, chunks });
      const [n, e] = histogram(x, { bins: c.bins, range: c.range });
      assert.instance(n, ChunkedArray);
      assert.instance(e, NDArray);
      assert.equal(n.shape, [c.bins]);
      assert.is(n.dtype, "float64");
      outs.push(n);
      edges = e;
    }
    assert.is(edges.dtype, want.edgesDType, "edges dtype");
    assert.equal(Array.from(edges.data), want.edges, "edges");
    const got = await compute(...outs);
    got.forEach((g, i) => assert.equal(Array.from(g.data), want.counts, `chunking ${JSON.stringify(CHUNKINGS[i])}`));
  });
}

test("histogram counts are identical for 1, 2 and 3 workers and a fused input reads nothing stored", async () => {
  const x = random.random([300, 200], { chunks: [70, 90], seed: 5 });
  const hist = () => histogram(x.mul(2).sub(0.5), { bins: 17, range: [-0.5, 1.5] })[0];
  const runs = [];
  for (const workers of [1, 2, 3]) runs.push(await hist().compute({ workers }));
  const vals = Array.from((await x.mul(2).sub(0.5).compute()).data);
  const want = S.histogram(vals, "float64", { bins: 17, range: [-0.5, 1.5] }).counts;
  for (const r of runs) assert.equal(Array.from(r.data), want);
  // fused: one program layer bins the generated values into the partials, one combine sums them; no other buffer
  const counts = hist();
  const { plan } = lower([{ node: counts.node, chunks: counts.chunks }]);
  assert.equal(plan.layers.map((l) => l.kind), ["program", "combine"]);
  assert.equal(plan.buffers.map((b) => b.shape), [[17, 5, 3], [17]]);
  // the same on other chunks of the same random source
  const y = random.random([300, 200], { chunks: [300, 13], seed: 5 });
  assert.equal(Array.from((await histogram(y.mul(2).sub(0.5), { bins: 17, range: [-0.5, 1.5] })[0].compute()).data), want);
});

test("histogram of an NDArray: NDArrays at once, the range autodetected as numpy's (min == max widened by 0.5)", () => {
  for (const [dtype, vals] of [
    ["float64", [0.3, 0.1, 2.7, -1.25, 0.1, 5]],
    ["float32", [0.3, 0.1, 2.7, -1.25, 0.1, 5].map(Math.fround)],
    ["int32", [3, 1, 7, -2, 1, 9]],
    ["float64", [4, 4, 4]],
    ["bool", [1, 0, 1, 1]],
  ]) {
    const x = new NDArray(T[dtype].from(vals), [vals.length], dtype);
    for (const bins of [1, 4, 9]) {
      const [n, e] = histogram(x, { bins });
      const want = S.histogram(vals, dtype, { bins });
      assert.instance(n, NDArray);
      assert.equal(Array.from(n.data), want.counts, `${dtype} ${vals} bins ${bins}`);
      assert.equal(Array.from(e.data), want.edges);
      assert.is(e.dtype, want.edgesDType);
    }
  }
  const [n, e] = histogram(new NDArray(new Float64Array(0), [0], "float64"), { bins: 2 });
  assert.equal(Array.from(n.data), [0, 0]);
  assert.equal(Array.from(e.data), [0, 0.5, 1]);
  throwsCode(() => histogram(new NDArray(Float64Array.from([1, NaN]), [2], "float64")), "INVALID_ARGUMENT", "autodetected range", "NaN");
  throwsCode(() => histogram(new NDArray(Float64Array.from([1, Infinity]), [2], "float64")), "INVALID_ARGUMENT", "Infinity");
});

test("histogram with edges: numpy's searchsorted bins (the last closed, repeated edges empty), infinities", async () => {
  const vals = [-Infinity, -3, 0, 0.5, 0.5, 1, 2, 2, 10, 11, NaN, Infinity, 0.25];
  for (const edges of [[0, 0.5, 0.5, 2, 10], [-Infinity, 0, 1, Infinity], [1, 2, 2], [-5, 20]]) {
    const want = S.histogram(vals, "float64", { bins: edges });
    for (const chunks of [13, 4, 1]) {
      const [n, e] = histogram(fromArray(vals, { chunks }), { bins: edges });
      assert.equal(Array.from((await n.compute()).data), want.counts, `${edges} chunks ${chunks}`);
      assert.equal(Array.from(e.data), edges);
    }
  }
  // float32 data against float64 edges: compared exactly (in float64, as numpy's searchsorted promotes)
  const f = Float32Array.from([0.1, 0.2, 0.3]);
  const [n] = histogram(new NDArray(f, [3], "float32"), { bins: [0, 0.1, 0.2, 1] });
  assert.equal(Array.from(n.data), S.histogram(Array.from(f), "float32", { bins: [0, 0.1, 0.2, 1] }).counts);
  // edges given as an NDArray keep its dtype
  const [, ei] = histogram(fromArray([1, 2, 3], { chunks: 2 }), { bins: new NDArray(Int32Array.from([0, 2, 4]), [3], "int32") });
  assert.is(ei.dtype, "int32");
});

test("histogram weights and density: exact for integer weights, numpy's n / db / n.sum()", async () => {
  const vals = valuesFor("float64", 0, 1, 10, 3);
  const w = vals.map((_, i) => (i % 7) - 2);
  const want = S.histogram(vals, "float64", { bins: 10, range: [0, 1], weights: w }).counts;
  for (const chunks of CHUNKINGS) {
    const x = fromArray(vals, { shape: SHAPE, chunks });
    const wt = fromArray(w, { shape: SHAPE, chunks: [9, 9] });
    const [n] = histogram(x, { bins: 10, range: [0, 1], weights: wt });
    assert.equal(Array.from((await n.compute()).data), want);
  }
  // weights of a lazy expression of the data itself, fused into the same kernel
  const x = fromArray(vals, { shape: SHAPE, chunks: [10, 7] });
  const [nw] = histogram(x, { bins: 4, range: [0, 1], weights: x.gt(0.5).astype("int32") });
  assert.equal(Array.from((await nw.compute()).data), S.histogram(vals, "float64", { bins: 4, range: [0, 1], weights: vals.map((v) => (v > 0.5 ? 1 : 0)) }).counts);
  // eager: NDArray data and weights (of another dtype) give NDArrays; a lazy weight makes the counts lazy
  const xn = new NDArray(Float64Array.from([0.1, 0.6, 0.7, 0.2]), [4], "float64");
  assert.equal(Array.from(histogram(xn, { bins: 2, range: [0, 1], weights: new NDArray(Float32Array.from([1, 2, 3, 4]), [4], "float32") })[0].data), [5, 5]);
  const [lw] = histogram(xn, { bins: 2, range: [0, 1], weights: fromArray([1, 1, 1, 5]) });
  assert.instance(lw, ChunkedArray);
  assert.equal(Array.from((await lw.compute()).data), [6, 2]);
  // density: counts / widths / total, as numpy divides
  const c = S.histogram(vals, "float64", { bins: 10, range: [0, 1] });
  const total = c.counts.reduce((a, b) => a + b, 0);
  const dens = c.counts.map((n, i) => n / (c.edges[i + 1] - c.edges[i]) / total);
  const [d] = histogram(x, { bins: 10, range: [0, 1], density: true });
  assert.equal(Array.from((await d.compute()).data), dens);
  const [dn] = histogram(new NDArray(Float64Array.from(vals), [N], "float64"), { bins: 10, range: [0, 1], density: true });
  assert.equal(Array.from(dn.data), dens);
});

test("histogram: bad input is refused when the graph is built, naming the value", () => {
  const x = fromArray([1, 2, 3], { chunks: 2 });
  const nd = new NDArray(Float64Array.from([1, 2]), [2], "float64");
  throwsCode(() => histogram(x, { bins: 0, range: [0, 1] }), "INVALID_ARGUMENT", "bins 0");
  throwsCode(() => histogram(x, { bins: -3, range: [0, 1] }), "INVALID_ARGUMENT", "-3");
  throwsCode(() => histogram(x, { bins: 2.5, range: [0, 1] }), "INVALID_ARGUMENT", "2.5");
  throwsCode(() => histogram(x, { bins: "auto", range: [0, 1] }), "INVALID_ARGUMENT", "auto");
  throwsCode(() => histogram(x, { bins: 4 }), "INVALID_ARGUMENT", "range", "compute(x.min(), x.max())");
  throwsCode(() => histogram(x, { bins: 4, range: [2, 1] }), "INVALID_ARGUMENT", "[2,1]");
  throwsCode(() => histogram(x, { bins: 4, range: [0, Infinity] }), "INVALID_ARGUMENT", "Infinity", "not finite");
  throwsCode(() => histogram(x, { bins: 4, range: [NaN, 1] }), "INVALID_ARGUMENT", "NaN");
  throwsCode(() => histogram(x, { bins: 4, range: [0] }), "INVALID_ARGUMENT", "[lo, hi]");
  throwsCode(() => histogram(x, { bins: [0, 2, 1] }), "INVALID_ARGUMENT", "monotonically", "edge 2");
  throwsCode(() => histogram(x, { bins: [0] }), "INVALID_ARGUMENT", "two edges");
  throwsCode(() => histogram(x, { bins: [0, NaN, 1] }), "INVALID_ARGUMENT", "NaN");
  throwsCode(() => histogram(x, { bins: Array.from({ length: 5000 }, (_, i) => i) }), "TOO_LARGE", "5000 edges");
  throwsCode(() => histogram(x, { bins: 1e8, range: [0, 1] }), "TOO_LARGE", "100000000 bins");
  throwsCode(() => histogram(x, { range: [0, 1], weights: fromArray([1, 2]) }), "SHAPE_MISMATCH", "[2]", "[3]");
  throwsCode(() => histogram(x, { range: [0, 1], weights: [1, 2, 3] }), "INVALID_ARGUMENT", "weights");
  throwsCode(() => histogram(x, { range: [0, 1], density: 1 }), "INVALID_ARGUMENT", "density 1");
  throwsCode(() => histogram(x, { range: [0, 1], bin: 3 }), "INVALID_ARGUMENT", '"bin"');
  throwsCode(() => histogram([1, 2, 3], { range: [0, 1] }), "INVALID_ARGUMENT", "[1,2,3]");
  throwsCode(() => histogram(nd, { bins: 0 }), "INVALID_ARGUMENT", "bins 0");
});

test("bincount: numpy's counts (float64), minlength, weights; lazy arrays resolve through compute", async () => {
  const vals = Array.from({ length: 101 }, (_, i) => (i * i * 7) % 23);
  for (const chunks of [101, 10, [[1, 50, 50]]]) {
    const x = fromArray(Int32Array.from(vals), { shape: [101], chunks });
    const p = bincount(x);
    assert.instance(p, Promise);
    const r = await p;
    assert.is(r.dtype, "float64");
    assert.equal(Array.from(r.data), S.bincount(vals));
    assert.equal(Array.from((await bincount(x, { minlength: 40, workers: 2 })).data), S.bincount(vals, { minlength: 40 }));
    const w = vals.map((v, i) => (i % 3) * 0.5);
    assert.equal(Array.from((await bincount(x, { weights: fromArray(w, { chunks: 7 }) })).data), S.bincount(vals, { weights: w }));
  }
  const nd = new NDArray(Int32Array.from(vals), [101], "int32");
  const r = bincount(nd, { minlength: 2 });
  assert.instance(r, NDArray);
  assert.equal(Array.from(r.data), S.bincount(vals));
  assert.equal(Array.from(bincount(new NDArray(Uint8Array.from([1, 0, 1, 1]), [4], "bool")).data), [1, 3]);
  assert.equal(Array.from((await bincount(fromArray(Int32Array.from([]), { shape: [0] }), { minlength: 3 })).data), [0, 0, 0]);
  assert.equal(Array.from(bincount(new NDArray(new Int32Array(0), [0], "int32")).data), []);
});

test("bincount of a large maximum over many chunks counts distinct values chunk by chunk instead", async () => {
  const vals = Array.from({ length: 1000 }, (_, i) => (i * 7919) % 997 * 1000 + (i % 3));
  const x = fromArray(Int32Array.from(vals), { shape: [1000], chunks: 10 });
  const r = await bincount(x);
  const want = S.bincount(vals);
  assert.is(r.data.length, want.length);
  for (let i = 0; i < want.length; i++) if (r.data[i] !== want[i]) assert.unreachable(`bin ${i}: ${r.data[i]}, numpy ${want[i]}`);
  await rejectsCode(bincount(x, { weights: x }), "TOO_LARGE", "bincount with weights");
});

test("bincount: bad input", async () => {
  const x = fromArray(Int32Array.from([1, -3, 2]), { shape: [3], chunks: 2 });
  await rejectsCode(bincount(x), "INVALID_ARGUMENT", "negative", "-3");
  throwsCode(() => bincount(new NDArray(Int32Array.from([1, -3]), [2], "int32")), "INVALID_ARGUMENT", "-3");
  throwsCode(() => bincount(fromArray([1.5, 2])), "INVALID_DTYPE", "float64");
  throwsCode(() => bincount(fromArray(Int32Array.from([1, 2, 3, 4]), { shape: [2, 2] })), "INVALID_SHAPE", "[2, 2]");
  throwsCode(() => bincount(x, { minlength: -1 }), "INVALID_ARGUMENT", "minlength -1");
  throwsCode(() => bincount(x, { weights: fromArray([1, 2]) }), "SHAPE_MISMATCH", "[2]");
  throwsCode(() => bincount(x, { length: 3 }), "INVALID_ARGUMENT", '"length"');
});

peer("histogram equals numpy's, counts and edges bit for bit (float64, float32, int32, bool; autodetected ranges too)", async () => {
  const cases = [];
  const outs = [];
  for (const c of CASES) {
    const vals = valuesFor(c.dtype, c.range[0], Math.min(c.range[1], 100), c.bins, 11 + c.bins);
    cases.push({ ...c, vals: Buffer.from(Float64Array.from(vals).buffer).toString("base64") });
    outs.push(histogram(fromArray(T[c.dtype].from(vals), { shape: SHAPE, chunks: [10, 7] }), { bins: c.bins, range: c.range }));
  }
  for (const [dtype, vals] of [["float32", [0.3, 0.1, 2.7, -1.25, 0.1, 5]], ["float64", [0.1, 0.2, 0.30000000000000004, 0.7]], ["int32", [-7, 3, 3, 12]]]) {
    for (const bins of [3, 10]) {
      const v = dtype === "float32" ? vals.map(Math.fround) : vals;
      cases.push({ dtype, bins, range: null, vals: Buffer.from(Float64Array.from(v).buffer).toString("base64") });
      outs.push(histogram(new NDArray(T[dtype].from(v), [v.length], dtype), { bins }));
    }
  }
  const code = `
import base64, json, sys, warnings, numpy as np
warnings.simplefilter("ignore")
out = []
for c in json.loads(sys.stdin.read()):
    a = np.frombuffer(base64.b64decode(c["vals"]), dtype=np.float64).astype(c["dtype"])
    n, e = np.histogram(a, bins=c["bins"], range=tuple(c["range"]) if c["range"] else None)
    out.append({"counts": n.tolist(), "edges": e.astype(np.float64).tobytes().hex(), "edtype": e.dtype.name})
print(json.dumps(out))`;
  const py = spawnSync(PY, ["-c", code], { input: JSON.stringify(cases), encoding: "utf8" });
  assert.is(py.status, 0, py.stderr);
  const want = JSON.parse(py.stdout);
  const lazy = outs.filter(([n]) => n instanceof ChunkedArray).map(([n]) => n);
  const computed = await compute(...lazy);
  let li = 0;
  outs.forEach(([n, e], i) => {
    const c = cases[i];
    const counts = n instanceof ChunkedArray ? computed[li++] : n;
    assert.equal(Array.from(counts.data), want[i].counts, `${c.dtype} bins ${c.bins} range ${c.range}: counts`);
    assert.is(e.dtype, want[i].edtype, `${c.dtype} bins ${c.bins}: edges dtype`);
    assert.is(Buffer.from(Float64Array.from(e.data).buffer).toString("hex"), want[i].edges, `${c.dtype} bins ${c.bins} range ${c.range}: edges`);
  });
});

test.run();
