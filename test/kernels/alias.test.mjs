// Register aliasing in the wasm interpreter: `LOAD r s` of a contiguous f64 slot copies nothing and r is read
// from the slot's memory. Every consumer kind (unary, binary with register and constant operands, SELECT,
// STORE to every dtype, every reduction in scalar and vector mode), in-place ops on the loaded register, the
// register used twice, overwritten then read, memory written by the same tile (STORE, accumulators, the fused
// RANDOM path) while an alias on it is live, odd lengths and tiles, several rows, and the loaded array ending
// exactly at the end of memory (any read past len traps): all bit-identical to the JS twin, which copies.
// White box: after `LOAD r0 x` feeding only sinks, the wasm leaves register 0's storage unwritten.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { OP } from "../../dist/kernels/abi.js";
import { DT, ProgramBuilder, close, firstDiff, randomValues, runBoth } from "./harness.mjs";

/**
 * Runs `body(b, S, R)` (after the slots and registers below are declared) over `rows` rows of rowLen elements.
 * S: x, x2 (f64 inputs; x ends at the end of memory unless atEnd is false), y (f64), yf (f32), yi (i32),
 * yb (bool), yl (f64, broadcast: last 0), s0 s1 s2 (scalar f64 accumulators), v0 v1 v2 (vector f64
 * accumulators, one row), ix (INDEX slot, the flat element index), plus extraSlots: [name, dtype, (addr) => slot
 * geometry] over extraArrays.
 * R: r0..r3. Returns runBoth's result after checking rc, guards and that every output is identical to the
 * twin's (within `ulps` when the program has transcendentals: EXP LOG SIN COS TANH POW are not bit-exact
 * between wasm and JS Math, aliased or not).
 */
function run({ rowLen, rows = 1, tile, pad = 0, body, atEnd = true, special = true, extraArrays = {}, extraSlots = [], ulps = 0 }) {
  const b = new ProgramBuilder();
  const S = {
    x: b.memSlot(DT.F64), x2: b.memSlot(DT.F64), y: b.memSlot(DT.F64), yf: b.memSlot(DT.F32), yi: b.memSlot(DT.I32),
    yb: b.memSlot(DT.BOOL), yl: b.memSlot(DT.F64), s0: b.memSlot(DT.F64), s1: b.memSlot(DT.F64), s2: b.memSlot(DT.F64),
    v0: b.memSlot(DT.F64), v1: b.memSlot(DT.F64), v2: b.memSlot(DT.F64), ix: b.indexSlot(),
  };
  for (const [name, dt] of extraSlots) S[name] = b.memSlot(dt);
  const R = { r0: b.reg(), r1: b.reg(), r2: b.reg(), r3: b.reg() };
  body(b, S, R);
  const stride = rowLen + pad;
  const nx = Math.max(1, (rows - 1) * stride + rowLen);
  const n = Math.max(1, rows * rowLen);
  const m = Math.max(1, rowLen);
  const res = runBoth(
    b.build(),
    {
      x: { dtype: DT.F64, length: nx, init: randomValues(nx, 3 + rowLen, { special }), atEnd },
      x2: { dtype: DT.F64, length: nx, init: randomValues(nx, 4 + rowLen, { special }) },
      y: { dtype: DT.F64, length: n }, yf: { dtype: DT.F32, length: n }, yi: { dtype: DT.I32, length: n },
      yb: { dtype: DT.BOOL, length: n }, yl: { dtype: DT.F64, length: rows },
      s: { dtype: DT.F64, length: 3, init: [0.5, -1, 0] },
      v: { dtype: DT.F64, length: 3 * m, init: Float64Array.from({ length: 3 * m }, (_, i) => (i < m ? 0.5 : i < 2 * m ? -1 : 0)) },
      ...extraArrays,
    },
    (a) => ({
      extents: [rows],
      rowLen,
      slots: [
        { base: a.x, last: 1, rows: [stride] },
        { base: a.x2, last: 1, rows: [stride] },
        ...["y", "yf", "yi", "yb"].map((k) => ({ base: a[k], last: 1, rows: [rowLen] })),
        { base: a.yl, last: 0, rows: [1] },
        ...[0, 1, 2].map((k) => ({ base: a.s + 8 * k, last: 0, rows: [0] })),
        ...[0, 1, 2].map((k) => ({ base: a.v + 8 * m * k, last: 1, rows: [0] })),
        { base: 0, last: 1, rows: [rowLen] },
        ...extraSlots.map(([, , geom]) => geom(a)),
      ],
    }),
    tile,
  );
  assert.equal(res.rc, [0, 0]);
  assert.ok(res.guardsOk, "wrote past an array");
  for (const k of Object.keys(res.out[0])) {
    const [w, j] = [res.out[0][k], res.out[1][k]];
    const d = ulps ? w.findIndex((v, i) => !close(v, j[i], ulps)) : firstDiff(w, j);
    assert.is(d, -1, `${k}[${d}]: wasm ${w[d]} js ${j[d]}`);
  }
  return res;
}

