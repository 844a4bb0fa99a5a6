// The benchmark harness's own logic (no timings): option parsing, result checks, the rank rows it turns
// into chart bars, and what --strict fails on. The end-to-end smoke run is CI's `npm run bench -- --quick --strict`.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { existsSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { BEFORE_CASES, CASES, ENGINES, QUICK_STORAGE, STORAGE_CASES, STORAGE_GROUP, VIEW_CASES, checkResult, existingExpected, sliceMargin } from "../../bench/lib/cases.mjs";
import { chartRows, ranksArgs } from "../../bench/lib/rank-cases.mjs";
import { fmtThroughput, renderMarkdown, renderTerminal, storageTargetRows, targetRows } from "../../bench/lib/report.mjs";
import { checkStorage, fileSystemOf, storageContext, storageLayout, storageRecord } from "../../bench/lib/storage.mjs";
import { beforeDist, makeJobs, parseArgs, strictFailures, summarize } from "../../bench/run.mjs";

test("parseArgs: defaults, --quick, rank cases, bad values", () => {
  const full = parseArgs([]);
  assert.equal(full.sizes, [10000, 20000]);
  assert.equal(full.reps, 3);
  assert.ok(full.cases.includes("allreduce") && full.cases.includes("scaling") && full.cases.includes("startup"));
  const quick = parseArgs(["--quick"]);
  assert.equal(quick.out, "quick");
  assert.equal(quick.reps, 1);
  assert.not.ok(quick.cases.includes("startup"), "--quick never starts a SLURM cluster");
  assert.ok(quick.cases.includes("allreduce"));
  assert.equal(parseArgs(["--cases", "allreduce,random_sum", "--reps=2"]).cases, ["allreduce", "random_sum"]);
  assert.throws(() => parseArgs(["--cases", "nope"]), /unknown case "nope"/);
  assert.throws(() => parseArgs(["--reps", "0"]), /--reps "0" must be an integer >= 1/);
  assert.throws(() => parseArgs(["--out", "../x"]), /plain file name/);
});

test("parseArgs: tessera-before joins the default engines only with --before-dist; --case-sizes", () => {
  assert.not.ok(parseArgs([]).engines.includes("tessera-before"), "CI and other users are not affected");
  assert.ok(parseArgs(["--quick"]).engines.includes("tessera"));
  const b = parseArgs(["--before-dist", "/tmp/x/dist"]);
  assert.ok(b.engines.includes("tessera-before"));
  assert.is(b.beforeDist, "/tmp/x/dist");
  assert.equal(parseArgs(["--engines", "tessera,tessera-before"]).engines, ["tessera", "tessera-before"], "explicit: kept (its rows say missing)");
  const c = parseArgs(["--sizes", "50000", "--case-sizes", "transpose_add_sum0=20000,concat_mean1=10000:20000"]);
  assert.equal(c.caseSizes, { transpose_add_sum0: [20000], concat_mean1: [10000, 20000] });
  assert.throws(() => parseArgs(["--case-sizes", "sum_existing=100"]), /not a random case/);
  assert.throws(() => parseArgs(["--case-sizes", "slice_sum"]), /must be case=n/);
  assert.throws(() => parseArgs(["--case-sizes", "slice_sum=0"]), /must be an integer >= 1/);
  // --quick: the view cases are a smoke test at the smallest size
  const q = parseArgs(["--quick"]);
  for (const v of VIEW_CASES) assert.equal(q.caseSizes[v], [2000], v);
  assert.ok(VIEW_CASES.every((v) => q.cases.includes(v)) && q.cases.includes("reshape_existing_sum"));
  assert.equal(parseArgs(["--quick", "--case-sizes", "slice_sum=3000"]).caseSizes.slice_sum, [3000]);
});

