// The storage cases (issue 10): every job writes into a fresh directory under one temporary directory of
// the run (removed after each job, and the whole of it at the end or on a signal), one child process per
// step so each step's peak RSS is its own:
//
//   write cases   [pre-touch: untimed]  [write step: timed, then fdatasync of every file]  [read step: untimed check]
//   read cases    [write step: untimed]  (--cold-reads: drop the page cache)  [read step: timed]
//   sum-vs-persisted   [write step: untimed]  [file sum timed, persist, persisted sum timed: one process]
//
// The same for tessera (bench/tessera_storage_case.mjs), dask and numpy (bench/peers/storage_peer.py) and
// the C control (bench/peers/native.c store-write / store-read over as many files of the same bytes). Each
// write step (the untimed ones too) first pre-touches as much memory as it will fill (pretouchEnv, below):
// without it the figures measured the VM host's page-fault rate, for whichever engine happened to run after
// a pause.
// Every result is the sum read back, checked bit for bit against the sum the engine's own generator gives
// (computed in the write step over the chunks the read uses), and so are the column and row sums (as a hash,
// `fingerprint`, computed untimed after the timed part): a value changed, lost or put in the wrong place
// (chunks swapped or transposed keep the total) fails the check.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statfsSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { CASES, ENGINES, uniformTolerance } from "./cases.mjs";
import { lastJsonLine, runCommand } from "./measure.mjs";
import { runStoragePeer } from "./peers.mjs";
import { buildNative } from "../peers/native.mjs";

const bench = join(dirname(fileURLToPath(import.meta.url)), "..");

/** The files an array of n x n float64 in chunks c x c takes: Zarr v2 stores edge chunks full size. */
export function storageLayout(format, n, c) {
  if (format === "npy") return { files: 1, fileBytes: n * n * 8, storedBytes: n * n * 8 };
  const per = Math.ceil(n / c);
  return { files: per * per, fileBytes: c * c * 8, storedBytes: per * per * c * c * 8 };
}

/** The file system a directory is on (the longest mount point above it in /proc/self/mounts) and its free space. */
export function fileSystemOf(dir) {
  const abs = resolve(dir);
  let best = { mount: "/", device: null, fstype: null };
  try {
    for (const line of readFileSync("/proc/self/mounts", "utf8").split("\n")) {
      const [device, mount, fstype] = line.split(" ");
      if (!mount) continue;
      const m = mount.replace(/\\040/g, " ");
      if ((abs === m || abs.startsWith(m.endsWith("/") ? m : `${m}/`)) && m.length >= best.mount.length) best = { mount: m, device, fstype };
    }
  } catch { /* no /proc: unknown */ }
  let freeBytes = NaN;
  // a --storage-dir not made yet: the free space of the directory it will be made in
  let at = abs;
  while (!existsSync(at) && dirname(at) !== at) at = dirname(at);
  try {
    const s = statfsSync(at);
    freeBytes = s.bavail * s.bsize;
  } catch { /* unknown */ }
  return { ...best, freeBytes };
}

/**
 * The free space a storage job needs: what its array takes on disk (Zarr edge chunks full size), plus 10% and
 * 1 GiB, so the run never fills a shared disk. One job's files exist at a time (each job removes its own).
 */
export const needBytes = (format, n, chunk) => Math.ceil(storageLayout(format, n, chunk).storedBytes * 1.1) + 2 ** 30;

const gib = (b) => `${(b / 2 ** 30).toFixed(1)} GiB`;

/**
 * Before a run: null when the largest array of these storage cases fits under `dir` with the margin, else
 * the message the harness refuses with. `freeBytes` defaults to the file system's (a test passes its own).
 */
export function storageSpaceProblem(cases, n, chunk, dir, freeBytes = fileSystemOf(dir).freeBytes) {
  const formats = [...new Set(cases.filter((c) => CASES[c]?.storage).map((c) => CASES[c].storage.format))];
  if (!formats.length) return null;
  const need = Math.max(...formats.map((f) => needBytes(f, n, Math.min(chunk, n))));
  const stored = Math.max(...formats.map((f) => storageLayout(f, n, Math.min(chunk, n)).storedBytes));
  if (!Number.isFinite(freeBytes)) return `cannot tell the free space under ${dir}: the storage cases need ${gib(need)}`;
  if (freeBytes >= need) return null;
  return `the storage cases need ${gib(need)} free under ${dir} (the ${n}² float64 array takes ${gib(stored)} on disk, ` +
    `plus 10% and 1 GiB of margin), but it has ${gib(freeBytes)}: free some space, pass --storage-dir on a larger disk, or a smaller --storage-n`;
}

/**
 * The run's storage context: the temporary directory (made on first use under `base`), whether reads are
 * cold (the page cache dropped before each timed read: root only), and cleanup().
 */
