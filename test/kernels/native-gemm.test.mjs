// The GEMM addon (native/gemm/, kernels/native-gemm.ts). Its canonical kernel, in every build this CPU
// runs (AVX-512, AVX2, SSE2), against the wasm kernel bit for bit. Its BLAS bridge: GEMM records run by
// OpenBLAS on the kernel memory, not the canonical bits (FMA, its own blocking), so each result is checked against the naive
// canonical loop within the error bound of a length-K dot product, and for what the bridge promises
// exactly: elements outside C, A and B untouched, beta 0 never reads C, NaN and infinities where IEEE
// puts them, the same bits on every call, bad records refused with the wasm kernel's RC, and records
// it cannot take (no unit stride and too large to pack) run by the canonical kernel, bit for bit.
// Skipped with a note where no BLAS loads; CI installs libopenblas0-serial, so there it must load.
import { spawnSync } from "node:child_process";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { DT, GEMM_SCRATCH_BYTES, RC } from "../../dist/kernels/abi.js";
import * as abi from "../../dist/kernels/abi.js";
import { blasCandidates, blasInfo, blasMissing, canonicalIsa, gemmAddonAbi, gemmAddonMissing, nativeGemm } from "../../dist/kernels/native-gemm.js";
import { createSharedMemory, gemmFlavour, instantiateKernels, kernelModule } from "../../dist/kernels/wasm.js";
import { firstDiff, rng, same } from "./harness.mjs";
import { layoutCases, PAGES, REC, SCRATCH, SIZES, layout, load, naive, regionOf, writeRecord } from "./gemm-layout.mjs";

delete process.env.TESSERA_KERNELS;

const info = blasInfo();
if (!info) {
  console.log(`blas.test: SKIPPED, ${blasMissing()}`);
  if (process.env.TESSERA_EXPECT_BLAS === "1") throw new Error(`TESSERA_EXPECT_BLAS=1 but ${blasMissing()}`);
}

const mem = createSharedMemory(PAGES);
const canonMem = createSharedMemory(PAGES);
const savedGemm = process.env.TESSERA_GEMM;
process.env.TESSERA_GEMM = info ? "blas" : "plain";
const blasSide = info ? { name: "blas", mem, run: instantiateKernels(mem, kernelModule()).gemm } : null;
process.env.TESSERA_GEMM = "plain";
process.env.TESSERA_KERNELS = "wasm"; // the wasm kernel: the reference the native canonical kernel must match
const canon = instantiateKernels(canonMem, kernelModule());
delete process.env.TESSERA_KERNELS;
if (savedGemm === undefined) delete process.env.TESSERA_GEMM;
else process.env.TESSERA_GEMM = savedGemm;
const canonSide = { name: "canonical", mem: canonMem, run: (rec) => canon.gemm(rec) };

const blasTest = (name, fn) => test(name, () => { if (info) fn(); });

function runOn(side, L, rec = L.rec) {
  load(side, L);
  writeRecord(side.mem.buffer, REC, rec);
  new Uint8Array(side.mem.buffer, SCRATCH, GEMM_SCRATCH_BYTES).fill(0x5a);
  const rc = side.run(REC);
  return { rc, c: regionOf(side, L, "c"), a: regionOf(side, L, "a"), b: regionOf(side, L, "b") };
}

/** Index of C's element (i, j) in its region, and the magnitude sum_k |a_ik b_kj| + |c| (beta 1) that bounds the rounding error. */
function scale(L) {
  const { ops, values, rec } = L;
  const at = (name, i, j) => values[name][(ops[name].base - ops[name].region) / L.e + i * ops[name].rs + j * ops[name].cs];
  const out = new Map();
  for (let i = 0; i < rec.m; i++) {
    for (let j = 0; j < rec.n; j++) {
      let s = rec.beta ? Math.abs(at("c", i, j)) : 0;
      for (let k = 0; k < rec.k; k++) s += Math.abs(at("a", i, k) * at("b", k, j));
      out.set((ops.c.base - ops.c.region) / L.e + i * ops.c.rs + j * ops.c.cs, s);
    }
  }
  return out;
}

