// The rank layer's benchmark (issue 3, "Performance"): tessera's collectives and multi-rank pipeline beside
// Open MPI (mpi4py) and beside tessera on one process, interleaved in one run, medians of several reps.
//
//   node bench/ranks.mjs [--quick] [--sections allreduce,pipeline,startup] [--reps R] [--n 50000]
//                        [--load-max 0.7] [--max-wait 300] [--no-slurm] [--out ranks]
//
// 1. allreduce: one float64 (1000 timed ops after a warm-up; median per-op latency from rank 0) and 64 MiB
//    (Float64Array of 8 Mi elements; GB/s = bytes / median time) on 2 and 4 local ranks: tessera
//    (bench/ranks_case.mjs under launchLocal) vs mpi4py (bench/peers/mpi_allreduce.py under mpirun).
// 2. pipeline: `run.js --np 2 --workers 1` vs `--workers 1` (target >= 1.9x) and vs `--workers 2` (target within
//    10%), N = 50,000 (--quick: 20,000), with the native spin control before and after.
// 3. startup: wall time of `srun -n 4 node dist/run.js --n 1000` (when SLURM is installed: a private one-node
//    cluster from scripts/slurm/cluster.sh, stopped afterwards) and `node dist/run.js --np 4 --n 1000`, and the
//    rendezvous share (bench/ranks_case.mjs startup: process start to initWorld resolved).
//
// Every measurement waits until the 1-minute load average is below --load-max (others share the host);
// after --max-wait seconds it runs anyway and the row is flagged "contended". Writes
// bench/results/<out>.json and .md (default ranks; --quick: ranks-quick).
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { removeSnapshot, snapshotBuild } from "./lib/snapshot.mjs";
import os from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { lastJsonLine, machineInfo, median, minmax, runCommand } from "./lib/measure.mjs";
import { runNativeGensum, runNativeSpin } from "./lib/peers.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..");
const PY = process.env.TESSERA_BENCH_PYTHON || "/usr/bin/python3";
const log = (s) => process.stderr.write(`ranks: ${s}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const USAGE = `usage: node bench/ranks.mjs [options]
  --quick               2 reps, pipeline N = 20,000, 3 bandwidth ops per run, shorter load waits (~3-6 min)
  --sections a,b        allreduce, pipeline, startup (default all)
  --reps R              interleaved repetitions per configuration (default 3; --quick 2)
  --n N                 pipeline array side (default 50000; --quick 20000)
  --load-max L          wait for a 1-minute load average below L before each measurement (default 0.7)
  --max-wait S          ...but at most S seconds, then measure and flag the row "contended" (default 300; --quick 60)
  --no-slurm            skip the srun rows even when SLURM is installed
  --lat-iters K         timed 1×f64 allreduces per run (default 1000; warm-up K/5)
  --bw-mib M            size of the bandwidth allreduce in MiB (default 64)
  --out NAME            bench/results/NAME.json and .md (default ranks; --quick ranks-quick)`;

function parseArgs(argv) {
  const o = { quick: false, sections: ["allreduce", "pipeline", "startup"], reps: null, n: null, loadMax: 0.7, maxWait: null, slurm: true, out: null, latIters: 1000, bwMiB: 64 };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].includes("=") ? argv[i].split(/=(.*)/s) : [argv[i], undefined];
    const value = () => inline ?? argv[++i] ?? (() => { throw new Error(`${flag} needs a value`); })();
    const num = (min) => { const v = Number(value()); if (!(v >= min)) throw new Error(`${flag} must be a number >= ${min}`); return v; };
    switch (flag) {
      case "--quick": o.quick = true; break;
      case "--sections": o.sections = value().split(",").filter(Boolean); break;
      case "--reps": o.reps = Math.round(num(1)); break;
      case "--n": o.n = Math.round(num(1)); break;
      case "--load-max": o.loadMax = num(0); break;
      case "--max-wait": o.maxWait = num(0); break;
      case "--no-slurm": o.slurm = false; break;
      case "--lat-iters": o.latIters = Math.round(num(1)); break;
      case "--bw-mib": o.bwMiB = num(1 / 1024); break;
      case "--out": o.out = value(); if (!/^[\w.-]+$/.test(o.out)) throw new Error("--out must be a plain file name"); break;
      case "--help": case "-h": o.help = true; break;
      default: throw new Error(`unknown option ${JSON.stringify(argv[i])}`);
    }
  }
  for (const s of o.sections) if (!["allreduce", "pipeline", "startup"].includes(s)) throw new Error(`unknown section ${s}`);
  o.reps ??= o.quick ? 2 : 3;
  o.n ??= o.quick ? 20_000 : 50_000;
  o.maxWait ??= o.quick ? 60 : 300;
  o.out ??= o.quick ? "ranks-quick" : "ranks";
  o.latWarm = Math.max(1, Math.round(o.latIters / 5));
  o.bwN = Math.max(1, Math.round((o.bwMiB * 1024 * 1024) / 8)); // float64 elements
  o.bwReps = o.quick ? 3 : 5;
  return o;
}

// ---- host contention ----------------------------------------------------------------------------------

/** Waits for the 1-minute load average to drop below loadMax (at most maxWait s). Returns what it saw. */
async function quiet(o, what) {
  const t0 = Date.now();
  let said = false;
  for (;;) {
    const la = os.loadavg()[0];
    const waited = Math.round((Date.now() - t0) / 1000);
    if (la < o.loadMax) return { load1: Math.round(la * 100) / 100, waited, contended: false };
    if (waited >= o.maxWait) {
      log(`load ${la.toFixed(2)} still >= ${o.loadMax} after ${waited} s: measuring ${what} anyway (flagged contended)`);
      return { load1: Math.round(la * 100) / 100, waited, contended: true };
    }
    if (!said) { log(`load ${la.toFixed(2)} >= ${o.loadMax}: waiting before ${what}`); said = true; }
    await sleep(3000);
  }
}

async function spin(o, label) {
  const gate = await quiet(o, `spin control (${label})`);
  const r = await runNativeSpin(1);
  const out = { label, ...gate, ratio: r?.ratio ?? null, iters_per_s_1: r?.iters_per_s_1 ?? null, iters_per_s_2: r?.iters_per_s_2 ?? null, note: r?.missing ?? r?.error ?? null };
  log(`spin control ${label}: 2-thread ÷ 1-thread ${out.ratio ?? out.note} (load ${gate.load1})`);
  return out;
}

// ---- runners -------------------------------------------------------------------------------------------

/** P local tessera ranks running bench/ranks_case.mjs through launchLocal; resolves to rank outputs. */
async function launchRanks(dist, np, args, { timeoutMs = 120_000, env = {} } = {}) {
  const { launchLocal } = await import(pathToFileURL(join(dist, "comm", "launch.js")).href);
  const children = [];
  let stdout = "", stderr = "";
  const t0 = performance.now();
  const spawnEpoch = performance.timeOrigin + t0;
  const timer = setTimeout(() => {
    for (const c of children) if (c.exitCode === null && c.pid) try { process.kill(c.pid, "SIGKILL"); } catch { /* gone */ }
  }, timeoutMs);
  let code;
  try {
    code = await launchLocal(np, args, {
      script: join(here, "ranks_case.mjs"), stdio: ["ignore", "pipe", "pipe"],
      env: { ...env, TESSERA_BENCH_DIST: dist },
      onSpawn: (c) => { children.push(c); c.stdout.on("data", (d) => (stdout += d)); c.stderr.on("data", (d) => (stderr += d)); },
    });
  } finally {
    clearTimeout(timer);
  }
  const seconds = (performance.now() - t0) / 1000;
  const lines = stdout.split("\n").filter((l) => l.startsWith("{")).map((l) => { try { return JSON.parse(l); } catch { return null; } }).filter(Boolean);
  return { code, seconds, lines, stderr, spawnEpoch };
}

async function tesseraAllreduce(o, dist, np) {
  const r = await launchRanks(dist, np, ["allreduce", o.latIters, o.latWarm, o.bwN, o.bwReps].map(String));
  const out = r.lines.find((l) => l.engine === "tessera");
  if (r.code !== 0 || !out) return { error: `exit ${r.code}: ${errorLines(r.stderr)}` };
  return { ...out, wallSeconds: r.seconds };
}

let mpiCheck;
function mpiMissing() {
  mpiCheck ??= (async () => {
    try { execFileSync("mpirun", ["--version"], { stdio: "ignore" }); } catch { return "mpirun not found: apt-get install openmpi-bin python3-mpi4py"; }
    const r = await runCommand([PY, "-c", "import mpi4py, numpy"], { timeoutMs: 30_000 });
    return r.code === 0 ? null : `${PY} cannot import mpi4py/numpy: apt-get install python3-mpi4py`;
  })();
  return mpiCheck;
}

async function mpiAllreduce(o, np) {
  const missing = await mpiMissing();
  if (missing) return { missing };
  const argv = ["mpirun", "--oversubscribe", "--allow-run-as-root", "-n", String(np), PY, join(here, "peers", "mpi_allreduce.py"),
    ...[o.latIters, o.latWarm, o.bwN, o.bwReps].map(String)];
  const r = await runCommand(argv, {
    cwd: os.tmpdir(), timeoutMs: 120_000,
    env: { OMPI_MCA_btl_vader_single_copy_mechanism: "none", PYTHONDONTWRITEBYTECODE: "1", OMPI_MCA_rmaps_base_oversubscribe: "1" },
  });
  const out = lastJsonLine(r.stdout);
  if (!out) return { error: `exit ${r.code ?? r.signal}: ${r.stderr.trim().split("\n").slice(-3).join(" | ")}` };
  return { ...out, wallSeconds: r.seconds };
}

/** `node dist/run.js ARGS --json` (the launcher included for --np): compute seconds from rank 0 + wall time. */
async function runJs(dist, args, { cwd, env } = {}) {
  const r = await runCommand([process.execPath, join(dist, "run.js"), ...args], { cwd, env, timeoutMs: 600_000 });
  const out = lastJsonLine(r.stdout);
  if (r.code !== 0) return { error: `exit ${r.code ?? r.signal}: ${r.stderr.trim().split("\n").slice(-3).join(" | ")}`, wallSeconds: r.seconds };
  return { ...(out ?? {}), wallSeconds: r.seconds, peakRssMiB: r.peakRssMiB };
}

// ---- SLURM ---------------------------------------------------------------------------------------------

let activeSlurm = null; // the cluster this run started, for the signal handler

function startSlurm() {
  try { execFileSync("which", ["srun", "slurmctld", "slurmd", "munged"], { stdio: "ignore" }); } catch { return { missing: "SLURM not installed (scripts/slurm/install.sh)" }; }
  const dir = mkdtempSync(join(os.tmpdir(), "tessera-bench-slurm-"));
  try {
    const out = execFileSync("bash", [join(root, "scripts", "slurm", "cluster.sh"), "start", dir], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 90_000 });
    const conf = /SLURM_CONF=("?)([^"\n]+)\1/.exec(out)?.[2];
    if (!conf) throw new Error(`no SLURM_CONF in ${JSON.stringify(out)}`);
    return (activeSlurm = { dir, conf });
  } catch (e) {
    stopSlurm({ dir });
    return { error: `cluster.sh start failed: ${(e.stderr?.toString() ?? e.message).trim().split("\n").slice(-3).join(" | ")}` };
  }
}

function stopSlurm(s) {
  if (!s?.dir) return;
  try { execFileSync("bash", [join(root, "scripts", "slurm", "cluster.sh"), "stop", s.dir], { stdio: "ignore", timeout: 60_000 }); } catch (e) { log(`cluster.sh stop ${s.dir}: ${e.message}`); }
  rmSync(s.dir, { recursive: true, force: true });
  s.dir = null;
}

function slurmEnv(conf) {
  const env = {};
  for (const k of Object.keys(process.env)) if (/^(SLURM_|TESSERA_(RANK|SIZE|TOKEN|COORDINATOR|RENDEZVOUS|WORKERS))/.test(k)) env[k] = undefined;
  return { ...env, SLURM_CONF: conf };
}

// ---- sections ------------------------------------------------------------------------------------------

/** The telling lines of a failed run's stderr (the error itself, not the stack), else its last lines. */
function errorLines(stderr) {
  const lines = stderr.split("\n").map((l) => l.trim()).filter(Boolean);
  const telling = lines.filter((l) => /error|RANK_LOST|COMM_|lost|timed? ?out/i.test(l) && !l.startsWith("at "));
  return (telling.length ? telling.slice(0, 3) : lines.slice(-3)).join(" | ").slice(0, 400);
}

const r1 = (x, d = 1) => (Number.isFinite(x) ? Math.round(x * 10 ** d) / 10 ** d : null);

async function sectionAllreduce(o, dist, runs) {
  const configs = [];
  for (const np of [2, 4]) {
    configs.push({ key: `tessera-${np}`, engine: "tessera", np, run: () => tesseraAllreduce(o, dist, np) });
    configs.push({ key: `mpi4py-${np}`, engine: "mpi4py", np, run: () => mpiAllreduce(o, np) });
  }
  for (let rep = 0; rep < o.reps; rep++) {
    for (const c of configs) {
      if (runs.find((r) => r.key === c.key && r.missing)) continue;
      const gate = await quiet(o, `allreduce ${c.key}`);
      let res;
      try { res = await c.run(); } catch (e) { res = { error: e?.message ?? String(e) }; }
      runs.push({ section: "allreduce", key: c.key, engine: c.engine, np: c.np, rep, gate, ...res });
      log(`allreduce ${c.key} rep ${rep + 1}: ${res.missing ? `missing: ${res.missing}` : res.error ? `error: ${res.error}` :
        `1×f64 ${r1(res.lat_median_us)} µs (mean ${r1(res.lat_mean_us)})${res.lat_obj_median_us ? `, pickled ${r1(res.lat_obj_median_us)} µs` : ""}, ${o.bwMiB} MiB ${r1(res.bw_gb_per_s, 3)} GB/s${res.lat_ok && res.bw_ok ? "" : " WRONG RESULT"} (load ${gate.load1})`}`);
    }
  }
}

async function sectionPipeline(o, dist, runs, controls) {
  const n = String(o.n);
  const configs = [
    { key: "np2-w1", label: "--np 2 --workers 1", args: ["--np", "2", "--workers", "1", "--n", n, "--json"] },
    { key: "np1-w1", label: "--workers 1", args: ["--workers", "1", "--n", n, "--json"] },
    { key: "np1-w2", label: "--workers 2", args: ["--workers", "2", "--n", n, "--json"] },
  ];
  const env = { TESSERA_WORKERS: undefined }; // spawn drops undefined variables
  controls.pipelineBefore = await spin(o, "before pipeline");
  // The native control for this kind of work: C generate-and-sum (16 lane sets, the CPU's widest vectors) on 1 then 2 threads, in every rep.
  // Its 2-thread speed-up is the most this host gives to compute-bound SIMD work on two cores (vCPUs
  // may share physical cores' execution units), the ceiling for the 2-rank speed-up.
  const gensumN = Math.min(o.n * o.n, 1e9);
  for (let rep = 0; rep < o.reps; rep++) {
    for (const c of configs) {
      const gate = await quiet(o, `pipeline ${c.key}`);
      const res = await runJs(dist, c.args, { env, cwd: os.tmpdir() });
      runs.push({ section: "pipeline", key: c.key, label: c.label, n: o.n, rep, gate, ...res });
      log(`pipeline ${c.key} n=${o.n} rep ${rep + 1}: ${res.error ? `error: ${res.error}` : `compute ${res.seconds?.toFixed(3)} s, wall ${res.wallSeconds.toFixed(3)} s, result ${res.result}`} (load ${gate.load1})`);
    }
    for (const threads of [1, 2]) {
      const gate = await quiet(o, `native gensum ${threads}t`);
      const res = await runNativeGensum(gensumN, threads);
      const ok = res && !res.missing && !res.error && Number.isFinite(res.seconds);
      runs.push({ section: "pipeline", key: `gensum-${threads}t`, label: `C gensum ${threads} thread${threads > 1 ? "s" : ""}`, n: gensumN, rep, gate,
        ...(ok ? { seconds: res.seconds, rate: res.doubles_per_s, simd: res.simd } : { missing: res?.missing, error: res?.missing ? undefined : res?.error ?? "no output" }) });
      log(`native gensum ${threads}t rep ${rep + 1}: ${ok ? `${res.seconds.toFixed(3)} s (${(res.doubles_per_s / 1e9).toFixed(2)} G doubles/s)` : res?.missing ?? res?.error}`);
    }
  }
  controls.pipelineAfter = await spin(o, "after pipeline");
}

async function sectionStartup(o, dist, runs, notes) {
  const cwd = mkdtempSync(join(os.tmpdir(), "tessera-bench-startup-"));
  let slurm = null;
  const startupRow = (lines, spawnEpoch) => {
    const ranks = lines.filter((l) => l.mode === "startup");
    if (!ranks.length) return null;
    const max = (f) => Math.max(...ranks.map(f));
    return {
      ranksReported: ranks.length,
      // per-process clocks (performance.now() is ms since that node process started); max over ranks
      nodeStartMs: max((l) => l.scriptStartMs), importMs: max((l) => l.importedMs - l.scriptStartMs),
      rendezvousMs: max((l) => l.initWorldMs - l.importedMs), processStartToInitMs: max((l) => l.initWorldMs),
      closeMs: max((l) => l.closedMs - l.initWorldMs),
      launchToInitMs: spawnEpoch ? max((l) => l.initEpochMs - spawnEpoch) : null, // from the harness's launch call
    };
  };
  try {
    if (o.slurm) {
      slurm = startSlurm();
      if (slurm.missing || slurm.error) notes.push(`srun rows: ${slurm.missing ?? slurm.error}`);
      else log(`SLURM cluster up (${slurm.dir})`);
    }
    const haveSlurm = slurm?.conf;
    const configs = [];
    if (haveSlurm) {
      configs.push({ key: "srun-runjs", label: "srun -n 4 node dist/run.js --n 1000", run: async () => {
        const r = await runCommand(["srun", "-n", "4", process.execPath, join(dist, "run.js"), "--n", "1000", "--json"], { cwd, env: slurmEnv(slurm.conf), timeoutMs: 120_000 });
        const out = lastJsonLine(r.stdout);
        return r.code === 0 ? { wallSeconds: r.seconds, computeSeconds: out?.seconds ?? null, ranks: out?.ranks ?? null } : { error: `exit ${r.code ?? r.signal}: ${errorLines(r.stderr)}` };
      } });
      configs.push({ key: "srun-rendezvous", label: "srun -n 4 node bench/ranks_case.mjs startup", run: async () => {
        const epoch = Date.now();
        const r = await runCommand(["srun", "-n", "4", process.execPath, join(here, "ranks_case.mjs"), "startup"], { cwd, env: { ...slurmEnv(slurm.conf), TESSERA_BENCH_DIST: dist }, timeoutMs: 120_000 });
        const lines = r.stdout.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
        const row = startupRow(lines, epoch);
        return r.code === 0 && row ? { wallSeconds: r.seconds, ...row } : { error: `exit ${r.code ?? r.signal}: ${errorLines(r.stderr)}` };
      } });
    }
    configs.push({ key: "np4-runjs", label: "node dist/run.js --np 4 --n 1000", run: async () => {
      const r = await runJs(dist, ["--np", "4", "--n", "1000", "--json"], { cwd, env: { TESSERA_WORKERS: undefined } });
      return r.error ? r : { wallSeconds: r.wallSeconds, computeSeconds: r.seconds ?? null, ranks: r.ranks ?? null };
    } });
    configs.push({ key: "np4-rendezvous", label: "launchLocal(4, ranks_case.mjs startup)", run: async () => {
      const r = await launchRanks(dist, 4, ["startup"]);
      const row = startupRow(r.lines, r.spawnEpoch);
      return r.code === 0 && row ? { wallSeconds: r.seconds, ...row } : { error: `exit ${r.code}: ${errorLines(r.stderr)}` };
    } });
    for (let rep = 0; rep < o.reps; rep++) {
      for (const c of configs) {
        const gate = await quiet(o, `startup ${c.key}`);
        let res;
        try { res = await c.run(); } catch (e) { res = { error: e?.message ?? String(e) }; }
        runs.push({ section: "startup", key: c.key, label: c.label, rep, gate, ...res });
        log(`startup ${c.key} rep ${rep + 1}: ${res.error ? `error: ${res.error}` : `wall ${res.wallSeconds.toFixed(3)} s${res.rendezvousMs != null ? `, process start→initWorld ${r1(res.processStartToInitMs)} ms (rendezvous ${r1(res.rendezvousMs)} ms, import ${r1(res.importMs)} ms)` : ""}`} (load ${gate.load1})`);
      }
    }
  } finally {
    stopSlurm(slurm);
    rmSync(cwd, { recursive: true, force: true });
  }
}

// ---- summary -------------------------------------------------------------------------------------------

function stat(runs, key, field) {
  const v = runs.filter((r) => r.key === key && !r.error && !r.missing).map((r) => r[field]).filter(Number.isFinite);
  return { median: median(v), ...minmax(v), n: v.length };
}

function summarize(o, runs, notes) {
  const rows = [];
  const any = (key) => runs.find((r) => r.key === key);
  const statusOf = (key) => { const rs = runs.filter((r) => r.key === key); return rs.length === 0 ? "not run" : rs.every((r) => r.missing) ? `missing: ${rs[0].missing}` : rs.every((r) => r.error) ? `error: ${rs[0].error}` : null; };
  const contended = (key) => runs.filter((r) => r.key === key && r.gate?.contended).length;
  const push = (row) => rows.push({ ...row, contended: row.key ? contended(row.key) : 0, status: row.key ? statusOf(row.key) : null });

  for (const np of [2, 4]) {
    if (!any(`tessera-${np}`)) continue;
    const t = stat(runs, `tessera-${np}`, "lat_median_us"), m = stat(runs, `mpi4py-${np}`, "lat_median_us"), mo = stat(runs, `mpi4py-${np}`, "lat_obj_median_us");
    const tm = stat(runs, `tessera-${np}`, "lat_mean_us");
    push({ section: "allreduce", key: `tessera-${np}`, what: `allreduce 1×f64, ${np} ranks`, engine: "tessera", value: t.median, min: t.min, max: t.max, reps: t.n, unit: "µs", extra: `mean ${r1(tm.median)} µs`,
      ratio: m.median / t.median, ratioNote: "mpi4py Allreduce ÷ tessera time", target: np === 4 ? (t.median <= 100 ? "≤ 100 µs: met" : "≤ 100 µs: MISSED") : "" });
    push({ section: "allreduce", key: `mpi4py-${np}`, what: `allreduce 1×f64, ${np} ranks`, engine: "mpi4py Allreduce (buffer)", value: m.median, min: m.min, max: m.max, reps: m.n, unit: "µs", extra: `mean ${r1(stat(runs, `mpi4py-${np}`, "lat_mean_us").median)} µs` });
    push({ section: "allreduce", key: `mpi4py-${np}`, what: `allreduce 1×f64, ${np} ranks`, engine: "mpi4py allreduce (pickled float)", value: mo.median, min: mo.min, max: mo.max, reps: mo.n, unit: "µs" });
  }
  for (const np of [2, 4]) {
    if (!any(`tessera-${np}`)) continue;
    const t = stat(runs, `tessera-${np}`, "bw_gb_per_s"), m = stat(runs, `mpi4py-${np}`, "bw_gb_per_s");
    const ts = stat(runs, `tessera-${np}`, "bw_median_s"), ms = stat(runs, `mpi4py-${np}`, "bw_median_s");
    push({ section: "allreduce", key: `tessera-${np}`, what: `allreduce ${o.bwMiB} MiB f64, ${np} ranks`, engine: "tessera", value: t.median, min: t.min, max: t.max, reps: t.n, unit: "GB/s", extra: `${r1(ts.median * 1e3)} ms per op`, ratio: m.median / t.median, ratioNote: "mpi4py ÷ tessera GB/s" });
    push({ section: "allreduce", key: `mpi4py-${np}`, what: `allreduce ${o.bwMiB} MiB f64, ${np} ranks`, engine: "mpi4py Allreduce", value: m.median, min: m.min, max: m.max, reps: m.n, unit: "GB/s", extra: `${r1(ms.median * 1e3)} ms per op` });
  }
  const wrong = runs.filter((r) => r.section === "allreduce" && !r.error && !r.missing && !(r.lat_ok && r.bw_ok));
  if (wrong.length) notes.push(`WARNING: ${wrong.length} allreduce runs returned a wrong result: ${wrong.map((r) => `${r.key} rep ${r.rep + 1}`).join(", ")}`);

  if (any("np2-w1")) {
    const s = Object.fromEntries(["np2-w1", "np1-w1", "np1-w2"].map((k) => [k, stat(runs, k, "seconds")]));
    const w = Object.fromEntries(["np2-w1", "np1-w1", "np1-w2"].map((k) => [k, stat(runs, k, "wallSeconds")]));
    // paired ratios: the configurations ran next to each other in every rep
    const paired = (a, b) => median([...Array(o.reps).keys()].map((rep) => {
      const ra = runs.find((r) => r.key === a && r.rep === rep), rb = runs.find((r) => r.key === b && r.rep === rep);
      return ra?.seconds && rb?.seconds ? rb.seconds / ra.seconds : NaN;
    }));
    const speedup = s["np1-w1"].median / s["np2-w1"].median;
    const vsThreads = s["np2-w1"].median / s["np1-w2"].median;
    const results = [...new Set(runs.filter((r) => r.section === "pipeline" && Number.isFinite(r.result)).map((r) => r.result))];
    if (results.length > 1) notes.push(`WARNING: pipeline results differ between configurations: ${results.join(", ")}`);
    const exp = 1.5 * o.n * o.n;
    if (results.some((x) => Math.abs(x / exp - 1) > 1e-3)) notes.push(`WARNING: pipeline result ${results} is not ≈ 1.5·n² = ${exp}`);
    const lbl = { "np2-w1": "2 ranks × 1 worker (--np 2 --workers 1)", "np1-w1": "1 rank × 1 worker (--workers 1)", "np1-w2": "1 rank × 2 workers (--workers 2)" };
    const g1 = stat(runs, "gensum-1t", "seconds"), g2 = stat(runs, "gensum-2t", "seconds");
    const ceiling = g1.median / g2.median; // what two threads of native SIMD work reach on this host
    const ofCeiling = Number.isFinite(ceiling) ? `; the native control reaches ${ceiling.toFixed(2)}×, so this is ${Math.round((100 * speedup) / ceiling)}% of what the host gives` : "";
    for (const k of ["np2-w1", "np1-w1", "np1-w2"]) {
      const row = { section: "pipeline", key: k, what: `pipeline n=${o.n}`, engine: lbl[k], value: s[k].median, min: s[k].min, max: s[k].max, reps: s[k].n, unit: "s", extra: `wall ${r1(w[k].median, 2)} s` };
      if (k === "np1-w1") Object.assign(row, { ratio: speedup, ratioNote: "speed-up of 2 ranks × 1 worker over this", pairedRatio: paired("np2-w1", "np1-w1"), target: `${speedup >= 1.9 ? "≥ 1.9×: met" : "≥ 1.9×: MISSED"}${ofCeiling}` });
      if (k === "np1-w2") Object.assign(row, { ratio: vsThreads, ratioNote: "time of 2 ranks × 1 worker ÷ this", pairedRatio: 1 / paired("np2-w1", "np1-w2"), target: Math.abs(vsThreads - 1) <= 0.1 ? "within 10%: met" : "within 10%: MISSED" });
      push(row);
    }
    for (const [k, g] of [["gensum-1t", g1], ["gensum-2t", g2]]) {
      if (!any(k)) continue;
      const gn = runs.find((r) => r.key === k).n;
      const row = { section: "pipeline", key: k, what: `native control: ${gn.toExponential(2)} doubles`, engine: `C gensum (${(runs.find((r) => r.key === k).simd ?? "simd").toUpperCase()}) ${k === "gensum-1t" ? "1 thread" : "2 threads"}`, value: g.median, min: g.min, max: g.max, reps: g.n, unit: "s" };
      if (k === "gensum-2t") Object.assign(row, { ratio: ceiling, ratioNote: "speed-up of 2 threads over 1: this host's ceiling for the pipeline's speed-up", pairedRatio: paired("gensum-2t", "gensum-1t") });
      push(row);
    }
  }

  const startupKeys = ["srun-runjs", "np4-runjs", "srun-rendezvous", "np4-rendezvous"];
  for (const k of startupKeys) {
    if (!any(k)) continue;
    const lab = runs.find((r) => r.key === k).label;
    const w = stat(runs, k, "wallSeconds");
    const row = { section: "startup", key: k, what: "start-up, 4 ranks", engine: lab, value: w.median, min: w.min, max: w.max, reps: w.n, unit: "s wall" };
    if (k.endsWith("rendezvous")) {
      const p = stat(runs, k, "processStartToInitMs"), rz = stat(runs, k, "rendezvousMs"), im = stat(runs, k, "importMs"), l2i = stat(runs, k, "launchToInitMs"), ns = stat(runs, k, "nodeStartMs");
      const full = stat(runs, k.replace("rendezvous", "runjs"), "wallSeconds").median;
      row.extra = `process start→initWorld ${r1(p.median)} ms; parts (each the slowest rank): node start ${r1(ns.median)}, import comm ${r1(im.median)}, rendezvous ${r1(rz.median)} ms; launch→initWorld ${r1(l2i.median)} ms`;
      row.ratio = rz.median / 1000 / full;
      row.ratioNote = "rendezvous (import done → initWorld resolved) ÷ run.js wall";
      row.ratio2 = l2i.median / 1000 / full;
      row.ratio2Note = "launch → initWorld resolved ÷ run.js wall";
    }
    push(row);
  }
  return rows;
}

// ---- output --------------------------------------------------------------------------------------------

function fmt(v, unit) {
  if (!Number.isFinite(v)) return "–";
  if (unit === "µs") return v < 10 ? v.toFixed(2) : v.toFixed(1);
  if (unit === "GB/s") return v.toFixed(3);
  return v < 1 ? v.toFixed(3) : v.toFixed(2);
}

function tableLines(rows) {
  const head = ["measurement", "engine / command", "median", "unit", "min–max", "reps", "ratio", "target", "note"];
  const body = rows.map((r) => [
    r.what, r.engine, r.status ?? fmt(r.value, r.unit), r.unit, r.status ? "" : `${fmt(r.min, r.unit)}–${fmt(r.max, r.unit)}`, String(r.reps ?? ""),
    Number.isFinite(r.ratio) ? `${r.ratio.toFixed(r.section === "startup" ? 3 : 2)}${r.section === "startup" ? "" : "×"} (${r.ratioNote}${Number.isFinite(r.pairedRatio) ? `; paired ${r.pairedRatio.toFixed(2)}×` : ""})${Number.isFinite(r.ratio2) ? `; ${r.ratio2.toFixed(3)} (${r.ratio2Note})` : ""}` : "",
    r.target ?? "", [r.extra, r.contended ? `${r.contended} rep(s) contended` : ""].filter(Boolean).join("; "),
  ]);
  return { head, body };
}

function renderTerminal(rows, meta) {
  const { head, body } = tableLines(rows);
  const widths = head.map((h, i) => Math.min(i >= 6 ? 200 : 60, Math.max(h.length, ...body.map((b) => b[i].length))));
  const line = (cells) => cells.map((c, i) => (i === 2 || i === 5 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join("  ").trimEnd();
  const out = [line(head), widths.map((w) => "-".repeat(w)).join("  ")];
  let sec = null;
  for (let i = 0; i < body.length; i++) {
    if (sec && rows[i].section !== sec) out.push("");
    sec = rows[i].section;
    out.push(line(body[i]));
  }
  out.push("", ...controlLines(meta), ...meta.notes.map((n) => `note: ${n}`));
  return out.join("\n");
}

function controlLines(meta) {
  const c = meta.controls;
  const s = (x) => (x ? `${x.ratio ?? x.note} (load ${x.load1}${x.contended ? ", contended" : ""})` : "–");
  return [`spin control (2-thread ÷ 1-thread rate of a pure ALU loop; ~2.0 on 2 free cores, < 1.6 = contended): start ${s(c.start)}, before pipeline ${s(c.pipelineBefore)}, after pipeline ${s(c.pipelineAfter)}, end ${s(c.end)}`];
}

/** The table alone, in markdown (bench/run.mjs embeds it in the main results page). */
export function ranksMarkdownTable(rows) {
  const { head, body } = tableLines(rows);
  return [`| ${head.join(" | ")} |`, `|${head.map((_, i) => (i === 2 || i === 5 ? "---:" : "---")).join("|")}|`,
    ...body.map((b) => `| ${b.map((c) => c.replace(/\|/g, "\\|")).join(" | ")} |`)];
}

function renderMarkdown(rows, meta) {
  const m = meta.machine;
  return [
    `# tessera ranks benchmark: ${meta.started}`, "",
    `- machine: ${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB, load at start ${m.loadavg.join(" ")}; node ${m.node}, python ${m.python}, ${meta.mpi ?? "mpi4py missing"}; linux ${m.kernel}`,
    `- tessera: commit ${meta.tessera.commit} with ${meta.tessera.dirtyFiles} uncommitted files in src/ assembly/ (dist/ snapshot at start)`,
    `- options: ${meta.options.reps} interleaved reps; allreduce: ${meta.options.latIters} timed ops after ${meta.options.latWarm} warm-up, median per-op latency from rank 0; ${meta.options.bwMiB} MiB: ${meta.options.bwReps} timed ops after 1 warm-up, GB/s = bytes ÷ median time; pipeline n = ${meta.options.n}; each measurement waited for 1-min load < ${meta.options.loadMax} (at most ${meta.options.maxWait} s); ${meta.seconds} s in all`,
    `- ${controlLines(meta)[0]}`, "",
    ...ranksMarkdownTable(rows), "",
    ...meta.notes.map((n) => `- ${n}`), "",
    "How to read: medians over the interleaved reps (each rep's own figure is itself a median of its timed ops); min–max over reps. " +
    "Local ranks run on this host's cores: with 4 ranks on 2 cores the ranks are oversubscribed, for tessera and Open MPI alike " +
    "(mpirun --oversubscribe yields when idle). mpi4py rows: Open MPI's shared-memory transport (vader, single-copy off); " +
    "\"pickled float\" is mpi4py's object allreduce, the nearest to tessera's allreduce of a JS number. " +
    "Pipeline rows: `seconds` printed by rank 0 (graph build + compute, worker pool start included, rendezvous excluded); wall is the whole command. " +
    "Start-up: srun rows use a private one-node SLURM cluster (scripts/slurm/cluster.sh) and run.js's default workers per rank (SLURM_CPUS_PER_TASK unset: all cores); " +
    "`--np 4` gives each rank 1 worker. Rendezvous = from `dist/comm/index.js` imported to initWorld() resolved, max over ranks.", "",
  ].join("\n");
}

