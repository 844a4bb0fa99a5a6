// unique of int32, bool and float arrays as numpy's (sorted values, return_counts): by counting (values that span
// few integers: the histogram kernel, fused) and by merging every chunk's sorted distinct values (values
// spread wide), over uneven chunkings, worker counts and n-d shapes; the same result every way.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { fromArray, arange, unique, NDArray } from "../../dist/index.js";
import * as S from "../helpers/select-reference.mjs";
import { throwsCode } from "../helpers/check.mjs";
import { recordLimits } from "../../dist/array/unique.js";

const SHAPE = [13, 11, 7];
const N = SHAPE.reduce((a, b) => a * b, 1);
const CHUNKINGS = [[13, 11, 7], [5, 4, 3], [[1, 12], [11], [2, 5]], [1, 11, 7]];

function same(got, want, what) {
  const [v, c] = got;
  assert.equal(Array.from(v.data), want.values, `${what}: values`);
  assert.equal(Array.from(c.data), want.counts, `${what}: counts`);
  assert.is(c.dtype, "float64");
}

for (const [name, gen] of [
  ["narrow values (counting)", (i) => ((i * 37) % 19) - 9],
  ["values spread wide (chunks merged)", (i) => ((i * 2654435761) % 4294967296) - 2147483648],
  ["few values spread wide", (i) => [-2147483648, 2147483647, 0, 5][i % 4]],
]) {
  test(`unique int32, ${name}: numpy's sorted values and counts on every chunking and worker count`, async () => {
    const vals = Array.from({ length: N }, (_, i) => gen(i) | 0);
    const want = S.unique(vals);
    for (const chunks of CHUNKINGS) {
      const x = fromArray(Int32Array.from(vals), { shape: SHAPE, chunks });
      const p = unique(x, { returnCounts: true });
      assert.instance(p, Promise);
      same(await p, want, `chunks ${JSON.stringify(chunks)}`);
      const v = await unique(x, { workers: 1 });
      assert.instance(v, NDArray);
      assert.is(v.dtype, "int32");
      assert.equal(Array.from(v.data), want.values);
    }
    same(unique(new NDArray(Int32Array.from(vals), SHAPE, "int32"), { returnCounts: true }), want, "NDArray");
  });
}

test("unique: chunk records merged a few block rows at a time give the same result", async () => {
  const vals = Array.from({ length: N }, (_, i) => ((i * 2654435761) % 4294967296) - 2147483648 + (i % 5)).map((v) => v | 0);
  const want = S.unique(vals);
  const saved = recordLimits.groupBytes;
  try {
    for (const bytes of [1, 20000]) {
      recordLimits.groupBytes = bytes;
      for (const chunks of CHUNKINGS) same(await unique(fromArray(Int32Array.from(vals), { shape: SHAPE, chunks }), { returnCounts: true }), want, `${bytes} B, ${JSON.stringify(chunks)}`);
      same(await unique(fromArray(Int32Array.from(vals), { shape: [N], chunks: 100 }), { returnCounts: true }), want, `${bytes} B, 1-d`);
    }
  } finally {
    recordLimits.groupBytes = saved;
  }
});

test("unique of bool arrays gives bool values; of a fused expression; of empty and 0-d arrays", async () => {
  const b = Array.from({ length: 50 }, (_, i) => (i % 3 === 0 ? 1 : 0));
  const [v, c] = await unique(fromArray(Uint8Array.from(b), { shape: [50], dtype: "bool", chunks: 7 }), { returnCounts: true });
  assert.is(v.dtype, "bool");
  assert.equal(Array.from(v.data), [0, 1]);
  assert.equal(Array.from(c.data), [33, 17]);
  const [t] = await unique(fromArray(Uint8Array.from([1, 1]), { shape: [2], dtype: "bool" }), { returnCounts: true });
  assert.equal(Array.from(t.data), [1]);
  // arange(1000) % 7, never stored
  const [m, mc] = await unique(arange(1000, { chunks: 99 }).mod(7), { returnCounts: true });
  assert.equal(Array.from(m.data), [0, 1, 2, 3, 4, 5, 6]);
  assert.equal(Array.from(mc.data), [143, 143, 143, 143, 143, 143, 142]);
  const [e, ec] = await unique(fromArray(new Int32Array(0), { shape: [0, 3] }), { returnCounts: true });
  assert.equal([e.shape, ec.shape, e.dtype], [[0], [0], "int32"]);
  const z = await unique(fromArray(Int32Array.from([4]), { shape: [1] }).get(0).add(fromArray(Int32Array.from([3]), { shape: [] })));
  assert.equal(Array.from(z.data), [7]);
});

