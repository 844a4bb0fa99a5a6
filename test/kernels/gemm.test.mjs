// The GEMM kernel (assembly/gemm.ts) against its JS twin (gemm-reference.ts) bit for bit, and both against
// a naive triple loop written here: sizes around the microkernel's tile and the cache blocks, f64 and f32,
// beta 0 and 1, transposed, negative and padded strides, NaN and infinities; splitting K into blocks with
// beta 1 gives the bits of one call; bad records get the same RC from both and write nothing.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { DT, GEMM_SCRATCH_BYTES, GEMM_WORDS, RC } from "../../dist/kernels/abi.js";
import { writeGemmRecord } from "../../dist/kernels/gemm-record.js";
import { runGemmReference } from "../../dist/kernels/gemm-reference.js";
import { createSharedMemory, gemmFlavour, instantiateKernels, kernelModule } from "../../dist/kernels/wasm.js";
import { firstDiff, rng, same } from "./harness.mjs";
import { LAYOUTS, layoutCases, PAGES, REC, SCRATCH, SIZES, layout, load, naive, regionOf, strides, writeRecord } from "./gemm-layout.mjs";

delete process.env.TESSERA_KERNELS;
// the canonical kernel (the default GEMM is the BLAS bridge where one loads: blas.test.mjs)
process.env.TESSERA_GEMM = "plain";

const wasmMem = createSharedMemory(PAGES);
const jsMem = createSharedMemory(PAGES);
// the wasm kernel itself (with TESSERA_KERNELS unset, plain GEMM runs on the GEMM addon's native
// canonical kernel where it is built: native-gemm.test.mjs checks it against this one)
process.env.TESSERA_KERNELS = "wasm";
const wasm = instantiateKernels(wasmMem, kernelModule());
delete process.env.TESSERA_KERNELS;
const SIDES = [
  { name: "wasm", mem: wasmMem, run: (rec) => wasm.gemm(rec) },
  { name: "js", mem: jsMem, run: (rec) => runGemmReference(jsMem.buffer, rec) },
];

/** Runs one case on both sides; returns their C regions (and the A, B regions, which must be unchanged). */
function runBoth(L, { records } = {}) {
  const out = [];
  for (const side of SIDES) {
    load(side, L);
    const rcs = [];
    for (const rec of records ?? [L.rec]) {
      writeRecord(side.mem.buffer, REC, rec);
      new Uint8Array(side.mem.buffer, SCRATCH, GEMM_SCRATCH_BYTES).fill(0x5a); // nothing may depend on the scratch
      rcs.push(side.run(REC));
    }
    out.push({ rcs, c: regionOf(side, L, "c"), a: regionOf(side, L, "a"), b: regionOf(side, L, "b") });
  }
  return out;
}

function check(p, seed, label) {
  const L = layout(p, seed);
  const [w, j] = runBoth(L);
  const name = `${label} ${JSON.stringify({ dt: p.dtype, m: p.m, n: p.n, k: p.k, beta: p.beta, layouts: p.layouts })}`;
  assert.equal(w.rcs, [RC.OK], name);
  assert.equal(j.rcs, [RC.OK], name);
  assert.is(firstDiff(w.c, j.c), -1, `wasm vs twin: ${name}`);
  assert.is(firstDiff(w.c, naive(L)), -1, `wasm vs naive loop: ${name}`);
  assert.is(firstDiff(w.a, L.values.a), -1, `A unchanged: ${name}`);
  assert.is(firstDiff(w.b, L.values.b), -1, `B unchanged: ${name}`);
  return { L, c: w.c };
}