function writeAtomic(path, text) {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

function git(args) {
  try { return execFileSync("git", args, { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim(); } catch { return null; }
}

async function main(argv) {
  let o;
  try { o = parseArgs(argv); } catch (e) { console.error(`ranks: ${e.message}\n${USAGE}`); return 2; }
  if (o.help) { console.log(USAGE); return 0; }
  if (!existsSync(join(root, "dist", "run.js")) || !existsSync(join(root, "dist", "comm", "launch.js"))) { console.error("ranks: dist/ is not built: run `npm run build`"); return 1; }
  const started = new Date(), t0 = performance.now();
  const { snap, dist } = snapshotBuild(root); // a rebuild mid-run does not change what is measured
  // on Ctrl-C / kill: remove the snapshot and stop a SLURM cluster this run started (its own directory only)
  const stopOnSignal = (sig) => { stopSlurm(activeSlurm); removeSnapshot(snap); process.exit(sig === "SIGINT" ? 130 : 143); };
  process.once("SIGINT", stopOnSignal);
  process.once("SIGTERM", stopOnSignal);
  const runs = [], notes = [], controls = {};
  let rows;
  try {
    const machine = machineInfo();
    const mpiErr = await mpiMissing();
    let mpi = null;
    if (!mpiErr) {
      const r = await runCommand([PY, "-c", "from mpi4py import MPI; import mpi4py; print('mpi4py', mpi4py.__version__, '/', MPI.Get_library_version().replace(chr(0), '').splitlines()[0].split(',')[0])"], { timeoutMs: 30_000 });
      mpi = r.stdout.trim() || null;
    } else notes.push(mpiErr);
    log(`${machine.cpuModel}, ${machine.cores} cores, node ${machine.node}, ${mpi ?? mpiErr}; sections ${o.sections.join(",")}, ${o.reps} reps`);
    controls.start = await spin(o, "start");
    if (o.sections.includes("allreduce")) await sectionAllreduce(o, dist, runs);
    if (o.sections.includes("pipeline")) await sectionPipeline(o, dist, runs, controls);
    if (o.sections.includes("startup")) await sectionStartup(o, dist, runs, notes);
    controls.end = await spin(o, "end");
    for (const c of Object.values(controls)) if (c && Number.isFinite(c.ratio) && c.ratio < 1.6) { notes.push("spin control below 1.6: the host was contended; compare ratios within this run, not absolute figures"); break; }
    rows = summarize(o, runs, notes);
    const meta = {
      started: started.toISOString(), seconds: Math.round((performance.now() - t0) / 100) / 10, options: o, machine, mpi, notes, controls,
      tessera: { commit: git(["rev-parse", "--short", "HEAD"]), dirtyFiles: (git(["status", "--porcelain", "--", "src", "assembly"]) ?? "").split("\n").filter(Boolean).length },
    };
    console.log(renderTerminal(rows, meta));
    const outDir = join(here, "results");
    mkdirSync(outDir, { recursive: true });
    const base = join(outDir, o.out);
    writeAtomic(`${base}.json`, JSON.stringify({ meta, rows, runs }, null, 1) + "\n");
    writeAtomic(`${base}.md`, renderMarkdown(rows, meta));
    console.log(`\nwrote ${[".json", ".md"].map((e) => resolve(base + e).replace(root + "/", "")).join(", ")} (${meta.seconds} s)`);
    return 0;
  } finally {
    process.off("SIGINT", stopOnSignal);
    process.off("SIGTERM", stopOnSignal);
    removeSnapshot(snap);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try { process.exitCode = await main(process.argv.slice(2)); } catch (e) { console.error(`ranks: harness failure: ${e?.stack ?? e}`); process.exitCode = 1; }
}