/** The wasm left register 0's storage unwritten (aliased) while the twin (which copies) wrote it. */
const aliasedR0 = (res) => res.regs[0].every(Number.isNaN) && !res.regs[1].every(Number.isNaN);

const APPROX = /EXP|LOG|SIN|COS|TANH|POW/;
const UNARY = ["NEG", "ABS", "SQRT", "EXP", "LOG", "SIN", "COS", "TANH", "FLOOR", "CEIL", "ROUND_F32", "WRAP_I32", "TRUNC_I32", "NOT", "BOOL", "ISNAN"];
const BINARY = ["ADD", "SUB", "MUL", "DIV", "POW", "MAX", "MIN", "EQ", "NE", "LT", "LE", "GT", "GE", "IMUL"];

/** Every consumer of a loaded register r0 (x2 loaded into r2 where needed). */
const CONSUMERS = {};
for (const u of UNARY) {
  CONSUMERS[`${u} r1 r0`] = (b, S, { r0, r1 }) => { b.emit(OP[u], r1, r0); b.emit(OP.STORE, r1, S.y); };
  CONSUMERS[`${u} r0 r0 (in place)`] = (b, S, { r0 }) => { b.emit(OP[u], r0, r0); b.emit(OP.STORE, r0, S.y); };
}
for (const o of BINARY) {
  const k = o === "POW" ? 0.5 : o === "IMUL" ? 7 : 1.5;
  CONSUMERS[`${o} r1 r0 r0`] = (b, S, { r0, r1 }) => { b.emit(OP[o], r1, r0, r0, 0); b.emit(OP.STORE, r1, S.y); };
  CONSUMERS[`${o} r1 r0 k`] = (b, S, { r0, r1 }) => { b.emit(OP[o], r1, r0, b.constant(k), 2); b.emit(OP.STORE, r1, S.y); };
  CONSUMERS[`${o} r1 k r0`] = (b, S, { r0, r1 }) => { b.emit(OP[o], r1, b.constant(k), r0, 1); b.emit(OP.STORE, r1, S.y); };
  CONSUMERS[`${o} r0 r0 k (in place)`] = (b, S, { r0 }) => { b.emit(OP[o], r0, r0, b.constant(k), 2); b.emit(OP.STORE, r0, S.y); };
  CONSUMERS[`${o} r2 r2 r0 (both loaded)`] = (b, S, { r0, r2 }) => {
    b.emit(OP.LOAD, r2, S.x2);
    b.emit(OP[o], r2, r2, r0, 0);
    b.emit(OP.STORE, r2, S.y);
    b.emit(OP.RSUM, r0, S.s0); // r0 still the loaded x
  };
}
Object.assign(CONSUMERS, {
  "SELECT r1 r0 r0 k": (b, S, { r0, r1 }) => { b.emit(OP.SELECT, r1, r0, r0, b.constant(-3), 2); b.emit(OP.STORE, r1, S.y); },
  "SELECT r1 r2 k r0": (b, S, { r0, r1, r2 }) => {
    b.emit(OP.LOAD, r2, S.x2);
    b.emit(OP.GT, r2, r2, b.constant(0), 2);
    b.emit(OP.SELECT, r1, r2, b.constant(9), r0, 1);
    b.emit(OP.STORE, r1, S.y);
  },
  "SELECT r0 r2 r0 r2 (in place, both loaded)": (b, S, { r0, r2 }) => {
    b.emit(OP.LOAD, r2, S.x2);
    b.emit(OP.SELECT, r0, r2, r0, r2, 0);
    b.emit(OP.STORE, r0, S.y);
  },
  "STORE f64 f32 i32 bool, broadcast": (b, S, { r0 }) => {
    for (const s of [S.y, S.yf, S.yi, S.yb, S.yl]) b.emit(OP.STORE, r0, s);
  },
  "used twice: MUL r1 r0 r0; ADD r1 r1 r0; RSUM r0": (b, S, { r0, r1 }) => {
    b.emit(OP.MUL, r1, r0, r0, 0);
    b.emit(OP.ADD, r1, r1, r0, 0);
    b.emit(OP.STORE, r1, S.y);
    b.emit(OP.RSUM, r0, S.s0);
  },
  "RVAR scalar": (b, S, { r0 }) => b.emit(OP.RVAR, r0, S.s0),
  "RVAR vector": (b, S, { r0 }) => b.emit(OP.RVAR, r0, S.v0),
});
for (const o of ["RSUM", "RPROD", "RMIN", "RMAX"]) {
  CONSUMERS[`${o} scalar`] = (b, S, { r0 }) => b.emit(OP[o], r0, S.s0);
  CONSUMERS[`${o} vector`] = (b, S, { r0 }) => b.emit(OP[o], r0, S.v0);
}
for (const o of ["RARGMIN", "RARGMAX", "RNANARGMIN", "RNANARGMAX"]) {
  CONSUMERS[`${o} scalar`] = (b, S, { r0 }) => b.emit(OP[o], r0, S.s0, S.ix);
  CONSUMERS[`${o} vector`] = (b, S, { r0 }) => b.emit(OP[o], r0, S.v0, S.ix);
}
const SINKS = Object.keys(CONSUMERS).filter((k) => /^(R[A-Z]+ |STORE )/.test(k));

