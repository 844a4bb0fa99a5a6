// The native interpreter (native/kernels/): its ABI numbers equal abi.ts; at every dispatch level this CPU
// has (AVX-512, AVX2, scalar), random programs over every opcode, odd lengths, tiles, rows, NaN and
// infinities give the wasm kernels' bits (runLevels compares each level with wasm; the JS twin is checked
// against wasm as in the other kernel tests); the fused RANDOM -> ADD -> RSUM path and RANDOM spans that
// cross block and tile edges; bad addresses are an RC (a trap in the JS wrapper), never a stray access.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as abi from "../../dist/kernels/abi.js";
import { loadNativeKernels } from "../../dist/kernels/native.js";
import { createSharedMemory } from "../../dist/kernels/wasm.js";
import { writeProgram } from "../../dist/kernels/program.js";
import { DT, NATIVE_APPROX, ProgramBuilder, close, firstDiff, randomValues, rng, runBoth, runLevels } from "./harness.mjs";

const { OP } = abi;
const addon = loadNativeKernels();
const APPROX_JS = new Set([OP.EXP, OP.LOG, OP.SIN, OP.COS, OP.TANH, OP.POW, OP.TAN, OP.ASIN, OP.ACOS, OP.ATAN, OP.SINH, OP.COSH,
  OP.ASINH, OP.ACOSH, OP.ATANH, OP.LOG1P, OP.EXPM1, OP.LOG2, OP.LOG10, OP.EXP2, OP.ATAN2, OP.HYPOT]);

