// One rank of the rank-layer benchmarks (bench/ranks.mjs starts P of these with launchLocal, or srun does).
//
//   node bench/ranks_case.mjs allreduce [LAT_ITERS=1000] [WARMUP=200] [BW_ELEMENTS=8388608] [BW_REPS=5]
//   node bench/ranks_case.mjs startup
//
// allreduce: warm up, barrier, then time each of LAT_ITERS allreduces of one float64 (a JS number, "sum")
//   on its own; then BW_REPS allreduces of a Float64Array of BW_ELEMENTS (after one warm-up), each after a
//   barrier. Rank 0 prints one JSON line: median per-op latency (µs) and median bandwidth (GB/s of the
//   array: bytes / time). Same protocol as bench/peers/mpi_allreduce.py.
// startup: every rank prints one JSON line with performance.now() (ms since this process started) when
//   dist/comm/index.js is imported, when initWorld() resolved (the rendezvous: connections made and
//   authenticated) and when closeWorld() returned.
// TESSERA_BENCH_DIST=dir loads tessera from a copy of dist/ (default: ../dist).
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const dist = resolve(process.env.TESSERA_BENCH_DIST || join(here, "..", "dist"));
const tStart = performance.now();
const comm = await import(pathToFileURL(join(dist, "comm", "index.js")).href);
const tImported = performance.now();

function median(v) {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const [mode = "allreduce", ...args] = process.argv.slice(2);
const world = await comm.initWorld();
const tInit = performance.now();

if (mode === "startup") {
  await comm.closeWorld();
  const tClosed = performance.now();
  const r2 = (x) => Math.round(x * 100) / 100;
  // initEpochMs (wall clock when initWorld resolved): the harness subtracts its own clock at launch
  console.log(JSON.stringify({ mode, rank: world.rank, size: world.size, scriptStartMs: r2(tStart), importedMs: r2(tImported), initWorldMs: r2(tInit), closedMs: r2(tClosed), initEpochMs: r2(performance.timeOrigin + tInit) }));
} else if (mode === "allreduce") {
  const [latIters = 1000, warm = 200, bwN = 8 * 1024 * 1024, bwReps = 5] = args.map(Number);
  const P = world.size, r = world.rank;
  const out = { engine: "tessera", ranks: P, initWorldMs: Math.round(tInit * 10) / 10 };

  // ---- latency: one float64 ----
  let v = 0;
  for (let i = 0; i < warm; i++) v = await world.allreduce(r + 1, "sum");
  await world.barrier();
  const times = new Float64Array(latIters);
  const tAll = performance.now();
  for (let i = 0; i < latIters; i++) {
    const t0 = performance.now();
    v = await world.allreduce(r + 1, "sum");
    times[i] = performance.now() - t0;
  }
  const all = performance.now() - tAll;
  Object.assign(out, {
    lat_iters: latIters, lat_median_us: median(times) * 1e3, lat_mean_us: (all / latIters) * 1e3,
    lat_min_us: Math.min(...times) * 1e3, lat_ok: v === (P * (P + 1)) / 2,
  });

  // ---- bandwidth: a Float64Array of bwN ----
  if (bwN > 0) {
    const a = new Float64Array(bwN);
    for (let i = 0, k = 0; i < bwN; i++) {
      a[i] = k + r;
      if (++k === 1000) k = 0;
    }
    let b = await world.allreduce(a, "sum"); // warm-up
    await world.barrier();
    const bt = [];
    for (let k = 0; k < bwReps; k++) {
      await world.barrier();
      const t0 = performance.now();
      b = await world.allreduce(a, "sum");
      bt.push((performance.now() - t0) / 1e3);
    }
    const ok = [0, 1, 999, bwN >> 1, bwN - 1].every((i) => b[i] === P * (i % 1000) + (P * (P - 1)) / 2);
    const med = median(bt);
    Object.assign(out, { bw_bytes: a.byteLength, bw_reps: bwReps, bw_median_s: med, bw_min_s: Math.min(...bt), bw_gb_per_s: a.byteLength / med / 1e9, bw_ok: ok });
  }
  await comm.closeWorld();
  if (r === 0) console.log(JSON.stringify(out));
} else {
  console.error(`ranks_case: unknown mode ${JSON.stringify(mode)} (allreduce | startup)`);
  process.exitCode = 2;
}