/** Runs p on the BLAS side: RC OK, A and B unchanged, C within the bound of the naive loop, the rest of C's region untouched. */
function check(p, seed, label) {
  const L = layout(p, seed);
  const got = runOn(blasSide, L);
  const name = `${label} ${JSON.stringify({ dt: p.dtype, m: p.m, n: p.n, k: p.k, beta: p.beta, layouts: p.layouts })}`;
  assert.is(got.rc, RC.OK, name);
  assert.is(firstDiff(got.a, L.values.a), -1, `A unchanged: ${name}`);
  assert.is(firstDiff(got.b, L.values.b), -1, `B unchanged: ${name}`);
  const want = naive(L);
  const eps = p.dtype === DT.F32 ? 2 ** -23 : 2 ** -52;
  const bound = scale(L);
  for (let x = 0; x < want.length; x++) {
    const s = bound.get(x);
    if (s === undefined) assert.ok(same(got.c[x], L.values.c[x]), `${name}: element ${x} outside C changed`);
    else if (!Number.isFinite(want[x]) || !Number.isFinite(s)) assert.ok(same(got.c[x], want[x]) || (Number.isNaN(got.c[x]) && Number.isNaN(want[x])), `${name}: element ${x}: ${got.c[x]} vs ${want[x]}`);
    else assert.ok(Math.abs(got.c[x] - want[x]) <= 2 * (L.rec.k + 2) * eps * s + 1e-300, `${name}: element ${x}: ${got.c[x]} vs ${want[x]} (bound ${2 * (L.rec.k + 2) * eps * s})`);
  }
  return { L, c: got.c, want };
}

blasTest("the library: OpenBLAS, threaded build first; TESSERA_GEMM defaults to blas (plain when the kernels are forced to wasm)", () => {
  assert.match(info.library, /libopenblas/);
  assert.ok(blasCandidates({})[0].includes("openblas-pthread"), "the threaded build (one thread per call, locked buffers) is tried first");
  assert.equal(blasCandidates({ TESSERA_BLAS_LIBRARY: "/x/libblas.so" }), ["/x/libblas.so"]);
  const saved = process.env.TESSERA_GEMM;
  try {
    delete process.env.TESSERA_GEMM;
    assert.is(gemmFlavour(), "blas");
    process.env.TESSERA_KERNELS = "wasm";
    assert.is(gemmFlavour(), "plain", "TESSERA_KERNELS=wasm keeps the canonical GEMM");
    process.env.TESSERA_GEMM = "blas";
    assert.is(gemmFlavour(), "blas", "unless BLAS is named");
    delete process.env.TESSERA_KERNELS;
  } finally {
    if (saved === undefined) delete process.env.TESSERA_GEMM;
    else process.env.TESSERA_GEMM = saved;
  }
});

blasTest("random sizes, f64 and f32, beta 0 and 1: within a dot product's error bound of the naive loop", () => {
  const r = rng(17);
  const pick = (xs) => xs[Math.floor(r() * xs.length)];
  let differs = 0;
  for (let t = 0; t < 40; t++) {
    const dtype = t % 2 ? DT.F32 : DT.F64;
    const m = pick(SIZES), n = pick(SIZES), k = pick([0, 1, 2, 5, 17, 64, 255, 300, 513]);
    const values = dtype === DT.F32 ? { all: (rand) => Math.fround((rand() - 0.5) * 200) } : undefined;
    const { c, want } = check({ dtype, m, n, k, beta: t % 3 === 0 ? 1 : 0, values }, 300 + t, `case ${t}`);
    if (firstDiff(c, want) !== -1) differs++;
  }
  // the check above would pass for the canonical kernel too: make sure BLAS, not it, ran
  assert.ok(differs > 0, "some results differ from the canonical bits (BLAS ran)");
});

blasTest("every layout of A, B and C: row-major, transposed, negative strides, gaps (packed), padded rows", () => {
  for (const [p, seed] of layoutCases(700, 5)) check(p, seed, "layouts");
  // degenerate shapes: a row, a column, 1×1, with any stride along their dimensions of 1
  for (const [m, n, k] of [[1, 17, 9], [17, 1, 9], [1, 1, 40], [9, 17, 1]]) check({ dtype: DT.F64, m, n, k, beta: 1, layouts: { a: "col", b: "row", c: "col" } }, m * 100 + n, "degenerate");
});

