// One step of a storage case with tessera (the harness runs each step in its own child process, so the peak
// RSS it samples from outside belongs to that step alone), printing one JSON line as the peers do:
//
//   node bench/tessera_storage_case.mjs OP PATH N CHUNK CODEC [SEED] [WORKERS]
//
//   zarr-write   toZarr(random.random([N, N], { chunks: CHUNK, seed }), PATH, { codec: CODEC }) timed, then every
//                file written fdatasync'ed (sync_seconds), then the same write again with { fsync: true, overwrite: true }
//                timed (durable_seconds), then `expected`: the generator's sum, computed by
//                tessera over the chunks openZarr(PATH) will read (so a read of the same bytes gives it exactly)
//   zarr-read    openZarr(PATH).sum() timed (the harness checks it against the write step's `expected`)
//   zarr-sum-vs-persisted   openZarr(PATH).sum() timed, then persist() (untimed) and the persisted sum timed
//   npy-save     saveNpy(random...) timed, fdatasync, `expected` over the chunks loadNpy(PATH) reads
//   npy-load     loadNpy(PATH).sum() timed
//
// Every step also prints `fingerprint` (untimed, after the timed part): a hash of the column sums and the row
// sums, of the generator in a write step and of the file in a read step. A sum alone cannot see values in the
// wrong place (two chunks swapped, a chunk transposed: the total is the same); the axis sums can.
//
// Not timed: importing tessera and the one-chunk compute that starts the pool and compiles the kernels
// (startup_seconds). The workers are threads of this process: its RSS, which the harness samples from
// /proc/PID/statm, counts their memory (os_threads reports how many threads the process had).
// TESSERA_BENCH_DIST=dir loads tessera from the harness's snapshot of dist/. TESSERA_BENCH_PRETOUCH (the C
// control's binary) and TESSERA_BENCH_PRETOUCH_BYTES: before each timed write, untimed, that binary's
// `pretouch BYTES` in a child process (memory the host backs for the page cache: bench/peers/native.c).
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { closeSync, fdatasyncSync, openSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export const OPS = ["zarr-write", "zarr-read", "zarr-sum-vs-persisted", "npy-save", "npy-load"];
const here = dirname(fileURLToPath(import.meta.url));
const now = () => performance.now() / 1000;
const round = (s, d = 5) => Math.round(s * 10 ** d) / 10 ** d;

/** Every regular file under `path` (a file, or a directory walked recursively). */
export function filesUnder(path) {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(path, e.name)) : e.isFile() ? [join(path, e.name)] : []));
}

/** fdatasync of every file under `path` (what the engine wrote), timed: the disk's share of a write. */
export function syncAll(path) {
  const t0 = now();
  const files = filesUnder(path);
  let bytes = 0;
  for (const f of files) {
    const fd = openSync(f, "r");
    try {
      fdatasyncSync(fd);
      bytes += statSync(f).size;
    } finally {
      closeSync(fd);
    }
  }
  return { sync_seconds: round(now() - t0), files: files.length, bytes_on_disk: bytes };
}

/** sha256 (16 hex digits) of a 2-d array's column sums then row sums, both computed in one pass. */
export async function fingerprint(t, a, opts) {
  const sums = await t.compute(a.sum({ axis: 0 }), a.sum({ axis: 1 }), opts);
  const h = createHash("sha256");
  for (const v of sums) h.update(new Uint8Array(v.data.buffer, v.data.byteOffset, v.data.byteLength));
  return h.digest("hex").slice(0, 16);
}

/** The untimed pre-touch before a timed write (see the header), or 0 s when the harness asked for none. */
export function pretouch(env = process.env) {
  const bin = env.TESSERA_BENCH_PRETOUCH, bytes = env.TESSERA_BENCH_PRETOUCH_BYTES;
  if (!bin || !bytes) return 0;
  const t0 = now();
  const r = spawnSync(bin, ["pretouch", bytes], { stdio: ["ignore", "ignore", "pipe"] });
  if (r.status !== 0) throw new Error(`pretouch ${bytes}: exit ${r.status ?? r.signal}: ${String(r.stderr).trim()}`);
  return now() - t0;
}

const rssMiB = () => (Number(readFileSync("/proc/self/statm", "latin1").split(" ")[1]) * 4096) / 2 ** 20;
const osThreads = () => readdirSync("/proc/self/task").length;

