// linalg.qr, svd and lstsq of tall-and-skinny arrays (TSQR, chunked along rows): q r reconstructs a to
// 1e-12 relative with q orthonormal and r upper triangular, for regular and uneven row blocks; singular
// values and least-squares solutions against numpy (where installed); the same bits for any worker count.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { random, linalg, fromArray, NDArray, ChunkedArray } from "../../dist/index.js";
import { throwsCode, sameBytes, closeNumber } from "../helpers/check.mjs";

const PY = "/usr/bin/python3";
const hasNumpy = spawnSync(PY, ["-c", "import numpy"]).status === 0;
const peer = hasNumpy ? test : process.env.TESSERA_INTEROP === "1" ? () => test("numpy is installed", () => assert.unreachable("python3-numpy is missing")) : test.skip;

function numpy(code, input) {
  const r = spawnSync(PY, ["-c", `import json, sys, numpy as np\nd = json.load(sys.stdin)\n${code}`], { input: JSON.stringify(input), encoding: "utf8" });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout);
}

const mat = (nd) => ({ m: nd.shape[0], n: nd.shape[1] ?? 1, d: nd.data });
function matmulJS(a, b) {
  const out = new Float64Array(a.m * b.n);
  for (let i = 0; i < a.m; i++) for (let j = 0; j < b.n; j++) {
    let s = 0;
    for (let k = 0; k < a.n; k++) s += a.d[i * a.n + k] * b.d[k * b.n + j];
    out[i * b.n + j] = s;
  }
  return { m: a.m, n: b.n, d: out };
}
const transposeJS = (a) => ({ m: a.n, n: a.m, d: Float64Array.from({ length: a.m * a.n }, (_, k) => a.d[(k % a.m) * a.n + Math.floor(k / a.m)]) });
const maxAbs = (d) => d.reduce((x, v) => Math.max(x, Math.abs(v)), 0);
function checkOrthonormal(q, tol, what) {
  const g = matmulJS(transposeJS(q), q);
  for (let i = 0; i < g.m; i++) for (let j = 0; j < g.n; j++) closeNumber(g.d[i * g.n + j], i === j ? 1 : 0, { atol: tol, what: `${what}: q^T q [${i}, ${j}]` });
}

for (const [label, shape, rows] of [
  ["regular blocks", [900, 12], 200],
  ["uneven blocks", [700, 9], [150, 100, 300, 150]],
  ["one block", [40, 40], 40],
]) {
  test(`qr, ${label}: q r = a to 1e-12, q orthonormal, r upper triangular`, async () => {
    const a = random.normal(0, 1, shape, { seed: 7, chunks: [rows, shape[1]] });
    const [q, r] = linalg.qr(a);
    assert.instance(q, ChunkedArray);
    assert.equal(q.shape, shape);
    assert.equal(q.chunks, a.chunks, "q is chunked as a");
    assert.equal(r.shape, [shape[1], shape[1]]);
    const [Q, R, A] = await Promise.all([q.compute(), r.compute(), a.compute()]);
    const qr = matmulJS(mat(Q), mat(R));
    const scale = maxAbs(A.data);
    qr.d.forEach((v, i) => closeNumber(v, A.data[i], { atol: 1e-12 * scale, what: `q r element ${i}` }));
    checkOrthonormal(mat(Q), 1e-12, label);
    const n = shape[1];
    for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) assert.is(R.data[i * n + j], 0, `r[${i}, ${j}] below the diagonal`);
  });
}

test("qr gives the same bits for 1 and 2 workers, and NDArray input gives NDArrays", async () => {
  const a = random.random([600, 10], { seed: 3, chunks: [150, 10] });
  const [q1, r1] = linalg.qr(a);
  const [Q1, R1] = await Promise.all([q1.compute({ workers: 1 }), r1.compute({ workers: 1 })]);
  const [Q2, R2] = await Promise.all([q1.compute({ workers: 2 }), r1.compute({ workers: 2 })]);
  sameBytes(Q1.data, Q2.data, "q");
  sameBytes(R1.data, R2.data, "r");
  const [qn, rn] = linalg.qr(await a.rechunk([600, 10]).compute());
  assert.instance(qn, NDArray);
  assert.instance(rn, NDArray);
  const back = matmulJS(mat(qn), mat(rn));
  const A = await a.compute();
  back.d.forEach((v, i) => closeNumber(v, A.data[i], { atol: 1e-12, what: `eager q r element ${i}` }));
});

