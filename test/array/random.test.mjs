/** Seeded random arrays: bit-identical for any chunking and worker count, and statistically sound. */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { random, compute, NDArray } from "../../dist/index.js";
import { sameBytes, throwsCode, closeNumber } from "../helpers/check.mjs";

const SHAPE = [1000, 1000];

test("random.random with one seed is bit-identical for every chunking", async () => {
  const ref = await random.random(SHAPE, { chunks: 1000, seed: 42 }).compute();
  assert.instance(ref, NDArray);
  assert.is(ref.dtype, "float64");
  const chunkings = [2000, [[3, 500, 497], [1000]], "auto", [128, 96], [[1000], [1, 999]], [[250, 250, 250, 250], "auto"]];
  for (const chunks of chunkings) {
    const x = random.random(SHAPE, { chunks, seed: 42 });
    sameBytes((await x.compute()).data, ref.data, `chunks ${JSON.stringify(chunks)}`);
  }
  // tiny chunks on a smaller array (thousands of blocks) against the same values
  const small = await random.random([300, 400], { chunks: 7, seed: 42 }).compute();
  const smallRef = await random.random([300, 400], { chunks: [[300], [400]], seed: 42 }).compute();
  sameBytes(small.data, smallRef.data, "chunks 7");
});

test("random values depend only on (seed, flat index): same values for another shape of the same size", async () => {
  const a = await random.random(SHAPE, { chunks: 300, seed: 9 }).compute();
  const b = await random.random([1e6], { chunks: 77777, seed: 9 }).compute();
  const c = await random.random([500, 2, 1000], { chunks: [100, 1, 300], seed: 9 }).compute();
  sameBytes(b.data, a.data, "[1e6] vs [1000, 1000]");
  sameBytes(c.data, a.data, "[500, 2, 1000] vs [1000, 1000]");
});

test("random.random is bit-identical across worker counts (and lazily equal: eq().all())", async () => {
  const x = random.random(SHAPE, { chunks: [300, 400], seed: 123 });
  const r1 = await x.compute({ workers: 1 });
  const r3 = await x.compute({ workers: 3 });
  const r2 = await x.compute({ workers: 2 });
  sameBytes(r3.data, r1.data, "workers 3 vs 1");
  sameBytes(r2.data, r1.data, "workers 2 vs 1");
  const y = random.random(SHAPE, { chunks: 333, seed: 123 });
  assert.is(await x.eq(y).all().compute(), true);
  // a few direct element comparisons against a differently chunked eager copy
  const z = await random.random(SHAPE, { chunks: [[1, 998, 1], [999, 1]], seed: 123 }).compute();
  for (const [i, j] of [[0, 0], [0, 999], [999, 0], [999, 999], [1, 998], [500, 500]]) {
    assert.ok(Object.is(z.get(i, j), r1.get(i, j)), `element [${i}, ${j}]`);
  }
});

test("different seeds give different values; seed 0 and 2^53 - 1 are valid", async () => {
  const a = random.random([200, 300], { chunks: 100, seed: 1 });
  const b = random.random([200, 300], { chunks: 100, seed: 2 });
  const c = random.random([200, 300], { chunks: 100, seed: 0 });
  const d = random.random([200, 300], { chunks: 100, seed: Number.MAX_SAFE_INTEGER });
  const e = random.random([200, 300], { chunks: 100, seed: Number.MAX_SAFE_INTEGER - 1 });
  const [ab, ac, de, cc] = await compute(a.eq(b).sum(), a.eq(c).sum(), d.eq(e).sum(), c.eq(c).all());
  assert.ok(ab < 3, `seeds 1 and 2 share ${ab} values`);
  assert.ok(ac < 3, `seeds 1 and 0 share ${ac} values`);
  assert.ok(de < 3, `seeds 2^53-1 and 2^53-2 share ${de} values`);
  assert.is(cc, true);
  // no seed given: a fresh seed each time
  const [f, g] = await compute(random.random([1000]).sum(), random.random([1000]).sum());
  assert.is.not(f, g);
});

test("bad seeds and options are INVALID_ARGUMENT naming the value", () => {
  throwsCode(() => random.random([3], { seed: -1 }), "INVALID_ARGUMENT", "-1");
  throwsCode(() => random.random([3], { seed: 1.5 }), "INVALID_ARGUMENT", "1.5");
  throwsCode(() => random.random([3], { seed: "7" }), "INVALID_ARGUMENT", '"7"');
  throwsCode(() => random.random([3], { seed: 2 ** 53 }), "INVALID_ARGUMENT", String(2 ** 53));
  throwsCode(() => random.random([3], { sed: 1 }), "INVALID_ARGUMENT", '"sed"');
  throwsCode(() => random.random([3], { dtype: "int32" }), "INVALID_DTYPE", '"int32"');
  throwsCode(() => random.random([3, -1]), "INVALID_SHAPE", "-1");
  throwsCode(() => random.normal(0, -1, [3]), "INVALID_ARGUMENT", "-1");
});