const GEOMS = [ // [rowLen, rows, tile, pad]
  [1, 1, 4, 0], [3, 2, 4, 1], [4, 1, 4, 0], [5, 3, 4, 0], [7, 2, 8, 3], [9, 1, 4, 0], [13, 2, 12, 0], [26, 1, 12, 5],
  [1023, 1, 1024, 0], [1024, 2, 1024, 0], [1027, 2, 1024, 1], [2561, 1, 1024, 0],
];

test("LOAD f64 -> every consumer kind: bit-identical at odd lengths, tiles and rows; x ends at the end of memory", () => {
  let n = 0;
  for (const [name, body] of Object.entries(CONSUMERS)) {
    const ulps = APPROX.test(name) ? 4 : 0;
    for (const [rowLen, rows, tile, pad] of GEOMS) {
      const what = `${name} rowLen=${rowLen} rows=${rows} tile=${tile}`;
      const res = run({ rowLen, rows, tile, pad, ulps, body: (b, S, R) => { b.emit(OP.LOAD, R.r0, S.x); body(b, S, R); } });
      // and bit-identical to the wasm itself with r0 copied into its storage first (x * 1 == x, -0 and NaN too)
      const copied = run({
        rowLen, rows, tile, pad, ulps,
        body: (b, S, R) => { b.emit(OP.LOAD, R.r0, S.x); b.emit(OP.MUL, R.r0, R.r0, b.constant(1), 2); body(b, S, R); },
      });
      for (const k of Object.keys(res.out[0])) {
        const d = firstDiff(res.out[0][k], copied.out[0][k]);
        assert.is(d, -1, `${what}: ${k}[${d}] aliased ${res.out[0][k][d]} copied ${copied.out[0][k][d]}`);
      }
      n++;
    }
  }
  assert.ok(n > 1000, `${n}`);
});

test("the loaded register is aliased, not copied, when only sinks read it", () => {
  for (const name of SINKS) {
    for (const [rowLen, rows, tile, pad] of [[8, 1, 8, 0], [1027, 2, 1024, 1], [11, 3, 4, 2]]) {
      const res = run({ rowLen, rows, tile, pad, special: false, body: (b, S, R) => { b.emit(OP.LOAD, R.r0, S.x); CONSUMERS[name](b, S, R); } });
      assert.ok(aliasedR0(res), `${name} rowLen=${rowLen}: register 0 was written`);
    }
  }
  // non-f64 or broadcast LOADs still copy
  for (const [what, extraSlot] of [["f32", (a) => ({ base: a.z, last: 1, rows: [0] })], ["broadcast", (a) => ({ base: a.w, last: 0, rows: [0] })]]) {
    const isF32 = what === "f32";
    const b = new ProgramBuilder();
    const z = b.memSlot(isF32 ? DT.F32 : DT.F64), acc = b.memSlot(DT.F64);
    const r0 = b.reg();
    b.emit(OP.LOAD, r0, z);
    b.emit(OP.RSUM, r0, acc);
    const res = runBoth(b.build(), {
      z: { dtype: DT.F32, length: 8, init: [1, 2, 3, 4, 5, 6, 7, 8] }, w: { dtype: DT.F64, length: 1, init: [2.5] },
      acc: { dtype: DT.F64, length: 1 },
    }, (a) => ({ extents: [], rowLen: 8, slots: [extraSlot(a), { base: a.acc, last: 0, rows: [] }] }), 8);
    assert.equal(res.rc, [0, 0]);
    assert.is(firstDiff(res.out[0].acc, res.out[1].acc), -1);
    assert.ok(!res.regs[0].every(Number.isNaN), `${what} LOAD did not copy`);
  }
});

