#!/usr/bin/env node
// zstd encode micro-benchmark (run after `npm run build`): one thread, level 1, MB/s of input per CPU-second
// (the thread's own CPU time, so that other tenants of a shared host count less; wall time beside it).
//   tessera:        assembly/zstd-encode.ts from where the chunk lies in its memory, in parts of 1 MiB as
//                   toZarr calls it (the output of each part overwrites the last: no file written)
//   numcodecs npm:  Zstd.fromConfig({ level: 1 }).encode (the C library in wasm32 behind emscripten's glue;
//                   what toZarr used before)
//   numcodecs C:    python3 numcodecs.Zstd(level=1).encode, Debian's, linked to the system libzstd (what
//                   dask's to_zarr runs), timed inside python
// on 32 MiB of random doubles (a 2048² float64 chunk of random.random) and of a compressible field (a smooth
// quantized signal plus a column ramp), interleaved rep by rep; best of the reps, the ratio beside it.
// Usage: node bench/zstd-encode.mjs [--reps 5] [--mib 32]
import { spawnSync } from "node:child_process";
import { loadavg, tmpdir } from "node:os";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Zstd from "numcodecs/zstd";
import { ZSTD_ENCODE_WORK_BYTES, ZSTD_PART_BYTES, ZSTD_PART_OUT_BYTES, zstdEncoderOnOwnMemory } from "../dist/kernels/wasm.js";

const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : dflt;
};
const REPS = opt("reps", 5);
const N = opt("mib", 32) << 20;
const PY = process.env.TESSERA_BENCH_PYTHON ?? "/usr/bin/python3";

function inputs() {
  let s = 0x9e3779b9;
  const rnd = () => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return s / 2 ** 32;
  };
  const random = Float64Array.from({ length: N / 8 }, () => rnd() + rnd() * 2 ** -32);
  const field = Float64Array.from({ length: N / 8 }, (_, i) => Math.round(Math.sin(i / 1000) * 100) / 4 + (i % 2048));
  return { "random doubles": new Uint8Array(random.buffer), "smooth field": new Uint8Array(field.buffer) };
}

const enc = zstdEncoderOnOwnMemory();
const work = Math.ceil(enc.base / 64) * 64;
const out = work + ZSTD_ENCODE_WORK_BYTES;
const src = Math.ceil((out + ZSTD_PART_OUT_BYTES) / 64) * 64;
enc.memory.grow(Math.ceil((src + N - enc.memory.buffer.byteLength) / 65536) + 1);

function tessera(bytes) {
  new Uint8Array(enc.memory.buffer, src, bytes.length).set(bytes); // untimed: the chunk is there already in toZarr
  const t = performance.now();
  const c = process.cpuUsage();
  let size = 0;
  for (let at = 0; at < bytes.length; at += ZSTD_PART_BYTES) {
    const to = Math.min(bytes.length, at + ZSTD_PART_BYTES);
    const rc = enc.compress(out, ZSTD_PART_OUT_BYTES, src, at, to, bytes.length, work);
    if (rc < 0) throw new Error(`zstdCompress: code ${rc}`);
    size += rc;
  }
  return { s: cpu(c), wall: (performance.now() - t) / 1000, size };
}

const cpu = (c) => {
  const u = process.cpuUsage(c);
  return (u.user + u.system) / 1e6;
};
const npm = Zstd.fromConfig({ level: 1 });
async function numcodecsNpm(bytes) {
  const t = performance.now();
  const c = process.cpuUsage();
  const z = await npm.encode(bytes);
  return { s: cpu(c), wall: (performance.now() - t) / 1000, size: z.length };
}

const dir = mkdtempSync(join(tmpdir(), "tessera-zstd-bench-"));
function numcodecsC(file) {
  const r = spawnSync(PY, ["-c", `
import numcodecs, time, sys
b = open(sys.argv[1], "rb").read(); z = numcodecs.Zstd(level=1); z.encode(b)
t = time.perf_counter(); c = time.process_time(); n = len(z.encode(b)); print(time.process_time() - c, time.perf_counter() - t, n)`, file], { encoding: "utf8" });
  if (r.status !== 0) return null;
  const [s, wall, size] = r.stdout.trim().split(" ").map(Number);
  return { s, wall, size };
}

const data = inputs();
const files = {};
for (const [name, bytes] of Object.entries(data)) writeFileSync((files[name] = join(dir, `${name.replace(" ", "-")}.bin`)), bytes);
const best = {};
const keep = (k, r) => {
  if (r && (!best[k] || r.s < best[k].s)) best[k] = { ...r, wall: Math.min(r.wall, best[k]?.wall ?? Infinity) };
};
const load0 = loadavg();
tessera(data["random doubles"]); // warm-up: the optimizing tier
for (let rep = 0; rep < REPS; rep++) {
  for (const [name, bytes] of Object.entries(data)) {
    keep(`${name}|tessera`, tessera(bytes));
    keep(`${name}|numcodecs npm (wasm32)`, await numcodecsNpm(bytes));
    keep(`${name}|numcodecs C (python)`, numcodecsC(files[name]));
  }
}
rmSync(dir, { recursive: true, force: true });
console.log(`zstd level 1 encode, ${N >> 20} MiB, best of ${REPS}, one thread; load average ${load0.map((x) => x.toFixed(2)).join(" ")} -> ${loadavg().map((x) => x.toFixed(2)).join(" ")}`);
console.log("| input | encoder | MB/s per CPU-second | MB/s wall | ratio | tessera ÷ it (CPU) |");
console.log("|---|---|---:|---:|---:|---:|");
for (const name of Object.keys(data)) {
  const mine = best[`${name}|tessera`];
  for (const e of ["tessera", "numcodecs npm (wasm32)", "numcodecs C (python)"]) {
    const r = best[`${name}|${e}`];
    if (!r) {
      console.log(`| ${name} | ${e} | missing | | | |`);
      continue;
    }
    console.log(`| ${name} | ${e} | ${(N / 1e6 / r.s).toFixed(0)} | ${(N / 1e6 / r.wall).toFixed(0)} | ${(r.size / N).toFixed(4)} | ${(r.s / mine.s).toFixed(2)}× |`);
  }
}