/** numpy.unique of floats, in plain JS: ascending, NaN last and counted as one value (equal_nan), -0 equal to 0. */
function floatUnique(vals) {
  const nums = vals.filter((v) => v === v).sort((a, b) => a - b);
  const values = [];
  const counts = [];
  for (const v of nums) {
    if (values.length && values[values.length - 1] === v) counts[counts.length - 1]++;
    else {
      values.push(v);
      counts.push(1);
    }
  }
  const nans = vals.length - nums.length;
  if (nans) {
    values.push(NaN);
    counts.push(nans);
  }
  return { values, counts };
}

for (const dtype of ["float64", "float32"]) {
  test(`unique ${dtype}: sorted values with NaN last as one value, counts, on every chunking and worker count`, async () => {
    const round = dtype === "float32" ? Math.fround : (v) => v;
    const vals = Array.from({ length: N }, (_, i) => (i % 17 === 3 ? NaN : i % 29 === 0 ? -0 : round(((i * 7919) % 113) / 8 - 3.3)));
    const want = floatUnique(vals);
    for (const chunks of CHUNKINGS) {
      const x = fromArray(dtype === "float32" ? Float32Array.from(vals) : Float64Array.from(vals), { shape: SHAPE, chunks });
      const [v, c] = await unique(x, { returnCounts: true });
      assert.is(v.dtype, dtype);
      assert.equal(Array.from(v.data).map((a) => (Object.is(a, -0) ? 0 : a)), want.values, `chunks ${JSON.stringify(chunks)}: values`);
      assert.equal(Array.from(c.data), want.counts, `chunks ${JSON.stringify(chunks)}: counts`);
      const one = await unique(x, { workers: 1 });
      assert.equal(Array.from(one.data).map((a) => (Object.is(a, -0) ? 0 : a)), want.values, "1 worker");
    }
    const nd = unique(new NDArray(dtype === "float32" ? Float32Array.from(vals) : Float64Array.from(vals), SHAPE, dtype), { returnCounts: true });
    assert.equal(Array.from(nd[1].data), want.counts, "NDArray");
  });
}

test("unique float64: records merged a few block rows at a time, values past 2^53 kept exactly", async () => {
  const vals = Array.from({ length: 4000 }, (_, i) => (i % 3 === 0 ? 2 ** 60 + (i % 7) * 2 ** 9 : -(i % 11) * 1e-300));
  const want = floatUnique(vals);
  const x = fromArray(Float64Array.from(vals), { shape: [40, 100], chunks: [3, 17] });
  const saved = recordLimits.groupBytes;
  recordLimits.groupBytes = 2048;
  try {
    const [v, c] = await unique(x, { returnCounts: true });
    assert.equal(Array.from(v.data).map((a) => (Object.is(a, -0) ? 0 : a)), want.values);
    assert.equal(Array.from(c.data), want.counts);
  } finally {
    recordLimits.groupBytes = saved;
  }
});

test("unique: bad input", () => {
  throwsCode(() => unique(fromArray(Int32Array.from([1]), { shape: [1] }), { returnCounts: 1 }), "INVALID_ARGUMENT", "returnCounts 1");
  throwsCode(() => unique(fromArray(Int32Array.from([1]), { shape: [1] }), { return_counts: true }), "INVALID_ARGUMENT", '"return_counts"');
  throwsCode(() => unique([1, 2]), "INVALID_ARGUMENT", "[1,2]");
});

test.run();