blasTest("beta 0 never reads C (NaN there is overwritten); K = 0 writes +0.0 or keeps C", () => {
  for (const dtype of [DT.F64, DT.F32]) {
    const { c, L } = check({ dtype, m: 20, n: 30, k: 40, beta: 0 }, 5, "beta 0 over NaN");
    const off = (L.ops.c.base - L.ops.c.region) / L.e;
    assert.ok(Number.isFinite(c[off]) && Number.isFinite(c[off + 19 * L.ops.c.rs + 29]), "no NaN from the old C");
    const z = check({ dtype, m: 9, n: 7, k: 0, beta: 0, layouts: { c: "gap" } }, 21, "k0");
    const zo = (z.L.ops.c.base - z.L.ops.c.region) / z.L.e;
    assert.ok(Object.is(z.c[zo], 0) && Object.is(z.c[zo + 8 * z.L.ops.c.rs + 6 * z.L.ops.c.cs], 0));
    const kept = check({ dtype, m: 9, n: 7, k: 0, beta: 1 }, 22, "k0 beta 1");
    assert.is(firstDiff(kept.c, kept.L.values.c), -1);
  }
});

blasTest("NaN and infinities propagate", () => {
  // no values near the overflow threshold: whether a sum of them overflows depends on the order
  const specials = [NaN, Infinity, -Infinity, 0, -0, 1];
  const values = { all: (rand) => (rand() < 0.15 ? specials[Math.floor(rand() * specials.length)] : (rand() - 0.5) * 4) };
  for (let t = 0; t < 6; t++) {
    const { c } = check({ dtype: t % 2 ? DT.F32 : DT.F64, m: 9 + t, n: 6 + t, k: 5 + 3 * t, beta: t % 2, values }, 950 + t, "specials");
    assert.ok(c.some((x) => Number.isNaN(x)), "the case has NaN results");
  }
});

blasTest("the same bits on every call of the same record (one thread, a deterministic kernel)", () => {
  const L = layout({ dtype: DT.F64, m: 150, n: 140, k: 300, beta: 1, layouts: { a: "col", b: "row", c: "row" } }, 3);
  const first = runOn(blasSide, L).c;
  for (let i = 0; i < 3; i++) assert.is(firstDiff(runOn(blasSide, L).c, first), -1, `call ${i + 2}`);
});

blasTest("records the bridge cannot take run the canonical kernel: no unit stride and too large to pack", () => {
  // A and B with steps in both dimensions: packing them needs more than the record's scratch
  const p = { dtype: DT.F64, m: 420, n: 420, k: 420, beta: 0, layouts: { a: "gap", b: "tcol", c: "row" }, values: { all: (rand) => (rand() - 0.5) * 3 } };
  const L = layout(p, 9);
  assert.ok(L.rec.m * L.rec.k * 8 + L.rec.k * L.rec.n * 8 > GEMM_SCRATCH_BYTES, "the case does not fit packed");
  const viaBridge = runOn(blasSide, L), viaCanon = runOn(canonSide, L);
  assert.equal([viaBridge.rc, viaCanon.rc], [RC.OK, RC.OK]);
  assert.is(firstDiff(viaBridge.c, viaCanon.c), -1, "the canonical bits");
  // misaligned operands likewise
  const M = layout({ dtype: DT.F64, m: 5, n: 6, k: 7, beta: 0 }, 10);
  const rec = { ...M.rec, a: M.rec.a + 4 };
  assert.is(firstDiff(runOn(blasSide, M, rec).c, runOn(canonSide, M, rec).c), -1, "a misaligned A: canonical");
});

blasTest("bad records: the canonical kernel's RC, nothing written", () => {
  const L = layout({ dtype: DT.F64, m: 4, n: 5, k: 6, beta: 0 }, 11);
  const top = PAGES * 65536;
  const cases = [
    { magic: 1 }, { dtype: DT.I32 }, { m: -1 }, { n: 1.5 }, { k: NaN }, { m: 2 ** 31 }, { acs: 0.5 }, { c: Infinity }, { beta: 2 },
    { scratch: SCRATCH + 8 }, { scratchBytes: GEMM_SCRATCH_BYTES - 16 }, { scratch: top - GEMM_SCRATCH_BYTES + 16 }, { a: top - 8 },
    { b: 16, brs: -5 }, { ccs: 2 ** 40 }, { c: -8, m: 1, n: 1 },
  ];
  for (const patch of cases) {
    const rec = { ...L.rec, ...patch };
    const a = runOn(blasSide, L, rec), b = runOn(canonSide, L, rec);
    assert.is(a.rc, b.rc, JSON.stringify(patch));
    assert.ok(a.rc !== RC.OK, JSON.stringify(patch));
    assert.is(firstDiff(a.c, L.values.c), -1, `${JSON.stringify(patch)}: C untouched`);
  }
  assert.is(blasSide.run(REC + 4), RC.BAD_HEADER, "misaligned record");
  assert.is(blasSide.run(top - 64), RC.BAD_HEADER, "record past the end");
});

