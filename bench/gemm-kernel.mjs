#!/usr/bin/env node
// GEMM kernel micro-benchmark (run after `npm run build`): one thread, one kernel memory.
//   kernel: gemm() of a row-major float64 n×n product, beta 0, for each size (2 n^3 flops)
//   peak:   gemmPeak(), the kernel's own 6×4 microkernel called as the blocked loop calls it, on one pair of
//           packed 512-deep micro-panels (GEMM_KC) in L1: the ceiling of that register-blocked loop in this runtime
// for the plain build (the canonical arithmetic, the default) and the FMA build (TESSERA_GEMM=fma), all
// interleaved rep by rep so the drift of a shared host hits each alike; medians, and kernel ÷ peak.
// C control (when gcc is there): bench/peers/gemm_naive.c, a naive i-k-j loop, gcc -O3 -march=native.
// Usage: node bench/gemm-kernel.mjs [--quick] [--sizes 500,1000,2000] [--reps 5] [--no-fma] [--no-c]
import { execFileSync } from "node:child_process";
import { loadavg } from "node:os";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { DT, GEMM_SCRATCH_BYTES } from "../dist/kernels/abi.js";
import { writeGemmRecord } from "../dist/kernels/gemm-record.js";
import { KERNEL_RESERVED_BYTES, createSharedMemory, kernelModule } from "../dist/kernels/wasm.js";

const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : dflt;
};
const quick = argv.includes("--quick");
const SIZES = opt("sizes", quick ? "300,600" : "500,1000,2000").split(",").map(Number);
const REPS = Number(opt("reps", quick ? 1 : 5));
const PEAK_KC = 512, PEAK_FLOPS_PER_REP = 2 * 6 * 4 * PEAK_KC;

const REC = KERNEL_RESERVED_BYTES, SCRATCH = REC + 4096, DATA = SCRATCH + GEMM_SCRATCH_BYTES;
const NMAX = Math.max(...SIZES);
const memory = createSharedMemory(Math.ceil((DATA + 3 * NMAX * NMAX * 8) / 65536) + 1);
const buf = memory.buffer;

function instance(flavour) {
  const saved = process.env.TESSERA_GEMM;
  process.env.TESSERA_GEMM = flavour;
  try {
    const module = kernelModule();
    return new WebAssembly.Instance(module, { env: { memory, abort: () => { throw new Error("abort"); } } }).exports;
  } finally {
    if (saved === undefined) delete process.env.TESSERA_GEMM;
    else process.env.TESSERA_GEMM = saved;
  }
}
const builds = { plain: instance("plain") };
if (!argv.includes("--no-fma")) {
  try {
    builds.fma = instance("fma");
  } catch (e) {
    console.log(`fma build unavailable: ${e.message}`);
  }
}

// A, B: uniform in [-0.5, 0.5) (a fixed LCG), C after them
const A = DATA, B = A + NMAX * NMAX * 8, C = B + NMAX * NMAX * 8;
{
  let s = 1;
  const f = new Float64Array(buf, A, 2 * NMAX * NMAX);
  for (let i = 0; i < f.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    f[i] = (s >>> 8) / 16777216 - 0.5;
  }
  // the peak's panels and tile: ordinary small numbers
  const p = new Float64Array(buf, SCRATCH, GEMM_SCRATCH_BYTES / 8);
  for (let i = 0; i < p.length; i++) p[i] = 1e-3 * ((i % 7) - 3);
}

function record(n) {
  const op = (base) => ({ base, row: n, col: 1 });
  writeGemmRecord(buf, REC, { dtype: DT.F64, m: n, n, k: n, a: op(A), b: op(B), c: op(C), beta: 0, scratch: SCRATCH });
}

const secs = (t0) => Number(process.hrtime.bigint() - t0) / 1e9;

/** [wall, cpu] seconds of fn(): on a shared host the process's CPU time excludes the time it waited. */
function timed(fn) {
  const c0 = process.cpuUsage().user, t0 = process.hrtime.bigint();
  fn();
  return [secs(t0), (process.cpuUsage().user - c0) / 1e6];
}

/** GFLOP/s of one gemm, [by wall time, by CPU time]. */
function runGemm(k, n) {
  record(n);
  let rc;
  const [w, c] = timed(() => (rc = k.gemm(REC)));
  if (rc !== 0) throw new Error(`gemm rc ${rc}`);
  return [(2 * n ** 3) / w / 1e9, (2 * n ** 3) / Math.max(c, 1e-9) / 1e9];
}

