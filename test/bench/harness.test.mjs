// The benchmark harness's own logic (no timings): option parsing, result checks, the rank rows it turns
// into chart bars, and what --strict fails on. The end-to-end smoke run is CI's `npm run bench -- --quick --strict`.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { checkResult, existingExpected } from "../../bench/lib/cases.mjs";
import { chartRows, ranksArgs } from "../../bench/lib/rank-cases.mjs";
import { fmtThroughput } from "../../bench/lib/report.mjs";
import { parseArgs, strictFailures } from "../../bench/run.mjs";

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

test("ranksArgs: the quick smoke is small and skips SLURM; the full run follows --reps and the largest size", () => {
  const q = ranksArgs(parseArgs(["--quick"]), ["allreduce", "scaling"]);
  assert.equal(q.slice(0, 4), ["--sections", "allreduce,pipeline", "--out", "quick-ranks"]);
  assert.ok(q.includes("--no-slurm") && q.includes("--max-wait"));
  const f = ranksArgs(parseArgs(["--sizes", "10000,50000", "--reps", "5"]), ["scaling", "startup"]);
  assert.equal(f, ["--sections", "pipeline,startup", "--out", "latest-ranks", "--reps", "5", "--n", "50000"]);
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

test("strictFailures: tessera's failures count, missing peers do not", () => {
  const ok = { engine: "tessera", case: "random_sum", n: 10, label: "tessera", status: "ok" };
  assert.equal(strictFailures([ok, { ...ok, engine: "numpy", status: "missing" }], { rows: RANK_ROWS, meta: { notes: ["mpirun not found"] } }), []);
  assert.is(strictFailures([{ ...ok, status: "warning", note: "result 3 differs" }], null).length, 1);
  assert.is(strictFailures([ok], { error: "bench/ranks.mjs exit 1" }).length, 1);
  assert.is(strictFailures([ok], { rows: [{ ...RANK_ROWS[0], status: "error: exit 1" }], meta: { notes: [] } }).length, 1);
  assert.is(strictFailures([ok], { rows: [], meta: { notes: ["WARNING: 1 allreduce runs returned a wrong result"] } }).length, 1);
});

test.run();
