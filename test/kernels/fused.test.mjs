// The interpreter's fused path for RANDOM (uniform) -> [ADD / SUB of a constant] -> scalar RSUM, whose register
// is read by no other instruction: bit-identical to the twin (which runs the instructions one by one) at
// awkward starts, lengths, tiles, row strides and constants; engaged exactly when allowed (white box: the
// fused path leaves the register unwritten); every near miss falls back to the plain path, still identical.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { OP } from "../../dist/kernels/abi.js";
import { DT, ProgramBuilder, firstDiff, runBoth } from "./harness.mjs";

/**
 * Builds a program from `body(b, { r, ix, acc, out, k })` and runs it over rows x rowLen elements starting at
 * global index f0, rows `stride` apart. acc is a scalar f64 accumulator (slot), out a rows x rowLen f64 array.
 */
function run({ f0, rowLen, rows = 1, stride = rowLen, tile = 1024, body, vectorAcc = false }) {
  const b = new ProgramBuilder();
  const ix = b.indexSlot(), acc = b.memSlot(DT.F64), out = b.memSlot(DT.F64), acc2 = b.memSlot(DT.F64);
  const r = b.reg(), r2 = b.reg();
  body(b, { r, r2, ix, acc, acc2, out });
  const n = rows * rowLen;
  const m = vectorAcc ? Math.max(rowLen, 1) : 1;
  const res = runBoth(b.build(), {
    acc: { dtype: DT.F64, length: m, init: new Float64Array(m).fill(0.25) },
    acc2: { dtype: DT.F64, length: 1, init: [0] },
    out: { dtype: DT.F64, length: Math.max(n, 1) },
  }, (a) => ({
    extents: [rows],
    rowLen,
    slots: [
      { base: f0, last: 1, rows: [stride] },
      { base: a.acc, last: vectorAcc ? 1 : 0, rows: [0] },
      { base: a.out, last: 1, rows: [rowLen] },
      { base: a.acc2, last: 0, rows: [0] },
    ],
  }), tile);
  assert.equal(res.rc, [0, 0]);
  assert.ok(res.guardsOk);
  return res;
}

function identical(res, what) {
  for (const k of Object.keys(res.out[0])) {
    const d = firstDiff(res.out[0][k], res.out[1][k]);
    assert.is(d, -1, `${what}: ${k}[${d}] wasm ${res.out[0][k][d]} js ${res.out[1][k][d]}`);
  }
}

/** Did the wasm leave register 0 unwritten (the fused path) while the twin wrote it? */
const fused = (res) => Number.isNaN(res.regs[0][0]) && !Number.isNaN(res.regs[1][0]);

const STARTS = [0, 1, 2, 3, 5, 255, 256 + 3, 1021, 2 ** 40 + 1, 2 ** 52 + 7];
const SHAPES = [[1, 1, 4], [2, 1, 4], [3, 2, 4], [5, 3, 4], [7, 2, 8], [13, 3, 8], [255, 2, 16], [257, 2, 1024], [1023, 1, 1024],
  [1024, 2, 1024], [1025, 2, 1024], [2560, 2, 1024], [2000, 3, 4096], [600, 3, 12]];

const headline = (k) => (b, { r, ix, acc }) => {
  b.emit(OP.RANDOM, r, ix, 0, b.seed(42));
  b.emit(OP.ADD, r, r, b.constant(k), 2);
  b.emit(OP.RSUM, r, acc);
};

test("RANDOM -> ADD 1 -> RSUM: fused, bit-identical at awkward starts, lengths, tiles and strides", () => {
  let n = 0;
  for (const f0 of STARTS) {
    for (const [rowLen, rows, tile] of SHAPES) {
      const stride = rowLen + 50000 - 37 * rows;
      const res = run({ f0, rowLen, rows, stride, tile, body: headline(1) });
      identical(res, `f0=${f0} rowLen=${rowLen} rows=${rows} tile=${tile}`);
      assert.ok(fused(res), `not fused: f0=${f0} rowLen=${rowLen}`);
      n++;
    }
  }
  assert.ok(n > 100);
});

test("fused constants: ADD (both operand orders), SUB, bare RSUM; inexact k - 1 falls back", () => {
  const ks = [1, 0.5, -1, 0, -0, 3, 2 ** 52, -(2 ** 53), 1.75, 1e-300, 1e300, 2 ** -60, NaN, Infinity, -Infinity, 5e-324];
  const bodies = {
    "r + k": (k) => headline(k),
    "k + r": (k) => (b, { r, ix, acc }) => {
      b.emit(OP.RANDOM, r, ix, 0, b.seed(7));
      b.emit(OP.ADD, r, b.constant(k), r, 1);
      b.emit(OP.RSUM, r, acc);
    },
    "r - k": (k) => (b, { r, ix, acc }) => {
      b.emit(OP.RANDOM, r, ix, 0, b.seed(9));
      b.emit(OP.SUB, r, r, b.constant(k), 2);
      b.emit(OP.RSUM, r, acc);
    },
  };
  const exact = (a, b) => {
    const s = a + b;
    if (!Number.isFinite(s)) return false;
    const bp = s - a, ap = s - bp;
    return (a - ap) + (b - bp) === 0;
  };
  for (const [name, body] of Object.entries(bodies)) {
    for (const k of ks) {
      for (const [f0, rowLen, rows, tile] of [[3, 1030, 2, 1024], [254, 9, 3, 4], [2 ** 40 + 2, 300, 1, 16]]) {
        const res = run({ f0, rowLen, rows, stride: 7919, tile, body: body(k) });
        identical(res, `${name} k=${k} f0=${f0}`);
        const want = name === "r - k" ? exact(k, 1) : exact(k, -1);
        assert.is(fused(res), want, `${name} k=${k}: fused ${fused(res)}`);
      }
    }
  }
  for (const [f0, rowLen, rows, tile] of [[0, 1, 1, 4], [5, 2049, 2, 1024], [2 ** 52 + 1, 13, 3, 8]]) {
    const res = run({ f0, rowLen, rows, stride: 100, tile, body: (b, { r, ix, acc }) => {
      b.emit(OP.RANDOM, r, ix, 0, b.seed(2 ** 40 + 5));
      b.emit(OP.RSUM, r, acc);
    } });
    identical(res, `bare f0=${f0}`);
    assert.ok(fused(res));
  }
});