test("random sizes, f64 and f32, beta 0 and 1: wasm = twin = naive loop, bit for bit", () => {
  const r = rng(7);
  const pick = (xs) => xs[Math.floor(r() * xs.length)];
  for (let t = 0; t < 60; t++) {
    const dtype = t % 2 ? DT.F32 : DT.F64;
    const m = pick(SIZES), n = pick(SIZES), k = pick([0, 1, 2, 5, 17, 64, 255, 300, 511, 512, 513]);
    const values = dtype === DT.F32 ? { all: (rand) => Math.fround((rand() - 0.5) * 200) } : undefined;
    check({ dtype, m, n, k, beta: t % 3 === 0 ? 1 : 0, values }, 100 + t, `case ${t}`);
  }
});

test("every layout of A, B and C (transposes, negative strides, gaps, padded C rows)", () => {
  for (const [p, seed] of layoutCases(500)) check(p, seed, "layouts");
});

test("blocks beyond one cache block in every dimension (M > MC, N > NC, K > KC)", () => {
  check({ dtype: DT.F64, m: 200, n: 9, k: 700, beta: 0 }, 1, "tall");
  check({ dtype: DT.F64, m: 7, n: 1100, k: 40, beta: 1 }, 2, "wide");
  check({ dtype: DT.F32, m: 101, n: 530, k: 600, beta: 1, values: { all: (rand) => Math.fround(rand() - 0.5) } }, 3, "f32 all");
  check({ dtype: DT.F64, m: 130, n: 70, k: 520, beta: 0, layouts: { a: "col", b: "col", c: "flip" }, pad: 3 }, 4, "transposed");
});

test("C as a sub-block of a larger matrix: elements outside it are untouched", () => {
  for (const dtype of [DT.F64, DT.F32]) {
    for (const beta of [0, 1]) {
      // C's rows are 50 apart, only 11 columns written: the 39 between stay as they were (and NaN stays NaN)
      const { L, c } = check({ dtype, m: 14, n: 11, k: 20, beta, strides: { c: [50, 1] }, values: { c: (rand, i) => (i % 7 === 0 ? NaN : i) } }, 9, "sub-block");
      const written = new Set();
      const off = (L.ops.c.base - L.ops.c.region) / L.e;
      for (let i = 0; i < 14; i++) for (let j = 0; j < 11; j++) written.add(off + 50 * i + j);
      for (let x = 0; x < c.length; x++) if (!written.has(x)) assert.ok(same(c[x], L.values.c[x]), `element ${x} outside C changed`);
    }
  }
});

test("NaN and infinities propagate as IEEE says", () => {
  const specials = [NaN, Infinity, -Infinity, 0, -0, 1e308, -1e308, 5e-324, 1];
  const values = { all: (rand) => (rand() < 0.2 ? specials[Math.floor(rand() * specials.length)] : (rand() - 0.5) * 4) };
  for (let t = 0; t < 8; t++) {
    const { c } = check({ dtype: t % 2 ? DT.F32 : DT.F64, m: 9 + t, n: 6 + t, k: 5 + 3 * t, beta: t % 2, values }, 900 + t, "specials");
    assert.ok(c.some((x) => Number.isNaN(x)) && c.some((x) => x === Infinity || x === -Infinity), "the case has NaN and infinite results");
  }
  // beta 0 with -0 products: the sum starts at +0.0, so an all -0 chain gives +0
  const negZero = { a: () => -0, b: () => 1 };
  for (const dtype of [DT.F64, DT.F32]) {
    const { L, c } = check({ dtype, m: 7, n: 5, k: 3, beta: 0, values: negZero }, 5, "minus zero");
    const off = (L.ops.c.base - L.ops.c.region) / L.e;
    assert.ok(Object.is(c[off], 0), "+0, not -0");
  }
});