test("makeJobs: sizes per case, tessera-before on the cases that existed before only", () => {
  const o = parseArgs(["--sizes", "50000", "--case-sizes", "transpose_add_sum0=20000", "--before-dist", "/nowhere", "--engines", "tessera,tessera-before,dask-threads,numpy,native"]);
  const jobs = makeJobs(o, { dir: "/x" }, { label: "tessera before the redesign (123c012)", dir: "/y" });
  const of = (c, e) => jobs.filter((j) => j.case === c && j.engine === e);
  assert.equal(of("transpose_add_sum0", "tessera").map((j) => j.n), [20000]);
  assert.equal(of("slice_sum", "dask-threads").map((j) => j.n), [50000]);
  assert.is(of("reshape_existing_sum", "tessera")[0].n, 8192);
  assert.is(of("transpose_add_sum0", "numpy").length, 0, "numpy: not natural block by block");
  assert.is(of("slice_sum", "native-gensum-1t").length, 0, "no C control for the view cases");
  assert.is(of("random_add_sum", "native-gensum-2t").length, 1);
  const before = jobs.filter((j) => j.engine === "tessera-before");
  assert.equal([...new Set(before.map((j) => j.case))].sort(), [...BEFORE_CASES].sort());
  assert.ok(before.every((j) => j.label === "tessera before the redesign (123c012)"));
  assert.is(of("ones_tiny_tasks", "tessera-before")[0].n, of("ones_tiny_tasks", "tessera")[0].n, "same task count as tessera");
  for (const j of jobs) assert.ok(ENGINES[j.engine] || j.native, j.engine);
  assert.ok(jobs.every((j) => !j.runAt || typeof j.runAt === "function"));
});

