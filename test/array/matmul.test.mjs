// matmul as numpy's (shapes, 1-d operands, broadcast batch axes, dtypes), with tessera's GEMM arithmetic:
// every element's products added in increasing k, so results are bit for bit the plain-JS reference's for
// any chunking of either operand, worker count and laziness of the inputs.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { fromArray, compute, random, zeros, slice, NDArray, ChunkedArray } from "../../dist/index.js";
import * as R from "../helpers/reference.mjs";
import { sameArray, closeNumber, throwsCode } from "../helpers/check.mjs";

const T = { float64: Float64Array, float32: Float32Array, int32: Int32Array, bool: Uint8Array };

/** Values whose products and sums round (so the order of additions shows in the bits). */
function values(n, seed, dtype) {
  return Array.from({ length: n }, (_, i) => {
    const x = Math.sin((i + 1) * 1.37 + seed * 0.71) * 3 + 0.01 * seed;
    if (dtype === "int32") return Math.round(x * 100);
    if (dtype === "bool") return x > 0.5 ? 1 : 0;
    return x;
  });
}

function operand(shape, dtype, seed, chunks) {
  const ref = R.array(values(R.sizeOf(shape), seed, dtype), shape, dtype);
  return { x: fromArray(T[dtype].from(ref.data), { shape, chunks }), ref };
}

const CASES = [
  // [a shape, a chunks, b shape, b chunks]
  [[7, 5], [3, 2], [5, 4], [2, 3]],
  [[7, 5], [[7], [5]], [5, 4], [[1, 4], [4]]],
  [[1, 9], [1, 4], [9, 1], [3, 1]],
  [[16, 33], [5, 7], [33, 9], [11, 2]],
  [[5], [2], [5, 3], [2, 2]],
  [[4, 6], [3, 4], [6], [5]],
  [[6], [4], [6], [2]],
  [[2, 3, 4], [1, 2, 3], [4, 5], [2, 2]],
  [[2, 1, 3, 4], [1, 1, 2, 2], [5, 4, 2], [2, 3, 1]],
  [[3, 4, 6], [2, 4, 4], [3, 6, 2], [1, 3, 2]],
];

for (const dtype of ["float64", "float32"]) {
  for (const [i, [as, ac, bs, bc]] of CASES.entries()) {
    test(`${dtype} matmul case ${i} [${as}] @ [${bs}]: the reference's bits`, async () => {
      const a = operand(as, dtype, 1, ac);
      const b = operand(bs, dtype, 2, bc);
      const r = a.x.matmul(b.x);
      assert.instance(r, ChunkedArray);
      const want = R.matmul(a.ref, b.ref);
      assert.equal(r.shape, want.shape);
      const got = await r.compute();
      if (want.shape.length === 0) assert.ok(Object.is(got, want.data[0]), `${got} vs ${want.data[0]}`);
      else sameArray(got, want, { what: `case ${i}` });
    });
  }
}

test("the bits do not depend on the chunks of either operand or on the worker count", async () => {
  const a = random.normal(0, 1, [120, 90], { seed: 3, chunks: [120, 90] });
  const b = random.normal(0, 1, [90, 70], { seed: 4, chunks: [90, 70] });
  const ref = R.matmul(R.fromND(await a.compute()), R.fromND(await b.compute()));
  const runs = [];
  for (const [ca, cb] of [[[120, 90], [90, 70]], [[31, 17], [23, 29]], [[1, 90], [90, 1]], [[60, 7], [13, 35]]]) {
    for (const workers of [1, 2]) runs.push({ r: a.rechunk(ca).matmul(b.rechunk(cb)), workers, what: `chunks ${ca} / ${cb}, ${workers} workers` });
  }
  for (const { r, workers, what } of runs) sameArray(await r.compute({ workers }), ref, { what });
});

test("lazy operands are fused into the copies the product reads; a product feeds later operations", async () => {
  const x = random.random([40, 30], { seed: 9, chunks: [13, 11] });
  const y = random.random([40, 20], { seed: 10, chunks: [9, 20] });
  const xr = R.fromND(await x.compute());
  const yr = R.fromND(await y.compute());
  // x.T @ (y * 2 + 1): a transposed view and an expression, both materialized on the contraction's blocks
  const p = x.T.matmul(y.mul(2).add(1));
  const t = R.array(Array.from({ length: 30 * 40 }, (_, k) => xr.data[(k % 40) * 30 + Math.floor(k / 40)]), [30, 40]);
  const y2 = R.binary("add", R.binary("mul", yr, 2), 1);
  const want = R.matmul(t, y2);
  sameArray(await p.compute(), want, { what: "x.T @ (2y + 1)" });
  const [s, q] = await compute(p.sum(), p.add(1).max({ axis: 0 }));
  closeNumber(s, R.scalar(R.reduce("sum", want)), { what: "sum of the product" });
  sameArray(q, R.reduce("max", R.binary("add", want, 1), { axis: 0 }));
});

