// LOAD and STORE for every storage dtype, broadcast slots, several row dims with odd extents and
// zero (broadcast) strides, arrays ending exactly at the end of memory (any access past len traps).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { OP } from "../../dist/kernels/abi.js";
import { DT, ProgramBuilder, TYPED, awkwardLengths, firstDiff, flatGeom, randomValues, runBoth } from "./harness.mjs";

const DTYPES = { f64: DT.F64, f32: DT.F32, i32: DT.I32, bool: DT.BOOL };

function initFor(dt, n, seed) {
  const v = randomValues(n, seed);
  if (dt === DT.F64 || dt === DT.F32) return v;
  if (dt === DT.I32) return v.map((x, i) => (i % 7 === 0 ? -(2 ** 31) + i : Math.trunc(Number.isFinite(x) ? x % 1e9 : i)));
  return v.map((x, i) => (i % 3 === 0 ? 0 : i % 3 === 1 ? 1 : 255)); // bool bytes: any nonzero is true
}

for (const tile of [4, 1024]) {
  test(`LOAD dtype -> STORE dtype, all pairs, tile ${tile}`, () => {
    for (const [sn, sdt] of Object.entries(DTYPES)) {
      for (const [dn, ddt] of Object.entries(DTYPES)) {
        for (const n of awkwardLengths(tile)) {
          for (const atEnd of ["x", "y", null]) {
            const b = new ProgramBuilder();
            const x = b.memSlot(sdt), y = b.memSlot(ddt);
            const r0 = b.reg();
            b.emit(OP.LOAD, r0, x);
            if (ddt === DT.I32) b.emit(OP.TRUNC_I32, r0, r0); // as the engine does before an int32 store
            b.emit(OP.STORE, r0, y);
            const res = runBoth(
              b.build(),
              { x: { dtype: sdt, length: n, init: initFor(sdt, n, n + 1), atEnd: atEnd === "x" }, y: { dtype: ddt, length: n, atEnd: atEnd === "y" } },
              (a) => flatGeom(n, [{ base: a.x }, { base: a.y }]),
              tile,
            );
            assert.equal(res.rc, [0, 0]);
            assert.ok(res.guardsOk, `${sn}->${dn} n=${n} wrote past len`);
            const d = firstDiff(res.out[0].y, res.out[1].y);
            assert.is(d, -1, `${sn}->${dn} n=${n}: at ${d} wasm ${res.out[0].y[d]} js ${res.out[1].y[d]}`);
            // semantics: compare with a JS conversion of the input
            const src = res.out[1].x;
            const T = TYPED[ddt];
            const want = new T(n);
            for (let i = 0; i < n; i++) {
              const v = sdt === DT.BOOL ? (src[i] !== 0 ? 1 : 0) : src[i];
              want[i] = ddt === DT.BOOL ? (v !== 0 ? 1 : 0) : ddt === DT.I32 ? (Number.isNaN(v) ? 0 : Math.max(-(2 ** 31), Math.min(2 ** 31 - 1, Math.trunc(v)))) : v;
            }
            assert.is(firstDiff(res.out[0].y, want), -1, `${sn}->${dn} n=${n} semantics`);
          }
        }
      }
    }
  });
}

test("STORE int32 saturates without TRUNC_I32; bool stores NaN as 1", () => {
  const xs = [NaN, 1e10, -1e10, 2.9, -2.9, -0, Infinity];
  const n = xs.length;
  const b = new ProgramBuilder();
  const x = b.memSlot(DT.F64), y = b.memSlot(DT.I32), z = b.memSlot(DT.BOOL);
  const r = b.reg();
  b.emit(OP.LOAD, r, x);
  b.emit(OP.STORE, r, y);
  b.emit(OP.STORE, r, z);
  const res = runBoth(b.build(), { x: { dtype: DT.F64, length: n, init: xs }, y: { dtype: DT.I32, length: n }, z: { dtype: DT.BOOL, length: n } },
    (a) => flatGeom(n, [{ base: a.x }, { base: a.y }, { base: a.z }]), 4);
  for (const o of res.out) {
    assert.equal([...o.y], [0, 2147483647, -2147483648, 2, -2, 0, 2147483647]);
    assert.equal([...o.z], [1, 1, 1, 1, 1, 0, 1]);
  }
});

