// Reductions in scalar (slot last 0) and vector (last 1) mode, over several rows and tiles: bit-identical
// wasm vs twin, and the exact semantics of abi.ts (tileSum association, ties, NaN, Chan combination).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { OP } from "../../dist/kernels/abi.js";
import { DT, ProgramBuilder, awkwardLengths, firstDiff, randomValues, rng, runBoth, same } from "./harness.mjs";

const INIT = { RSUM: 0, RPROD: 1, RMIN: Infinity, RMAX: -Infinity };

/** rows x n input, reduced over rows (and over columns in scalar mode). */
function reduceProgram(opName, rows, n, vector, data, tile) {
  const b = new ProgramBuilder();
  const x = b.memSlot(DT.F64);
  const accs = [b.memSlot(DT.F64)];
  let ix = -1;
  if (opName.includes("ARG")) {
    accs.push(b.memSlot(DT.F64));
    ix = b.indexSlot();
  }
  if (opName === "RVAR") accs.push(b.memSlot(DT.F64), b.memSlot(DT.F64));
  const r = b.reg();
  b.emit(OP.LOAD, r, x);
  if (ix >= 0) b.emit(OP[opName], r, accs[0], ix);
  else b.emit(OP[opName], r, accs[0]);
  const m = vector ? n : 1;
  const arrays = { x: { dtype: DT.F64, length: rows * n, init: data } };
  accs.forEach((_, i) => {
    let init = 0;
    if (opName in INIT) init = INIT[opName];
    if (ix >= 0) init = i === 0 ? 12345 : -1;
    arrays[`a${i}`] = { dtype: DT.F64, length: m, init: new Float64Array(m).fill(init) };
  });
  const res = runBoth(b.build(), arrays, (a) => {
    const slots = [{ base: a.x, last: 1, rows: [n] }];
    accs.forEach((_, i) => slots.push({ base: a[`a${i}`], last: vector ? 1 : 0, rows: [0] }));
    if (ix >= 0) slots.push({ base: 0, last: 1, rows: [n] }); // flat index of each element
    return { extents: [rows], rowLen: n, slots };
  }, tile);
  return res;
}

const OPS = ["RSUM", "RPROD", "RMIN", "RMAX", "RARGMIN", "RARGMAX", "RNANARGMIN", "RNANARGMAX", "RVAR"];

for (const tile of [4, 16, 1024]) {
  for (const vector of [false, true]) {
    test(`${vector ? "vector" : "scalar"} reductions bit-identical, tile ${tile}`, () => {
      for (const opName of OPS) {
        for (const n of awkwardLengths(tile)) {
          for (const rows of [1, 3]) {
            for (const flavour of ["plain", "special", "ties"]) {
              let data;
              if (flavour === "plain") data = randomValues(rows * n, n * 31 + rows, { special: false }).map((v) => (opName === "RPROD" ? 1 + v / 1000 : v));
              else if (flavour === "special") data = randomValues(rows * n, n * 17 + rows);
              else data = randomValues(rows * n, n * 13 + rows, { special: false }).map((v) => Math.round(v / 50));
              const res = reduceProgram(opName, rows, n, vector, data, tile);
              assert.equal(res.rc, [0, 0]);
              assert.ok(res.guardsOk);
              for (const k of Object.keys(res.out[0])) {
                const d = firstDiff(res.out[0][k], res.out[1][k]);
                assert.is(d, -1, `${opName} ${flavour} n=${n} rows=${rows} ${k}[${d}]: wasm ${res.out[0][k][d]} js ${res.out[1][k][d]}`);
              }
            }
          }
        }
      }
    });
  }
}

test("nanargmin / nanargmax: NaN skipped, first index on ties, an all-NaN slice keeps idx -1", () => {
  const data = [NaN, 3, 1, NaN, 1, 0, NaN, -5, 9, 9];
  for (const tile of [4, 8]) {
    for (const vector of [false, true]) {
      const n = vector ? 2 : data.length;
      const rows = vector ? data.length / 2 : 1;
      const mn = reduceProgram("RNANARGMIN", rows, n, vector, data, tile);
      const mx = reduceProgram("RNANARGMAX", rows, n, vector, data, tile);
      for (const side of [0, 1]) {
        if (vector) {
          // columns [NaN, 1, 1, NaN, 9] (flat 0 2 4 6 8) and [3, NaN, 0, -5, 9] (1 3 5 7 9)
          assert.equal(Array.from(mn.out[side].a1), [2, 7]);
          assert.equal(Array.from(mx.out[side].a1), [8, 9]);
          assert.equal(Array.from(mn.out[side].a0), [1, -5]);
        } else {
          assert.equal([mn.out[side].a0[0], mn.out[side].a1[0]], [-5, 7]);
          assert.equal([mx.out[side].a0[0], mx.out[side].a1[0]], [9, 8]);
        }
      }
    }
    const nan = reduceProgram("RNANARGMIN", 1, 5, false, new Array(5).fill(NaN), tile);
    for (const side of [0, 1]) assert.is(nan.out[side].a1[0], -1, "all NaN: no index");
  }
});

