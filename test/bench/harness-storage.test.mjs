// The storage cases of the benchmark harness (issue 10; bench/lib/storage.mjs): options, jobs, the result check
// (a corrupted file must fail it), issue 10's targets, free space, and that nothing is left on disk after a
// run, a failed step or a SIGINT. Tiny arrays: the figures themselves come from `npm run bench -- --cases storage`.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, openSync, closeSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync, writeSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { QUICK_STORAGE, STORAGE_CASES, STORAGE_GROUP } from "../../bench/lib/cases.mjs";
import { renderMarkdown, storageTargetRows, targetRows } from "../../bench/lib/report.mjs";
import { checkStorage, fileSystemOf, pretouchEnv, runStep, storageContext, storageLayout, storageRecord, storageSpaceProblem } from "../../bench/lib/storage.mjs";
import { PRETOUCH_COMM, rssBytes } from "../../bench/lib/measure.mjs";
import { main, makeJobs, parseArgs, strictFailures, summarize } from "../../bench/run.mjs";

const repo = fileURLToPath(new URL("../..", import.meta.url));
const dist = { dir: join(repo, "dist") };

test("parseArgs: storage cases only when named ('storage' names all but gzip); --quick has one tiny one", () => {
  const full = parseArgs([]);
  assert.not.ok(STORAGE_CASES.some((c) => full.cases.includes(c)), "gigabytes on disk: never in the default run");
  assert.equal([full.storageN, full.storageChunk, full.coldReads, full.pretouch], [23170, 2048, false, true]);
  assert.is(parseArgs(["--no-pretouch"]).pretouch, false);
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
  const fp = "0123456789abcdef";
  const w = { expected: exp, fingerprint: fp, seconds: 1, sync_seconds: 0.5, bytes_on_disk: stored + 300 };
  const rd = { result: exp, fingerprint: fp };
  assert.is(checkStorage("zarr_read", "tessera", n, c, w, rd), null);
  assert.match(checkStorage("zarr_read", "tessera", n, c, w, { ...rd, result: exp + 1e-10 }), /read back .* must be exact\): a broken write or read/);
  assert.match(checkStorage("zarr_read", "tessera", n, c, w, { ...rd, result: null }), /not a finite number/);
  assert.match(checkStorage("zarr_read", "tessera", n, c, { ...w, expected: 6e5 }, { ...rd, result: 6e5 }), /not near 524288/, "a generator that is not uniform [0, 1)");
  assert.match(checkStorage("zarr_read", "tessera", n, c, w, { ...rd, fingerprint: "fedcba9876543210" }), /column and row sums read back .* wrong place/, "same total, values moved");
  assert.match(checkStorage("zarr_read", "dask-threads", n, c, { ...w, fingerprint: undefined }, { ...rd, fingerprint: undefined }), /column and row sums/, "no fingerprint: never a pass");
  assert.match(checkStorage("zarr_write", "dask-threads", n, c, { ...w, bytes_on_disk: stored - 8 }, rd), /less than the/);
  assert.is(checkStorage("zarr_write_zstd", "tessera", n, c, { ...w, bytes_on_disk: 1000 }, rd), null, "compressed: any size");
  assert.match(checkStorage("zarr_sum_vs_persisted", "tessera", n, c, w, { ...rd, persisted_result: exp + 1 }), /persisted sum/);
  // the C control: its own bytes (not uniform over n²), its write's byte count
  const cw = { expected: 123.5, bytes: stored };
  assert.is(checkStorage("zarr_read", "native-store-1t", n, c, cw, { result: 123.5 }), null);
  assert.match(checkStorage("zarr_write", "native-store-1t", n, c, { ...cw, bytes: 8 }, { result: 123.5 }), /less than/);
  // the record: the timed step's figures, a write's "+ fdatasync" row, the persisted row
  const rec = storageRecord("zarr_write", "tessera", n, c, w, { ...rd, seconds: 9 }, { sync: "tessera + fdatasync" });
  assert.equal([rec.seconds, rec.result, rec.problem, rec.variants], [1, exp, null, [{ key: "sync", label: "tessera + fdatasync", seconds: 1.5 }]]);
  const svp = storageRecord("zarr_sum_vs_persisted", "tessera", n, c, w, { ...rd, persisted_result: exp, seconds: 0.3, persisted_seconds: 0.25 });
  assert.equal([svp.seconds, svp.variants.map((v) => [v.key, v.seconds])], [0.3, [["persisted", 0.25]]]);
});

