// dot, tensordot, outer and einsum as numpy's, built on matmul: shapes, axes, dtypes and bad input, over
// uneven chunkings; values against plain-JS sums (bit for bit where the sum runs in the same order as
// numpy's definition: tensordot over its contracted axes in the order given, einsum for matmul's pattern).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { fromArray, random, dot, tensordot, outer, einsum, matmul, zeros, NDArray, ChunkedArray } from "../../dist/index.js";
import * as R from "../helpers/reference.mjs";
import { sameArray, closeArray, closeNumber, throwsCode } from "../helpers/check.mjs";

const T = { float64: Float64Array, float32: Float32Array, int32: Int32Array };

function operand(shape, seed, chunks, dtype = "float64") {
  const vals = Array.from({ length: R.sizeOf(shape) }, (_, i) => {
    const x = Math.sin((i + 1) * 0.913 + seed * 1.3) * 2;
    return dtype === "int32" ? Math.round(x * 50) : x;
  });
  const ref = R.array(vals, shape, dtype);
  return { x: fromArray(T[dtype].from(ref.data), { shape, chunks }), ref };
}

/** tensordot by definition: for each (free of a, free of b), the sum over the contracted multi-index in C order of `ax`. */
function refTensordot(a, b, ax, bx) {
  const freeA = a.shape.map((_, d) => d).filter((d) => !ax.includes(d));
  const freeB = b.shape.map((_, d) => d).filter((d) => !bx.includes(d));
  const kshape = ax.map((d) => a.shape[d]);
  const shape = [...freeA.map((d) => a.shape[d]), ...freeB.map((d) => b.shape[d])];
  const sa = R.stridesOf(a.shape);
  const sb = R.stridesOf(b.shape);
  const data = [];
  for (let o = 0; o < R.sizeOf(shape); o++) {
    const oi = R.unravel(o, shape);
    let baseA = 0;
    let baseB = 0;
    freeA.forEach((d, i) => (baseA += oi[i] * sa[d]));
    freeB.forEach((d, i) => (baseB += oi[freeA.length + i] * sb[d]));
    let acc = 0;
    for (let k = 0; k < R.sizeOf(kshape); k++) {
      const ki = R.unravel(k, kshape);
      let ia = baseA;
      let ib = baseB;
      ax.forEach((d, i) => (ia += ki[i] * sa[d]));
      bx.forEach((d, i) => (ib += ki[i] * sb[d]));
      acc += a.data[ia] * b.data[ib];
    }
    data.push(acc);
  }
  return { data, shape, dtype: R.promote(a.dtype, b.dtype) };
}

test("tensordot: integer and list axes, bit for bit the definition's sums, any chunking", async () => {
  const a = operand([3, 4, 5], 1, [2, 3, 2]);
  const b = operand([4, 5, 2], 2, [3, 4, 1]);
  sameArray(await tensordot(a.x, b.x, { axes: 2 }).compute(), refTensordot(a.ref, b.ref, [1, 2], [0, 1]), { what: "axes 2" });
  sameArray(await tensordot(a.x, b.x).compute(), refTensordot(a.ref, b.ref, [1, 2], [0, 1]), { what: "default axes" });
  sameArray(await tensordot(a.x, b.x, { axes: [[2, 1], [1, 0]] }).compute(), refTensordot(a.ref, b.ref, [2, 1], [1, 0]), { what: "reordered pairs" });
  sameArray(await tensordot(a.x, b.x, { axes: [1, 0] }).compute(), refTensordot(a.ref, b.ref, [1], [0]), { what: "one pair" });
  sameArray(await tensordot(a.x, b.x, { axes: [[-1], [1]] }).compute(), refTensordot(a.ref, b.ref, [2], [1]), { what: "negative axis" });
  const o = await tensordot(a.x, b.x, { axes: 0 }).compute();
  assert.equal(o.shape, [3, 4, 5, 4, 5, 2]);
  sameArray(o, refTensordot(a.ref, b.ref, [], []), { what: "axes 0: the outer product" });
});

