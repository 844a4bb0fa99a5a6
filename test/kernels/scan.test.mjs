// Scans (CUMSUM, CUMPROD): running sums and products element after element, in f64 and f32
// accumulators, along the row (scalar mode) and along an outer axis (vector mode): wasm and the JS twin
// bit-identical, both equal to a plain sequential loop, at odd lengths and tiles.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { OP } from "../../dist/kernels/abi.js";
import { DT, ProgramBuilder, awkwardLengths, firstDiff, randomValues, runBoth } from "./harness.mjs";

/**
 * rows x n input x; y = scan of x, per row (vector false: the scan runs along each row, one
 * accumulator per row) or per column down the rows (vector true: one accumulator per column).
 */
function scanProgram(opName, accDtype, rows, n, vector, data, tile, init) {
  const b = new ProgramBuilder();
  const x = b.memSlot(DT.F64);
  const acc = b.memSlot(accDtype);
  const y = b.memSlot(DT.F64);
  const r = b.reg();
  const t = b.reg();
  b.emit(OP.LOAD, r, x);
  b.emit(OP[opName], t, r, acc);
  b.emit(OP.STORE, t, y);
  const m = vector ? n : rows;
  const arrays = {
    x: { dtype: DT.F64, length: rows * n, init: data },
    acc: { dtype: accDtype, length: m, init: new Array(m).fill(init) },
    y: { dtype: DT.F64, length: rows * n },
  };
  return runBoth(b.build(), arrays, (a) => ({
    extents: [rows],
    rowLen: n,
    slots: [
      { base: a.x, last: 1, rows: [n] },
      vector ? { base: a.acc, last: 1, rows: [0] } : { base: a.acc, last: 0, rows: [1] },
      { base: a.y, last: 1, rows: [n] },
    ],
  }), tile);
}

/** The sequential scan the ops must equal. */
function expected(opName, f32, rows, n, vector, data, init) {
  const y = new Float64Array(rows * n);
  const acc = new Float64Array(vector ? n : rows).fill(init);
  for (let i = 0; i < rows; i++) {
    for (let c = 0; c < n; c++) {
      const a = vector ? c : i;
      let v = opName === "CUMSUM" ? acc[a] + data[i * n + c] : acc[a] * data[i * n + c];
      if (f32) v = Math.fround(v);
      acc[a] = v;
      y[i * n + c] = v;
    }
  }
  return { y, acc };
}

for (const tile of [4, 16, 1024]) {
  test(`CUMSUM / CUMPROD, f64 and f32 accumulators, scalar and vector mode, tile ${tile}: bit-identical and sequential`, () => {
    for (const opName of ["CUMSUM", "CUMPROD"]) {
      for (const accDtype of [DT.F64, DT.F32]) {
        for (const vector of [false, true]) {
          for (const n of awkwardLengths(tile)) {
            for (const rows of [1, 3]) {
              let data = randomValues(rows * n, n * 7 + rows + (vector ? 1 : 0), { special: true });
              if (opName === "CUMPROD") data = data.map((v) => (Number.isFinite(v) && Math.abs(v) > 2 ? 1 + v / 1000 : v));
              if (accDtype === DT.F32) data = data.map(Math.fround);
              const init = opName === "CUMSUM" ? 0 : 1;
              const res = scanProgram(opName, accDtype, rows, n, vector, data, tile, init);
              const what = `${opName} ${accDtype === DT.F32 ? "f32" : "f64"} ${vector ? "vector" : "scalar"} n=${n} rows=${rows}`;
              assert.equal(res.rc, [0, 0], what);
              assert.ok(res.guardsOk, `${what}: nothing written past the arrays`);
              const want = expected(opName, accDtype === DT.F32, rows, n, vector, data, init);
              for (const side of [0, 1]) {
                const d = firstDiff(res.out[side].y, want.y);
                assert.is(d, -1, `${what} ${side ? "js" : "wasm"} y[${d}]: ${res.out[side].y[d]} vs ${want.y[d]}`);
                const da = firstDiff(Float64Array.from(res.out[side].acc), want.acc);
                assert.is(da, -1, `${what} ${side ? "js" : "wasm"} final acc[${da}]`);
              }
            }
          }
        }
      }
    }
  });
}

test("a scan starts from the accumulator's value (the carry of the blocks before)", () => {
  const res = scanProgram("CUMSUM", DT.F64, 1, 5, false, [1, 2, 3, 4, 5], 4, 100);
  for (const side of [0, 1]) assert.equal(Array.from(res.out[side].y), [101, 103, 106, 110, 115]);
  const f32 = scanProgram("CUMSUM", DT.F32, 1, 3, false, [Math.fround(0.1), Math.fround(0.2), Math.fround(0.3)], 4, 0);
  const want = [Math.fround(0.1), Math.fround(Math.fround(0.1) + Math.fround(0.2))];
  want.push(Math.fround(want[1] + Math.fround(0.3)));
  for (const side of [0, 1]) assert.equal(Array.from(f32.out[side].y), want, "float32 arithmetic, each step rounded");
});

test("CUMSUM needs an f64 or f32 memory accumulator: others are refused", () => {
  for (const bad of [DT.I32, DT.BOOL]) {
    const res = scanProgram("CUMSUM", bad, 1, 4, false, [1, 2, 3, 4], 4, 0);
    assert.equal(res.rc, [2, 2], "BAD_OPCODE on both interpreters");
  }
});

test.run();