if (!addon) {
  test("native kernels not built: nothing to check here", () => {});
  test.run();
} else {
  test("the addon's constants are abi.ts's", () => {
    const c = addon.constants;
    let n = 0;
    const is = (name, want) => (assert.is(c[name], want, name), n++);
    for (const [k, v] of Object.entries(abi.H)) is(`H_${k}`, v);
    for (const [k, v] of Object.entries(abi.OP)) is(`OP_${k}`, v);
    for (const [k, v] of Object.entries(abi.S)) is(`S_${k}`, v);
    for (const [k, v] of Object.entries(abi.DT)) is(`DT_${k}`, v);
    for (const [k, v] of Object.entries(abi.RC)) is(`RC_${k}`, v);
    for (const [k, v] of Object.entries(abi.HIST_P)) is(`HIST_P_${k}`, v);
    for (const [k, v] of Object.entries(abi.HF)) is(`HF_${k}`, v);
    for (const k of ["PROGRAM_MAGIC", "MAX_DIMS", "MAX_TILE", "MAX_REGS", "SCRATCH_BYTES", "RNG_BLOCK", "SLOT_MEM", "SLOT_INDEX", "MAX_SLOTS", "MAX_RANDOM_OPS", "TILE_SUM_LANES"]) is(k, abi[k]);
    assert.ok(n > 100);
  });

  test("levels: the CPU's, best first, always with scalar", () => {
    const levels = addon.levels();
    assert.ok(levels.length >= 1 && levels[levels.length - 1] === "scalar");
    for (const l of levels) assert.ok(["avx512", "avx2", "scalar"].includes(l));
    assert.throws(() => addon.bind(new Uint8Array(createSharedMemory(1).buffer), "avx9"), /unknown level/);
  });

  // every opcode but glibc's libm ones (their last-bit differences would propagate; elementwise.test checks each)
  const exact = (v) => !NATIVE_APPROX.has(v);
  const UNARY = Object.values(OP).filter((v) => abi.isUnary(v) && exact(v));
  const BINARY = Object.values(OP).filter((v) => abi.isBinary(v) && exact(v));
  const KS = [2.5, -0, NaN, Infinity, 3, -1, 1, 0.5, 2, 1e-300, -7];

  /**
   * A random program over rows x rowLen: loads of every dtype (contiguous, broadcast, strided), IOTA,
   * RANDOM (both kinds), a chain of random unary / binary / SELECT ops on 6 registers, then every sink.
   */
  function randomCase(seed) {
    const r = rng(seed);
    const pick = (xs) => xs[Math.floor(r() * xs.length)];
    const rows = 1 + Math.floor(r() * 3), rowLen = pick([1, 2, 3, 5, 7, 16, 17, 63, 100, 257, 1000, 1500]);
    const tile = pick([4, 8, 12, 64, 1024]);
    const n = rows * rowLen;
    const b = new ProgramBuilder();
    const x = b.memSlot(DT.F64), y = b.memSlot(DT.F32), z = b.memSlot(DT.I32), m = b.memSlot(DT.BOOL), xs = b.memSlot(DT.F64);
    const ix = b.indexSlot();
    const out = b.memSlot(DT.F64), out32 = b.memSlot(DT.F32), outI = b.memSlot(DT.I32), outB = b.memSlot(DT.BOOL);
    const acc = b.memSlot(DT.F64), vacc = b.memSlot(DT.F64), arg = b.memSlot(DT.F64), argI = b.memSlot(DT.F64);
    const varS = b.memSlot(DT.F64), varM = b.memSlot(DT.F64), varQ = b.memSlot(DT.F64), cum = b.memSlot(DT.F64), hist = b.memSlot(DT.F64);
    const R = [b.reg(), b.reg(), b.reg(), b.reg(), b.reg(), b.reg()];
    b.emit(OP.LOAD, R[0], x);
    b.emit(OP.LOAD, R[1], pick([y, z, m, xs]));
    b.emit(OP.IOTA, R[2], ix);
    b.emit(OP.RANDOM, R[3], ix, r() < 0.5 ? 0 : 1, b.seed(Math.floor(r() * 2 ** 40)));
    b.emit(OP.LOAD, R[4], pick([x, y, z, m]));
    b.emit(OP.CONST, R[5], b.constant(pick(KS)));
    const steps = 4 + Math.floor(r() * 8);
    for (let i = 0; i < steps; i++) {
      const u = r();
      const dst = pick(R);
      if (u < 0.4) b.emit(pick(UNARY), dst, pick(R));
      else if (u < 0.9) {
        const mode = Math.floor(r() * 4);
        b.emit(pick(BINARY), dst, mode & 1 ? b.constant(pick(KS)) : pick(R), mode & 2 ? b.constant(pick(KS)) : pick(R), mode);
      } else {
        const mode = Math.floor(r() * 4);
        b.emit(OP.SELECT, dst, pick(R), mode & 1 ? b.constant(pick(KS)) : pick(R), mode & 2 ? b.constant(pick(KS)) : pick(R), mode);
      }
    }
    b.emit(OP.STORE, pick(R), out);
    b.emit(OP.STORE, pick(R), out32);
    b.emit(OP.TRUNC_I32, R[5], pick(R));
    b.emit(OP.STORE, R[5], outI);
    b.emit(OP.STORE, pick(R), outB);
    b.emit(pick([OP.RSUM, OP.RPROD, OP.RMIN, OP.RMAX]), pick(R), acc);
    b.emit(pick([OP.RSUM, OP.RPROD, OP.RMIN, OP.RMAX]), pick(R), vacc);
    b.emit(pick([OP.RARGMIN, OP.RARGMAX, OP.RNANARGMIN, OP.RNANARGMAX]), pick(R), arg, ix);
    b.emit(OP.RVAR, pick(R), varS);
    b.emit(pick([OP.CUMSUM, OP.CUMPROD]), pick(R), pick(R), cum);
    b.emit(OP.HIST, pick(R), r() < 0.5 ? -1 : pick(R), hist, b.block([7, 0, -50, 50, -50, 7 / 100, -50, 100 / 7, 100, 50]));
    const vectorVar = r() < 0.5;
    const arrays = {
      x: { dtype: DT.F64, length: n, init: randomValues(n, seed) },
      y: { dtype: DT.F32, length: n, init: randomValues(n, seed + 1) },
      z: { dtype: DT.I32, length: n, init: randomValues(n, seed + 2, { special: false, ints: true }) },
      m: { dtype: DT.BOOL, length: n, init: randomValues(n, seed + 3, { special: false, ints: true }).map((v) => (v > 0 ? 1 : 0)) },
      xs: { dtype: DT.F64, length: 3 * n, init: randomValues(3 * n, seed + 4) },
      out: { dtype: DT.F64, length: n }, out32: { dtype: DT.F32, length: n }, outI: { dtype: DT.I32, length: n }, outB: { dtype: DT.BOOL, length: n },
      acc: { dtype: DT.F64, length: 1, init: [pick([0, 1, -0, 0.5])] },
      vacc: { dtype: DT.F64, length: rowLen, init: randomValues(rowLen, seed + 5) },
      arg: { dtype: DT.F64, length: 1, init: [0] }, argI: { dtype: DT.F64, length: 1, init: [-1] },
      varS: { dtype: DT.F64, length: vectorVar ? rowLen : 1 }, varM: { dtype: DT.F64, length: vectorVar ? rowLen : 1 }, varQ: { dtype: DT.F64, length: vectorVar ? rowLen : 1 },
      cum: { dtype: DT.F64, length: rowLen, init: new Float64Array(rowLen).fill(1) },
      hist: { dtype: DT.F64, length: 7 },
    };
    const f0 = Math.floor(r() * 2 ** 20);
    const strided = -2 + Math.floor(r() * 5); // xs: a gather with step -2..2 from its middle
    const geometry = (a) => ({
      extents: [rows],
      rowLen,
      slots: [
        { base: a.x, last: 1, rows: [rowLen] }, { base: a.y, last: 1, rows: [rowLen] }, { base: a.z, last: 1, rows: [rowLen] },
        { base: a.m, last: r() < 0.2 ? 0 : 1, rows: [rowLen] },
        { base: a.xs + 8 * Math.floor(1.5 * n), last: strided, rows: [strided === 0 ? 1 : 0] },
        { base: f0, last: 1, rows: [rowLen + 3] },
        { base: a.out, last: 1, rows: [rowLen] }, { base: a.out32, last: 1, rows: [rowLen] }, { base: a.outI, last: 1, rows: [rowLen] },
        { base: a.outB, last: 1, rows: [rowLen] },
        { base: a.acc, last: 0, rows: [0] }, { base: a.vacc, last: 1, rows: [0] },
        { base: a.arg, last: 0, rows: [0] }, { base: a.argI, last: 0, rows: [0] },
        { base: a.varS, last: vectorVar ? 1 : 0, rows: [0] }, { base: a.varM, last: vectorVar ? 1 : 0, rows: [0] }, { base: a.varQ, last: vectorVar ? 1 : 0, rows: [0] },
        { base: a.cum, last: 1, rows: [0] }, { base: a.hist, last: 0, rows: [0] },
      ],
    });
    return { tpl: b.build(), arrays, geometry, tile };
  }

  const usesJsApprox = (code) => {
    for (let pc = 0; code[pc] !== OP.END; pc += 1 + abi.opArity(code[pc])) if (APPROX_JS.has(code[pc]) || code[pc] === OP.RANDOM && code[pc + 3] === 1) return true;
    return false;
  };

  test(`random programs over every exact opcode: every level (${addon.levels().join(", ")}) gives wasm's bits`, () => {
    let compared = 0;
    for (let seed = 1; seed <= 150; seed++) {
      const c = randomCase(seed);
      const res = runLevels(c.tpl, c.arrays, c.geometry, c.tile);
      assert.equal(res.rc, [0, 0], `seed ${seed}`);
      assert.ok(res.guardsOk, `seed ${seed}: wrote past an array`);
      assert.is(res.natives.length, addon.levels().length);
      if (!usesJsApprox(c.tpl.code)) {
        // and the oracle agrees (libm ops propagate last-bit differences: checked in elementwise.test)
        for (const k of Object.keys(res.out[0])) assert.is(firstDiff(res.out[0][k], res.out[1][k]), -1, `seed ${seed}: js ${k}`);
        compared++;
      }
    }
    assert.ok(compared > 10, `only ${compared} programs without libm ops`);
  });

  test("RANDOM (both kinds) and the fused RANDOM -> ADD -> RSUM over spans crossing blocks, tiles and rows, at every level", () => {
    for (const [f0, rowLen, rows, tile] of [[0, 4096, 2, 1024], [3, 5000, 2, 1024], [255, 1024, 3, 1024], [2 ** 40 + 77, 2000, 3, 1024],
      [1, 9000, 1, 4096], [129, 700, 4, 12], [2 ** 52 - 5, 300, 2, 64], [511, 2048, 2, 2048], [17, 1, 5, 4]]) {
      for (const body of ["fused", "fusedSub", "bare", "uniform", "normal"]) {
        const b = new ProgramBuilder();
        const ix = b.indexSlot(), acc = b.memSlot(DT.F64), out = b.memSlot(DT.F64);
        const r = b.reg();
        const seed = b.seed(12345 + f0);
        if (body === "normal" || body === "uniform") {
          b.emit(OP.RANDOM, r, ix, body === "normal" ? 1 : 0, seed);
          b.emit(OP.STORE, r, out);
        } else {
          b.emit(OP.RANDOM, r, ix, 0, seed);
          if (body === "fused") b.emit(OP.ADD, r, r, b.constant(1), 2);
          if (body === "fusedSub") b.emit(OP.SUB, r, r, b.constant(0.25), 2);
          b.emit(OP.RSUM, r, acc);
        }
        const n = rows * rowLen;
        const res = runLevels(b.build(), { acc: { dtype: DT.F64, length: 1, init: [0.5] }, out: { dtype: DT.F64, length: n } }, (a) => ({
          extents: [rows],
          rowLen,
          slots: [{ base: f0, last: 1, rows: [rowLen * 7 + 1] }, { base: a.acc, last: 0, rows: [0] }, { base: a.out, last: 1, rows: [rowLen] }],
        }), tile);
        assert.equal(res.rc, [0, 0]);
        const what = `${body} f0=${f0} rowLen=${rowLen} rows=${rows} tile=${tile}`;
        if (body === "normal") for (let i = 0; i < n; i++) assert.ok(close(res.out[0].out[i], res.out[1].out[i], 8), `${what}: js [${i}]`);
        else for (const k of ["acc", "out"]) assert.is(firstDiff(res.out[0][k], res.out[1][k]), -1, `${what}: js ${k}`);
      }
    }
  });

  test("a program that is only the fused run, by whole rows: long rows (the row buffer moves), every tile remainder, constants, at every level", () => {
    // native/kernels/fused.inc sums tile t while making tile t + 1's blocks in a buffer of twice a tile's
    // blocks (and a group): long rows move them; tiles that are not multiples of 16 or 256 cut blocks and accumulators
    const cases = [[3, 70000, 2, 1024], [200, 40001, 1, 12], [2 ** 40 + 77, 33333, 2, 1000], [0, 65536, 1, 4096], [255, 20000, 2, 300],
      [1, 17000, 1, 4], [4095, 16385, 3, 4092], [2 ** 53 - 301, 300, 1, 64], [7, 255, 3, 1024], [256, 257, 2, 256],
      // many short rows: each row's last tile is summed while the next row's first blocks are made (AVX-512),
      // beside or before it in the buffer, or moved; contiguous rows (stride = rowLen) share a block
      [5, 300, 40, 64, 300], [1000, 1500, 30, 1024], [77, 2048, 12, 1024, 2048], [3, 9, 50, 4, 9], [129, 700, 25, 12]];
    for (const [f0, rowLen, rows, tile, stride = rowLen + 4099] of cases) {
      // k = 1: c = 0 (x itself); bare (no ADD) and k = 0: c = -1 (the mantissa form on AVX-512); else x + c
      for (const k of [1, 3, -0.5, 0, "bare"]) {
        const b = new ProgramBuilder();
        const ix = b.indexSlot(), acc = b.memSlot(DT.F64);
        const r = b.reg();
        b.emit(OP.RANDOM, r, ix, 0, b.seed(777 + rowLen));
        if (k !== "bare") b.emit(OP.ADD, r, r, b.constant(k), 2);
        b.emit(OP.RSUM, r, acc);
        const res = runLevels(b.build(), { acc: { dtype: DT.F64, length: 1, init: [0.5] } }, (a) => ({
          extents: [rows],
          rowLen,
          slots: [{ base: f0, last: 1, rows: [stride] }, { base: a.acc, last: 0, rows: [0] }],
        }), tile);
        assert.equal(res.rc, [0, 0]);
        const what = `k=${k} f0=${f0} rowLen=${rowLen} rows=${rows} tile=${tile}`;
        assert.is(firstDiff(res.out[0].acc, res.out[1].acc), -1, `${what}: wasm ${res.out[0].acc[0]} js ${res.out[1].acc[0]}`);
        assert.ok(Math.abs(res.out[1].acc[0] - 0.5 - rows * rowLen * ((k === "bare" ? 0 : k) + 0.5)) < 6 * Math.sqrt(rows * rowLen / 12) + 1, what); // 6 sigma
        assert.is(res.natives.length, addon.levels().length, what); // every level ran (and matched wasm)
      }
    }
  });

  test("outputs of 8 MiB and more (streaming stores into resident memory): a + b, k * a and a copy into f64, odd lengths, unaligned and overlapping outputs, at every level", () => {
    // interpreter.inc streams a run's contiguous f64 STOREs once it writes >= STREAM_MIN_BYTES (8 MiB) into
    // memory already faulted in (the harness zero-fills every array first): the streamed rows, their
    // unaligned heads and their tails hold wasm's bits, and nothing is written past an output
    const R = 5, rowLen = 250_001, n = R * rowLen; // 10 MiB of f64 per array
    const values = (seed) => Float64Array.from({ length: n + 8 }, (_, i) => Math.sin(i * 0.37 + seed) * 1e3 + (i % 7) * 0.125);
    const shapes = [
      ["a + b", (b, { x, y, out }) => { const r = [b.reg(), b.reg()]; b.emit(OP.LOAD, r[0], x); b.emit(OP.LOAD, r[1], y); b.emit(OP.ADD, r[0], r[0], r[1], 0); b.emit(OP.STORE, r[0], out); }],
      ["k * a", (b, { x, out }) => { const r = b.reg(); b.emit(OP.LOAD, r, x); b.emit(OP.MUL, r, b.constant(-2.5), r, 1); b.emit(OP.STORE, r, out); }],
      ["copy and sqrt", (b, { x, out, out2 }) => { const r = [b.reg(), b.reg()]; b.emit(OP.LOAD, r[0], x); b.emit(OP.STORE, r[0], out); b.emit(OP.SQRT, r[1], r[0]); b.emit(OP.STORE, r[1], out2); }],
      // the output is the input shifted by one element: a STORE whose register aliases the bytes it writes
      ["in place, shifted", (b, { y, out }) => { const r = b.reg(); b.emit(OP.LOAD, r, y); b.emit(OP.ADD, r, r, b.constant(1), 2); b.emit(OP.STORE, r, out); }, true],
    ];
    for (const [name, emit, shifted] of shapes) {
      for (const shift of [0, 1, 3]) { // output elements from a 64-byte boundary (the arrays start 16-byte aligned)
        const b = new ProgramBuilder();
        const x = b.memSlot(DT.F64), y = b.memSlot(DT.F64), out = b.memSlot(DT.F64), out2 = b.memSlot(DT.F64);
        emit(b, { x, y, out, out2 });
        const arrays = { x: { dtype: DT.F64, length: n + 8, init: values(1) }, y: { dtype: DT.F64, length: n + 8, init: values(2) }, out: { dtype: DT.F64, length: n + 8 }, out2: { dtype: DT.F64, length: n + 8 } };
        const res = runLevels(b.build(), arrays, (a) => ({
          extents: [R],
          rowLen,
          slots: [{ base: a.x, last: 1, rows: [rowLen] }, { base: a.y, last: 1, rows: [rowLen] },
            { base: shifted ? a.y + 8 * (shift + 1) : a.out + 8 * shift, last: 1, rows: [rowLen] }, { base: a.out2 + 8 * shift, last: 1, rows: [rowLen] }],
        }), 1024);
        const what = `${name}, output at +${shift}`;
        assert.equal(res.rc, [0, 0], what);
        assert.ok(res.guardsOk, `${what}: written past an output`);
        assert.is(res.natives.length, addon.levels().length, what); // every level ran and matched wasm bit for bit
        const w = res.out[0], src = values(1);
        if (name === "a + b") assert.is(w.out[shift + 7], src[7] + values(2)[7], what);
        if (name === "copy and sqrt") assert.is(w.out[shift + n - 1], src[n - 1], what);
      }
    }
  });

  test("bounds: any slot, register file, scratch or program part outside the memory is RC.OUT_OF_BOUNDS; the wrapper throws wasm's trap", () => {
    const mem = createSharedMemory(4);
    const size = mem.buffer.byteLength;
    const runs = addon.levels().map((l) => addon.bind(new Uint8Array(mem.buffer), l));
    const at = 65536, regs = 2 * 65536, scratch = 3 * 65536 - abi.SCRATCH_BYTES;
    const cases = [];
    const mk = (name, emit, slots, want = abi.RC.OUT_OF_BOUNDS, rowLen = 8, extents = [2]) => {
      const b = new ProgramBuilder();
      const s0 = b.memSlot(DT.F64), s1 = b.memSlot(DT.F64), s2 = b.memSlot(DT.F64), ix = b.indexSlot();
      const r = b.reg();
      emit(b, { s0, s1, s2, ix, r });
      cases.push({ name, tpl: b.build(), geom: { extents, rowLen, slots: [...slots, { base: 0, last: 1, rows: extents.map(() => 0) }] }, want });
    };
    const inside = size - 1024;
    const ok = [{ base: inside, last: 1, rows: [8] }, { base: inside + 256, last: 0, rows: [0] }, { base: inside + 512, last: 1, rows: [0] }];
    mk("in bounds", (b, { s0, s1, r }) => { b.emit(OP.LOAD, r, s0); b.emit(OP.RSUM, r, s1); }, ok, abi.RC.OK);
    mk("LOAD past the end", (b, { s0, s1, r }) => { b.emit(OP.LOAD, r, s0); b.emit(OP.RSUM, r, s1); }, [{ base: size - 64, last: 1, rows: [8] }, ok[1], ok[2]]);
    mk("last row past the end", (b, { s0, s1, r }) => { b.emit(OP.LOAD, r, s0); b.emit(OP.RSUM, r, s1); }, [{ base: size - 128, last: 1, rows: [9] }, ok[1], ok[2]]);
    mk("negative strided gather", (b, { s0, s1, r }) => { b.emit(OP.LOAD, r, s0); b.emit(OP.RSUM, r, s1); }, [{ base: 40, last: -1, rows: [0] }, ok[1], ok[2]]);
    mk("negative base", (b, { s0, s1, r }) => { b.emit(OP.LOAD, r, s0); b.emit(OP.STORE, r, s1); }, [ok[0], { base: -8, last: 0, rows: [0] }, ok[2]]);
    mk("NaN base", (b, { s0, s1, r }) => { b.emit(OP.LOAD, r, s0); b.emit(OP.STORE, r, s1); }, [ok[0], { base: NaN, last: 1, rows: [0] }, ok[2]]);
    mk("STORE past the end", (b, { s0, s2, r }) => { b.emit(OP.LOAD, r, s0); b.emit(OP.STORE, r, s2); }, [ok[0], ok[1], { base: size - 32, last: 1, rows: [8] }]);
    mk("vector accumulator past the end", (b, { s0, s2, r }) => { b.emit(OP.LOAD, r, s0); b.emit(OP.RMAX, r, s2); }, [ok[0], ok[1], { base: size - 56, last: 1, rows: [0] }]);
    mk("RVAR's third slot", (b, { s0, r }) => { b.emit(OP.LOAD, r, s0); b.emit(OP.RVAR, r, 0); }, [ok[0], ok[1], { base: size, last: 0, rows: [0] }]);
    mk("fused accumulator", (b, { ix, s1, r }) => { b.emit(OP.RANDOM, r, ix, 0, b.seed(1)); b.emit(OP.RSUM, r, s1); }, [ok[0], { base: size - 4, last: 0, rows: [0] }, ok[2]]);
    mk("HIST counters past the end", (b, { s0, s1, r }) => { b.emit(OP.LOAD, r, s0); b.emit(OP.HIST, r, -1, s1, b.block([64, 0, 0, 1, 0, 64, 0, 1 / 64, 1, 1])); }, [ok[0], { base: size - 256, last: 0, rows: [0] }, ok[2]]);
    mk("nothing to run: no access", (b, { s0, s1, r }) => { b.emit(OP.LOAD, r, s0); b.emit(OP.STORE, r, s1); }, [{ base: 1e12, last: 1, rows: [8] }, ok[1], ok[2]], abi.RC.OK, 0);
    for (const c of cases) {
      new Uint8Array(mem.buffer).fill(0);
      writeProgram(mem.buffer, at, c.tpl, c.geom, 4, regs, scratch);
      for (const [i, run] of runs.entries()) assert.is(run(at, size), c.want, `${c.name} (${addon.levels()[i]})`);
    }
    // the program itself, its register file and its scratch
    const c = cases[0];
    writeProgram(mem.buffer, at, c.tpl, c.geom, 4, regs, scratch);
    for (const run of runs) {
      assert.is(run(size - 16, size), abi.RC.OUT_OF_BOUNDS, "header past the end");
      assert.is(run(at, at + 40), abi.RC.OUT_OF_BOUNDS, "memory shorter than the program");
      assert.is(run(2 ** 33, size), abi.RC.OUT_OF_BOUNDS, "program address beyond 4 GiB");
    }
    writeProgram(mem.buffer, at, c.tpl, c.geom, 4, size - 16, scratch);
    for (const run of runs) assert.is(run(at, size), abi.RC.OUT_OF_BOUNDS, "register file past the end");
    writeProgram(mem.buffer, at, c.tpl, c.geom, 4, regs, size - 1024);
    for (const run of runs) assert.is(run(at, size), abi.RC.OUT_OF_BOUNDS, "scratch past the end");
  });

  test("bounds through runBoth: the wasm trap and the native wrapper's error are the same kind", () => {
    const b = new ProgramBuilder();
    const x = b.memSlot(DT.F64), y = b.memSlot(DT.F64);
    const r = b.reg();
    b.emit(OP.LOAD, r, x);
    b.emit(OP.STORE, r, y);
    const arrays = { x: { dtype: DT.F64, length: 8, atEnd: true }, y: { dtype: DT.F64, length: 8 } };
    // rows 2 of 8: the second row of x is past the end of memory
    assert.throws(() => runBoth(b.build(), arrays, (a) => ({ extents: [2], rowLen: 8, slots: [{ base: a.x, last: 1, rows: [8] }, { base: a.y, last: 1, rows: [0] }] }), 4),
      (e) => e instanceof WebAssembly.RuntimeError);
  });

  test("a binary op STOREd to f64 memory is computed straight into it (native): read again after, stored over its operands, over a shifted alias, overwritten, unaligned", () => {
    // native/kernels/interpreter.inc computes r = a op b into the STORE's slot and aliases r to it: every
    // later use of r, and every write over memory r or an operand aliases, must give the copying twins' bits
    const bodies = {
      reuse: (b, S, R) => { // r2 read from the stored memory by a reduction and another fused op
        b.emit(OP.LOAD, R[0], S.x); b.emit(OP.LOAD, R[1], S.y);
        b.emit(OP.ADD, R[2], R[0], R[1], 0); b.emit(OP.STORE, R[2], S.out);
        b.emit(OP.RSUM, R[2], S.acc);
        b.emit(OP.MUL, R[3], R[2], b.constant(2), 2); b.emit(OP.STORE, R[3], S.out2);
      },
      inplace: (b, S, R) => { // x = x + y over the loaded (aliased) x, then x's old values used
        b.emit(OP.LOAD, R[0], S.x); b.emit(OP.LOAD, R[1], S.y);
        b.emit(OP.ADD, R[2], R[0], R[1], 0); b.emit(OP.STORE, R[2], S.x);
        b.emit(OP.SUB, R[3], R[0], R[2], 0); b.emit(OP.STORE, R[3], S.out);
      },
      self: (b, S, R) => { // r0 = r0 * 3 into x, r0 being x's alias
        b.emit(OP.LOAD, R[0], S.x);
        b.emit(OP.MUL, R[0], R[0], b.constant(3), 2); b.emit(OP.STORE, R[0], S.x);
        b.emit(OP.RSUM, R[0], S.acc);
      },
      shifted: (b, S, R) => { // stored one element past x's start, over the alias of x (and the next row's first)
        b.emit(OP.LOAD, R[0], S.x);
        b.emit(OP.MUL, R[1], R[0], b.constant(3), 2); b.emit(OP.STORE, R[1], S.xshift);
        b.emit(OP.ADD, R[2], R[0], R[1], 0); b.emit(OP.STORE, R[2], S.out);
        b.emit(OP.RSUM, R[0], S.acc);
      },
      overwrite: (b, S, R) => { // r1 stored to out, out overwritten by r2, then r1 read
        b.emit(OP.LOAD, R[0], S.x); b.emit(OP.LOAD, R[1], S.y);
        b.emit(OP.ADD, R[2], R[0], R[1], 0); b.emit(OP.STORE, R[2], S.out);
        b.emit(OP.SUB, R[3], R[0], R[1], 0); b.emit(OP.STORE, R[3], S.out);
        b.emit(OP.RSUM, R[2], S.acc);
        b.emit(OP.MUL, R[1], R[2], R[3], 0); b.emit(OP.STORE, R[1], S.out2);
      },
      unaligned: (b, S, R) => { // an f64 slot 4 bytes off alignment: the copying path
        b.emit(OP.LOAD, R[0], S.x); b.emit(OP.LOAD, R[1], S.y);
        b.emit(OP.DIV, R[2], R[0], R[1], 0); b.emit(OP.STORE, R[2], S.outu);
        b.emit(OP.RSUM, R[2], S.acc);
      },
      constants: (b, S, R) => { // constant operands on either side, and both
        b.emit(OP.LOAD, R[0], S.x);
        b.emit(OP.SUB, R[1], b.constant(1.5), R[0], 1); b.emit(OP.STORE, R[1], S.out);
        b.emit(OP.MAX, R[2], b.constant(2), b.constant(-0), 3); b.emit(OP.STORE, R[2], S.out2);
        b.emit(OP.ADD, R[3], R[1], R[2], 0); b.emit(OP.STORE, R[3], S.out);
        b.emit(OP.RSUM, R[1], S.acc);
      },
    };
    for (const [rowLen, rows, tile] of [[1000, 3, 64], [7, 5, 4], [4096, 2, 1024], [33, 4, 12], [1, 3, 4]]) {
      for (const [name, body] of Object.entries(bodies)) {
        const b = new ProgramBuilder();
        const S = { x: b.memSlot(DT.F64), y: b.memSlot(DT.F64), out: b.memSlot(DT.F64), out2: b.memSlot(DT.F64), acc: b.memSlot(DT.F64), xshift: b.memSlot(DT.F64), outu: b.memSlot(DT.F64) };
        const R = [b.reg(), b.reg(), b.reg(), b.reg()];
        body(b, S, R);
        const n = rows * rowLen;
        const res = runLevels(b.build(), {
          x: { dtype: DT.F64, length: n + 1, init: randomValues(n + 1, 11 + rowLen) },
          y: { dtype: DT.F64, length: n, init: randomValues(n, 12 + rowLen) },
          out: { dtype: DT.F64, length: n }, out2: { dtype: DT.F64, length: n }, acc: { dtype: DT.F64, length: 1, init: [0.25] },
          ou: { dtype: DT.F64, length: n + 1 },
        }, (a) => ({
          extents: [rows],
          rowLen,
          slots: [
            { base: a.x, last: 1, rows: [rowLen] }, { base: a.y, last: 1, rows: [rowLen] }, { base: a.out, last: 1, rows: [rowLen] },
            { base: a.out2, last: 1, rows: [rowLen] }, { base: a.acc, last: 0, rows: [0] }, { base: a.x + 8, last: 1, rows: [rowLen] },
            { base: a.ou + 4, last: 1, rows: [rowLen] },
          ],
        }), tile);
        const what = `${name} rowLen=${rowLen} rows=${rows} tile=${tile}`;
        assert.equal(res.rc, [0, 0], what);
        assert.ok(res.guardsOk, `${what}: wrote past an array`);
        // every native level equals wasm (runLevels checks); and wasm the JS twin, which copies through registers
        for (const k of Object.keys(res.out[0])) assert.is(firstDiff(res.out[0][k], res.out[1][k]), -1, `${what}: js ${k}`);
      }
    }
  });

  test.run();
}