test("dot follows numpy's cases; matmul and dot agree where numpy's do", async () => {
  const m = operand([5, 4], 1, [2, 3]);
  const n = operand([4, 3], 2, [3, 2]);
  const v = operand([4], 3, [3]);
  const w = operand([5], 4, [2]);
  const s3 = operand([2, 5, 4], 5, [1, 2, 2]);
  const t3 = operand([3, 4, 2], 6, [2, 2, 1]);
  sameArray(await dot(m.x, n.x).compute(), R.matmul(m.ref, n.ref), { what: "2-d . 2-d" });
  sameArray(await dot(m.x, v.x).compute(), R.matmul(m.ref, v.ref), { what: "2-d . 1-d" });
  sameArray(await dot(w.x, m.x).compute(), R.matmul(w.ref, m.ref), { what: "1-d . 2-d" });
  assert.is(await dot(v.x, v.x).compute(), R.matmul(v.ref, v.ref).data[0], "1-d . 1-d: a number");
  sameArray(await dot(s3.x, v.x).compute(), refTensordot(s3.ref, v.ref, [2], [0]), { what: "3-d . 1-d" });
  // N-d . M-d: a's last axis with b's second-to-last; the result is a's other axes, then b's
  const d = await dot(s3.x, t3.x).compute();
  assert.equal(d.shape, [2, 5, 3, 2]);
  sameArray(d, refTensordot(s3.ref, t3.ref, [2], [1]), { what: "3-d . 3-d" });
  sameArray(await m.x.dot(n.x).compute(), R.matmul(m.ref, n.ref), { what: "method" });
  sameArray(await dot(m.x, 2).compute(), R.binary("mul", m.ref, 2), { what: "with a number" });
  sameArray(await matmul(s3.x, n.x).compute(), R.matmul(s3.ref, n.ref), { what: "matmul function, batched" });
});

test("NDArrays give eager results; a 0-d product of whole arrays is a number", async () => {
  const a = await operand([3, 4], 1).x.compute();
  const b = await operand([4, 2], 2).x.compute();
  const v = await operand([4], 3).x.compute();
  assert.instance(matmul(a, b), NDArray);
  assert.instance(dot(a, b), NDArray);
  assert.type(dot(v, v), "number");
  assert.instance(einsum("ij,jk->ik", a, b), NDArray);
  sameArray(a.dot(b), R.matmul(R.fromND(a), R.fromND(b)));
  assert.instance(matmul(a, operand([4, 2], 2, [2, 1]).x), ChunkedArray, "any lazy operand makes it lazy");
});

test("outer: the flattened operands' products, fused, with dtype promotion", async () => {
  const a = operand([2, 3], 1, [1, 2]);
  const b = operand([4], 2, [3], "int32");
  const r = outer(a.x, b.x);
  assert.equal(r.shape, [6, 4]);
  const want = { data: [], shape: [6, 4], dtype: "float64" };
  for (let i = 0; i < 6; i++) for (let j = 0; j < 4; j++) want.data.push(a.ref.data[i] * b.ref.data[j]);
  sameArray(await r.compute(), want);
});

/** einsum by definition: every assignment of the indices, products summed (order differs: compared closely). */
function refEinsum(spec, ...ops) {
  const [lhs, rhs] = spec.split("->");
  const terms = lhs.split(",");
  const size = {};
  terms.forEach((t, i) => [...t].forEach((l, d) => (size[l] = ops[i].shape[d])));
  const out = [...rhs];
  const all = Object.keys(size);
  const inner = all.filter((l) => !out.includes(l));
  const oshape = out.map((l) => size[l]);
  const ishape = inner.map((l) => size[l]);
  const data = [];
  for (let o = 0; o < R.sizeOf(oshape); o++) {
    const val = {};
    R.unravel(o, oshape).forEach((v, i) => (val[out[i]] = v));
    let acc = 0;
    for (let k = 0; k < R.sizeOf(ishape); k++) {
      R.unravel(k, ishape).forEach((v, i) => (val[inner[i]] = v));
      let p = 1;
      terms.forEach((t, i) => {
        const idx = [...t].map((l) => val[l]);
        p *= ops[i].data[R.ravel(idx, ops[i].shape)];
      });
      acc += p;
    }
    data.push(acc);
  }
  return { data, shape: oshape, dtype: ops.map((o) => o.dtype).reduce(R.promote) };
}

