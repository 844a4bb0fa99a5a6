// topk and argtopk as dask's (the k largest, largest first; k < 0 the smallest, smallest first), on every
// axis of a 3-d array, every dtype, uneven chunkings (one chunk or many along the axis), NaN, -0 and ties:
// one result for any chunking and worker count (ties by the lower index, NaN the largest).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { fromArray, compute, random, topk, argtopk, NDArray, ChunkedArray } from "../../dist/index.js";
import * as S from "../helpers/select-reference.mjs";
import { throwsCode } from "../helpers/check.mjs";

const T = { float64: Float64Array, float32: Float32Array, int32: Int32Array, bool: Uint8Array };
const SHAPE = [9, 14, 6];
const N = SHAPE.reduce((a, b) => a * b, 1);
const CHUNKINGS = [[9, 14, 6], [4, 5, 2], [[1, 8], [3, 3, 8], [6]], [2, 14, 1]];

function valuesOf(dtype) {
  const v = Array.from({ length: N }, (_, i) => {
    if (dtype === "bool") return (i * 7) % 3 === 0 ? 1 : 0;
    if (dtype === "int32") return ((i * 31) % 17) - 8; // many ties
    if (i % 29 === 0) return NaN;
    if (i % 31 === 0) return -0;
    if (i % 37 === 0) return 0;
    if (i % 41 === 0) return Infinity;
    return Math.round(Math.sin(i * 1.3) * 8) / 2; // ties
  });
  return dtype === "float32" ? v.map(Math.fround) : v;
}

const sameValues = (got, want, what) => {
  assert.equal(got.length, want.length, what);
  for (let i = 0; i < want.length; i++) if (!Object.is(got[i], want[i])) assert.unreachable(`${what}: element ${i} is ${got[i]}, want ${want[i]}`);
};

for (const dtype of ["float64", "float32", "int32", "bool"]) {
  test(`topk / argtopk ${dtype} on every axis and chunking: dask's selection, sorted, deterministic ties`, async () => {
    const vals = valuesOf(dtype);
    const ref = { data: vals, shape: SHAPE };
    const outs = [];
    const wants = [];
    for (const chunks of CHUNKINGS) {
      const x = fromArray(T[dtype].from(vals), { shape: SHAPE, chunks });
      for (const axis of [0, 1, 2, -1]) {
        const n = SHAPE[axis < 0 ? axis + 3 : axis];
        for (const k of [1, 3, -2, n, -n]) {
          const want = S.topk(ref, k, axis);
          const v = topk(x, k, { axis });
          const ix = argtopk(x, k, { axis });
          assert.instance(v, ChunkedArray);
          assert.equal(v.shape, want.shape);
          assert.is(v.dtype, dtype);
          assert.is(ix.dtype, "int32");
          outs.push(v, ix);
          wants.push({ data: want.values, what: `${JSON.stringify(chunks)} axis ${axis} k ${k} values` }, { data: want.indices, what: `${JSON.stringify(chunks)} axis ${axis} k ${k} indices` });
        }
      }
    }
    const got = await compute(...outs);
    got.forEach((g, i) => sameValues(Array.from(g.data), wants[i].data, wants[i].what));
    // eager, at once
    const nd = new NDArray(T[dtype].from(vals), SHAPE, dtype);
    const e = S.topk(ref, -4, 1);
    sameValues(Array.from(topk(nd, -4, { axis: 1 }).data), e.values, "NDArray topk");
    sameValues(Array.from(argtopk(nd, -4, { axis: 1 }).data), e.indices, "NDArray argtopk");
  });
}

test("topk defaults to the last axis; results identical for 1, 2 and 3 workers; a fused input", async () => {
  const x = random.normal(0, 1, [40, 3000], { chunks: [13, 700], seed: 9 });
  const y = x.mul(3).add(1);
  const vals = Array.from((await y.compute()).data);
  const want = S.topk({ data: vals, shape: [40, 3000] }, 5, -1);
  const runs = [];
  for (const workers of [1, 2, 3]) runs.push(await compute(topk(y, 5), argtopk(y, 5), { workers }));
  for (const [v, ix] of runs) {
    sameValues(Array.from(v.data), want.values, "values");
    sameValues(Array.from(ix.data), want.indices, "indices");
  }
  // 1-d, many chunks, k across several of them
  const z = fromArray(Float64Array.from({ length: 1000 }, (_, i) => (i * 7919) % 1009), { chunks: 37 });
  const w = S.topk({ data: Array.from({ length: 1000 }, (_, i) => (i * 7919) % 1009), shape: [1000] }, -100, 0);
  sameValues(Array.from((await topk(z, -100).compute()).data), w.values, "1-d values");
  sameValues(Array.from((await argtopk(z, -100).compute()).data), w.indices, "1-d indices");
});

test("topk / argtopk: bad input", () => {
  const x = fromArray([[1, 2, 3], [4, 5, 6]], { chunks: 1 });
  throwsCode(() => topk(x, 0), "INVALID_ARGUMENT", "k 0");
  throwsCode(() => topk(x, 4), "INVALID_ARGUMENT", "k 4", "axis 1", "length 3");
  throwsCode(() => argtopk(x, -3, { axis: 0 }), "INVALID_ARGUMENT", "k -3", "length 2");
  throwsCode(() => topk(x, 1.5), "INVALID_ARGUMENT", "1.5");
  throwsCode(() => topk(x, 1, { axis: 2 }), "INVALID_AXIS", "axis 2");
  throwsCode(() => argtopk(x, 1, { axis: -3 }), "INVALID_AXIS", "-3");
  throwsCode(() => topk(x, 1, { axes: 0 }), "INVALID_ARGUMENT", '"axes"');
  throwsCode(() => topk(x.sum(), 1), "INVALID_AXIS", "0-d");
  throwsCode(() => topk([1, 2], 1), "INVALID_ARGUMENT", "[1,2]");
  throwsCode(() => topk(new NDArray(Float64Array.from([1, 2]), [2], "float64"), 3), "INVALID_ARGUMENT", "k 3");
});

test.run();
