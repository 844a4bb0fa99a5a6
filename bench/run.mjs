// The benchmark harness: tessera beside its peers (dask threads, dask distributed, numpy, C controls),
// same cases, sizes, chunking and seeds, interleaved in one run. See bench/README.md.
//
//   node bench/run.mjs [--quick] [--cases a,b] [--sizes 10000,20000] [--reps 3] [--engines tessera,dask-threads]
//                      [--chunk 2000] [--existing-n 8192] [--seed 1] [--workers W] [--out latest] [--no-warmup]
//   npm run bench -- [options]          node dist/bench.js [options]
//
// Prints a table, writes bench/results/<out>.json, .md and .svg. Exit 0 unless the harness itself breaks
// (a failing or missing engine is a row, not a failure); 2 on bad arguments.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { CASES, ENGINES, EXISTING, QUICK_STORAGE, RANK_CASES, SIZED, SKIPPED, STORAGE_CASES, STORAGE_GROUP, TUTORIAL, VIEW_CASES, checkResult } from "./lib/cases.mjs";
import { chartRows, runRankCases } from "./lib/rank-cases.mjs";
import { ranksMarkdownTable } from "./ranks.mjs";
import { interleave, killRunning, lastJsonLine, machineInfo, median, minmax, runCommand } from "./lib/measure.mjs";
import { runDask, runNativeSpin, runNumpy, pythonMissing } from "./lib/peers.mjs";
import { buildNative } from "./peers/native.mjs";
import { renderMarkdown, renderSvg, renderTerminal, targetRows } from "./lib/report.mjs";
import { removeSnapshot, snapshotBuild } from "./lib/snapshot.mjs";
import { makeStorageJobs, storageContext, storageSpaceProblem } from "./lib/storage.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..");

export const USAGE = `usage: node bench/run.mjs [options]        (also: npm run bench -- [options]; node dist/bench.js [options])
  --quick              small subset in under a minute: sizes 2000,4000, chunk 1000, 1 rep, existing arrays 2048²
  --cases a,b          ${[...Object.keys(CASES), ...Object.keys(RANK_CASES), ...Object.keys(SKIPPED)].join(", ")}
                       (rank cases run bench/ranks.mjs: --quick runs allreduce and scaling as a smoke test)
                       "storage" names the storage cases of issue 10 (${STORAGE_GROUP.join(", ")});
                       ${STORAGE_CASES.filter((c) => !STORAGE_GROUP.includes(c)).join(", ")} (slow: ~20 MB/s) only by name. Storage cases run only
                       when named (--quick: ${QUICK_STORAGE.join(", ")} at its tiny size)
  --sizes 10000,20000  sides n of the n×n random arrays of the tutorial and view cases (default 10000,20000)
  --chunk 2000         chunk side of the tutorial arrays (default 2000)
  --existing-n 8192    side of the existing arrays of ${EXISTING.join(" / ")} (8192: 512 MiB each)
  --reps 3             measured repetitions per engine and case, interleaved A B A B (default 3)
  --engines a,b        ${Object.keys(ENGINES).join(", ")}
                       (default all; tessera-before only with --before-dist)
  --before-dist DIR    dist/ of a build of tessera before the redesign (commit 123c012) for the engine
                       tessera-before, e.g. /work/wt/tessera-before/dist (see bench/README.md); it runs the cases
                       that existed then. Without it the engine is left out with a note
  --case-sizes c=n:m   sizes of one random case instead of --sizes, e.g. transpose_add_sum0=20000,slice_sum=50000
                       (--quick: the view cases run at the smallest size only)
  --workers W          threads for tessera and dask threads (default: all cores)
  --seed 1             random seed (every engine)
  --out latest         results go to bench/results/<out>.json, .md, .svg (--quick: quick)
  --no-warmup          skip the one unrecorded small run per engine (--quick skips it too; --warmup forces it)
  --storage-n 23170    side of the storage cases' random float64 array (23170: 4 GiB; --quick 1024)
  --storage-chunk 2048 its chunk side (storage and tessera chunks alike; --quick 256)
  --storage-dir DIR    where the storage cases write (a temporary directory inside it, removed at the end;
                       default ${os.tmpdir()}): the file system being measured
  --cold-reads         drop the page cache (echo 1 > /proc/sys/vm/drop_caches: root only) before every timed
                       read of the storage cases; default: warm cache (read right after the write's fdatasync)
  --no-pretouch        do not pre-touch memory (untimed) before each timed storage write; by default every engine
                       does, as the write will fill, so the page cache it fills is memory the host backs (in a VM
                       with free page reporting, first touches of returned memory run at the host's fault rate)
  --timeout 900        seconds before one run is killed
  --strict             exit 3 when a tessera row failed or its result check warned (CI's smoke test);
                       missing peers never fail`;