test("random.random: values in [0, 1), mean ~ 1/2, variance ~ 1/12, uniform quarters (2e6 samples)", async () => {
  const x = random.random([2000, 1000], { chunks: [500, 1000], seed: 2024 });
  const n = 2e6;
  const [mn, mx, mean, v, q1, q4] = await compute(x.min(), x.max(), x.mean(), x.var(), x.lt(0.25).mean(), x.ge(0.75).mean());
  assert.ok(mn >= 0, `min ${mn}`);
  assert.ok(mx < 1, `max ${mx}`);
  // 6 standard errors
  assert.ok(Math.abs(mean - 0.5) < 6 * Math.sqrt(1 / 12 / n), `mean ${mean}`);
  assert.ok(Math.abs(v - 1 / 12) < 6 * Math.sqrt((1 / 80 - 1 / 144) / n), `variance ${v}`);
  const se = 6 * Math.sqrt(0.25 * 0.75 / n);
  assert.ok(Math.abs(q1 - 0.25) < se, `fraction below 0.25: ${q1}`);
  assert.ok(Math.abs(q4 - 0.25) < se, `fraction at or above 0.75: ${q4}`);
  // neighbouring rows are not copies of each other (streams per block must differ)
  const rows = await x.compute();
  let same = 0;
  for (let j = 0; j < 1000; j++) if (rows.get(0, j) === rows.get(1, j) || rows.get(0, j) === rows.get(500, j)) same++;
  assert.ok(same < 2, `${same} equal values between rows`);
});

test("random.uniform(lo, hi) = lo + (hi - lo) * u: bounds, mean, same values as the formula", async () => {
  const lo = -2;
  const hi = 3;
  const u = random.uniform(lo, hi, [1000, 1000], { chunks: 250, seed: 5 });
  const r = random.random([1000, 1000], { chunks: 400, seed: 5 });
  const [mn, mx, mean, same] = await compute(u.min(), u.max(), u.mean(), u.eq(r.mul(hi - lo).add(lo)).all());
  assert.ok(mn >= lo && mx < hi, `range [${mn}, ${mx}]`);
  assert.ok(Math.abs(mean - 0.5) < 6 * 5 * Math.sqrt(1 / 12 / 1e6), `mean ${mean}`);
  assert.is(same, true, "uniform equals lo + (hi - lo) * random with the same seed");
});

test("random.normal(mean, std): moments, 1-sigma fraction, same values as mean + std * z", async () => {
  const n = 2e6;
  const x = random.normal(3, 2, [n], { chunks: 300_000, seed: 77 });
  const z = random.normal(0, 1, [n], { chunks: 123_456, seed: 77 });
  const [mean, sd, within, mn, mx, same, fin] = await compute(
    x.mean(),
    x.std(),
    x.sub(3).abs().le(2).mean(),
    z.min(),
    z.max(),
    x.eq(z.mul(2).add(3)).all(),
    z.isnan().any(),
  );
  assert.ok(Math.abs(mean - 3) < 6 * 2 / Math.sqrt(n), `mean ${mean}`);
  assert.ok(Math.abs(sd - 2) < 6 * 2 * Math.sqrt(0.5 / n), `std ${sd}`);
  assert.ok(Math.abs(within - 0.6826894921) < 6 * Math.sqrt(0.68 * 0.32 / n), `fraction within one std ${within}`);
  assert.ok(mn < -4 && mx > 4 && mn > -7 && mx < 7, `extremes ${mn} ${mx}`);
  assert.is(same, true, "normal(3, 2) equals 3 + 2 * normal(0, 1) with the same seed");
  assert.is(fin, false, "no NaN");
  // normal is chunk-independent too
  const a = await random.normal(0, 1, [300, 300], { chunks: 7, seed: 1 }).compute();
  const b = await random.normal(0, 1, [300, 300], { chunks: 300, seed: 1 }).compute();
  sameBytes(a.data, b.data, "normal chunks 7 vs 300");
});

test("float32 dtype: Float32Array data, chunk-independent, the float32 rounding of the float64 values", async () => {
  const x = random.random([500, 600], { chunks: 128, seed: 8, dtype: "float32" });
  assert.is(x.dtype, "float32");
  const a = await x.compute();
  assert.instance(a.data, Float32Array);
  const b = await random.random([500, 600], { chunks: [[500], [7, 593]], seed: 8, dtype: "float32" }).compute();
  sameBytes(a.data, b.data, "float32 chunkings");
  const f64 = await random.random([500, 600], { chunks: 128, seed: 8 }).compute();
  let close = 0;
  for (let i = 0; i < a.data.length; i++) if (Math.abs(a.data[i] - f64.data[i]) <= 2 ** -24) close++;
  assert.is(close, a.data.length, "float32 values are the float64 ones to float32 precision");
  const n = await random.normal(0, 1, [1000], { seed: 3, dtype: "float32" }).compute();
  assert.instance(n.data, Float32Array);
});

test("float32 random.random stays in [0, 1): seed 1, 1e6 samples never round up to 1", async () => {
  const x = random.random([1e6], { dtype: "float32", seed: 1, chunks: 250_000 });
  const mx = await x.max().compute();
  assert.ok(mx < 1, `max is ${mx} (at flat index ${await x.argmax().compute()})`);
  const u = random.uniform(0, 10, [1e6], { dtype: "float32", seed: 1 });
  const umx = await u.max().compute();
  assert.ok(umx < 10, `uniform(0, 10) float32 max is ${umx}`);
});

test("random numbers over several outputs of one compute are consistent with separate computes", async () => {
  const x = random.random([400, 400], { chunks: 100, seed: 31 });
  const [s, m] = await compute(x.sum(), x.mean());
  closeNumber(m, s / 160000, { rtol: 1e-15, what: "mean vs sum / n" });
  assert.ok(Object.is(await x.sum().compute(), s), "a separate sum() gives the same bits");
});

test.run();