test("small integers: exact products in f64 and f32", () => {
  const ints = { all: (rand) => Math.floor((rand() - 0.5) * 17) };
  for (const dtype of [DT.F64, DT.F32]) {
    const { L, c } = check({ dtype, m: 31, n: 29, k: 300, beta: 1, values: ints }, 77, "ints");
    const { ops, values } = L;
    const at = (name, i, j) => values[name][(ops[name].base - ops[name].region) / L.e + i * ops[name].rs + j * ops[name].cs];
    for (let i = 0; i < 31; i++) {
      for (let j = 0; j < 29; j++) {
        let s = at("c", i, j);
        for (let kk = 0; kk < 300; kk++) s += at("a", i, kk) * at("b", kk, j);
        assert.is(c[(ops.c.base - ops.c.region) / L.e + i * ops.c.rs + j * ops.c.cs], s);
      }
    }
  }
});

test("K split into blocks (the first with beta 0 or 1, the rest beta 1) = one call, bit for bit", () => {
  const r = rng(3);
  for (let t = 0; t < 12; t++) {
    const dtype = t % 2 ? DT.F32 : DT.F64;
    const m = 5 + Math.floor(r() * 40), n = 3 + Math.floor(r() * 40), k = 1 + Math.floor(r() * 600);
    const beta = t % 3 === 0 ? 1 : 0;
    const lays = { a: LAYOUTS[t % 6], b: LAYOUTS[(t + 2) % 6], c: ["row", "col", "flip"][t % 3] };
    const values = { all: (rand) => (dtype === DT.F32 ? Math.fround((rand() - 0.5) * 3) : (rand() - 0.5) * 3) };
    const L = layout({ dtype, m, n, k, beta, layouts: lays, values }, 40 + t);
    const cuts = [0, ...new Set(Array.from({ length: 1 + (t % 4) }, () => Math.floor(r() * k)))].sort((x, y) => x - y).filter((x, i, xs) => i === 0 || x !== xs[i - 1]);
    cuts.push(k);
    const records = [];
    for (let q = 0; q + 1 < cuts.length; q++) {
      const k0 = cuts[q], k1 = cuts[q + 1];
      records.push({ ...L.rec, k: k1 - k0, beta: q === 0 ? beta : 1, a: L.rec.a + k0 * L.rec.acs * L.e, b: L.rec.b + k0 * L.rec.brs * L.e });
    }
    const [whole] = runBoth(L);
    const [split, splitJs] = runBoth(L, { records });
    assert.ok(split.rcs.every((x) => x === RC.OK));
    assert.is(firstDiff(split.c, whole.c), -1, `cuts ${cuts} ${JSON.stringify(lays)}`);
    assert.is(firstDiff(splitJs.c, whole.c), -1, "twin, split");
  }
});