test("broadcast slots: LOAD with last 0 fills, STORE with last 0 keeps the last element", () => {
  for (const [, dt] of Object.entries(DTYPES)) {
    for (const n of [1, 3, 5, 17]) {
      const b = new ProgramBuilder();
      const s = b.memSlot(dt), x = b.memSlot(DT.F64), y = b.memSlot(DT.F64), last = b.memSlot(dt);
      const r0 = b.reg(), r1 = b.reg();
      b.emit(OP.LOAD, r0, s);
      b.emit(OP.LOAD, r1, x);
      b.emit(OP.ADD, r1, r1, r0, 0);
      b.emit(OP.STORE, r1, y);
      b.emit(OP.STORE, r1, last);
      const res = runBoth(
        b.build(),
        { s: { dtype: dt, length: 1, init: [dt === DT.BOOL ? 7 : 3] }, x: { dtype: DT.F64, length: n, init: randomValues(n, n, { special: false }) }, y: { dtype: DT.F64, length: n }, last: { dtype: dt, length: 1 } },
        (a) => flatGeom(n, [{ base: a.s, last: 0 }, { base: a.x }, { base: a.y }, { base: a.last, last: 0 }]),
        4,
      );
      assert.ok(res.guardsOk);
      for (const o of res.out) {
        const k = dt === DT.BOOL ? 1 : 3;
        for (let i = 0; i < n; i++) assert.is(o.y[i], o.x[i] + k);
      }
      assert.is(firstDiff(res.out[0].last, res.out[1].last), -1);
      const want = dt === DT.BOOL ? 1 : dt === DT.I32 ? Math.trunc(res.out[1].y[n - 1]) : dt === DT.F32 ? Math.fround(res.out[1].y[n - 1]) : res.out[1].y[n - 1];
      assert.is(res.out[0].last[0], want);
    }
  }
});

test("row dims: odd extents, strided rows, broadcast (0) strides, odometer order", () => {
  // x is a C-order (3, 5, 7) array; y is (5, 1) broadcast along dims 0 and 2; out = x + y, of shape (3, 5, 7),
  // written transposed in its first two dims (strides 7, 21 in elements).
  for (const [e0, e1, rowLen, tile] of [[3, 5, 7, 4], [2, 3, 1, 4], [1, 1, 9, 8], [4, 2, 2500, 1024], [3, 0, 5, 4], [0, 2, 5, 4], [2, 2, 0, 4]]) {
    const n = Math.max(1, e0 * e1 * rowLen);
    const b = new ProgramBuilder();
    const x = b.memSlot(DT.F32), y = b.memSlot(DT.F64), out = b.memSlot(DT.F64), ix = b.indexSlot(), io = b.memSlot(DT.F64);
    const r0 = b.reg(), r1 = b.reg(), r2 = b.reg();
    b.emit(OP.LOAD, r0, x);
    b.emit(OP.LOAD, r1, y);
    b.emit(OP.ADD, r0, r0, r1, 0);
    b.emit(OP.STORE, r0, out);
    b.emit(OP.IOTA, r2, ix);
    b.emit(OP.STORE, r2, io);
    const res = runBoth(
      b.build(),
      {
        x: { dtype: DT.F32, length: n, init: randomValues(n, 9, { special: false }) },
        y: { dtype: DT.F64, length: Math.max(e1, 1), init: randomValues(Math.max(e1, 1), 10) },
        out: { dtype: DT.F64, length: n, init: new Float64Array(n).fill(-1) },
        io: { dtype: DT.F64, length: n, init: new Float64Array(n).fill(-1) },
      },
      (a) => ({
        extents: [e0, e1],
        rowLen,
        slots: [
          { base: a.x, last: 1, rows: [e1 * rowLen, rowLen] },
          { base: a.y, last: 0, rows: [0, 1] },
          { base: a.out, last: 1, rows: [rowLen, e0 * rowLen] },
          { base: 1000, last: 1, rows: [e1 * rowLen, rowLen] },
          { base: a.io, last: 1, rows: [e1 * rowLen, rowLen] },
        ],
      }),
      tile,
    );
    assert.equal(res.rc, [0, 0]);
    assert.ok(res.guardsOk);
    assert.is(firstDiff(res.out[0].out, res.out[1].out), -1);
    assert.is(firstDiff(res.out[0].io, res.out[1].io), -1);
    const [w] = res.out;
    for (let i = 0; i < e0; i++)
      for (let j = 0; j < e1; j++)
        for (let c = 0; c < rowLen; c++) {
          const src = (i * e1 + j) * rowLen + c;
          assert.is(w.out[(j * e0 + i) * rowLen + c], w.x[src] + w.y[j]);
          assert.is(w.io[src], 1000 + src);
        }
    if (e0 * e1 * rowLen === 0) assert.ok(w.out.every((v) => v === -1), "empty program wrote");
  }
});

test.run();