test("a product of products, and of a persisted array, and of the same array twice", async () => {
  const a = random.normal(0, 1, [25, 25], { seed: 5, chunks: 8 });
  const ar = R.fromND(await a.compute());
  const aa = R.matmul(ar, ar);
  sameArray(await a.matmul(a).compute(), aa);
  sameArray(await a.matmul(a).matmul(a.rechunk(11)).compute(), R.matmul(aa, ar));
  const p = await a.persist();
  sameArray(await p.matmul(a.rechunk([5, 25])).compute(), aa);
});

test("dtypes as numpy: int32 exact (wrapping on overflow), bool, int32 with float32 gives float64", async () => {
  const ai = operand([6, 5], "int32", 1, [4, 2]);
  const bi = operand([5, 3], "int32", 2, [3, 2]);
  const r = ai.x.matmul(bi.x);
  assert.is(r.dtype, "int32");
  sameArray(await r.compute(), R.matmul(ai.ref, bi.ref));
  // 2^20 * 2^20 * 3 wraps as numpy's int32 arithmetic does
  const big = fromArray(new Int32Array([1 << 20, 1 << 20, 1 << 20]), { shape: [1, 3] });
  const col = fromArray(new Int32Array([1 << 20, 1 << 20, 1 << 20]), { shape: [3, 1] });
  assert.equal(Array.from((await big.matmul(col).compute()).data), [Number((3n * 2n ** 40n) % 2n ** 32n) | 0]);
  const ab = operand([4, 6], "bool", 1, [3, 3]);
  const bb = operand([6, 2], "bool", 2, [4, 1]);
  const rb = ab.x.matmul(bb.x);
  assert.is(rb.dtype, "bool");
  sameArray(await rb.compute(), R.matmul(ab.ref, bb.ref));
  const af = operand([3, 4], "float32", 3, [2, 2]);
  assert.is(ai.x.matmul(fromArray(new Float32Array(15), { shape: [5, 3] })).dtype, "float64");
  assert.is(af.x.matmul(fromArray(new Float32Array(8), { shape: [4, 2] })).dtype, "float32");
});

test("empty contraction gives zeros; empty rows or columns give empty results", async () => {
  const a = zeros([3, 0], { chunks: [2, 1] });
  const b = zeros([0, 4]);
  const z = await a.matmul(b).compute();
  assert.equal(z.shape, [3, 4]);
  assert.equal(Array.from(z.data), new Array(12).fill(0));
  const e = await zeros([0, 5]).matmul(zeros([5, 2])).compute();
  assert.equal(e.shape, [0, 2]);
});

test("NDArray.matmul is eager and gives the same bits", async () => {
  const a = operand([9, 7], "float64", 1, undefined);
  const b = operand([7, 4], "float64", 2, undefined);
  const an = await a.x.compute();
  const bn = await b.x.compute();
  const r = an.matmul(bn);
  assert.instance(r, NDArray);
  sameArray(r, R.matmul(a.ref, b.ref));
  sameArray(an.matmul(an.get(slice(0, 7), null)), R.matmul(a.ref, R.array(a.ref.data.slice(0, 49), [7, 7])));
});

test("bad operands: a TesseraError naming the shapes", () => {
  const a = zeros([3, 4]);
  throwsCode(() => a.matmul(zeros([5, 2])), "SHAPE_MISMATCH", "[3, 4]", "[5, 2]");
  throwsCode(() => zeros([2, 3, 4]).matmul(zeros([3, 4, 2])), "SHAPE_MISMATCH", "axis 0");
  throwsCode(() => a.matmul(zeros([])), "INVALID_SHAPE", "0-dimensional");
  throwsCode(() => a.matmul(3), "INVALID_ARGUMENT", "3");
  throwsCode(() => zeros([2]).matmul("x"), "INVALID_ARGUMENT", "x");
});

test.run();