export function storageContext({ base = os.tmpdir(), cold = false } = {}) {
  let root = null;
  return {
    base, cold,
    root() {
      if (!root) {
        mkdirSync(base, { recursive: true });
        root = mkdtempSync(join(base, "tessera-bench-storage-"));
      }
      return root;
    },
    info() {
      const fs = fileSystemOf(base);
      return { dir: root ?? base, base, mount: fs.mount, device: fs.device, fstype: fs.fstype, freeGiB: Math.round((fs.freeBytes / 2 ** 30) * 10) / 10, cache: cold ? "cold" : "warm" };
    },
    cleanup() {
      if (root) rmSync(root, { recursive: true, force: true });
      root = null;
    },
  };
}

/** Drops the clean page cache (the write step fdatasync'ed its files): what --cold-reads does before a read. */
export function dropCaches() {
  writeFileSync("/proc/sys/vm/drop_caches", "1");
}

/**
 * The environment that makes every engine pre-touch memory, untimed, right before its timed write
 * (bench/peers/native.c pretouch): in a VM whose balloon reports freed pages to the host, a write into the
 * page cache otherwise runs at the host's page-fault rate (0.36-0.5 GB/s measured) or at memory speed
 * (~3 GB/s), depending on how long ago the previous step freed its memory. As much as the write stores plus
 * 512 MiB (the engine's own buffers) is touched. {} when the C control cannot be built (then no engine
 * pre-touches, equal again).
 */
export async function pretouchEnv(format, n, chunk) {
  const bin = await buildNative({ quiet: true });
  if (!bin) return {};
  const bytes = storageLayout(format, n, Math.min(chunk, n)).storedBytes + 2 ** 29;
  return { TESSERA_BENCH_PRETOUCH: bin, TESSERA_BENCH_PRETOUCH_BYTES: String(bytes) };
}

const withHarness = (parsed, r) => ({ ...parsed, wallSeconds: Math.round(r.seconds * 1000) / 1000, harnessPeakRssMiB: r.peakRssMiB, stealSeconds: r.stealSeconds });

/** One step (OPS: zarr-write, zarr-read, ...) of one engine ("native": the C control) on `target`: parsed JSON with the harness's wall time and peak RSS, or { error } / { missing }. */
export async function runStep(engine, op, target, { n, chunk, codec, threads }, o, dist) {
  const timeoutMs = o.timeout * 1000;
  const format = op.startsWith("npy") ? "npy" : "zarr";
  const write = op.endsWith("write") || op.endsWith("save");
  const env = write && o.pretouch !== false ? await pretouchEnv(format, n, chunk) : {};
  if (engine === "tessera") {
    if (dist.missing) return { missing: dist.missing };
    if (dist.error) return { error: dist.error };
    const argv = [process.execPath, join(bench, "tessera_storage_case.mjs"), op, target, n, chunk, codec, o.seed, o.workers].map(String);
    const r = await runCommand(argv, { env: { ...env, TESSERA_BENCH_DIST: dist.dir }, timeoutMs });
    if (r.timedOut) return { error: `${op}: timed out after ${o.timeout} s` };
    const parsed = lastJsonLine(r.stdout);
    if (!parsed) return { error: `${op}: exit ${r.code ?? r.signal}, no JSON output: ${r.stderr.trim().split("\n").slice(-3).join(" | ")}` };
    return withHarness(parsed, r);
  }
  if (engine === "dask-threads" || engine === "numpy") {
    return runStoragePeer(op, [target, n, chunk, codec, o.seed, o.workers], { timeoutMs, env });
  }
  const bin = await buildNative({ quiet: true });
  if (!bin) return { missing: "gcc not available or native.c failed to build" };
  const { files, fileBytes } = storageLayout(format, n, chunk);
  const mode = write ? "store-write" : "store-read";
  const r = await runCommand([bin, mode, target, files, fileBytes, threads].map(String), { env, timeoutMs });
  const parsed = lastJsonLine(r.stdout);
  if (!parsed) return { error: `native ${mode}: exit ${r.code ?? r.signal}: ${r.stderr.trim()}` };
  return withHarness(parsed, r);
}

const OPS = {
  zarr: { write: "zarr-write", read: "zarr-read", "sum-vs-persisted": "zarr-sum-vs-persisted" },
  npy: { write: "npy-save", read: "npy-load" },
};

/**
 * What is wrong with a job's steps, or null: the sum read back must be the generator's sum bit for bit, the
 * generator's sum near n²/2 (six standard deviations), the column and row sums (hashed) the generator's too,
 * the persisted sum the file's, an uncompressed write at least the bytes the format stores.
 */