/** Runs fn, sampling this process's RSS every 20 ms meanwhile: { value, seconds, peakMiB, threads }. */
async function timedPhase(fn) {
  let peak = rssMiB(), threads = osThreads();
  const sampler = setInterval(() => { peak = Math.max(peak, rssMiB()); threads = Math.max(threads, osThreads()); }, 20);
  const t0 = now();
  try {
    const value = await fn();
    return { value, seconds: now() - t0, peakMiB: Math.max(peak, rssMiB()), threads };
  } finally {
    clearInterval(sampler);
  }
}

async function main(argv) {
  const [op, pathArg, nArg, chunkArg, codec, seedArg = "1", workersArg] = argv;
  if (!OPS.includes(op) || !pathArg || !nArg || !chunkArg || !codec) {
    console.error(`usage: node bench/tessera_storage_case.mjs OP PATH N CHUNK CODEC [SEED] [WORKERS]\n  OP: ${OPS.join(" | ")}`);
    return 2;
  }
  const path = resolve(pathArg), n = Number(nArg), chunk = Number(chunkArg), seed = Number(seedArg);
  const distDir = resolve(process.env.TESSERA_BENCH_DIST ?? join(here, "..", "dist"));
  const t = await import(pathToFileURL(join(distDir, "index.js")).href);
  const opts = workersArg ? { workers: Number(workersArg) } : {};

  let t0 = now();
  await t.ones([1], { chunks: 1 }).sum().compute(opts); // starts the pool, compiles the kernels
  const startup = now() - t0;

  const x = (chunks) => t.random.random([n, n], { chunks, seed });
  const out = { op, engine: "tessera", n, chunk, codec, seed };
  const timed = (phase) => ({ seconds: round(phase.seconds), timed_peak_rss_mib: round(phase.peakMiB, 1), os_threads: phase.threads });
  if (op === "zarr-write" || op === "npy-save") {
    out.pretouch_seconds = round(pretouch());
    const phase = op === "zarr-write"
      ? await timedPhase(() => t.toZarr(x(chunk), path, { chunks: chunk, codec, ...opts }))
      : await timedPhase(() => t.saveNpy(x(chunk), path, opts));
    Object.assign(out, timed(phase), syncAll(path));
    if (op === "zarr-write" && codec === "none") {
      // the durable write: toZarr's own fsync (each chunk fdatasync'ed by the worker that wrote it, then the
      // directories and metadata), over the array just written (same layout: replaced chunk by chunk, no
      // more disk), for the "toZarr({ fsync: true })" row beside the C write() + fdatasync (the disk's limit)
      pretouch();
      const durable = await timedPhase(() => t.toZarr(x(chunk), path, { chunks: chunk, codec, overwrite: true, fsync: true, ...opts }));
      out.durable_seconds = round(durable.seconds);
    }
    // the generator's sum over the chunks the read step will use: the same reduction, so equal bit for bit
    const readAs = op === "zarr-write" ? t.openZarr(path) : t.loadNpy(path);
    out.expected = await x(readAs.chunks).sum().compute(opts);
    out.fingerprint = await fingerprint(t, x(readAs.chunks), opts);
    out.read_chunks = readAs.chunks.map((b) => b[0]);
  } else if (op === "zarr-read" || op === "npy-load") {
    const a = op === "zarr-read" ? t.openZarr(path) : t.loadNpy(path);
    const phase = await timedPhase(() => a.sum().compute(opts));
    Object.assign(out, timed(phase), { result: phase.value, fingerprint: await fingerprint(t, a, opts), read_chunks: a.chunks.map((b) => b[0]) });
  } else if (op === "zarr-sum-vs-persisted") {
    const a = t.openZarr(path);
    const file = await timedPhase(() => a.sum().compute(opts));
    const p = await a.persist();
    const mem = await timedPhase(() => p.sum().compute(opts));
    Object.assign(out, timed(file), {
      result: file.value, persisted_seconds: round(mem.seconds), persisted_result: mem.value, ratio: round(file.seconds / mem.seconds, 4),
      fingerprint: await fingerprint(t, a, opts),
    });
  }
  const peak = process.resourceUsage().maxRSS / 1024; // KiB -> MiB; the worker threads share this process
  console.log(JSON.stringify({ ...out, peak_rss_mib: round(peak, 1), startup_seconds: round(startup, 4), workers: opts.workers ?? null }));
  await t.shutdown?.();
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    process.exitCode = await main(process.argv.slice(2));
  } catch (e) {
    console.log(JSON.stringify({ op: process.argv[2], engine: "tessera", error: `${e?.code ?? ""} ${e?.message ?? e}`.trim() }));
    process.exitCode = 1;
  }
}