test("beforeDist: absent or unbuilt directories are a note, a built one gets its commit in the label", () => {
  assert.match(beforeDist(null).missing, /no --before-dist/);
  assert.match(beforeDist("/nonexistent/dist").missing, /not a built dist\/.*npm ci/);
  const dir = mkdtempSync(join(os.tmpdir(), "bench-before-"));
  try {
    mkdirSync(join(dir, "kernels"));
    writeFileSync(join(dir, "index.js"), "");
    writeFileSync(join(dir, "kernels", "tessera.simd.wasm"), "wasm");
    const b = beforeDist(dir);
    assert.is(b.missing, undefined);
    assert.is(b.dir, dir);
    assert.match(b.wasmSha256, /^[0-9a-f]{16}$/);
    assert.match(b.label, /^tessera before the redesign \(/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("ranksArgs: the quick smoke is small and skips SLURM; the full run follows --reps and the largest size", () => {
  const q = ranksArgs(parseArgs(["--quick"]), ["allreduce", "scaling"]);
  assert.equal(q.slice(0, 4), ["--sections", "allreduce,pipeline", "--out", "quick-ranks"]);
  assert.ok(q.includes("--no-slurm") && q.includes("--max-wait"));
  const f = ranksArgs(parseArgs(["--sizes", "10000,50000", "--reps", "5"]), ["scaling", "startup"]);
  assert.equal(f, ["--sections", "pipeline,startup", "--out", "latest-ranks", "--reps", "5", "--n", "50000"]);
});

test("checkResult: the view cases within six standard deviations, vector lengths, the exact reshape", () => {
  // slice_sum at n = 2000: margin 250, 1000 rows of 1500 columns; sd of the sum sqrt(1.5e6 / 12) = 354
  assert.is(sliceMargin(2000), 250);
  assert.is(sliceMargin(50000), 1000);
  assert.is(CASES.slice_sum.work(2000), 1000 * 1500);
  assert.is(checkResult("slice_sum", 2000, 750000 + 1500), null);
  assert.match(checkResult("slice_sum", 2000, 750000 + 2500), /limit 0.00283/);
  assert.match(checkResult("slice_sum", 2000, 1e6), /differs/, "no slice at all: caught");
  // transpose: 2 sum(x) ≈ n², sd 2 sqrt(n² / 12)
  assert.is(checkResult("transpose_add_sum0", 1000, 1e6 + 2000, { length: 1000 }), null);
  assert.match(checkResult("transpose_add_sum0", 1000, 1e6 + 5000), /differs/);
  assert.match(checkResult("transpose_add_sum0", 1000, 1e6, { length: 999 }), /999 elements, expected 1000/);
  // concat: a 2n-vector of means summing to ≈ n (sd sqrt(1/6))
  assert.is(checkResult("concat_mean1", 2000, 2001.2, { length: 4000 }), null);
  assert.match(checkResult("concat_mean1", 2000, 2003, { length: 4000 }), /differs/);
  assert.match(checkResult("concat_mean1", 2000, 2000, { length: 2000 }), /expected 4000/);
  assert.is(checkResult("reshape_sum", 2000, 2e6 + 2400, { length: 1000 }), null);
  assert.match(checkResult("reshape_sum", 2000, 2e6, { length: 2000 }), /expected 1000/);
  assert.is(checkResult("reshape_existing_sum", 2048, existingExpected(2048 * 2048), { length: 1024 }), null);
  assert.match(checkResult("reshape_existing_sum", 2048, existingExpected(2048 * 2048) - 1), /must be exact/);
  assert.is(checkResult("mean_axis0", 100, 300, { length: 100 }), null);
  assert.is(checkResult("mean_axis0", 100, 300), null, "peers that report no length are not failed for it");
});

test("checkResult: exact cases must match exactly, random cases within 1e-3", () => {
  assert.is(existingExpected(2500, 1000), 2 * 499500 + (500 * 499) / 2);
  assert.is(checkResult("sum_existing", 100, existingExpected(10000)), null);
  assert.match(checkResult("sum_existing", 100, existingExpected(10000) + 1), /must be exact/);
  assert.is(checkResult("random_add_sum", 1000, 1.5e6 * 1.0005), null);
  assert.match(checkResult("random_add_sum", 1000, 1.5e6 * 1.01), /limit 0.001/);
  assert.match(checkResult("random_sum", 1000, NaN), /not a finite number/);
});

const RANK_ROWS = [
  { section: "allreduce", key: "tessera-2", what: "allreduce 1×f64, 2 ranks", engine: "tessera", value: 250, unit: "µs" },
  { section: "allreduce", key: "mpi4py-2", what: "allreduce 1×f64, 2 ranks", engine: "mpi4py Allreduce (buffer)", value: 2.5, unit: "µs" },
  { section: "allreduce", key: "tessera-2", what: "allreduce 64 MiB f64, 2 ranks", engine: "tessera", value: 0.25, unit: "GB/s" },
  { section: "pipeline", key: "np2-w1", what: "pipeline n=1000", engine: "2 ranks × 1 worker (--np 2 --workers 1)", value: 0.5, unit: "s" },
  { section: "pipeline", key: "np1-w1", what: "pipeline n=1000", engine: "1 rank × 1 worker (--workers 1)", value: 1, unit: "s" },
  { section: "pipeline", key: "gensum-2t", what: "native control: 1.00e+6 doubles", engine: "C gensum (AVX2) 2 threads", value: 0.001, unit: "s" },
  { section: "startup", key: "np4-runjs", what: "start-up, 4 ranks", engine: "node dist/run.js --np 4 --n 1000", value: 1.3, unit: "s wall" },
];

test("chartRows: latency as ops/s, GB/s as bytes/s, pipelines as el/s, ratios within each group", () => {
  const rows = chartRows(RANK_ROWS);
  assert.is(rows.length, 6, "start-up is a table row, not a bar");
  const lat = rows.filter((r) => r.group === "allreduce 1×f64, 2 ranks");
  assert.is(lat[0].throughput, 4000);
  assert.is(lat[0].unit, "ops/s");
  assert.is(lat[1].vsTessera, 0.01); // mpi4py does tessera's work in 1/100 of the time
  assert.is(rows.find((r) => r.unit === "GB/s").throughput, 0.25e9);
  const pipe = rows.filter((r) => r.case === "scaling");
  assert.is(pipe.length, 3, "the native control joins the pipeline's group");
  assert.ok(pipe.every((r) => r.group === "pipeline n=1000"));
  assert.is(pipe[0].engine, "tessera");
  assert.is(pipe[0].throughput, 2e6);
  assert.is(pipe[1].vsTessera, 2);
  assert.is(pipe[2].throughput, 1e9);
  assert.is(fmtThroughput(4000, "ops/s"), "4000 ops/s (250 µs)");
});

test("strictFailures: tessera's failures count, missing peers and the before engine do not", () => {
  const ok = { engine: "tessera", case: "random_sum", n: 10, label: "tessera", status: "ok" };
  assert.equal(strictFailures([ok, { ...ok, engine: "numpy", status: "missing" }], { rows: RANK_ROWS, meta: { notes: ["mpirun not found"] } }), []);
  assert.equal(strictFailures([ok, { ...ok, engine: "tessera-before", status: "missing" }, { ...ok, engine: "tessera-before-2nd", status: "error" }], null), []);
  assert.is(strictFailures([{ ...ok, engine: "tessera-2nd", status: "warning" }], null).length, 1);
  assert.is(strictFailures([{ ...ok, status: "warning", note: "result 3 differs" }], null).length, 1);
  assert.is(strictFailures([ok], { error: "bench/ranks.mjs exit 1" }).length, 1);
  assert.is(strictFailures([ok], { rows: [{ ...RANK_ROWS[0], status: "error: exit 1" }], meta: { notes: [] } }).length, 1);
  assert.is(strictFailures([ok], { rows: [], meta: { notes: ["WARNING: 1 allreduce runs returned a wrong result"] } }).length, 1);
});

const row = (engine, c, n, median, extra = {}) => ({
  group: `${c}|${n}`, case: c, n, chunk: 1000, engine, label: engine, status: "ok", reps: 3, median, min: median, max: median,
  work: CASES[c].work ? CASES[c].work(n) : n / 10, unit: CASES[c].unit, peakRssMiB: 100, vsTessera: NaN, note: null, ...extra,
});
const withThroughput = (rows) => rows.map((r) => ({ ...r, throughput: r.work / r.median }));

test("targetRows: tessera ÷ before, mapBlocks ÷ add in the same run, peak RSS ÷ dask", () => {
  const rows = withThroughput([
    row("tessera", "random_add_sum", 50000, 1.0), row("tessera-before", "random_add_sum", 50000, 1.0 / 1.04),
    row("dask-threads", "random_add_sum", 50000, 10),
    row("tessera", "random_mapblocks_add_sum", 50000, 1.2, { peakRssMiB: 150 }), row("tessera-before", "random_mapblocks_add_sum", 50000, 5),
    row("dask-threads", "random_mapblocks_add_sum", 50000, 11, { peakRssMiB: 200 }),
    row("tessera", "sum_existing", 8192, 0.04), row("tessera-before", "sum_existing", 8192, 0.05),
    row("tessera-2nd", "sum_existing", 8192, 0.05), row("tessera-before-2nd", "sum_existing", 8192, 0.04),
    row("tessera", "transpose_add_sum0", 20000, 50, { peakRssMiB: 300 }), row("dask-threads", "transpose_add_sum0", 20000, 5, { peakRssMiB: 250 }),
    row("tessera-before", "ones_tiny_tasks", 1e6, 1, { status: "missing", median: NaN }),
  ]);
  const t = targetRows(rows);
  const get = (check, c) => t.find((x) => x.check === check && x.case === c);
  const add = get("tessera ÷ before", "random_add_sum");
  assert.ok(Math.abs(add.value - 1.04) < 1e-12);
  assert.is(add.verdict, "ok");
  assert.is(get("tessera ÷ before", "random_mapblocks_add_sum").verdict, "ok");
  assert.is(get("tessera ÷ before", "sum_existing").verdict, "ok", "0.8: faster, as contiguous chunks should make it");
  assert.is(get("tessera ÷ before (2nd compute)", "sum_existing").verdict, "MISSED");
  assert.not.ok(t.some((x) => x.case === "ones_tiny_tasks"), "a missing engine gives no ratio");
  const mb = get("mapBlocks ÷ add, tessera", "random_mapblocks_add_sum");
  assert.ok(Math.abs(mb.value - 1.2) < 1e-12);
  assert.is(mb.verdict, "MISSED");
  assert.is(get("mapBlocks ÷ add, dask-threads", "random_mapblocks_add_sum").verdict, "", "peers are context, not targets");
  assert.is(get("peak RSS ÷ dask threads", "random_mapblocks_add_sum").verdict, "ok");
  assert.is(get("peak RSS ÷ dask threads", "transpose_add_sum0").verdict, "MISSED");
  assert.is(get("peak RSS ÷ dask threads", "random_add_sum").verdict, "", "not a case issue 9 bounds");
  // rendered in both outputs
  const meta = {
    machine: { cpuModel: "cpu", cpuFamily: 1, cpuModelNumber: 2, simd: [], cores: 2, memoryGiB: 1, loadavg: [0, 0, 0], node: "v20", kernel: "6" },
    tessera: { commit: "abc", dirtyFiles: 0, wasmSha256: "00" }, tesseraBefore: { label: "tessera before the redesign (123c012)", dir: "/d", wasmSha256: "11" },
    controls: { spinBefore: { ratio: 2 }, spinAfter: { ratio: 2 } }, options: { reps: 3, sizes: [50000], chunk: 2000, existingN: 8192, workers: 2, seed: 1 },
    started: "2026-01-01T00:00:00Z", seconds: 1, pythonPeers: "ok", cases: {},
  };
  assert.match(renderTerminal(rows, [], meta), /Issue 9 targets[\s\S]*mapBlocks ÷ add, tessera +random_mapblocks_add_sum +50000² +1\.20× +≤ 1\.1× +MISSED/);
  assert.match(renderTerminal(rows, [], meta), /tessera-before: tessera before the redesign \(123c012\), from \/d/);
  assert.match(renderMarkdown(rows, [], meta, "x.svg"), /## Issue 9 targets[\s\S]*\| tessera ÷ before \| random_add_sum \| 50000² \| 1\.04× \| ≤ 1\.05× \| ok \|/);
});

test("parseArgs: storage cases only when named ('storage' names all but gzip); --quick has one tiny one", () => {
  const full = parseArgs([]);
  assert.not.ok(STORAGE_CASES.some((c) => full.cases.includes(c)), "gigabytes on disk: never in the default run");
  assert.equal([full.storageN, full.storageChunk, full.coldReads], [23170, 2048, false]);
  const st = parseArgs(["--cases", "storage,random_sum", "--storage-n", "4096", "--storage-chunk", "1024", "--storage-dir", "/tmp/x", "--cold-reads"]);
  assert.equal(st.cases, [...STORAGE_GROUP, "random_sum"]);
  assert.equal(STORAGE_CASES.filter((c) => !STORAGE_GROUP.includes(c)), ["zarr_write_gzip", "zarr_read_gzip"], "gzip only by name");
  assert.equal(parseArgs(["--cases", "storage,zarr_read_gzip"]).cases, [...STORAGE_GROUP, "zarr_read_gzip"]);
  assert.equal([st.storageN, st.storageChunk, st.storageDir, st.coldReads], [4096, 1024, "/tmp/x", true]);
  const q = parseArgs(["--quick"]);
  assert.equal(STORAGE_CASES.filter((c) => q.cases.includes(c)), QUICK_STORAGE);
  assert.equal([q.storageN, q.storageChunk], [1024, 256]);
  assert.throws(() => parseArgs(["--storage-n", "0"]), /--storage-n "0" must be an integer >= 1/);
});

test("makeJobs: storage engines per format, C controls on 1 and 2 threads, sizes from --storage-n", () => {
  const o = parseArgs(["--cases", "storage", "--storage-n", "4096", "--storage-chunk", "1024", "--engines", "tessera,dask-threads,numpy,native,dask-distributed"]);
  const jobs = makeJobs(o, { dir: "/x" }, { missing: "no" }, storageContext({ base: "/nonexistent-never-made" }));
  const engines = (c) => jobs.filter((j) => j.case === c).map((j) => j.engine);
  assert.equal(engines("zarr_write"), ["tessera", "dask-threads", "native-store-1t", "native-store-2t"]);
  assert.equal(engines("zarr_read_zstd"), ["tessera", "dask-threads", "native-store-1t", "native-store-2t"]);
  assert.equal(engines("zarr_sum_vs_persisted"), ["tessera", "dask-threads"], "no C control for a sum of a persisted array");
  assert.equal(engines("npy_save"), ["tessera", "numpy", "native-store-1t", "native-store-2t"]);
  assert.ok(jobs.every((j) => j.n === 4096 && j.chunk === 1024 && j.group === `${j.case}|4096` && j.storage));
  assert.ok(jobs.filter((j) => j.engine.startsWith("native")).every((j) => j.native), "the warm-up skips the C controls");
  assert.is(jobs.find((j) => j.case === "zarr_read" && j.engine === "native-store-2t").label, "C read() 2 threads (page cache)");
  assert.not.ok(existsSync("/nonexistent-never-made"), "making jobs writes nothing");
});

test("storageLayout and the storage context: Zarr edge chunks stored full size, the directory made late and removed", () => {
  assert.equal(storageLayout("zarr", 23170, 2048), { files: 144, fileBytes: 2048 * 2048 * 8, storedBytes: 144 * 2048 * 2048 * 8 });
  assert.equal(storageLayout("npy", 100, 10), { files: 1, fileBytes: 80000, storedBytes: 80000 });
  const base = mkdtempSync(join(os.tmpdir(), "bench-storage-ctx-"));
  try {
    const ctx = storageContext({ base });
    assert.is(ctx.info().cache, "warm");
    const root = ctx.root();
    assert.ok(root.startsWith(join(base, "tessera-bench-storage-")) && existsSync(root));
    assert.is(ctx.root(), root, "one directory per run");
    writeFileSync(join(root, "left-behind"), "x");
    ctx.cleanup();
    assert.not.ok(existsSync(root));
    assert.ok(Number.isFinite(fileSystemOf(base).freeBytes));
    assert.is(storageContext({ base, cold: true }).info().cache, "cold");
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test("checkStorage: the sum read back must be the generator's bit for bit; bytes written; the persisted sum", () => {
  const n = 1024, c = 256, exp = 524288.25;
  const stored = storageLayout("zarr", n, c).storedBytes;
  const w = { expected: exp, seconds: 1, sync_seconds: 0.5, bytes_on_disk: stored + 300 };
  assert.is(checkStorage("zarr_read", "tessera", n, c, w, { result: exp }), null);
  assert.match(checkStorage("zarr_read", "tessera", n, c, w, { result: exp + 1e-10 }), /read back .* must be exact\): a broken write or read/);
  assert.match(checkStorage("zarr_read", "tessera", n, c, w, { result: null }), /not a finite number/);
  assert.match(checkStorage("zarr_read", "tessera", n, c, { ...w, expected: 6e5 }, { result: 6e5 }), /not near 524288/, "a generator that is not uniform [0, 1)");
  assert.match(checkStorage("zarr_write", "dask-threads", n, c, { ...w, bytes_on_disk: stored - 8 }, { result: exp }), /less than the/);
  assert.is(checkStorage("zarr_write_zstd", "tessera", n, c, { ...w, bytes_on_disk: 1000 }, { result: exp }), null, "compressed: any size");
  assert.match(checkStorage("zarr_sum_vs_persisted", "tessera", n, c, w, { result: exp, persisted_result: exp + 1 }), /persisted sum/);
  // the C control: its own bytes (not uniform over n²), its write's byte count
  const cw = { expected: 123.5, bytes: stored };
  assert.is(checkStorage("zarr_read", "native-store-1t", n, c, cw, { result: 123.5 }), null);
  assert.match(checkStorage("zarr_write", "native-store-1t", n, c, { ...cw, bytes: 8 }, { result: 123.5 }), /less than/);
  // the record: the timed step's figures, a write's "+ fdatasync" row, the persisted row
  const rec = storageRecord("zarr_write", "tessera", n, c, w, { result: exp, seconds: 9 }, { sync: "tessera + fdatasync" });
  assert.equal([rec.seconds, rec.result, rec.problem, rec.variants], [1, exp, null, [{ key: "sync", label: "tessera + fdatasync", seconds: 1.5 }]]);
  const svp = storageRecord("zarr_sum_vs_persisted", "tessera", n, c, w, { result: exp, persisted_result: exp, seconds: 0.3, persisted_seconds: 0.25 });
  assert.equal([svp.seconds, svp.variants.map((v) => [v.key, v.seconds])], [0.3, [["persisted", 0.25]]]);
});

test("summarize: variant rows beside their engine, compared with tessera's same variant; --strict sees them", () => {
  const o = parseArgs(["--cases", "zarr_write", "--storage-n", "1024", "--storage-chunk", "256", "--engines", "tessera,dask-threads,native"]);
  const jobs = makeJobs(o, { dir: "/x" }, { missing: "no" }, storageContext({ base: "/nonexistent-never-made" }));
  const run = (label, seconds, sync, status = "ok", note = null) => ({ status, note, seconds, work: 1024 * 1024 * 8, result: 1, peakRssMiB: 100, variants: [{ key: "sync", label: `${label} + fdatasync`, seconds: sync }] });
  const secs = { tessera: [1, 2], "dask-threads": [2, 3], "native-store-1t": [0.5, 1], "native-store-2t": [0.25, 1.5] };
  const rows = summarize(jobs, new Map(jobs.map((j) => [j, [run(j.label, ...secs[j.engine])]])));
  const get = (e) => rows.find((r) => r.engine === e);
  assert.equal(rows.map((r) => r.engine), ["tessera", "tessera-sync", "dask-threads", "dask-threads-sync", "native-store-1t", "native-store-1t-sync", "native-store-2t", "native-store-2t-sync"]);
  assert.is(get("dask-threads").vsTessera, 2);
  assert.is(get("dask-threads-sync").vsTessera, 1.5, "against tessera + fdatasync, not tessera's write call");
  assert.is(get("native-store-2t-sync").vsTessera, 0.75);
  assert.ok(Number.isNaN(get("tessera-sync").peakRssMiB), "one process: its RSS is on the main row");
  assert.equal(strictFailures(rows, null), []);
  const bad = summarize(jobs.slice(0, 1), new Map([[jobs[0], [run("tessera", 1, 2, "warning", "read back 1, but ...")]]]));
  assert.is(strictFailures(bad, null).length, 2, "the write row and its + fdatasync row");
  // issue 10's targets from these rows: vs dask, the disk limit (best C row), RSS
  const t = storageTargetRows(rows);
  const find = (re) => t.find((x) => re.test(x.check));
  const vsDask = find(/^tessera ÷ dask threads \(GB\/s\)$/);
  assert.equal([vsDask.value, vsDask.verdict], [2, "met"], "1 s vs 2 s: 2× dask");
  assert.is(find(/^tessera \+ fdatasync ÷ dask threads \+ fdatasync/).verdict, "", "durable vs durable: context");
  assert.is(find(/^tessera ÷ C write\(\) 2 threads \(page cache\)/).value, 0.25, "the page cache's limit: context");
  const disk = find(/^tessera \+ fdatasync ÷ C write\(\) 1 thread/);
  assert.is(disk.value, 0.5, "against the best C row (1 s: 1 thread)");
  assert.is(disk.verdict, "not met");
  assert.is(find(/peak RSS/).verdict, "met");
  assert.ok(t.every((x) => x.issue === 10));
});

test("storageTargetRows: openZarr sum ÷ persisted sum (≤ 1.2× for tessera), RSS over 300 MiB missed", () => {
  const r = (engine, c, median, extra = {}) => ({ group: `${c}|1024`, case: c, n: 1024, engine, label: engine, status: "ok", median, throughput: 8e6 / median, peakRssMiB: NaN, ...extra });
  const rows = [
    r("tessera", "zarr_sum_vs_persisted", 1.1, { peakRssMiB: 5000 }), r("tessera-persisted", "zarr_sum_vs_persisted", 1),
    r("dask-threads", "zarr_sum_vs_persisted", 3), r("dask-threads-persisted", "zarr_sum_vs_persisted", 1),
    r("tessera", "zarr_read", 1, { peakRssMiB: 301 }), r("dask-threads", "zarr_read", 2.5),
  ];
  const t = storageTargetRows(rows);
  const svp = t.find((x) => x.check === "file sum ÷ persisted sum, tessera");
  assert.ok(Math.abs(svp.value - 1.1) < 1e-12);
  assert.is(svp.verdict, "met");
  assert.is(t.find((x) => x.check === "file sum ÷ persisted sum, dask-threads").verdict, "");
  assert.not.ok(t.some((x) => x.case === "zarr_sum_vs_persisted" && /RSS/.test(x.check)), "the persisted copy is the array's size: no RSS target");
  assert.is(t.find((x) => x.case === "zarr_read" && /RSS/.test(x.check)).verdict, "not met");
  assert.is(t.find((x) => x.case === "zarr_read" && /dask/.test(x.check)).verdict, "met", "2.5× dask");
  assert.not.ok(targetRows(rows).some((x) => x.issue === 9), "storage rows are not issue 9's RSS comparison");
});

test("storageTargetRows: a failed result check never meets a target; a missing peer or C control is 'not measured'", () => {
  const r = (engine, c, median, extra = {}) => ({ group: `${c}|1024`, case: c, n: 1024, engine, label: engine, status: "ok", note: null, median, throughput: 8e6 / median, peakRssMiB: NaN, ...extra });
  const rows = [
    r("tessera", "zarr_read", 1, { status: "warning", note: "read back 1, but ...", peakRssMiB: 100 }), r("dask-threads", "zarr_read", 5),
    r("tessera", "zarr_write", 1, { peakRssMiB: 100 }), r("tessera-sync", "zarr_write", 2, { label: "tessera + fdatasync" }),
    r("dask-threads", "zarr_write", NaN, { status: "missing", note: "no dask", throughput: NaN, label: "dask threads" }),
    r("tessera", "zarr_sum_vs_persisted", 1, { status: "error", note: "boom", throughput: NaN }),
    r("tessera", "zarr_write_gzip", 1, { peakRssMiB: 100 }),
  ];
  const t = storageTargetRows(rows);
  const get = (c, re) => t.filter((x) => x.case === c && re.test(x.check));
  assert.equal(get("zarr_read", /dask/).map((x) => x.verdict), ["not met (result check failed)"], "5× dask, but the bytes read back were wrong");
  assert.equal(get("zarr_read", /RSS/).map((x) => x.verdict), ["not met (result check failed)"]);
  const dask = get("zarr_write", /dask/)[0];
  assert.equal([dask.verdict, dask.display], ["not measured", "-"]);
  assert.match(dask.detail, /dask threads: missing \(no dask\)/);
  const disk = get("zarr_write", /disk limit/)[0];
  assert.equal([disk.verdict, disk.detail], ["not measured", "C control: not run"]);
  assert.match(get("zarr_sum_vs_persisted", /persisted/)[0].detail, /error \(boom\)/);
  assert.equal(get("zarr_write_gzip", /./).map((x) => [x.check, x.verdict]), [["tessera peak RSS", "met"]], "gzip: the RSS target, no dask target");
  const md = renderMarkdown(rows.map((x) => ({ ...x, reps: 1, min: x.median, max: x.median, vsTessera: 1, unit: "GB/s" })), [], {
    machine: { cpuModel: "cpu", cpuFamily: 1, cpuModelNumber: 2, simd: [], cores: 2, memoryGiB: 1, loadavg: [0, 0, 0], node: "v20", kernel: "6" },
    tessera: { commit: "abc", dirtyFiles: 0, wasmSha256: "00" }, controls: { spinBefore: { ratio: 2 }, spinAfter: { ratio: 2 } },
    options: { reps: 1, sizes: [1024], chunk: 256, existingN: 1024, workers: 2, seed: 1 }, started: "2026-01-01T00:00:00Z", seconds: 1, pythonPeers: "ok", cases: {},
    storage: { n: 1024, chunk: 256, base: "/tmp", fstype: "ext4", device: "/dev/x", freeGiB: 10, cache: "warm" },
  }, "x.svg");
  assert.match(md, /## Issue 10 targets[\s\S]*\| tessera ÷ dask threads \(GB\/s\) \| zarr_write \| 1024² \| - \| ≥ 2× \| not measured \|/);
});

test("storage jobs end to end, tiny (tessera and the C control): checked against the generator, nothing left behind", async () => {
  const base = mkdtempSync(join(os.tmpdir(), "bench-storage-e2e-"));
  try {
    const o = parseArgs(["--cases", "zarr_write_zstd,npy_load", "--storage-n", "96", "--storage-chunk", "32", "--engines", "tessera,native", "--workers", "1"]);
    const ctx = storageContext({ base });
    const dist = { dir: fileURLToPath(new URL("../../dist", import.meta.url)) };
    const jobs = makeJobs(o, dist, { missing: "no" }, ctx);
    assert.is(jobs.length, 6);
    for (const j of jobs) {
      const raw = await j.run();
      if (j.native && raw.missing) continue; // no gcc here
      assert.is(raw.error, undefined, `${j.case} ${j.engine}: ${raw.error}`);
      assert.is(raw.problem, null, `${j.case} ${j.engine}: ${raw.problem}`);
      assert.ok(raw.seconds > 0 && Number.isFinite(raw.harnessPeakRssMiB));
      if (j.engine === "tessera") {
        assert.is(raw.result, raw.steps.write.expected);
        assert.ok(raw.steps.write.os_threads > 1, "the workers are threads of the process whose RSS is measured");
      }
      if (j.case === "zarr_write_zstd") assert.ok(raw.variants[0].seconds >= raw.seconds, "+ fdatasync");
      assert.equal(readdirSync(ctx.root()), [], "each job removes its directory");
    }
    ctx.cleanup();
    assert.equal(readdirSync(base), []);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test.run();