test("summarize: variant rows beside their engine, compared with tessera's same variant; --strict sees them", () => {
  const o = parseArgs(["--cases", "zarr_write", "--storage-n", "1024", "--storage-chunk", "256", "--engines", "tessera,dask-threads,native"]);
  const jobs = makeJobs(o, { dir: "/x" }, { missing: "no" }, storageContext({ base: "/nonexistent-never-made" }));
  const run = (label, seconds, sync, status = "ok", note = null) => ({ status, note, seconds, work: 1024 * 1024 * 8, result: 1, peakRssMiB: 100, timedRssMiB: 90, variants: [{ key: "sync", label: `${label} + fdatasync`, seconds: sync }] });
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
  assert.match(find(/peak RSS/).detail, /^the whole step process, worker threads included; during the timed call alone 90 MiB$/, "the verdict reads the whole step (never below the timed call)");
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


test("free space: a run refuses up front when the largest array would not fit with its margin", async () => {
  const full = storageSpaceProblem(["zarr_write", "npy_load", "random_sum"], 23170, 2048, "/d", 4 * 2 ** 30);
  assert.match(full, /^the storage cases need [\d.]+ GiB free under \/d \(the 23170² float64 array takes 4\.5 GiB on disk, plus 10% and 1 GiB of margin\), but it has 4\.0 GiB/);
  assert.is(storageSpaceProblem(["zarr_write"], 23170, 2048, "/d", 100 * 2 ** 30), null);
  assert.is(storageSpaceProblem(["random_sum"], 23170, 2048, "/d", 0), null, "no storage case: no need");
  assert.match(storageSpaceProblem(["npy_save"], 1024, 256, "/d", NaN), /cannot tell the free space under \/d/);
  assert.ok(Number.isFinite(fileSystemOf(join(os.tmpdir(), "not-made-yet", "deeper")).freeBytes), "a --storage-dir not made yet: its parent's file system");
  const base = mkdtempSync(join(os.tmpdir(), "bench-storage-space-"));
  const err = console.error;
  let said = "";
  console.error = (m) => { said += m; };
  try {
    assert.is(await main(["--cases", "zarr_write", "--storage-n", "10000000", "--storage-dir", base]), 2);
  } finally {
    console.error = err;
  }
  assert.match(said, /refusing to run: the storage cases need .* free under .*bench-storage-space-/);
  assert.equal(readdirSync(base), [], "nothing written");
  rmSync(base, { recursive: true, force: true });
});

/** Overwrites the float64 at byte `offset` of `file` with `value`. */
function pokeDouble(file, offset, value) {
  const fd = openSync(file, "r+");
  try {
    const b = Buffer.alloc(8);
    b.writeDoubleLE(value);
    writeSync(fd, b, 0, 8, offset);
  } finally {
    closeSync(fd);
  }
}

test("pretouch: every engine's write step pre-touches what it will store + 512 MiB, untimed; none with --no-pretouch; its process is not the engine's RSS", async () => {
  const env = await pretouchEnv("zarr", 96, 64);
  if (!env.TESSERA_BENCH_PRETOUCH) return; // no gcc: no engine pre-touches
  assert.is(env.TESSERA_BENCH_PRETOUCH_BYTES, String(4 * 64 * 64 * 8 + 2 ** 29), "the padded edge chunks too");
  assert.is((await pretouchEnv("npy", 96, 64)).TESSERA_BENCH_PRETOUCH_BYTES, String(96 * 96 * 8 + 2 ** 29));
  const base = mkdtempSync(join(os.tmpdir(), "bench-storage-pretouch-"));
  const spec = { n: 96, chunk: 32, codec: "none", threads: 1 };
  try {
    const on = await runStep("tessera", "npy-save", join(base, "a.npy"), spec, { timeout: 120, seed: 1, workers: 1 }, dist);
    assert.is(on.error, undefined, on.error);
    assert.ok(on.pretouch_seconds > 0, `pre-touched: ${on.pretouch_seconds} s`);
    const off = await runStep("tessera", "npy-save", join(base, "b.npy"), spec, { timeout: 120, seed: 1, workers: 1, pretouch: false }, dist);
    assert.is(off.pretouch_seconds, 0);
    // a process named as the pre-toucher names itself is left out of a step's RSS; any other is counted
    const named = join(base, PRETOUCH_COMM);
    writeFileSync(named, readFileSync("/bin/sleep"), { mode: 0o755 });
    const helper = spawn(named, ["30"]), other = spawn("/bin/sleep", ["30"]);
    try {
      await new Promise((r) => setTimeout(r, 200));
      assert.is(rssBytes([helper.pid]), 0);
      assert.ok(rssBytes([other.pid]) > 0);
    } finally {
      helper.kill();
      other.kill();
    }
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test("the result check fails on a corrupted file: two Zarr chunks swapped (the same values), a value changed (.npy, the C control)", async () => {
  const base = mkdtempSync(join(os.tmpdir(), "bench-storage-corrupt-"));
  const o = { timeout: 120, seed: 1, workers: 1 };
  const spec = { n: 96, chunk: 32, codec: "none", threads: 1 };
  try {
    const z = join(base, "a.zarr");
    const w = await runStep("tessera", "zarr-write", z, spec, o, dist);
    assert.is(w.error, undefined, w.error);
    // two chunks exchanged: every value is still there; the total differs at most in its last bits (the order of
    // the additions changed), or not at all: the column and row sums see it either way
    const swap = join(z, "swap");
    renameSync(join(z, "0.1"), swap);
    renameSync(join(z, "1.0"), join(z, "0.1"));
    renameSync(swap, join(z, "1.0"));
    const swapped = await runStep("tessera", "zarr-read", z, spec, o, dist); // (an intact read: the end-to-end test)
    assert.ok(Math.abs(swapped.result - w.expected) <= 1e-12 * w.expected, "the same values");
    assert.is.not(swapped.fingerprint, w.fingerprint);
    assert.match(checkStorage("zarr_read", "tessera", 96, 32, w, swapped), /must be exact|wrong place/);
    assert.match(checkStorage("zarr_read", "tessera", 96, 32, w, { ...swapped, result: w.expected }), /column and row sums read back .* wrong place/, "even when the total agrees");

    const npy = join(base, "a.npy");
    const nw = await runStep("tessera", "npy-save", npy, spec, o, dist);
    assert.is(nw.error, undefined, nw.error);
    pokeDouble(npy, readFileSync(npy).length - 8, 7); // one value changed (the last element: 7 is not in [0, 1))
    assert.match(checkStorage("npy_load", "tessera", 96, 32, nw, await runStep("tessera", "npy-load", npy, spec, o, dist)), /must be exact\): a broken write or read/);

    const c = join(base, "c");
    mkdirSync(c);
    const cw = await runStep("native", "zarr-write", c, spec, o, dist);
    if (!cw.missing) { // gcc present
      assert.is(checkStorage("zarr_read", "native-store-1t", 96, 32, cw, await runStep("native", "zarr-read", c, spec, o, dist)), null);
      pokeDouble(join(c, "c3"), 0, 2);
      assert.match(checkStorage("zarr_read", "native-store-1t", 96, 32, cw, await runStep("native", "zarr-read", c, spec, o, dist)), /must be exact/);
    }
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test("a failed step: the job is an error row and its directory is removed", async () => {
  const base = mkdtempSync(join(os.tmpdir(), "bench-storage-fail-"));
  try {
    const broken = mkdtempSync(join(base, "not-a-dist-")); // no index.js: the tessera step fails to import
    const ctx = storageContext({ base: join(base, "runs") });
    const o = parseArgs(["--cases", "zarr_read", "--storage-n", "64", "--storage-chunk", "32", "--engines", "tessera"]);
    const [job] = makeJobs(o, { dir: broken }, { missing: "no" }, ctx);
    const raw = await job.run();
    assert.match(raw.error, /^write step: /);
    assert.equal(readdirSync(ctx.root()), [], "the job's directory is gone");
    ctx.cleanup();
    assert.equal(readdirSync(join(base, "runs")), []);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test("SIGINT during a storage run: the running step is killed, the storage directory and the dist/ snapshot removed", async () => {
  const base = mkdtempSync(join(os.tmpdir(), "bench-storage-sigint-"));
  const build = join(repo, "bench", ".build");
  const snapshots = () => (existsSync(build) ? readdirSync(build).filter((f) => f.startsWith("dist-")) : []);
  const before = snapshots();
  const child = spawn(process.execPath, [join(repo, "bench", "run.mjs"), "--cases", "zarr_write", "--storage-n", "2048", "--storage-chunk", "256",
    "--engines", "tessera", "--reps", "50", "--no-warmup", "--workers", "1", "--storage-dir", base, "--out", "sigint-test"], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  const exited = new Promise((res) => child.on("close", (code, signal) => res({ code, signal })));
  try {
    // wait until a job directory exists under the run's storage directory: a step is running
    const jobDir = () => readdirSync(base).flatMap((r) => readdirSync(join(base, r))).length > 0;
    const t0 = Date.now();
    while (!jobDir()) {
      assert.ok(Date.now() - t0 < 60_000, `no storage job started within 60 s: ${stderr}`);
      await new Promise((r) => setTimeout(r, 25));
    }
    child.kill("SIGINT");
    const { code } = await exited;
    assert.is(code, 130, stderr);
    assert.match(stderr, /SIGINT: stopped, temporary files removed/);
    assert.equal(readdirSync(base), [], "the storage directory is gone");
    assert.equal(snapshots(), before, "the dist/ snapshot is gone");
    const left = readdirSync("/proc").filter((p) => /^\d+$/.test(p)).filter((p) => {
      try { return readFileSync(`/proc/${p}/cmdline`, "latin1").includes(base); } catch { return false; }
    });
    assert.equal(left, [], "no step of the run is still running");
    assert.not.ok(existsSync(join(repo, "bench", "results", "sigint-test.json")), "a stopped run writes no results");
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await exited;
    rmSync(base, { recursive: true, force: true });
  }
});

test.run();