/** Spot-checks C against the canonical sum (plain: bit for bit; fma: within 1e-12 relative). */
function check(n, exact) {
  const a = new Float64Array(buf, A, n * n), b = new Float64Array(buf, B, n * n), c = new Float64Array(buf, C, n * n);
  for (let t = 0; t < 16; t++) {
    const i = (t * 7919) % n, j = (t * 104729 + 13) % n;
    let acc = 0;
    for (let k = 0; k < n; k++) acc = acc + a[i * n + k] * b[k * n + j];
    const got = c[i * n + j];
    if (exact ? got !== acc : Math.abs(got - acc) > 1e-12 * Math.max(1, Math.abs(acc))) throw new Error(`C[${i},${j}] = ${got}, want ${acc}`);
  }
}

let peakReps = 20000;
function runPeak(k) {
  // calibrate once to about 0.3 s
  for (;;) {
    const [w, c] = timed(() => k.gemmPeak(SCRATCH, PEAK_KC, peakReps));
    const flops = PEAK_FLOPS_PER_REP * peakReps;
    if (w > 0.2) return [flops / w / 1e9, flops / Math.max(c, 1e-9) / 1e9];
    peakReps = Math.ceil(peakReps * Math.min(10, 0.3 / Math.max(w, 1e-3)));
  }
}

// warm-up: tier-up of every function involved (the first calls run in V8's baseline tier)
for (const k of Object.values(builds)) {
  for (let i = 0; i < 3; i++) runGemm(k, 200);
  runPeak(k);
}

const res = {};
const push = (key, v) => (res[key] ??= []).push(v);
const cpu0 = process.cpuUsage();
const wall0 = process.hrtime.bigint();
for (let rep = 0; rep < REPS; rep++) {
  for (const [name, k] of Object.entries(builds)) {
    push(`${name} peak`, runPeak(k));
    for (const n of SIZES) {
      push(`${name} n=${n}`, runGemm(k, n));
      if (rep === 0) check(n, name === "plain");
    }
  }
}
const cpuShare = (process.cpuUsage(cpu0).user / 1e6) / secs(wall0);

let native = null;
if (!argv.includes("--no-c")) {
  try {
    const here = dirname(fileURLToPath(import.meta.url));
    const dir = join(here, ".build");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, ".gitignore"), "*\n");
    const bin = join(dir, "gemm_naive");
    if (!existsSync(bin)) execFileSync("gcc", ["-O3", "-march=native", join(here, "peers", "gemm_naive.c"), "-o", bin]);
    native = SIZES.map((n) => JSON.parse(execFileSync(bin, [String(n), String(n >= 2000 ? Math.min(REPS, 3) : REPS)], { encoding: "utf8" })));
  } catch (e) {
    console.log(`C control unavailable: ${e.message.split("\n")[0]}`);
  }
}

const median = (xs) => [...xs].sort((x, y) => x - y)[xs.length >> 1];
const rows = [];
console.log(`GEMM kernel, f64, one thread, median of ${REPS} (GFLOP/s by wall time, and by the process's CPU time in brackets; Node ${process.versions.node}, V8 ${process.versions.v8}; CPU share of the process ${cpuShare.toFixed(2)}, load average ${loadavg().map((x) => x.toFixed(2)).join(" ")})`);
console.log("| build | microkernel peak | " + SIZES.map((n) => `n=${n}`).join(" | ") + " | kernel ÷ peak at n=" + SIZES.at(-1) + " |");
console.log("|---|---|" + SIZES.map(() => "---|").join("") + "---|");
const fig = (xs) => `${median(xs.map((x) => x[0])).toFixed(2)} (${median(xs.map((x) => x[1])).toFixed(2)})`;
for (const name of Object.keys(builds)) {
  const peak = res[`${name} peak`];
  const figs = SIZES.map((n) => res[`${name} n=${n}`]);
  // the ratio rep by rep (peak and kernel measured side by side), then its median
  const ratio = (i) => median(figs.at(-1).map((x, r) => x[i] / peak[r][i])) * 100;
  rows.push({ build: name, peak: median(peak.map((x) => x[0])), peakCpu: median(peak.map((x) => x[1])), sizes: Object.fromEntries(SIZES.map((n, i) => [n, median(figs[i].map((x) => x[0]))])), ratio: ratio(0) / 100, ratioCpu: ratio(1) / 100, all: Object.fromEntries(Object.entries(res).filter(([key]) => key.startsWith(name))) });
  console.log(`| ${name === "plain" ? "plain (canonical, default)" : "FMA (TESSERA_GEMM=fma)"} | ${fig(peak)} | ${figs.map(fig).join(" | ")} | ${ratio(0).toFixed(0)}% (${ratio(1).toFixed(0)}%) |`);
}
if (native) console.log(`| C naive i-k-j, gcc -O3 -march=native | | ${native.map((r) => r.gflops.toFixed(2)).join(" | ")} | |`);
if (argv.includes("--json")) console.log(JSON.stringify({ sizes: SIZES, reps: REPS, rows, native, cpuShare }));