test("float32 input gives float32 factors", async () => {
  const a = random.random([300, 5], { seed: 1, chunks: [100, 5] }).astype("float32");
  const [q, r] = linalg.qr(a);
  assert.is(q.dtype, "float32");
  assert.is(r.dtype, "float32");
  const [u, s, v] = linalg.svd(a);
  assert.is(s.dtype, "float32");
});

peer("svd: singular values as numpy's, u diag(s) v = a, u orthonormal", async () => {
  const a = random.normal(0, 1, [800, 15], { seed: 11, chunks: [[300, 200, 300], [15]] }).mul(random.random([15], { seed: 2 }).add(0.1));
  const [u, s, v] = linalg.svd(a);
  assert.equal([u.shape, s.shape, v.shape], [[800, 15], [15], [15, 15]]);
  const [U, S, V, A] = await Promise.all([u.compute(), s.compute(), v.compute(), a.compute()]);
  const want = numpy("print(json.dumps(np.linalg.svd(np.array(d).reshape(800, 15), compute_uv=False).tolist()))", Array.from(A.data));
  want.forEach((w, i) => closeNumber(S.data[i], w, { rtol: 1e-12, what: `s[${i}]` }));
  const us = { m: 800, n: 15, d: U.data.map((x, k) => x * S.data[k % 15]) };
  const back = matmulJS(us, mat(V));
  back.d.forEach((x, i) => closeNumber(x, A.data[i], { atol: 1e-12 * maxAbs(A.data), what: `u s v element ${i}` }));
  checkOrthonormal(mat(U), 1e-12, "u");
});

peer("lstsq: x, residuals, rank and s as numpy's", async () => {
  const a = random.normal(0, 1, [500, 6], { seed: 5, chunks: [120, 6] });
  const b = random.normal(0, 1, [500], { seed: 6, chunks: 120 });
  const [x, res, rank, s] = linalg.lstsq(a, b);
  assert.equal(x.shape, [6]);
  const [X, RES, RANK, S, A, B] = await Promise.all([x.compute(), res.compute(), rank.compute(), s.compute(), a.compute(), b.compute()]);
  const want = numpy(
    "x, r, k, s = np.linalg.lstsq(np.array(d[0]).reshape(500, 6), np.array(d[1]), rcond=None)\nprint(json.dumps([x.tolist(), r.tolist(), int(k), s.tolist()]))",
    [Array.from(A.data), Array.from(B.data)],
  );
  want[0].forEach((w, i) => closeNumber(X.data[i], w, { rtol: 1e-10, atol: 1e-13, what: `x[${i}]` }));
  assert.equal(RES.shape, [1]);
  closeNumber(RES.data[0], want[1][0], { rtol: 1e-10, what: "residuals" });
  assert.is(RANK, want[2]);
  want[3].forEach((w, i) => closeNumber(S.data[i], w, { rtol: 1e-12, what: `s[${i}]` }));
  // a 2-d b: one solution column per right-hand side
  const b2 = random.normal(0, 1, [500, 3], { seed: 8, chunks: [120, 3] });
  const [x2] = linalg.lstsq(a, b2);
  const X2 = await x2.compute();
  const B2 = await b2.compute();
  const want2 = numpy("print(json.dumps(np.linalg.lstsq(np.array(d[0]).reshape(500, 6), np.array(d[1]).reshape(500, 3), rcond=None)[0].tolist()))", [Array.from(A.data), Array.from(B2.data)]);
  want2.flat().forEach((w, i) => closeNumber(X2.data[i], w, { rtol: 1e-10, atol: 1e-13, what: `x2 element ${i}` }));
});

test("bad input: a TesseraError naming the shape or the rechunk to do", () => {
  throwsCode(() => linalg.qr(random.random([10], { chunks: 5 })), "INVALID_SHAPE", "[10]");
  throwsCode(() => linalg.qr(random.random([100, 10], { chunks: [50, 5] })), "INVALID_CHUNKS", "rechunk", "[[50,50], 10]");
  throwsCode(() => linalg.svd(random.random([100, 10], { chunks: [5, 10] })), "INVALID_CHUNKS", "at least 10 rows");
  throwsCode(() => linalg.qr(random.random([5, 10], { chunks: [5, 10] })), "INVALID_CHUNKS");
  throwsCode(() => linalg.lstsq(random.random([100, 10], { chunks: [50, 10] }), random.random([99], { chunks: 50 })), "SHAPE_MISMATCH", "[99]");
});

test.run();
