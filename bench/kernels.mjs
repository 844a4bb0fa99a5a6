#!/usr/bin/env node
// Kernel micro-benchmarks (run after `npm run build`): median of 5 runs each.
//   fused random -> +1 -> sum over 1e8 elements (25 chunks of 2000 x 2000 of a 10000 x 10000 array, tile 1024):
//     wasm SIMD interpreter, the JS twin (on one chunk), a plain JS loop with Math.random
//   sum of a materialized 512 MiB f64 array (LOAD -> RSUM): wasm vs a plain JS loop
// Usage: node bench/kernels.mjs [--quick]
import { DEFAULT_TILE, DT, MAX_REGS, OP, SCRATCH_BYTES } from "../dist/kernels/abi.js";
import { ProgramBuilder, writeProgram } from "../dist/kernels/program.js";
import { runReference } from "../dist/kernels/reference.js";
import { KERNEL_RESERVED_BYTES, createSharedMemory, instantiateKernels, kernelModule } from "../dist/kernels/wasm.js";

const quick = process.argv.includes("--quick");
const REPS = 5;
const N = 10_000, CHUNK = 2000;
const SUM_BYTES = quick ? 64 * 2 ** 20 : 512 * 2 ** 20;

const PROG = KERNEL_RESERVED_BYTES, SCRATCH = PROG + 65536, REGS = SCRATCH + SCRATCH_BYTES;
const ACC = REGS + MAX_REGS * DEFAULT_TILE * 8, DATA = ACC + 4096;
const memory = createSharedMemory(Math.ceil((DATA + SUM_BYTES) / 65536) + 1);
const wasm = instantiateKernels(memory, kernelModule());
const buf = memory.buffer;
const f64 = new Float64Array(buf);

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}
const cpuTimes = []; // CPU seconds of each time() call: on a shared, loaded host wall time includes waiting
function time(fn) {
  const c = process.cpuUsage().user;
  const t = process.hrtime.bigint();
  const v = fn();
  cpuTimes.push((process.cpuUsage().user - c) / 1e6);
  return [Number(process.hrtime.bigint() - t) / 1e9, v];
}

// ---- fused random -> +1 -> sum
const b = new ProgramBuilder();
const ix = b.indexSlot(), acc = b.memSlot(DT.F64);
const r = b.reg();
b.emit(OP.RANDOM, r, ix, 0, b.seed(42));
b.emit(OP.ADD, r, r, b.constant(1), 2);
b.emit(OP.RSUM, r, acc);
const tpl = b.build();

function fused(run, chunks) {
  f64[ACC / 8] = 0;
  let n = 0;
  for (let ci = 0; ci < N / CHUNK; ci++) {
    for (let cj = 0; cj < N / CHUNK; cj++) {
      if (n >= chunks) break;
      n++;
      writeProgram(buf, PROG, tpl, {
        extents: [CHUNK],
        rowLen: CHUNK,
        slots: [{ base: ci * CHUNK * N + cj * CHUNK, last: 1, rows: [N] }, { base: ACC, last: 0, rows: [0] }],
      }, DEFAULT_TILE, REGS, SCRATCH);
      const rc = run(PROG);
      if (rc !== 0) throw new Error(`rc ${rc}`);
    }
  }
  return f64[ACC / 8];
}

const allChunks = (N / CHUNK) ** 2; // 25 x 4e6 = 1e8
const elems = allChunks * CHUNK * CHUNK;
fused(wasm.run, 2); // warm up (tier-up)
const tw = [];
const twCpu = [];
let sumW;
for (let i = 0; i < REPS; i++) {
  const [t, v] = time(() => fused(wasm.run, allChunks));
  tw.push(t);
  twCpu.push(cpuTimes.at(-1));
  sumW = v;
}
const jsChunks = 1;
const tj = [];
let sumJ;
for (let i = 0; i < (quick ? 1 : 3); i++) {
  const [t, v] = time(() => fused((p) => runReference(buf, p), jsChunks));
  tj.push(t);
  sumJ = v;
}
const sumW1 = fused(wasm.run, jsChunks);
const tp = [];
for (let i = 0; i < REPS; i++) {
  tp.push(time(() => {
    let s = 0;
    for (let k = 0; k < elems; k++) s += Math.random() + 1;
    return s;
  })[0]);
}
const wRate = elems / median(tw), jRate = (jsChunks * CHUNK * CHUNK) / median(tj), pRate = elems / median(tp);
console.log(`fused random -> +1 -> sum, ${elems.toExponential()} elements (chunks ${CHUNK}x${CHUNK}, tile ${DEFAULT_TILE})`);
console.log(`  wasm-simd  ${median(tw).toFixed(3)} s  ${(wRate / 1e9).toFixed(3)}e9 doubles/s  (sum ${sumW}, mean ${(sumW / elems).toFixed(6)})`);
console.log(`             ${(elems / median(twCpu) / 1e9).toFixed(3)}e9 doubles/s per CPU second (process CPU time: robust on a busy host)`);
console.log(`  js twin    ${(jRate / 1e6).toFixed(1)}e6 doubles/s on one chunk (sum ${sumJ}, ${sumJ === sumW1 ? "bit-identical to wasm" : "DIFFERS from wasm " + sumW1})`);
console.log(`  plain JS   ${median(tp).toFixed(3)} s  ${(pRate / 1e9).toFixed(3)}e9 doubles/s (Math.random() + 1 loop)`);
console.log(`  wasm / plain JS = ${(wRate / pRate).toFixed(1)}x`);

// ---- sum of a materialized array
const n = SUM_BYTES / 8;
const data = new Float64Array(buf, DATA, n);
for (let i = 0; i < n; i++) data[i] = (i % 1000) * 0.5;
const bs = new ProgramBuilder();
const xs = bs.memSlot(DT.F64), accs = bs.memSlot(DT.F64);
const rs = bs.reg();
bs.emit(OP.LOAD, rs, xs);
bs.emit(OP.RSUM, rs, accs);
const tplS = bs.build();
const ROW = 1 << 20;
function sumRun() {
  f64[ACC / 8] = 0;
  writeProgram(buf, PROG, tplS, { extents: [n / ROW], rowLen: ROW, slots: [{ base: DATA, last: 1, rows: [ROW] }, { base: ACC, last: 0, rows: [0] }] }, DEFAULT_TILE, REGS, SCRATCH);
  if (wasm.run(PROG) !== 0) throw new Error("rc");
  return f64[ACC / 8];
}
sumRun();
const ts = [];
let sv;
for (let i = 0; i < REPS; i++) {
  const [t, v] = time(sumRun);
  ts.push(t);
  sv = v;
}
const tsj = [];
for (let i = 0; i < REPS; i++) {
  tsj.push(time(() => {
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (let i = 0; i < n; i += 4) { s0 += data[i]; s1 += data[i + 1]; s2 += data[i + 2]; s3 += data[i + 3]; }
    return s0 + s1 + s2 + s3;
  })[0]);
}
console.log(`sum of ${SUM_BYTES / 2 ** 20} MiB f64 (LOAD -> RSUM, tile ${DEFAULT_TILE})`);
console.log(`  wasm-simd  ${(SUM_BYTES / median(ts) / 1e9).toFixed(2)} GB/s  (sum ${sv})`);
console.log(`  plain JS   ${(SUM_BYTES / median(tsj) / 1e9).toFixed(2)} GB/s  (4 accumulators)`);
