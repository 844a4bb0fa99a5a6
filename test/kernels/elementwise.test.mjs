// Every unary, binary and select opcode: wasm against the JS twin on random data with specials,
// awkward lengths, several tiles, and constants in either operand position.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { OP } from "../../dist/kernels/abi.js";
import { DT, ProgramBuilder, awkwardLengths, close, firstDiff, flatGeom, randomValues, runBoth, same } from "./harness.mjs";

// libm functions: the JS twin's Math may differ from AssemblyScript's in the last bits
const APPROX = new Set([
  OP.EXP, OP.LOG, OP.SIN, OP.COS, OP.TANH, OP.POW, OP.TAN, OP.ASIN, OP.ACOS, OP.ATAN, OP.SINH, OP.COSH, OP.ASINH,
  OP.ACOSH, OP.ATANH, OP.LOG1P, OP.EXPM1, OP.LOG2, OP.LOG10, OP.EXP2, OP.ATAN2, OP.HYPOT,
]);
const UNARY = [
  "NEG", "ABS", "SQRT", "EXP", "LOG", "SIN", "COS", "TANH", "FLOOR", "CEIL", "ROUND_F32", "WRAP_I32", "TRUNC_I32", "NOT", "BOOL", "ISNAN",
  "TAN", "ASIN", "ACOS", "ATAN", "SINH", "COSH", "ASINH", "ACOSH", "ATANH", "LOG1P", "EXPM1", "LOG2", "LOG10", "EXP2", "SIGN", "ISINF",
  "ISFINITE", "RINT",
];
const BINARY = [
  "ADD", "SUB", "MUL", "DIV", "POW", "MAX", "MIN", "EQ", "NE", "LT", "LE", "GT", "GE", "IMUL", "ATAN2", "HYPOT", "MOD", "FLOORDIV", "FMAX", "FMIN",
  "IMOD", "IFLOORDIV",
];

function check(name, op, w, j, n) {
  if (APPROX.has(op)) {
    for (let i = 0; i < n; i++) {
      if (!close(w[i], j[i], 4)) assert.unreachable(`${name}: element ${i}: wasm ${w[i]} js ${j[i]}`);
    }
  } else {
    const d = firstDiff(w, j);
    assert.is(d, -1, `${name}: first difference at ${d}: wasm ${w[d]} js ${j[d]}`);
  }
}

