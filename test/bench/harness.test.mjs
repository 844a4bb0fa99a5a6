// The benchmark harness's own logic (no timings): option parsing, result checks, the rank rows it turns
// into chart bars, and what --strict fails on. The end-to-end smoke run is CI's `npm run bench -- --quick --strict`.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { BEFORE_CASES, CASES, ENGINES, VIEW_CASES, checkResult, existingExpected, sliceMargin } from "../../bench/lib/cases.mjs";
import { chartRows, ranksArgs } from "../../bench/lib/rank-cases.mjs";
import { fmtThroughput, renderMarkdown, renderTerminal, targetRows } from "../../bench/lib/report.mjs";
import { beforeDist, makeJobs, parseArgs, strictFailures } from "../../bench/run.mjs";

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

test.run();