class UsageError extends Error {}

export function parseArgs(argv) {
  const o = {
    quick: false, cases: null, sizes: null, caseSizes: {}, chunk: null, existingN: null, reps: null, engines: null,
    workers: os.availableParallelism(), seed: 1, out: null, warmup: null, timeout: 900, help: false, strict: false, beforeDist: null,
    storageN: null, storageChunk: null, storageDir: null, coldReads: false, pretouch: true,
  };
  const list = (v) => v.split(",").map((s) => s.trim()).filter(Boolean);
  const int = (name, v, min = 1) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new UsageError(`${name} ${JSON.stringify(v)} must be an integer >= ${min}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [flag, inline] = a.includes("=") ? [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)] : [a, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case "--quick": o.quick = true; break;
      case "--no-warmup": o.warmup = false; break;
      case "--warmup": o.warmup = true; break;
      case "--strict": o.strict = true; break;
      case "--help": case "-h": o.help = true; break;
      case "--cases": o.cases = list(value()).flatMap((c) => (c === "storage" ? STORAGE_GROUP : [c])); break;
      case "--sizes": o.sizes = list(value()).map((s) => int("--sizes", s)); break;
      case "--chunk": o.chunk = int("--chunk", value()); break;
      case "--existing-n": o.existingN = int("--existing-n", value()); break;
      case "--reps": o.reps = int("--reps", value()); break;
      case "--engines": o.engines = list(value()); break;
      case "--before-dist": o.beforeDist = resolve(value()); break;
      case "--case-sizes":
        for (const item of list(value())) {
          const [name, sizes, more] = item.split("=");
          if (!sizes || more !== undefined) throw new UsageError(`--case-sizes ${JSON.stringify(item)} must be case=n or case=n:m:...`);
          if (!SIZED.includes(name)) throw new UsageError(`--case-sizes: ${JSON.stringify(name)} is not a random case; they are: ${SIZED.join(", ")}`);
          o.caseSizes[name] = sizes.split(":").map((v) => int("--case-sizes", v));
        }
        break;
      case "--workers": o.workers = int("--workers", value()); break;
      case "--storage-n": o.storageN = int("--storage-n", value()); break;
      case "--storage-chunk": o.storageChunk = int("--storage-chunk", value()); break;
      case "--storage-dir": o.storageDir = resolve(value()); break;
      case "--cold-reads": o.coldReads = true; break;
      case "--no-pretouch": o.pretouch = false; break;
      case "--seed": o.seed = int("--seed", value(), 0); break;
      case "--timeout": o.timeout = int("--timeout", value()); break;
      case "--out": o.out = value(); if (!/^[\w.-]+$/.test(o.out)) throw new UsageError(`--out ${JSON.stringify(o.out)} must be a plain file name`); break;
      default: throw new UsageError(`unknown option ${JSON.stringify(a)}`);
    }
  }
  const known = [...Object.keys(CASES), ...Object.keys(RANK_CASES), ...Object.keys(SKIPPED)];
  for (const c of o.cases ?? []) if (!known.includes(c)) throw new UsageError(`unknown case ${JSON.stringify(c)}; cases: ${known.join(", ")}`);
  // optional engines (tessera-before) join the default list only when what they need is given
  o.engines ??= Object.keys(ENGINES).filter((e) => !ENGINES[e].optional || (e === "tessera-before" && o.beforeDist));
  for (const e of o.engines) if (!ENGINES[e]) throw new UsageError(`unknown engine ${JSON.stringify(e)}; engines: ${Object.keys(ENGINES).join(", ")}`);
  // --quick leaves out the srun start-up case (it starts a SLURM cluster: tens of seconds); the storage cases
  // (gigabytes on disk at full size) run only when named, but --quick has a tiny one
  o.cases ??= o.quick ? known.filter((c) => c !== "startup" && (!STORAGE_CASES.includes(c) || QUICK_STORAGE.includes(c))) : known.filter((c) => !STORAGE_CASES.includes(c));
  o.cases = [...new Set(o.cases)];
  o.sizes ??= o.quick ? [2000, 4000] : [10000, 20000];
  // the view cases are a smoke test in --quick: the smallest size only (unless --case-sizes says otherwise)
  if (o.quick) for (const c of VIEW_CASES) o.caseSizes[c] ??= [Math.min(...o.sizes)];
  o.chunk ??= o.quick ? 1000 : 2000;
  o.existingN ??= o.quick ? 2048 : 8192;
  o.storageN ??= o.quick ? 1024 : 23170;
  o.storageChunk ??= o.quick ? 256 : 2048;
  o.reps ??= o.quick ? 1 : 3;
  o.out ??= o.quick ? "quick" : "latest"; // a smoke run never overwrites the published results
  o.warmup ??= !o.quick; // --quick is a smoke test: no warm-up, to stay under a minute
  return o;
}

/** Sizes of the per-task-overhead case: tessera runs many tasks, dask fewer (it is 10-300x slower per task). */
function tinySizes(quick) {
  return quick
    ? { tessera: 100_000, "dask-threads": 20_000 } // no dask distributed: its cluster start-up alone is ~5 s
    : { tessera: 1_000_000, "dask-threads": 100_000, "dask-distributed": 20_000 };
}

// ---- running one job ---------------------------------------------------------------------------------

/** One run of bench/tessera_case.mjs on the build in dist.dir (tessera: the snapshot of dist/; tessera-before: --before-dist). */
/** One tessera case in a process of its own; `env`: the engine's own environment (ENGINES[e].env). */
async function runTessera(caseName, n, chunk, o, dist, env = {}) {
  if (dist.missing) return { case: caseName, engine: "tessera", missing: dist.missing };
  if (dist.error) return { case: caseName, engine: "tessera", error: dist.error };
  const argv = [process.execPath, join(here, "tessera_case.mjs"), caseName, String(n), String(chunk), String(o.seed), String(o.workers)];
  const r = await runCommand(argv, { env: { TESSERA_BENCH_DIST: dist.dir, ...env }, timeoutMs: o.timeout * 1000 });
  if (r.timedOut) return { error: `timed out after ${o.timeout} s` };
  const parsed = lastJsonLine(r.stdout);
  if (!parsed) return { error: `exit ${r.code ?? r.signal}, no JSON output: ${r.stderr.trim().split("\n").slice(-3).join(" | ")}` };
  return { ...parsed, wallSeconds: Math.round(r.seconds * 1000) / 1000, harnessPeakRssMiB: r.peakRssMiB, stealSeconds: r.stealSeconds };
}

async function runNative(mode, args, timeoutMs) {
  const bin = await buildNative({ quiet: true });
  if (!bin) return { missing: "gcc not available or native.c failed to build" };
  const r = await runCommand([bin, mode, ...args.map(String)], { timeoutMs });
  const parsed = lastJsonLine(r.stdout);
  if (!parsed) return { error: `native ${mode}: exit ${r.code ?? r.signal}: ${r.stderr.trim()}` };
  return { ...parsed, wallSeconds: Math.round(r.seconds * 1000) / 1000, harnessPeakRssMiB: r.peakRssMiB, stealSeconds: r.stealSeconds };
}

/** The sizes a case runs at: --case-sizes, --sizes, the existing arrays' side, or the tiny-task counts (null). */
function sizesOf(o, caseName) {
  if (SIZED.includes(caseName)) return o.caseSizes[caseName] ?? o.sizes;
  if (caseName === "ones_tiny_tasks") return [null];
  return [o.existingN];
}

/**
 * One job: one engine on one case at one size. `run()` resolves to a raw run record; `runAt(n)` runs the
 * same engine and case at another size (the warm-up).
 */
export function makeJobs(o, dist, before, storage = storageContext({ base: o.storageDir ?? undefined, cold: o.coldReads })) {
  const jobs = [];
  const tiny = tinySizes(o.quick);
  const timeoutMs = o.timeout * 1000;
  for (const caseName of o.cases.filter((c) => CASES[c])) {
    if (CASES[caseName].storage) {
      jobs.push(...makeStorageJobs(caseName, o, dist, storage));
      continue;
    }
    const sized = SIZED.includes(caseName);
    const chunk = sized ? o.chunk : caseName === "ones_tiny_tasks" ? 10 : Math.min(2048, o.existingN);
    for (const size of sizesOf(o, caseName)) {
      const group = `${caseName}|${size ?? "tasks"}`;
      for (const engine of o.engines) {
        if (!ENGINES[engine].cases.includes(caseName)) continue;
        const n = size ?? tiny[engine === "tessera-before" ? "tessera" : engine];
        if (n === undefined) continue;
        const base = { group, case: caseName, n, chunk, engine, label: ENGINES[engine].label, expectN: n };
        const add = (runAt, extra = {}) => jobs.push({ ...base, ...extra, runAt, run: () => runAt(n) });
        if (engine === "tessera") add((m) => runTessera(caseName, m, chunk, o, dist));
        else if (ENGINES[engine].env) add((m) => runTessera(caseName, m, chunk, o, dist, ENGINES[engine].env));
        else if (engine === "tessera-before") add((m) => runTessera(caseName, m, chunk, o, before), before.label ? { label: before.label } : {});
        else if (engine === "dask-threads") add((m) => runDask(caseName, { n: m, chunk: Math.min(chunk, m), seed: o.seed, scheduler: "threads", workers: o.workers, timeoutMs }));
        else if (engine === "dask-distributed") add((m) => runDask(caseName, { n: m, chunk: Math.min(chunk, m), seed: o.seed, scheduler: "distributed", workers: 2, timeoutMs }));
        else if (engine === "numpy") add((m) => runNumpy(caseName, { n: m, chunk: Math.min(chunk, m), seed: o.seed, timeoutMs }));
        else if (engine === "native") {
          if (TUTORIAL.includes(caseName)) {
            // generate-and-sum of n*n doubles on 1 and 2 threads: the +1 is free, so it bounds the pipelines
            for (const threads of [1, 2]) {
              jobs.push({ ...base, engine: `native-gensum-${threads}t`, label: `C gensum ${threads} thread${threads > 1 ? "s" : ""} (limit)`, native: true,
                run: () => runNative("gensum", [n * n, threads], timeoutMs), expectOverride: { value: (n * n) / 2, rel: 1e-3 } });
            }
          } else {
            // add: plain stores and streaming ones (tessera's native kernels stream outputs of 8 MiB and more
            // into resident memory), and into fresh memory (its page faults timed) as the first a + b writes
            const modes = caseName === "sum_existing" ? ["sum"] : ["add", "add-stream", "add-fresh"];
            for (const mode of modes) {
              for (const threads of [1, 2]) {
                const th = `${threads} thread${threads > 1 ? "s" : ""}`;
                const what = mode === "add-fresh" ? `add into fresh memory ${th}` : mode === "add-stream" ? `add, streaming stores ${th} (limit)` : `${mode} ${th} (limit)`;
                jobs.push({ ...base, chunk: null, engine: `native-${mode}-${threads}t`, label: `C ${what}`, native: true,
                  run: () => runNative(mode, [threads, n * n], timeoutMs) });
              }
            }
          }
        }
      }
    }
  }
  return jobs;
}

/** A raw engine output -> { status, seconds, work, result, peakRssMiB, ... }. */
function normalize(job, raw) {
  const rec = { raw };
  if (raw.missing) return { ...rec, status: "missing", note: raw.missing };
  if (raw.error) return { ...rec, status: "error", note: raw.error };
  const c = CASES[job.case];
  let seconds = raw.seconds, work = c.work ? c.work(job.n) : raw.tasks;
  if (raw.mode === "sum" || raw.mode === "add") { work = raw.bytes; seconds = raw.bytes / (raw.gb_per_s * 1e9); }
  if (raw.mode === "gensum") work = raw.n;
  if (!Number.isFinite(seconds) || !(seconds > 0)) return { ...rec, status: "error", note: `no time in output ${JSON.stringify(raw).slice(0, 200)}` };
  if (c.storage) {
    // checked by bench/lib/storage.mjs (against the engine's own generator); variants are rows of their own
    return {
      ...rec, status: raw.problem ? "warning" : "ok", note: raw.problem, seconds, work, result: raw.result,
      peakRssMiB: raw.harnessPeakRssMiB, selfRssMiB: raw.peak_rss_mib, timedRssMiB: raw.timed_peak_rss_mib, wallSeconds: raw.wallSeconds, stealSeconds: raw.stealSeconds,
      second: null, variants: raw.variants ?? [],
    };
  }
  let problem = null;
  if (raw.mode === "sum") problem = raw.ok ? null : `native sum result ${raw.result} wrong`;
  else if (raw.mode === "add") problem = checkResult("add_existing", job.n, raw.result);
  else problem = checkResult(job.case, job.expectN, raw.result, { expectOverride: job.expectOverride, length: raw.result_length });
  return {
    ...rec, status: problem ? "warning" : "ok", note: problem, seconds, work, result: raw.result,
    peakRssMiB: raw.harnessPeakRssMiB, selfRssMiB: raw.peak_rss_mib, wallSeconds: raw.wallSeconds, stealSeconds: raw.stealSeconds,
    second: Number.isFinite(raw.second_seconds) ? { seconds: raw.second_seconds, result: raw.second_result } : null,
  };
}

// ---- summary ---------------------------------------------------------------------------------------

export function summarize(jobs, runsByJob) {
  const rows = [];
  const fmtRow = (job, engine, label, runs) => {
    const good = runs.filter((r) => r.status === "ok" || r.status === "warning");
    const secs = good.map((r) => r.seconds);
    const med = median(secs), mm = minmax(secs);
    const work = good[0]?.work;
    const status = !runs.length ? "not run" : good.length === 0 ? runs[0].status : good.some((r) => r.status === "warning") ? "warning" : "ok";
    const notes = [...new Set(runs.map((r) => r.note).filter(Boolean))];
    return {
      group: job.group, case: job.case, n: job.n, chunk: job.chunk, engine, label, status,
      reps: good.length, median: med, min: mm.min, max: mm.max, work,
      throughput: Number.isFinite(med) && work ? work / med : NaN, unit: CASES[job.case].unit,
      peakRssMiB: good.length ? Math.max(...good.map((r) => r.peakRssMiB ?? NaN).filter(Number.isFinite)) : NaN,
      result: good[0]?.result ?? null, note: notes.join("; ") || null,
      // what a tessera run says it ran with (the kernel targets compare it with the C control on as many threads)
      ...(Number.isFinite(good[0]?.raw?.workers) ? { workers: good[0].raw.workers } : {}), ...(good[0]?.raw?.kernels ? { kernels: good[0].raw.kernels } : {}),
      // storage steps: the peak the step sampled in itself during its timed call alone (the row's is the whole step)
      ...(good.some((r) => Number.isFinite(r.timedRssMiB)) ? { timedRssMiB: Math.max(...good.map((r) => r.timedRssMiB).filter(Number.isFinite)) } : {}),
    };
  };
  for (const job of jobs) {
    const runs = runsByJob.get(job);
    rows.push(fmtRow(job, job.engine, job.label, runs));
    // rows measured in the same runs (a write's "+ fdatasync", the persisted sum): compared with tessera's same row
    const keys = [...new Set(runs.flatMap((r) => (r.variants ?? []).map((v) => v.key)))];
    for (const key of keys) {
      const withKey = runs.filter((r) => r.variants?.some((v) => v.key === key));
      const v0 = withKey[0].variants.find((v) => v.key === key);
      const vr = withKey.map((r) => ({ ...r, seconds: r.variants.find((v) => v.key === key).seconds }));
      rows.push({ ...fmtRow(job, `${job.engine}-${key}`, v0.label, vr), peakRssMiB: NaN, base: `tessera-${key}` });
    }
    if ((job.engine === "tessera" || job.engine === "tessera-before" || ENGINES[job.engine]?.env) && runs.some((r) => r.second)) {
      const second = runs.filter((r) => r.second).map((r) => ({
        ...r, seconds: r.second.seconds, result: r.second.result,
        status: checkResult(job.case, job.n, r.second.result) ? "warning" : "ok",
        note: checkResult(job.case, job.n, r.second.result),
      }));
      rows.push({ ...fmtRow(job, `${job.engine}-2nd`, `${job.label} (2nd compute)`, second), peakRssMiB: NaN });
    }
  }
  for (const r of rows) {
    if (r.peakRssMiB === -Infinity) r.peakRssMiB = NaN;
    const t = rows.find((x) => x.group === r.group && x.engine === (r.base ?? "tessera"));
    // time ÷ tessera for the same work: > 1 means tessera is faster (throughputs, since tiny-task counts differ)
    r.vsTessera = t && Number.isFinite(t.throughput) && Number.isFinite(r.throughput) ? t.throughput / r.throughput : NaN;
  }
  return rows;
}

/**
 * What --strict fails on: tessera's own rows (errors, failed result checks) and the rank cases' tessera rows.
 * Not the tessera-before engine: an old build is a peer here, not what is being tested.
 */
export function strictFailures(rows, ranks) {
  const out = [];
  for (const r of rows) {
    if (r.engine !== "tessera" && !(r.engine.startsWith("tessera-") && !r.engine.startsWith("tessera-before"))) continue; // tessera's rows and its variants
    if (r.status !== "ok") out.push(`${r.case} n=${r.n} ${r.label}: ${r.status}${r.note ? ` (${r.note})` : ""}`);
  }
  if (ranks?.error) out.push(`rank cases: ${ranks.error}`);
  for (const r of ranks?.rows ?? []) {
    const ours = r.engine === "tessera" || /ranks? ×/.test(r.engine) || r.section === "startup";
    if (ours && r.status) out.push(`${r.what} ${r.engine}: ${r.status}`);
  }
  for (const n of ranks?.meta?.notes ?? []) if (n.startsWith("WARNING")) out.push(`rank cases: ${n}`);
  return out;
}

// ---- the run ---------------------------------------------------------------------------------------

function git(args) {
  try { return execFileSync("git", args, { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim(); } catch { return null; }
}

/** Copies dist/ aside so a rebuild by someone else mid-run cannot change the engine being measured. */
function snapshotDist() {
  const src = join(root, "dist");
  if (!existsSync(join(src, "index.js")) || !existsSync(join(src, "kernels", "tessera.simd.wasm"))) {
    return { error: "dist/ is not built: run `npm run build`" };
  }
  const { snap, dist: dir, addons: native } = snapshotBuild(root);
  const wasm = readFileSync(join(dir, "kernels", "tessera.simd.wasm"));
  return { dir, snap, wasmSha256: createHash("sha256").update(wasm).digest("hex").slice(0, 16), addons: native };
}

/**
 * The build of --before-dist DIR for the tessera-before engine: { dir, label, commit, wasmSha256 }, or
 * { missing } (no DIR given, or not a built dist/: its rows then say so, and nothing else is affected).
 * Not copied aside: it is a fixed commit that nobody rebuilds during a run.
 */
export function beforeDist(dir) {
  if (!dir) return { missing: "no --before-dist DIR given (a build of commit 123c012: see bench/README.md)" };
  if (!existsSync(join(dir, "index.js")) || !existsSync(join(dir, "kernels", "tessera.simd.wasm"))) {
    return { missing: `--before-dist ${dir} is not a built dist/ (no index.js or kernels/tessera.simd.wasm): run npm ci there` };
  }
  let commit = null, dirty = 0;
  try {
    commit = execFileSync("git", ["-C", dir, "rev-parse", "--short", "HEAD"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    dirty = execFileSync("git", ["-C", dir, "status", "--porcelain", "--", "../src", "../assembly"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] })
      .split("\n").filter(Boolean).length;
  } catch { /* not a git checkout: the label says so */ }
  const wasm = readFileSync(join(dir, "kernels", "tessera.simd.wasm"));
  const label = commit ? `tessera before the redesign (${commit}${dirty ? ` + ${dirty} uncommitted` : ""})` : `tessera before the redesign (${dir})`;
  return { dir, label, commit, dirtyFiles: dirty, wasmSha256: createHash("sha256").update(wasm).digest("hex").slice(0, 16) };
}

function writeAtomic(path, text) {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

const log = (s) => process.stderr.write(`${s}\n`);

export async function main(argv) {
  let o;
  try {
    o = parseArgs(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`bench: ${e.message}\n${USAGE}`);
    return 2;
  }
  if (o.help) {
    console.log(USAGE);
    return 0;
  }
  const storageCases = o.cases.filter((c) => CASES[c]?.storage);
  if (o.coldReads && storageCases.length && process.getuid?.() !== 0) {
    console.error("bench: --cold-reads drops the page cache (/proc/sys/vm/drop_caches), which needs root; without it the storage reads are warm-cache reads");
    return 2;
  }
  const space = storageCases.length ? storageSpaceProblem(storageCases, o.storageN, o.storageChunk, o.storageDir ?? os.tmpdir()) : null;
  if (space) {
    console.error(`bench: refusing to run: ${space}`);
    return 2;
  }
  const started = new Date();
  const t0 = performance.now();
  const dist = o.engines.some((e) => e === "tessera" || ENGINES[e].env) ? snapshotDist() : { error: "tessera not selected" };
  const storage = storageContext({ base: o.storageDir ?? undefined, cold: o.coldReads });
  // a signal must not leave gigabytes behind: stop the running child, remove the storage directory and the snapshot
  const onSignal = (sig) => {
    killRunning();
    storage.cleanup();
    removeSnapshot(dist.snap);
    log(`bench: ${sig}: stopped, temporary files removed`);
    process.exit(130);
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  const before = beforeDist(o.beforeDist);
  // recorded with the snapshot, at the start: others may commit while the suite runs
  const source = { commit: git(["rev-parse", "--short", "HEAD"]), dirtyFiles: (git(["status", "--porcelain", "--", "src", "assembly"]) ?? "").split("\n").filter(Boolean).length };
  try {
    const info = machineInfo();
    const py = await pythonMissing();
    log(`bench: ${info.cpuModel}, ${info.cores} cores, ${info.memoryGiB} GiB, node ${info.node}, python ${info.python ?? "-"}, dask ${info.dask ?? "-"}${py ? ` (python peers missing: ${py})` : ""}`);
    const jobs = makeJobs(o, dist, before, storage);
    if (storageCases.length) {
      const si = storage.info();
      log(`bench: storage cases write under ${si.base} (${si.fstype ?? "?"} on ${si.device ?? "?"}, ${si.freeGiB} GiB free), ${o.storageN}² float64 in chunks of ${Math.min(o.storageChunk, o.storageN)}, ${si.cache} cache reads, ${o.pretouch ? "memory pre-touched before each timed write" : "no pre-touch before the writes"}`);
      if (si.fstype === "tmpfs" || si.fstype === "ramfs") log(`bench: WARNING ${si.base} is ${si.fstype}: memory, not a disk; pass --storage-dir on a disk`);
    }
    if (before.missing) log(`bench: tessera-before: ${o.engines.includes("tessera-before") ? "missing" : "not run"}: ${before.missing}`);
    else log(`bench: tessera-before: ${before.label} from ${before.dir}, kernels ${before.wasmSha256}`);
    const spinBefore = await runNativeSpin(1); // host-contention control, in every suite

    log(`bench: spin control before: ${spinBefore?.ratio ?? spinBefore?.missing ?? spinBefore?.error} (2 threads ÷ 1 thread; ~2 when 2 cores are free)`);

    if (o.warmup) {
      // One unrecorded small run per engine: page cache, python imports, compiled binaries, wasm in the disk cache.
      const seen = new Set();
      for (const job of jobs) {
        const key = job.engine.replace(/-\d+t$/, "");
        if (seen.has(key) || job.native || !job.runAt) continue; // native controls: a few ms of start-up, nothing to warm
        seen.add(key);
        const small = SIZED.includes(job.case) ? Math.min(job.n, 2000) : job.case === "ones_tiny_tasks" ? job.n : Math.min(job.n, 1024);
        const w = await job.runAt(small);
        log(`bench: warm-up ${job.engine} ${job.case} n=${small}: ${w?.missing ? "missing" : w?.error ? `error: ${w.error}` : `${w?.seconds} s`}`);
      }
    }

    const runsByJob = new Map(jobs.map((j) => [j, []]));
    const order = interleave(jobs, o.reps);
    let k = 0;
    for (const { item: job, rep } of order) {
      k++;
      const missingBefore = runsByJob.get(job).find((r) => r.status === "missing");
      if (missingBefore) { runsByJob.get(job).push(missingBefore); continue; } // do not re-probe a missing engine
      let raw;
      try { raw = await job.run(); } catch (e) { raw = { error: `harness: ${e?.message ?? e}` }; }
      const rec = normalize(job, raw);
      runsByJob.get(job).push({ ...rec, rep });
      const what = rec.status === "ok" ? `${rec.seconds.toFixed(3)} s, peak ${rec.peakRssMiB} MiB` : `${rec.status}: ${rec.note}`;
      log(`bench: [${k}/${order.length}] rep ${rep + 1} ${job.engine} ${job.case} n=${job.n}: ${what}`);
    }

    const spinAfter = await runNativeSpin(1);
    log(`bench: spin control after: ${spinAfter?.ratio ?? spinAfter?.missing ?? spinAfter?.error}`);

    const rows = summarize(jobs, runsByJob);
    const rankCases = o.engines.includes("tessera") ? o.cases.filter((c) => RANK_CASES[c]) : [];
    const ranks = rankCases.length ? await runRankCases(o, rankCases, log) : null;
    if (ranks?.error) log(`bench: rank cases failed: ${ranks.error}`);
    const skipped = o.cases.filter((c) => SKIPPED[c]).map((c) => ({ case: c, note: SKIPPED[c] }));
    const meta = {
      started: started.toISOString(), seconds: Math.round((performance.now() - t0) / 100) / 10,
      options: { ...o }, machine: info, pythonPeers: py ?? "ok",
      tessera: { ...source, wasmSha256: dist.wasmSha256 ?? null, addons: dist.addons ?? [], dist: dist.error ?? "snapshot of dist/ and the native addons at start" },
      tesseraBefore: before.missing ? { missing: before.missing, selected: o.engines.includes("tessera-before") }
        : { dir: before.dir, commit: before.commit, dirtyFiles: before.dirtyFiles, wasmSha256: before.wasmSha256, label: before.label },
      controls: { spinBefore, spinAfter },
      cases: Object.fromEntries(Object.entries(CASES).filter(([c]) => o.cases.includes(c)).map(([c, v]) => [c, { title: v.title, what: v.what, unit: v.unit }])),
      storage: storageCases.length ? { ...storage.info(), n: o.storageN, chunk: Math.min(o.storageChunk, o.storageN), pretouch: o.pretouch } : null,
    };
    const targets = targetRows(rows);
    const result = { meta, rows, targets, rankRows: ranks?.rows ?? null, skipped, runs: jobs.map((j) => ({ case: j.case, n: j.n, chunk: j.chunk, engine: j.engine, runs: runsByJob.get(j).map(({ raw, ...r }) => ({ ...r, raw })) })) };

    if (ranks) meta.ranks = ranks.error ? { error: ranks.error } : { file: ranks.file, cases: rankCases, started: ranks.meta.started, notes: ranks.meta.notes, controls: ranks.meta.controls };
    const chart = ranks?.rows ? [...rows, ...chartRows(ranks.rows)] : rows;
    const ranksSection = !ranks ? [] : ranks.error ? ["", "## Ranks", "", `rank cases failed: ${ranks.error}`]
      : ["", "## Ranks", "", `From \`node bench/ranks.mjs\` in the same run (details and raw runs: [${ranks.file}.md](${ranks.file}.md)); ratios against Open MPI (mpi4py) and the native control.`, "",
        ...ranksMarkdownTable(ranks.rows), "", ...ranks.meta.notes.map((n) => `- ${n}`)];
    console.log(renderTerminal(rows, skipped, meta));
    if (ranks?.rows) console.log(ranksSection.slice(1).join("\n"));
    const outDir = join(here, "results");
    mkdirSync(outDir, { recursive: true });
    const base = join(outDir, o.out);
    writeAtomic(`${base}.json`, JSON.stringify(result, null, 1) + "\n");
    writeAtomic(`${base}.md`, renderMarkdown(rows, skipped, meta, `${o.out}.svg`) + (ranksSection.length ? ranksSection.join("\n") + "\n" : ""));
    writeAtomic(`${base}.svg`, renderSvg(chart, meta));
    console.log(`\nwrote ${[".json", ".md", ".svg"].map((e) => resolve(base + e).replace(root + "/", "")).join(", ")} (${meta.seconds} s)`);
    if (o.strict) {
      const failed = strictFailures(rows, ranks);
      if (failed.length) {
        console.error(`bench: --strict: ${failed.length} tessera measurement(s) failed:\n  ${failed.join("\n  ")}`);
        return 3;
      }
    }
    return 0;
  } finally {
    process.removeListener("SIGINT", onSignal);
    process.removeListener("SIGTERM", onSignal);
    storage.cleanup();
    removeSnapshot(dist.snap);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    process.exitCode = await main(process.argv.slice(2));
  } catch (e) {
    console.error(`bench: harness failure: ${e?.stack ?? e}`);
    process.exitCode = 1;
  }
}