for (const tile of [4, 16, 1024]) {
  test(`unary ops, tile ${tile}`, () => {
    for (const name of UNARY) {
      const op = OP[name];
      for (const n of awkwardLengths(tile)) {
        const b = new ProgramBuilder();
        const x = b.memSlot(DT.F64), y = b.memSlot(DT.F64);
        const r0 = b.reg(), r1 = b.reg();
        b.emit(OP.LOAD, r0, x);
        b.emit(op, r1, r0);
        b.emit(OP.STORE, r1, y);
        const init = name === "WRAP_I32" ? randomValues(n, 7 + n, { ints: true }).map((v, i) => (i % 5 === 0 ? v * 3e7 : v)) : randomValues(n, 7 + n);
        const res = runBoth(b.build(), { x: { dtype: DT.F64, length: n, init }, y: { dtype: DT.F64, length: n } }, (a) =>
          flatGeom(n, [{ base: a.x }, { base: a.y }]), tile);
        assert.equal(res.rc, [0, 0]);
        assert.ok(res.guardsOk, `${name} wrote past len ${n}`);
        check(`${name} n=${n}`, op, res.out[0].y, res.out[1].y, n);
      }
    }
  });

  test(`binary ops, all operand modes, tile ${tile}`, () => {
    for (const name of BINARY) {
      const op = OP[name];
      for (const n of awkwardLengths(tile)) {
        for (let mode = 0; mode < 4; mode++) {
          for (const k of [2.5, -0, NaN, Infinity, 3]) {
            const b = new ProgramBuilder();
            const x = b.memSlot(DT.F64), y = b.memSlot(DT.F64), z = b.memSlot(DT.F64);
            const r0 = b.reg(), r1 = b.reg(), r2 = b.reg();
            const ka = b.constant(k), kb = b.constant(-1.5);
            b.emit(OP.LOAD, r0, x);
            b.emit(OP.LOAD, r1, y);
            b.emit(op, r2, mode & 1 ? ka : r0, mode & 2 ? kb : r1, mode);
            b.emit(OP.STORE, r2, z);
            const res = runBoth(
              b.build(),
              {
                x: { dtype: DT.F64, length: n, init: randomValues(n, 100 + n + mode) },
                y: { dtype: DT.F64, length: n, init: randomValues(n, 200 + n) },
                z: { dtype: DT.F64, length: n },
              },
              (a) => flatGeom(n, [{ base: a.x }, { base: a.y }, { base: a.z }]),
              tile,
            );
            assert.equal(res.rc, [0, 0]);
            assert.ok(res.guardsOk);
            check(`${name} n=${n} mode=${mode} k=${k}`, op, res.out[0].z, res.out[1].z, n);
          }
        }
      }
    }
  });

  test(`select, all operand modes, tile ${tile}`, () => {
    for (const n of awkwardLengths(tile)) {
      for (let mode = 0; mode < 4; mode++) {
        const b = new ProgramBuilder();
        const c = b.memSlot(DT.F64), x = b.memSlot(DT.F64), y = b.memSlot(DT.F64), z = b.memSlot(DT.F64);
        const rc = b.reg(), r0 = b.reg(), r1 = b.reg(), r2 = b.reg();
        const ka = b.constant(-0), kb = b.constant(42);
        b.emit(OP.LOAD, rc, c);
        b.emit(OP.LOAD, r0, x);
        b.emit(OP.LOAD, r1, y);
        b.emit(OP.SELECT, r2, rc, mode & 1 ? ka : r0, mode & 2 ? kb : r1, mode);
        b.emit(OP.STORE, r2, z);
        const cond = randomValues(n, 300 + n).map((v, i) => (i % 3 === 0 ? 0 : i % 3 === 1 ? (i % 2 ? -0 : NaN) : v));
        const res = runBoth(
          b.build(),
          {
            c: { dtype: DT.F64, length: n, init: cond },
            x: { dtype: DT.F64, length: n, init: randomValues(n, 400 + n) },
            y: { dtype: DT.F64, length: n, init: randomValues(n, 500 + n) },
            z: { dtype: DT.F64, length: n },
          },
          (a) => flatGeom(n, [{ base: a.c }, { base: a.x }, { base: a.y }, { base: a.z }]),
          tile,
        );
        assert.equal(res.rc, [0, 0]);
        check(`SELECT n=${n} mode=${mode}`, OP.SELECT, res.out[0].z, res.out[1].z, n);
        // semantics spot check: NaN and -0 conditions
        for (let i = 0; i < n; i++) {
          const want = cond[i] !== 0 ? (mode & 1 ? -0 : res.out[1].x[i]) : mode & 2 ? 42 : res.out[1].y[i];
          if (!same(res.out[0].z[i], want)) assert.unreachable(`select ${i}: ${res.out[0].z[i]} != ${want}`);
        }
      }
    }
  });
}

test("CONST and IOTA (non-integral base and stride), chained in-place ops", () => {
  for (const n of awkwardLengths(16)) {
    const b = new ProgramBuilder();
    const ix = b.indexSlot(), out = b.memSlot(DT.F64), out2 = b.memSlot(DT.F64);
    const r0 = b.reg(), r1 = b.reg();
    b.emit(OP.IOTA, r0, ix);
    b.emit(OP.CONST, r1, b.constant(0.1));
    b.emit(OP.MUL, r0, r0, r1, 0); // in place
    b.emit(OP.ADD, r0, r0, b.constant(1), 2);
    b.emit(OP.STORE, r0, out);
    b.emit(OP.STORE, r1, out2);
    const res = runBoth(b.build(), { out: { dtype: DT.F64, length: n }, out2: { dtype: DT.F64, length: n } }, (a) => ({
      extents: [],
      rowLen: n,
      slots: [{ base: 12345.25, last: 3, rows: [] }, { base: a.out, last: 1, rows: [] }, { base: a.out2, last: 1, rows: [] }],
    }), 16);
    assert.equal(res.rc, [0, 0]);
    assert.is(firstDiff(res.out[0].out, res.out[1].out), -1);
    for (let i = 0; i < n; i++) assert.is(res.out[0].out[i], (12345.25 + i * 3) * 0.1 + 1);
    for (let i = 0; i < n; i++) assert.is(res.out[0].out2[i], 0.1);
  }
});

