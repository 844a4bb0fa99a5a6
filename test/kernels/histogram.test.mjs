// HIST: numpy.histogram's bin of every value into f64 counters (uniform bins: numpy's fast path with its
// correction against the linspace edges, in float64 or float32 arithmetic as numpy casts; explicit edges:
// searchsorted, the last bin closed), counted or weighted, over rows and tiles: wasm and the JS twin
// bit-identical, and equal to numpy's algorithm restated step by step here over the edges array.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { OP, RC, HIST_P, HF } from "../../dist/kernels/abi.js";
import { edgeBins, uniformBins } from "../../dist/array/histogram-bins.js";
import { DT, ProgramBuilder, awkwardLengths, firstDiff, randomValues, rng, runBoth } from "./harness.mjs";

/** rows x n values (and weights) counted into bins.bins counters by one HIST instruction. */
function histProgram(bins, rows, n, data, weights, tile) {
  const b = new ProgramBuilder();
  const x = b.memSlot(DT.F64);
  const w = weights ? b.memSlot(DT.F64) : -1;
  const acc = b.memSlot(DT.F64);
  const r = b.reg();
  const rw = weights ? b.reg() : -1;
  b.emit(OP.LOAD, r, x);
  if (weights) b.emit(OP.LOAD, rw, w);
  b.emit(OP.HIST, r, rw, acc, b.block(bins.params));
  const arrays = { x: { dtype: DT.F64, length: rows * n, init: data }, acc: { dtype: DT.F64, length: bins.bins } };
  if (weights) arrays.w = { dtype: DT.F64, length: rows * n, init: weights };
  return runBoth(b.build(), arrays, (a) => ({
    extents: [rows],
    rowLen: n,
    slots: [{ base: a.x, last: 1, rows: [n] }, ...(weights ? [{ base: a.w, last: 1, rows: [n] }] : []), { base: a.acc, last: 0, rows: [0] }],
  }), tile);
}

/** numpy's histogram loop (lib/histograms.py), on the edges numpy returns, one value at a time. */
function numpyBin(v, bins) {
  const p = bins.params;
  const e = bins.edges;
  const n = bins.bins;
  if (p[HIST_P.FLAGS] & HF.EDGES) {
    if (!(v >= e[0] && v <= e[n])) return -1;
    // cum[j] = #{a < e_j} (searchsorted left), and #{a <= e_n} for the last edge: v is in bin i when it adds to cum[i + 1] only
    let i = -1;
    for (let j = 0; j < n; j++) if (e[j] <= v && (j === n - 1 ? v <= e[n] : v < e[j + 1])) i = j;
    return i;
  }
  if (!(v >= p[HIST_P.KEEP_LO] && v <= p[HIST_P.KEEP_HI])) return -1;
  const f32 = (x, on) => (on ? Math.fround(x) : x);
  const t = f32(v - p[HIST_P.SUB_LO], p[HIST_P.FLAGS] & HF.F32_SUB);
  let i = Math.trunc(f32(t * p[HIST_P.NORM], p[HIST_P.FLAGS] & HF.F32_MUL));
  if (i === n) i -= 1;
  if (v < e[i]) i -= 1;
  else if (v >= e[i + 1] && i !== n - 1) i += 1;
  return i;
}

function expected(bins, data, weights) {
  const out = new Float64Array(bins.bins);
  data.forEach((v, j) => {
    const i = numpyBin(v, bins);
    if (i >= 0) out[i] += weights ? weights[j] : 1;
  });
  return out;
}

/** Values in and around [lo, hi]: random, exactly on every edge, one ulp either side, NaN and infinities. */
function valuesFor(bins, count, seed, f32) {
  const r = rng(seed);
  const e = Array.from(bins.edges);
  const lo = e[0];
  const hi = e[e.length - 1];
  const out = new Float64Array(count);
  const ulp = (x, dir) => {
    const a = new Float64Array([x]);
    const u = new BigInt64Array(a.buffer);
    u[0] += BigInt(dir * (x >= 0 ? 1 : -1));
    return a[0];
  };
  for (let i = 0; i < count; i++) {
    const u = r();
    let v;
    if (u < 0.3) v = e[Math.floor(r() * e.length)];
    else if (u < 0.5) v = ulp(e[Math.floor(r() * e.length)], r() < 0.5 ? 1 : -1);
    else if (u < 0.55) v = [NaN, Infinity, -Infinity, lo - 1, hi + 1, -0][Math.floor(r() * 6)];
    else v = lo + (hi - lo) * (r() * 1.2 - 0.1);
    out[i] = f32 ? Math.fround(v) : v;
  }
  return out;
}