test("overwritten then read: CONST, IOTA, RANDOM, LOAD f32 / broadcast / other f64 over an aliased register", () => {
  const bodies = {
    CONST: (b, S, { r0 }) => b.emit(OP.CONST, r0, b.constant(2.25)),
    IOTA: (b, S, { r0 }) => b.emit(OP.IOTA, r0, S.ix),
    RANDOM: (b, S, { r0 }) => b.emit(OP.RANDOM, r0, S.ix, 0, b.seed(5)),
    "LOAD broadcast": (b, S, { r0 }) => b.emit(OP.LOAD, r0, S.yl),
    "LOAD x2": (b, S, { r0 }) => b.emit(OP.LOAD, r0, S.x2),
    "NEG r0 r1": (b, S, { r0, r1 }) => { b.emit(OP.CONST, r1, b.constant(-4)); b.emit(OP.NEG, r0, r1); },
    "ADD r0 r1 k": (b, S, { r0, r1 }) => { b.emit(OP.CONST, r1, b.constant(-4)); b.emit(OP.ADD, r0, r1, b.constant(1), 2); },
    "SELECT r0 ..": (b, S, { r0, r1 }) => { b.emit(OP.CONST, r1, b.constant(0)); b.emit(OP.SELECT, r0, r1, r1, b.constant(8), 2); },
  };
  for (const [name, over] of Object.entries(bodies)) {
    for (const [rowLen, rows, tile, pad] of [[5, 3, 4, 0], [26, 2, 12, 1], [1027, 2, 1024, 0]]) {
      const res = run({
        rowLen, rows, tile, pad,
        body: (b, S, R) => {
          b.emit(OP.LOAD, R.r0, S.x);
          b.emit(OP.RSUM, R.r0, S.s1);
          over(b, S, R);
          b.emit(OP.RSUM, R.r0, S.s0);
          b.emit(OP.STORE, R.r0, S.y);
          b.emit(OP.RMAX, R.r0, S.v0);
        },
      });
      const [w] = res.out;
      if (name === "CONST") assert.ok(w.y.every((v) => v === 2.25), "CONST over an alias");
    }
  }
});

/**
 * Memory written by the tile under a live alias: the register keeps the values of its LOAD. z is an f64 array
 * of 3 * rowLen + 4 (at the end of memory) holding data; za, zc, zd are rows 0, 1, 2 of it (consecutive slots,
 * so RARG / RVAR on za put their index / mean / M2 accumulators on zc / zd), zb is za shifted by one element,
 * zmid0..zmid2 scalar slots in the middle of za, zf an f32 view of za's start.
 */
function zRun(rowLen, tile, load, body) {
  const m = rowLen, zlen = 3 * m + 4, mid = 2 + Math.floor(m / 2);
  const at = (k) => (a) => ({ base: a.z + 8 * k, last: 1, rows: [0] });
  const one = (k) => (a) => ({ base: a.z + 8 * k, last: 0, rows: [0] });
  const res = run({
    rowLen, tile, atEnd: false,
    extraArrays: { z: { dtype: DT.F64, length: zlen, init: randomValues(zlen, m, { special: false }), atEnd: true } },
    extraSlots: [
      ["za", DT.F64, at(2)], ["zc", DT.F64, at(2 + m)], ["zd", DT.F64, at(2 + 2 * m)], ["zb", DT.F64, at(3)],
      ["zmid0", DT.F64, one(mid - 1)], ["zmid", DT.F64, one(mid)], ["zmid1", DT.F64, one(mid + 1)], ["zmid2", DT.F64, one(mid + 2)],
      ["zf", DT.F32, at(2)],
    ],
    body: (b, S, R) => {
      b.emit(OP.LOAD, R.r0, S[load]);
      body(b, S, R);
      b.emit(OP.STORE, R.r0, S.y); // the register still holds its LOAD's values
      b.emit(OP.RSUM, R.r0, S.s0);
      b.emit(OP.RMIN, R.r0, S.v0);
    },
  });
  // semantics (one tile: later tiles load what earlier tiles wrote): y is the loaded row before any write
  if (rowLen > tile) return res;
  const zInit = randomValues(zlen, m, { special: false });
  const off = { za: 2, zb: 3, zc: 2 + m, zd: 2 + 2 * m }[load];
  for (let c = 0; c < rowLen; c++) assert.is(res.out[0].y[c], zInit[off + c], `load ${load} rowLen=${rowLen}: y[${c}]`);
  return res;
}