test("without a BLAS: the default is plain, an explicit TESSERA_GEMM=blas is INVALID_ARGUMENT naming why", () => {
  const script = `const w = await import(${JSON.stringify(new URL("../../dist/kernels/wasm.js", import.meta.url).href)});
    console.log(w.gemmFlavour());
    process.env.TESSERA_GEMM = "blas";
    try { w.gemmFlavour(); console.log("no error"); } catch (e) { console.log(e.code, e.message); }`;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", env: { ...process.env, TESSERA_GEMM: "", TESSERA_BLAS_LIBRARY: "/nonexistent/libopenblas.so.0" } });
  assert.is(r.status, 0, r.stderr);
  const [flavour, err] = r.stdout.trim().split("\n");
  assert.is(flavour, "plain");
  assert.match(err, /^INVALID_ARGUMENT TESSERA_GEMM "blas": /);
  assert.match(err, /nonexistent|not built|BLAS/);
});

// ---- the native canonical kernel: the wasm kernel's bits in every build

const addonAbi = gemmAddonAbi();
if (!addonAbi) {
  console.log(`native-gemm.test: canonical kernel SKIPPED, ${gemmAddonMissing()}`);
  if (process.env.TESSERA_EXPECT_BLAS === "1") throw new Error(`TESSERA_EXPECT_BLAS=1 but ${gemmAddonMissing()}`);
}
const nativeTest = (name, fn) => test(name, () => { if (addonAbi) fn(); });
const ISAS = addonAbi ? ["avx512", "avx2", "sse2"].filter((isa) => canonicalIsa(isa) === isa) : [];
const nativeMem = createSharedMemory(PAGES);
const nativeCanon = addonAbi ? { name: "native", mem: nativeMem, run: nativeGemm(nativeMem, "canonical", () => -99) } : null;

/** Runs p on the native canonical kernel in every build and on the wasm kernel: the same RC and bits, A and B unchanged. */
function sameAsWasm(p, seed, label) {
  const L = layout(p, seed);
  const want = runOn(canonSide, L);
  for (const isa of ISAS) {
    canonicalIsa(isa);
    const got = runOn(nativeCanon, L);
    const name = `${label} ${isa} ${JSON.stringify({ dt: p.dtype, m: p.m, n: p.n, k: p.k, beta: p.beta, layouts: p.layouts, strides: p.strides })}`;
    assert.is(got.rc, want.rc, name);
    assert.is(firstDiff(got.c, want.c), -1, `C: ${name}`);
    assert.is(firstDiff(got.a, L.values.a), -1, `A unchanged: ${name}`);
    assert.is(firstDiff(got.b, L.values.b), -1, `B unchanged: ${name}`);
  }
  canonicalIsa();
}

nativeTest("the addon's record constants are abi.ts's", () => {
  for (const k of ["GEMM_WORDS", "GEMM_MAGIC", "GEMM_SCRATCH_BYTES"]) assert.is(addonAbi[k], abi[k], k);
  assert.equal([addonAbi.DT_F64, addonAbi.DT_F32], [abi.DT.F64, abi.DT.F32]);
  assert.equal([addonAbi.RC_OK, addonAbi.RC_BAD_MAGIC, addonAbi.RC_BAD_HEADER], [RC.OK, RC.BAD_MAGIC, RC.BAD_HEADER]);
  assert.equal(addonAbi.G, { ...abi.G });
  assert.ok(ISAS.includes("sse2") && ISAS.length >= 1, `builds: ${ISAS}`);
});