test("bad records: the same RC from both, nothing written", () => {
  const L = layout({ dtype: DT.F64, m: 4, n: 5, k: 6, beta: 0 }, 11);
  const top = PAGES * 65536;
  const cases = [
    ["bad magic", { magic: 1 }, RC.BAD_MAGIC],
    ["dtype int32", { dtype: DT.I32 }, RC.BAD_HEADER],
    ["dtype 0.5", { dtype: 0.5 }, RC.BAD_HEADER],
    ["M -1", { m: -1 }, RC.BAD_HEADER],
    ["N 1.5", { n: 1.5 }, RC.BAD_HEADER],
    ["K NaN", { k: NaN }, RC.BAD_HEADER],
    ["M 2^31", { m: 2 ** 31 }, RC.BAD_HEADER],
    ["K Infinity", { k: Infinity }, RC.BAD_HEADER],
    ["A stride 0.5", { acs: 0.5 }, RC.BAD_HEADER],
    ["B stride NaN", { brs: NaN }, RC.BAD_HEADER],
    ["C base Infinity", { c: Infinity }, RC.BAD_HEADER],
    ["beta 2", { beta: 2 }, RC.BAD_HEADER],
    ["beta -0.5", { beta: -0.5 }, RC.BAD_HEADER],
    ["scratch 8-aligned", { scratch: SCRATCH + 8 }, RC.BAD_HEADER],
    ["scratch too small", { scratchBytes: GEMM_SCRATCH_BYTES - 16 }, RC.BAD_HEADER],
    ["scratch past the end", { scratch: top - GEMM_SCRATCH_BYTES + 16 }, RC.BAD_HEADER],
    ["scratch negative", { scratch: -16 }, RC.BAD_HEADER],
    ["A past the end", { a: top - 8 }, RC.BAD_HEADER],
    ["B below 0 (negative stride)", { b: 16, brs: -5 }, RC.BAD_HEADER],
    ["C stride past the end", { ccs: 2 ** 40 }, RC.BAD_HEADER],
    ["C negative base", { c: -8, m: 1, n: 1 }, RC.BAD_HEADER],
  ];
  for (const [name, patch, want] of cases) {
    const [w, j] = runBoth(L, { records: [{ ...L.rec, ...patch }] });
    assert.equal([w.rcs[0], j.rcs[0]], [want, want], name);
    assert.is(firstDiff(w.c, L.values.c), -1, `${name}: C untouched (wasm)`);
    assert.is(firstDiff(j.c, L.values.c), -1, `${name}: C untouched (twin)`);
  }
  // a stride along a dimension of 1 is never used, so any integer is fine there; sizes 0 touch nothing
  const ok = [
    ["huge stride along a dimension of 1", { m: 1, ars: 2 ** 52, crs: -(2 ** 52) }],
    ["M 0 with a base past the end", { m: 0, a: top + 1000, c: top + 1000 }],
    ["K 0 with A past the end", { k: 0, a: top + 1000, b: top + 1000 }],
  ];
  for (const [name, patch] of ok) {
    const [w, j] = runBoth(L, { records: [{ ...L.rec, ...patch }] });
    assert.equal([w.rcs[0], j.rcs[0]], [RC.OK, RC.OK], name);
    assert.is(firstDiff(w.c, j.c), -1, name);
  }
  // the record itself: misaligned or past the end of the memory
  for (const side of SIDES) {
    assert.is(side.run(REC + 4), RC.BAD_HEADER, `${side.name}: misaligned record`);
    assert.is(side.run(top - 64), RC.BAD_HEADER, `${side.name}: record past the end`);
  }
});

test("K = 0: beta 0 writes +0.0 over whatever C held, beta 1 leaves C as it was", () => {
  for (const dtype of [DT.F64, DT.F32]) {
    const { L, c } = check({ dtype, m: 9, n: 7, k: 0, beta: 0, layouts: { c: "gap" } }, 21, "k0");
    const off = (L.ops.c.base - L.ops.c.region) / L.e;
    assert.ok(Object.is(c[off], 0) && Object.is(c[off + 8 * L.ops.c.rs + 6 * L.ops.c.cs], 0));
    const kept = check({ dtype, m: 9, n: 7, k: 0, beta: 1 }, 22, "k0 beta 1");
    assert.is(firstDiff(kept.c, kept.L.values.c), -1);
  }
});

test("writeGemmRecord spells the same words", () => {
  const L = layout({ dtype: DT.F32, m: 3, n: 4, k: 5, beta: 1 }, 8);
  const r = L.rec;
  const buf = new ArrayBuffer(GEMM_WORDS * 8 * 2);
  writeRecord(buf, 0, r);
  writeGemmRecord(buf, GEMM_WORDS * 8, {
    dtype: r.dtype, m: r.m, n: r.n, k: r.k, beta: r.beta, scratch: SCRATCH,
    a: { base: r.a, row: r.ars, col: r.acs }, b: { base: r.b, row: r.brs, col: r.bcs }, c: { base: r.c, row: r.crs, col: r.ccs },
  });
  assert.equal(new Float64Array(buf, GEMM_WORDS * 8), new Float64Array(buf, 0, GEMM_WORDS));
});