export function checkStorage(caseName, engine, n, chunk, write, read) {
  const s = CASES[caseName].storage;
  const native = engine.startsWith("native");
  const { expected } = write;
  if (typeof read.result !== "number" || !Number.isFinite(read.result)) return `read back ${read.result}: not a finite number`;
  if (read.result !== expected) {
    return `read back ${read.result}, but the sum of what was written is ${expected} (relative ${(Math.abs(read.result - expected) / Math.abs(expected)).toExponential(2)}; must be exact): a broken write or read`;
  }
  if (!native) {
    const count = n * n, tol = uniformTolerance(count, 1, count / 2);
    if (Math.abs(expected - count / 2) / (count / 2) > tol) return `the generator's sum ${expected} is not near ${count / 2} (limit ${Number(tol.toPrecision(3))} relative)`;
  }
  if (!native && (typeof write.fingerprint !== "string" || write.fingerprint !== read.fingerprint)) {
    return `the column and row sums read back (hash ${read.fingerprint}) are not the generator's (${write.fingerprint}): values in the wrong place (a chunk swapped, transposed or changed)`;
  }
  if (s.step === "sum-vs-persisted" && read.persisted_result !== read.result) return `persisted sum ${read.persisted_result} differs from the file's ${read.result}`;
  const { storedBytes } = storageLayout(s.format, n, chunk);
  const written = native ? write.bytes : write.bytes_on_disk;
  if ((s.codec === "none" || native) && !(written >= storedBytes)) return `the write left ${written} bytes, less than the ${storedBytes} the array takes`;
  return null;
}

/** The raw record of one storage job from its steps: the timed step's figures, the variant rows, the check. */
export function storageRecord(caseName, engine, n, chunk, write, read, labels = {}) {
  const s = CASES[caseName].storage;
  const timed = s.step === "write" ? write : read;
  const variants = [];
  if (s.step === "write") variants.push({ key: "sync", label: labels.sync ?? "+ fdatasync", seconds: write.seconds + write.sync_seconds });
  if (s.step === "write" && Number.isFinite(write.durable_seconds)) variants.push({ key: "fsync", label: labels.fsync ?? "fsync: true", seconds: write.durable_seconds });
  if (s.step === "sum-vs-persisted") variants.push({ key: "persisted", label: labels.persisted ?? "persisted sum", seconds: read.persisted_seconds });
  return {
    ...timed, result: read.result, expected: write.expected, problem: checkStorage(caseName, engine, n, chunk, write, read),
    variants, steps: { write, read },
  };
}

/**
 * The jobs of one storage case: tessera, the peers its format has, and the C control on 1 and 2 threads.
 * `ctx` is the run's storageContext.
 */
export function makeStorageJobs(caseName, o, dist, ctx) {
  const s = CASES[caseName].storage;
  const n = o.storageN, chunk = Math.min(o.storageChunk, n);
  const jobs = [];
  const job = (engine, label, spec, labels) => {
    const runAt = (m) => runStorageJob(caseName, engine, { n: m, chunk: Math.min(chunk, m), codec: s.codec, ...spec }, o, dist, ctx, labels);
    jobs.push({ group: `${caseName}|${n}`, case: caseName, n, chunk, engine, label, expectN: n, storage: s, native: engine.startsWith("native"), runAt, run: () => runAt(n) });
  };
  for (const engine of o.engines) {
    if (!ENGINES[engine]?.cases.includes(caseName)) continue;
    if (engine === "native") {
      for (const threads of [1, 2]) {
        const th = `${threads} thread${threads > 1 ? "s" : ""}`;
        const label = s.step === "write" ? `C write() ${th} (page cache)` : `C read() ${th} (${ctx.cold ? "cold cache" : "page cache"})`;
        job(`native-store-${threads}t`, label, { threads }, { sync: `C write() + fdatasync ${th} (disk limit)` });
      }
    } else if (["tessera", "dask-threads", "numpy"].includes(engine)) {
      const label = ENGINES[engine].label;
      job(engine, label, {}, { sync: `${label} + fdatasync`, persisted: `${label}, persisted array`, fsync: `${label}, toZarr({ fsync: true })` });
    }
  }
  return jobs;
}

async function runStorageJob(caseName, engine, spec, o, dist, ctx, labels) {
  const s = CASES[caseName].storage;
  const root = ctx.root();
  const free = fileSystemOf(root).freeBytes;
  if (!(free >= needBytes(s.format, spec.n, spec.chunk))) { // checked again per job: the disk is shared
    return { error: `${root}: ${gib(free)} free, the job needs ${gib(needBytes(s.format, spec.n, spec.chunk))} (its array and a margin): not run` };
  }
  const dir = mkdtempSync(join(root, `${caseName}-${engine}-`));
  const target = engine.startsWith("native") ? dir : join(dir, s.format === "zarr" ? "a.zarr" : "a.npy");
  const step = (op) => runStep(engine.startsWith("native") ? "native" : engine, op, target, spec, o, dist);
  const failed = (r, what) => (r.missing ? { missing: r.missing } : r.error ? { error: `${what}: ${r.error}` } : null);
  try {
    const write = await step(OPS[s.format].write);
    const wf = failed(write, "write step");
    if (wf) return wf;
    if (s.step !== "write" && ctx.cold) dropCaches();
    const read = await step(OPS[s.format][s.step === "write" ? "read" : s.step]);
    const rf = failed(read, s.step === "write" ? "read-back check" : "read step");
    if (rf) return rf;
    return storageRecord(caseName, engine, spec.n, spec.chunk, write, read, labels);
  } finally {
    if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
  }
}