test("einsum: contractions, batches, transposes, sums, outer products and chains of three", async () => {
  const A = operand([4, 5], 1, [3, 2]);
  const B = operand([5, 3], 2, [2, 3]);
  const C = operand([3, 2], 3, [1, 2]);
  const V = operand([5], 4, [3]);
  const S = operand([2, 4, 5], 5, [1, 3, 3]);
  const U = operand([2, 5, 3], 6, [2, 2, 2]);
  const cases = [
    ["ij,jk->ik", [A, B]],
    ["ij,jk", [A, B]],
    ["ij,jk->ki", [A, B]],
    ["ij->ji", [A]],
    ["ij->", [A]],
    ["ij->j", [A]],
    ["i,j->ij", [V, V]],
    ["ij,j->i", [A, V]],
    ["ij,ij->ij", [A, A]],
    ["ij,ij->", [A, A]],
    ["bij,bjk->bik", [S, U]],
    ["bij,bjk->ik", [S, U]],
    ["ij,jk,kl->il", [A, B, C]],
    ["ij,kl->ijkl", [A, C]],
    ["ij,k->i", [A, V]],
  ];
  for (const [spec, ops] of cases) {
    const explicit = spec.includes("->") ? spec : "ij,jk->ik";
    const r = einsum(spec, ...ops.map((o) => o.x));
    const want = refEinsum(explicit, ...ops.map((o) => o.ref));
    const got = await r.compute();
    if (want.shape.length === 0) closeNumber(got, want.data[0], { what: spec });
    else closeArray(got, want, { rtol: 1e-12, atol: 1e-12, what: spec });
  }
  // matmul's pattern is matmul, bit for bit
  sameArray(await einsum("ij,jk->ik", A.x, B.x).compute(), R.matmul(A.ref, B.ref), { what: "ij,jk->ik" });
  sameArray(await einsum("bij,bjk->bik", S.x, U.x).compute(), R.matmul(S.ref, U.ref), { what: "bij,bjk->bik" });
  sameArray(await einsum("...ij,...jk->...ik", S.x, U.x).compute(), R.matmul(S.ref, U.ref), { what: "ellipsis" });
  sameArray(await einsum("...ij,jk", S.x, B.x).compute(), R.matmul(S.ref, B.ref), { what: "ellipsis, implicit output" });
});

test("einsum keeps numpy's dtype: int32 stays int32", async () => {
  const a = operand([3, 4], 1, [2, 2], "int32");
  const b = operand([4, 2], 2, [3, 1], "int32");
  const r = einsum("ij,jk->ik", a.x, b.x);
  assert.is(r.dtype, "int32");
  sameArray(await r.compute(), R.matmul(a.ref, b.ref));
  const s = einsum("ij->i", a.x);
  assert.is(s.dtype, "int32");
  assert.equal(Array.from((await s.compute()).data), [0, 1, 2].map((i) => a.ref.data.slice(i * 4, i * 4 + 4).reduce((x, y) => x + y, 0)));
});

test("bad axes and specs: a TesseraError naming the value", () => {
  const a = zeros([3, 4]);
  const b = zeros([4, 5]);
  throwsCode(() => tensordot(a, b, { axes: 3 }), "INVALID_AXIS", "3");
  throwsCode(() => tensordot(a, b, { axes: [[0], [0]] }), "SHAPE_MISMATCH", "axis 0");
  throwsCode(() => tensordot(a, b, { axes: [[0, 1], [0]] }), "INVALID_AXIS");
  throwsCode(() => tensordot(a, b, { axes: [[5], [0]] }), "INVALID_AXIS", "5");
  throwsCode(() => tensordot(a, b, { axis: 1 }), "INVALID_ARGUMENT", "axis");
  throwsCode(() => dot(a, a), "SHAPE_MISMATCH", "[3, 4]");
  throwsCode(() => einsum("ij,jk->ik", a), "INVALID_ARGUMENT", "2 operands");
  throwsCode(() => einsum("ij,ik->jk", a, b), "SHAPE_MISMATCH", "i");
  throwsCode(() => einsum("ijk,jk->ik", a, b), "SHAPE_MISMATCH", "ijk");
  throwsCode(() => einsum("ii->i", zeros([3, 3])), "INVALID_ARGUMENT", "diagonal");
  throwsCode(() => einsum("ij->iz", a), "INVALID_ARGUMENT", "z");
  throwsCode(() => einsum("i1->i", zeros([3, 3])), "INVALID_ARGUMENT", "1");
  throwsCode(() => einsum("ij,jk->ik", a, zeros([5, 5])), "SHAPE_MISMATCH", "j");
  throwsCode(() => einsum(42, a), "INVALID_ARGUMENT", "42");
});

test.run();