const CASES = [
  ["uniform float64 [0, 1] x 10", () => uniformBins("float64", 10, { lo: 0, hi: 1, autodetected: false }), false],
  ["uniform float64 [-3.7, 12.1] x 7", () => uniformBins("float64", 7, { lo: -3.7, hi: 12.1, autodetected: false }), false],
  ["uniform float64 [0.1, 0.3] x 100", () => uniformBins("float64", 100, { lo: 0.1, hi: 0.3, autodetected: false }), false],
  ["uniform float32 [0.1, 0.7] x 13", () => uniformBins("float32", 13, { lo: 0.1, hi: 0.7, autodetected: false }), true],
  ["uniform float32 autodetected", () => uniformBins("float32", 9, { lo: Math.fround(-2.3), hi: Math.fround(5.9), autodetected: true }), true],
  // float32 data, a norm beyond float32: numpy multiplies in float64 (no HF.F32_MUL), the rest in float32
  ["uniform float32 [0, 1e-39] x 3", () => uniformBins("float32", 3, { lo: 0, hi: 1e-39, autodetected: false }), true],
  ["uniform int32 [0, 1000) x 1000 (bincount)", () => uniformBins("int32", 1000, { lo: 0, hi: 1000, autodetected: false }), false],
  // a width whose step underflows to 0 also makes norm infinite: numpy casts inf to an integer there (garbage);
  // the interpreters only have to agree
  ["uniform denormal width (step 0)", () => uniformBins("float64", 3, { lo: 0, hi: 5e-324, autodetected: false }), false, "no numpy"],
  ["edges [0, 0.5, 0.5, 2, 10]", () => edgeBins(Float64Array.from([0, 0.5, 0.5, 2, 10]), "float64"), false],
  ["edges [-inf, -1, 1, inf]", () => edgeBins(Float64Array.from([-Infinity, -1, 1, Infinity]), "float64"), false],
  ["edges [1, 2, 2]", () => edgeBins(Float64Array.from([1, 2, 2]), "float64"), false],
];

for (const tile of [4, 16, 1024]) {
  test(`HIST bit-identical in both interpreters and numpy's bins, counted and weighted, tile ${tile}`, () => {
    for (const [name, make, f32, noNumpy] of CASES) {
      const bins = make();
      for (const n of awkwardLengths(tile)) {
        for (const rows of [1, 3]) {
          const data = valuesFor(bins, rows * n, n * 7 + rows, f32);
          for (const weighted of [false, true]) {
            const weights = weighted ? randomValues(rows * n, n + 3, { special: false }) : null;
            const res = histProgram(bins, rows, n, data, weights, tile);
            assert.equal(res.rc, [RC.OK, RC.OK], name);
            assert.ok(res.guardsOk, `${name}: guards`);
            const d = firstDiff(res.out[0].acc, res.out[1].acc);
            assert.is(d, -1, `${name} n=${n} rows=${rows} weighted=${weighted}: counter ${d}: wasm ${res.out[0].acc[d]} js ${res.out[1].acc[d]}`);
            if (noNumpy) continue;
            const want = expected(bins, data, weights);
            const e = firstDiff(res.out[0].acc, want);
            assert.is(e, -1, `${name} n=${n} rows=${rows} weighted=${weighted}: counter ${e} is ${res.out[0].acc[e]}, numpy's ${want[e]}`);
          }
        }
      }
    }
  });
}

test("HIST: values exactly on uniform edges land where numpy's correction puts them (the last bin closed)", () => {
  const bins = uniformBins("float64", 10, { lo: 0, hi: 1, autodetected: false });
  const data = Float64Array.from([...bins.edges, NaN, -0, 1.0000000000000002, -5e-324]);
  const res = histProgram(bins, 1, data.length, data, null, 4);
  // each edge opens its bin; 1 (the last edge) is in the last bin; -0 is 0; NaN and values outside are left out
  assert.equal(Array.from(res.out[0].acc), [2, 1, 1, 1, 1, 1, 1, 1, 1, 2]);
  assert.equal(Array.from(res.out[1].acc), Array.from(res.out[0].acc));
});

test("HIST: malformed instructions get the same RC from both interpreters", () => {
  const bins = uniformBins("float64", 4, { lo: 0, hi: 1, autodetected: false });
  const make = (mutate) => {
    const b = new ProgramBuilder();
    const x = b.memSlot(DT.F64);
    const acc = b.memSlot(DT.F64);
    const i32 = b.memSlot(DT.I32);
    const r = b.reg();
    b.emit(OP.LOAD, r, x);
    const params = [...bins.params];
    const words = { r, w: -1, acc, k: 0 };
    mutate(words, params, { i32 });
    b.emit(OP.HIST, words.r, words.w, words.acc, b.block(params));
    const t = b.build();
    if (words.k !== 0) t.code[t.code.length - 2] = words.k;
    return t;
  };
  const cases = [
    ["ok", () => {}, RC.OK],
    ["weights register out of range", (w) => (w.w = 3), RC.BAD_OPCODE],
    ["weights register -2", (w) => (w.w = -2), RC.BAD_OPCODE],
    ["accumulator not f64", (w, _p, s) => (w.acc = s.i32), RC.BAD_OPCODE],
    ["parameters past the constants", (w) => (w.k = 5), RC.BAD_OPCODE],
    ["zero bins", (_w, p) => (p[HIST_P.BINS] = 0), RC.BAD_OPCODE],
    ["fractional bins", (_w, p) => (p[HIST_P.BINS] = 1.5), RC.BAD_OPCODE],
    ["bad flags", (_w, p) => (p[HIST_P.FLAGS] = 64), RC.BAD_OPCODE],
    ["edges missing", (_w, p) => (p[HIST_P.FLAGS] = HF.EDGES), RC.BAD_OPCODE],
  ];
  const arrays = { x: { dtype: DT.F64, length: 8, init: [0, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 1] }, acc: { dtype: DT.F64, length: 8 }, i: { dtype: DT.I32, length: 8 } };
  for (const [name, mutate, want] of cases) {
    const res = runBoth(make(mutate), arrays, (a) => ({ extents: [], rowLen: 8, slots: [{ base: a.x, last: 1, rows: [] }, { base: a.acc, last: 0, rows: [] }, { base: a.i, last: 0, rows: [] }] }), 4);
    assert.equal(res.rc, [want, want], name);
    if (want === RC.OK) assert.equal(Array.from(res.out[0].acc.subarray(0, 4)), [3, 1, 2, 2], name);
  }
});

test.run();