test("scalar RSUM follows tileSum's association exactly: 16 interleaved lanes folded by halves", () => {
  // large values that cancel only in some associations, over 2 full rounds of 16 lanes and a tail of 7
  const data = [];
  for (let i = 0; i < 39; i++) data.push(i % 5 === 0 ? (i % 2 ? 1e16 : -1e16) : i % 3 === 0 ? 0.75 : 1 + i / 8);
  const p = new Array(16).fill(0);
  data.forEach((v, i) => (p[i % 16] += v));
  const q = [0, 1, 2, 3, 4, 5, 6, 7].map((j) => p[j] + p[j + 8]);
  const r = [0, 1, 2, 3].map((j) => q[j] + q[j + 4]);
  const want = 0 + ((r[0] + r[2]) + (r[1] + r[3]));
  // the old 4-lane association gives other bits for these data, so this test tells the two apart
  const p4 = [0, 0, 0, 0];
  data.forEach((v, i) => (p4[i % 4] += v));
  assert.is.not((p4[0] + p4[1]) + (p4[2] + p4[3]), want);
  for (const tile of [1024, 16, 20]) {
    const res = reduceProgram("RSUM", 1, data.length, false, data, tile);
    // with several tiles, each tile's sum is added to the accumulator in order
    let acc = 0;
    for (let c0 = 0; c0 < data.length; c0 += tile) {
      const part = data.slice(c0, c0 + tile);
      const pp = new Array(16).fill(0);
      part.forEach((v, i) => (pp[i % 16] += v));
      for (let h = 8; h >= 1; h >>= 1) for (let j = 0; j < h; j++) pp[j] += pp[j + h];
      acc += pp[0];
    }
    if (tile === 1024) assert.is(acc, want);
    assert.is(res.out[0].a0[0], acc, `wasm, tile ${tile}`);
    assert.is(res.out[1].a0[0], acc, `js, tile ${tile}`);
  }
});

test("argmin / argmax: first index on ties, first NaN wins and sticks", () => {
  const data = [3, 1, 2, 1, NaN, 0, NaN, -5, 9, 9];
  for (const tile of [4, 8]) {
    const mn = reduceProgram("RARGMIN", 1, data.length, false, data, tile);
    const mx = reduceProgram("RARGMAX", 1, data.length, false, data, tile);
    for (const side of [0, 1]) {
      assert.ok(Number.isNaN(mn.out[side].a0[0]));
      assert.is(mn.out[side].a1[0], 4);
      assert.is(mx.out[side].a1[0], 4);
    }
    const clean = [3, 1, 2, 1, 0.5, 0.5, 9, -5, 9, -5];
    const mn2 = reduceProgram("RARGMIN", 1, clean.length, false, clean, tile);
    const mx2 = reduceProgram("RARGMAX", 1, clean.length, false, clean, tile);
    for (const side of [0, 1]) {
      assert.equal([mn2.out[side].a0[0], mn2.out[side].a1[0]], [-5, 7]);
      assert.equal([mx2.out[side].a0[0], mx2.out[side].a1[0]], [9, 6]);
    }
  }
});

test("min / max propagate NaN and order signed zeros", () => {
  for (const side of [0, 1]) {
    assert.ok(Number.isNaN(reduceProgram("RMIN", 1, 5, false, [1, 2, NaN, -3, 4], 4).out[side].a0[0]));
    assert.ok(Object.is(reduceProgram("RMIN", 1, 6, false, [0, 1, -0, 2, 3, 0], 4).out[side].a0[0], -0));
    assert.ok(Object.is(reduceProgram("RMAX", 1, 6, false, [-0, -1, 0, -2, -0, -3], 4).out[side].a0[0], 0));
  }
});

test("RVAR: Chan combination per tile matches a two-pass variance", () => {
  const r = rng(5);
  const n = 10_000;
  const data = Float64Array.from({ length: n }, () => 1e6 + r());
  for (const tile of [4, 1024]) {
    const res = reduceProgram("RVAR", 1, n, false, data, tile);
    const mean = data.reduce((s, v) => s + v, 0) / n;
    const m2 = data.reduce((s, v) => s + (v - mean) ** 2, 0);
    for (const side of [0, 1]) {
      assert.is(res.out[side].a0[0], n);
      assert.ok(Math.abs(res.out[side].a1[0] - mean) < 1e-6);
      assert.ok(Math.abs(res.out[side].a2[0] / m2 - 1) < 1e-9, `${res.out[side].a2[0]} vs ${m2}`);
    }
  }
  const v = reduceProgram("RVAR", 4, 5, true, data.subarray(0, 20), 4);
  for (let c = 0; c < 5; c++) {
    const col = [0, 1, 2, 3].map((i) => data[i * 5 + c]);
    const mean = col.reduce((s, x) => s + x, 0) / 4;
    assert.is(v.out[0].a0[c], 4);
    assert.ok(Math.abs(v.out[0].a1[c] - mean) < 1e-6, `${v.out[0].a1[c]} vs ${mean}`);
    assert.ok(same(v.out[0].a2[c], v.out[1].a2[c]));
  }
});

test.run();