test("near misses are not fused and stay bit-identical", () => {
  const cases = {
    "register stored afterwards": (b, { r, ix, acc, out }) => {
      b.emit(OP.RANDOM, r, ix, 0, b.seed(1));
      b.emit(OP.ADD, r, r, b.constant(1), 2);
      b.emit(OP.RSUM, r, acc);
      b.emit(OP.STORE, r, out);
    },
    "register read by a second reduction": (b, { r, ix, acc, acc2 }) => {
      b.emit(OP.RANDOM, r, ix, 0, b.seed(1));
      b.emit(OP.RSUM, r, acc);
      b.emit(OP.RMAX, r, acc2);
    },
    "register read before it is written (previous tile's values)": (b, { r, r2, ix, acc, out }) => {
      b.emit(OP.ADD, r2, r, b.constant(0), 2);
      b.emit(OP.STORE, r2, out);
      b.emit(OP.RANDOM, r, ix, 0, b.seed(1));
      b.emit(OP.RSUM, r, acc);
    },
    "normal values": (b, { r, ix, acc }) => {
      b.emit(OP.RANDOM, r, ix, 1, b.seed(1));
      b.emit(OP.RSUM, r, acc);
    },
    "MUL": (b, { r, ix, acc }) => {
      b.emit(OP.RANDOM, r, ix, 0, b.seed(1));
      b.emit(OP.MUL, r, r, b.constant(3), 2);
      b.emit(OP.RSUM, r, acc);
    },
    "k - r": (b, { r, ix, acc }) => {
      b.emit(OP.RANDOM, r, ix, 0, b.seed(1));
      b.emit(OP.SUB, r, b.constant(3), r, 1);
      b.emit(OP.RSUM, r, acc);
    },
    "ADD into another register": (b, { r, r2, ix, acc }) => {
      b.emit(OP.RANDOM, r, ix, 0, b.seed(1));
      b.emit(OP.ADD, r2, r, b.constant(1), 2);
      b.emit(OP.RSUM, r2, acc);
    },
    "two ops": (b, { r, ix, acc }) => {
      b.emit(OP.RANDOM, r, ix, 0, b.seed(1));
      b.emit(OP.ADD, r, r, b.constant(1), 2);
      b.emit(OP.ADD, r, r, b.constant(1), 2);
      b.emit(OP.RSUM, r, acc);
    },
  };
  for (const [name, body] of Object.entries(cases)) {
    for (const [f0, rowLen, rows, tile] of [[3, 1030, 2, 1024], [254, 9, 3, 4], [1, 2, 2, 4]]) {
      const res = run({ f0, rowLen, rows, stride: 7919, tile, body });
      if (name === "normal values") {
        // libm may differ by an ulp: only the plain path's own consistency is checked here
        assert.ok(Math.abs(res.out[0].acc[0] - res.out[1].acc[0]) <= 1e-9 * (1 + Math.abs(res.out[1].acc[0])), name);
      } else identical(res, `${name} f0=${f0} rowLen=${rowLen}`);
      assert.ok(!fused(res), `${name}: fused`);
    }
  }
  const vec = run({ f0: 3, rowLen: 37, rows: 3, stride: 1000, tile: 8, vectorAcc: true, body: headline(1) });
  identical(vec, "vector-mode RSUM");
  assert.ok(!fused(vec));
});

test("a fused run among other RANDOM instructions keeps every generator's stream", () => {
  // RANDOM #0 (stored, not fused), then a fused run on RANDOM #1 with another seed, then RANDOM #2 (stored)
  const body = (b, { r, r2, ix, acc, out }) => {
    b.emit(OP.RANDOM, r2, ix, 0, b.seed(5));
    b.emit(OP.STORE, r2, out);
    b.emit(OP.RANDOM, r, ix, 0, b.seed(6));
    b.emit(OP.ADD, r, r, b.constant(1), 2);
    b.emit(OP.RSUM, r, acc);
    b.emit(OP.RANDOM, r2, ix, 0, b.seed(8));
    b.emit(OP.ADD, r2, r2, b.constant(1), 2);
    b.emit(OP.STORE, r2, out);
  };
  for (const [f0, rowLen, rows, tile] of [[3, 1030, 3, 1024], [254, 9, 3, 4], [2 ** 40 - 5, 700, 2, 16]]) {
    const res = run({ f0, rowLen, rows, stride: 7919, tile, body });
    identical(res, `f0=${f0}`);
    assert.ok(fused(res));
  }
});

test.run();