test("POW has C pow's special values (numpy's), not Math.pow's: 1 ** NaN, 1 ** ±Inf, (-1) ** ±Inf are 1", () => {
  // [base, exponent, C pow]: the first five are where Math.pow gives NaN
  const table = [
    [1, NaN, 1], [1, Infinity, 1], [1, -Infinity, 1], [-1, Infinity, 1], [-1, -Infinity, 1],
    [1, 3.5, 1], [-1, 3, -1], [-1, 0.5, NaN], [NaN, 0, 1], [NaN, -0, 1], [Infinity, 0, 1], [0, 0, 1],
    [NaN, 1, NaN], [2, NaN, NaN], [-1, NaN, NaN], [0.5, Infinity, 0], [2, Infinity, Infinity], [2, -Infinity, 0],
    [-0.5, -Infinity, Infinity], [0, -1, Infinity], [-0, -1, -Infinity], [-0, -2, Infinity], [-8, 1 / 3, NaN], [2, 10, 1024],
  ];
  const n = table.length;
  for (const tile of [4, 1024]) {
    const b = new ProgramBuilder();
    const x = b.memSlot(DT.F64), y = b.memSlot(DT.F64), z = b.memSlot(DT.F64);
    const r0 = b.reg(), r1 = b.reg(), r2 = b.reg();
    b.emit(OP.LOAD, r0, x);
    b.emit(OP.LOAD, r1, y);
    b.emit(OP.POW, r2, r0, r1, 0);
    b.emit(OP.STORE, r2, z);
    const res = runBoth(
      b.build(),
      { x: { dtype: DT.F64, length: n, init: table.map((t) => t[0]) }, y: { dtype: DT.F64, length: n, init: table.map((t) => t[1]) }, z: { dtype: DT.F64, length: n } },
      (a) => flatGeom(n, [{ base: a.x }, { base: a.y }, { base: a.z }]),
      tile,
    );
    table.forEach(([a, e, want], i) => {
      assert.ok(same(res.out[0].z[i], want), `wasm pow(${a}, ${e}) = ${res.out[0].z[i]}, want ${want}`);
      assert.ok(same(res.out[1].z[i], want), `js pow(${a}, ${e}) = ${res.out[1].z[i]}, want ${want}`);
    });
  }
});

test("exact semantics of integer and bool ops (spot values)", () => {
  const xs = [NaN, Infinity, -Infinity, -0, 0, 2.7, -2.7, 2 ** 31, -(2 ** 31) - 1, 2 ** 32 + 5, 2 ** 63 + 2 ** 12, -(2 ** 70) - 2 ** 20, 1e300];
  const n = xs.length;
  const ops = { WRAP_I32: (v) => v | 0, TRUNC_I32: (v) => (Number.isNaN(v) ? 0 : Math.max(-(2 ** 31), Math.min(2 ** 31 - 1, Math.trunc(v))) + 0), NOT: (v) => (v === 0 ? 1 : 0), BOOL: (v) => (v !== 0 ? 1 : 0), ISNAN: (v) => (v !== v ? 1 : 0), ROUND_F32: Math.fround };
  for (const [name, f] of Object.entries(ops)) {
    const b = new ProgramBuilder();
    const x = b.memSlot(DT.F64), y = b.memSlot(DT.F64);
    const r0 = b.reg();
    b.emit(OP.LOAD, r0, x);
    b.emit(OP[name], r0, r0);
    b.emit(OP.STORE, r0, y);
    const res = runBoth(b.build(), { x: { dtype: DT.F64, length: n, init: xs }, y: { dtype: DT.F64, length: n } }, (a) =>
      flatGeom(n, [{ base: a.x }, { base: a.y }]), 4);
    for (let i = 0; i < n; i++) {
      assert.ok(same(res.out[0].y[i], f(xs[i])), `${name}(${xs[i]}): wasm ${res.out[0].y[i]} want ${f(xs[i])}`);
      assert.ok(same(res.out[1].y[i], f(xs[i])), `${name}(${xs[i]}): js ${res.out[1].y[i]} want ${f(xs[i])}`);
    }
  }
});

test.run();