test("Kernels.gemm: the wasm export, or the twin under TESSERA_KERNELS=js", () => {
  const L = layout({ dtype: DT.F64, m: 8, n: 8, k: 8, beta: 0 }, 5);
  const want = naive(L);
  process.env.TESSERA_KERNELS = "js";
  try {
    const k = instantiateKernels(jsMem);
    assert.is(k.name, "js");
    load(SIDES[1], L);
    writeRecord(jsMem.buffer, REC, L.rec);
    assert.is(k.gemm(REC), RC.OK);
    assert.is(firstDiff(regionOf(SIDES[1], L, "c"), want), -1);
  } finally {
    delete process.env.TESSERA_KERNELS;
  }
  assert.is(wasm.name, "wasm-simd");
  assert.is(typeof wasm.gemm, "function");
});

test("TESSERA_GEMM: plain, fma (the relaxed-SIMD build) or blas; anything else is an error", () => {
  assert.is(gemmFlavour(), "plain");
  process.env.TESSERA_GEMM = "avx";
  try {
    assert.throws(() => kernelModule(), (e) => e.code === "INVALID_ARGUMENT" && /TESSERA_GEMM "avx"/.test(e.message));
    process.env.TESSERA_GEMM = "fma";
    assert.is(gemmFlavour(), "fma");
    const fmaModule = kernelModule();
    assert.is(kernelModule(), fmaModule); // cached per flavour
    process.env.TESSERA_GEMM = "plain";
    assert.is.not(kernelModule(), fmaModule);
  } finally {
    process.env.TESSERA_GEMM = "plain";
  }
});

test("the FMA build: one rounding per step (where the CPU fuses), same k order, so K splits still agree", () => {
  process.env.TESSERA_GEMM = "fma";
  let fma;
  try {
    fma = instantiateKernels(wasmMem, kernelModule());
  } finally {
    process.env.TESSERA_GEMM = "plain";
  }
  const side = { name: "fma", mem: wasmMem, run: (rec) => fma.gemm(rec) };
  // 1×1×1, beta 1: C = -(1 + 2^-29), A = B = 1 + 2^-30: fused 2^-60, two roundings 0
  const x = 1 + 2 ** -30;
  const L = layout({ dtype: DT.F64, m: 1, n: 1, k: 1, beta: 1, values: { a: () => x, b: () => x, c: () => -(1 + 2 ** -29) } }, 1);
  load(side, L);
  writeRecord(wasmMem.buffer, REC, L.rec);
  assert.is(side.run(REC), RC.OK);
  const got = regionOf(side, L, "c")[(L.rec.c - L.ops.c.region) / 8];
  assert.ok(got === 2 ** -60 || got === 0, `fused or not: ${got}`);
  if (got === 0) console.log("  (this CPU's relaxed_madd does not fuse: the FMA build gives the plain bits)");
  // close to the canonical result, and split K = one call
  const P = { dtype: DT.F64, m: 37, n: 41, k: 400, beta: 0, layouts: { a: "col", c: "neg" } };
  const L2 = layout(P, 2);
  const run = (records) => {
    load(side, L2);
    for (const rec of records) {
      writeRecord(wasmMem.buffer, REC, rec);
      assert.is(side.run(REC), RC.OK);
    }
    return regionOf(side, L2, "c");
  };
  const whole = run([L2.rec]);
  const split = run([{ ...L2.rec, k: 150 }, { ...L2.rec, k: 250, beta: 1, a: L2.rec.a + 150 * L2.rec.acs * 8, b: L2.rec.b + 150 * L2.rec.brs * 8 }]);
  assert.is(firstDiff(split, whole), -1);
  const plain = naive(L2);
  let maxRel = 0;
  for (let i = 0; i < plain.length; i++) if (Number.isFinite(plain[i]) && plain[i] !== 0) maxRel = Math.max(maxRel, Math.abs(whole[i] - plain[i]) / Math.abs(plain[i]));
  assert.ok(maxRel < 1e-10, `relative difference to the canonical result ${maxRel}`);
});

test.run();