nativeTest("random sizes, f64 and f32, beta 0 and 1: the wasm kernel's bits in every build", () => {
  const r = rng(71);
  const pick = (xs) => xs[Math.floor(r() * xs.length)];
  for (let t = 0; t < 40; t++) {
    const dtype = t % 2 ? DT.F32 : DT.F64;
    const m = pick([...SIZES, 11, 13, 24, 25]), n = pick([...SIZES, 15, 16, 31, 32, 33]), k = pick([0, 1, 2, 5, 17, 255, 256, 257, 513]);
    const values = dtype === DT.F32 ? { all: (rand) => Math.fround((rand() - 0.5) * 200) } : undefined;
    sameAsWasm({ dtype, m, n, k, beta: t % 3 === 0 ? 1 : 0, values }, 1300 + t, `case ${t}`);
  }
});

nativeTest("every layout of A, B and C; blocks beyond every cache block; C a sub-block of a larger matrix", () => {
  for (const [p, seed] of layoutCases(1700, 5)) sameAsWasm(p, seed, "layouts");
  sameAsWasm({ dtype: DT.F64, m: 200, n: 1100, k: 600, beta: 1 }, 1, "beyond MC, NC and KC");
  sameAsWasm({ dtype: DT.F32, m: 101, n: 530, k: 700, beta: 0, layouts: { a: "col", b: "col", c: "flip" }, pad: 3 }, 2, "f32, transposed");
  for (const beta of [0, 1]) sameAsWasm({ dtype: DT.F64, m: 14, n: 11, k: 20, beta, strides: { c: [50, 1] }, values: { c: (rand, i) => (i % 7 === 0 ? NaN : i) } }, 9, "sub-block");
});

nativeTest("NaN, infinities, -0 and K = 0 as the wasm kernel; bad records get its RC", () => {
  const specials = [NaN, Infinity, -Infinity, 0, -0, 1e308, -1e308, 5e-324, 1];
  const values = { all: (rand) => (rand() < 0.2 ? specials[Math.floor(rand() * specials.length)] : (rand() - 0.5) * 4) };
  for (let t = 0; t < 8; t++) sameAsWasm({ dtype: t % 2 ? DT.F32 : DT.F64, m: 9 + t, n: 6 + t, k: 5 + 3 * t, beta: t % 2, values }, 1900 + t, "specials");
  // -0 in C with beta 1 and -0 products: -0 + -0 stays -0 (a broadcast that lost the sign would give +0)
  sameAsWasm({ dtype: DT.F64, m: 12, n: 16, k: 3, beta: 1, values: { a: () => -0, b: () => 1, c: () => -0 } }, 3, "minus zero");
  for (const beta of [0, 1]) sameAsWasm({ dtype: DT.F64, m: 9, n: 7, k: 0, beta, layouts: { c: "gap" } }, 21, "k0");
  const L = layout({ dtype: DT.F64, m: 4, n: 5, k: 6, beta: 0 }, 11);
  for (const patch of [{ magic: 1 }, { dtype: DT.I32 }, { k: NaN }, { beta: 2 }, { scratch: SCRATCH + 8 }, { a: PAGES * 65536 - 8 }, { ccs: 2 ** 40 }]) {
    const a = runOn(nativeCanon, L, { ...L.rec, ...patch }), b = runOn(canonSide, L, { ...L.rec, ...patch });
    assert.is(a.rc, b.rc, JSON.stringify(patch));
    assert.is(firstDiff(a.c, L.values.c), -1, `${JSON.stringify(patch)}: C untouched`);
  }
});

nativeTest("K split into blocks (beta 1 after the first) = one call, bit for bit", () => {
  const L = layout({ dtype: DT.F64, m: 37, n: 45, k: 600, beta: 0, layouts: { a: "row", b: "col", c: "row" } }, 40);
  const whole = runOn(nativeCanon, L);
  const records = [[0, 100], [100, 357], [357, 600]].map(([k0, k1], q) => ({ ...L.rec, k: k1 - k0, beta: q === 0 ? 0 : 1, a: L.rec.a + k0 * L.rec.acs * L.e, b: L.rec.b + k0 * L.rec.brs * L.e }));
  load(nativeCanon, L);
  for (const rec of records) {
    writeRecord(nativeMem.buffer, REC, rec);
    assert.is(nativeCanon.run(REC), RC.OK);
  }
  assert.is(firstDiff(regionOf(nativeCanon, L, "c"), whole.c), -1);
});

test.run();