const Z_GEOMS = [[1, 4], [5, 4], [8, 8], [13, 12], [1027, 1024]];

test("memory written under a live alias: STORE (over, shifted, onto itself, f32), accumulators on the loaded memory", () => {
  const cases = {
    "STORE over": ["za", (b, S, R) => { b.emit(OP.CONST, R.r1, b.constant(-7)); b.emit(OP.STORE, R.r1, S.za); }],
    "STORE shifted +1": ["za", (b, S, R) => b.emit(OP.STORE, R.r0, S.zb)],
    "STORE shifted -1": ["zb", (b, S, R) => b.emit(OP.STORE, R.r0, S.za)],
    "STORE onto itself": ["za", (b, S, R) => b.emit(OP.STORE, R.r0, S.za)],
    "STORE broadcast into the middle": ["za", (b, S, R) => { b.emit(OP.CONST, R.r1, b.constant(-7)); b.emit(OP.STORE, R.r1, S.zmid); }],
    "STORE f32 over": ["za", (b, S, R) => b.emit(OP.STORE, R.r0, S.zf)],
    "STORE into the next row only": ["za", (b, S, R) => b.emit(OP.STORE, R.r0, S.zc)],
    "RSUM vector onto itself": ["za", (b, S, R) => b.emit(OP.RSUM, R.r0, S.za)],
    "RMIN vector shifted": ["zb", (b, S, R) => b.emit(OP.RMIN, R.r0, S.za)],
    "RSUM scalar into the middle": ["za", (b, S, R) => b.emit(OP.RSUM, R.r0, S.zmid)],
    "RARGMAX vector: values on the loaded memory": ["za", (b, S, R) => b.emit(OP.RARGMAX, R.r0, S.za, S.ix)],
    "RARGMIN vector: indices on the loaded memory": ["zc", (b, S, R) => b.emit(OP.RARGMIN, R.r0, S.za, S.ix)],
    "RARGMIN scalar into the middle": ["za", (b, S, R) => b.emit(OP.RARGMIN, R.r0, S.zmid, S.ix)],
    "RVAR vector: count on the loaded memory": ["za", (b, S, R) => b.emit(OP.RVAR, R.r0, S.za)],
    "RVAR vector: M2 on the loaded memory": ["zd", (b, S, R) => b.emit(OP.RVAR, R.r0, S.za)],
    "RVAR scalar in the middle": ["za", (b, S, R) => b.emit(OP.RVAR, R.r0, S.zmid0)],
    "two aliases, the other one stored over": ["za", (b, S, R) => {
      b.emit(OP.LOAD, R.r3, S.x);
      b.emit(OP.STORE, R.r3, S.za);
      b.emit(OP.RSUM, R.r3, S.s2);
      b.emit(OP.ADD, R.r1, R.r3, R.r0, 0);
      b.emit(OP.STORE, R.r1, S.yf);
    }],
  };
  for (const [name, [load, body]] of Object.entries(cases)) {
    for (const [rowLen, tile] of Z_GEOMS) {
      try {
        zRun(rowLen, tile, load, body);
      } catch (e) {
        e.message = `${name}: ${e.message}`;
        throw e;
      }
    }
  }
});

test("the fused RANDOM -> RSUM path accumulating into aliased memory", () => {
  for (const [rowLen, tile] of Z_GEOMS) {
    const res = zRun(rowLen, tile, "za", (b, S, R) => {
      b.emit(OP.RANDOM, R.r2, S.ix, 0, b.seed(11));
      b.emit(OP.ADD, R.r2, R.r2, b.constant(1), 2);
      b.emit(OP.RSUM, R.r2, S.zmid);
    });
    assert.ok(!res.regs[1].every(Number.isNaN));
  }
  // white box: with the fused register as r0 (visible in res.regs) and x loaded into r1
  for (const [rowLen, rows, tile, pad] of GEOMS) {
    const res = run({
      rowLen, rows, tile, pad, special: false,
      body: (b, S, R) => {
        b.emit(OP.LOAD, R.r1, S.x);
        b.emit(OP.RANDOM, R.r0, S.ix, 0, b.seed(3));
        b.emit(OP.RSUM, R.r0, S.s0);
        b.emit(OP.RSUM, R.r1, S.s1);
        b.emit(OP.STORE, R.r1, S.y);
      },
    });
    assert.ok(Number.isNaN(res.regs[0][0]) && !Number.isNaN(res.regs[1][0]), "not fused");
  }
});

test.run();
