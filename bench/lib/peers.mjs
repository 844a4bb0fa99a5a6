// Runs the peer engines (dask, numpy, native C) one case at a time in child processes and returns their
// parsed JSON results, with the harness's own wall time and process-tree peak RSS added.
// Anything not installed comes back as { missing: "reason" } so the bench can print it and go on.
import { existsSync } from "node:fs";
import os from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildNative } from "../peers/native.mjs";
import { lastJsonLine, runCommand } from "./measure.mjs";

// Debian's python with python3-dask; the python first on PATH has no dask. TESSERA_BENCH_PYTHON overrides it
// (e.g. a path that does not exist, to check that the bench reports the python peers as missing).
const PY = process.env.TESSERA_BENCH_PYTHON || "/usr/bin/python3";
const peersDir = join(dirname(fileURLToPath(import.meta.url)), "..", "peers");
// No __pycache__ in the source tree; cwd in tmp so distributed's scratch space lands there too.
const PY_ENV = { PYTHONDONTWRITEBYTECODE: "1", PYTHONUNBUFFERED: "1" };

let pythonCheck; // cached promise: null when usable, else the reason
/** null when /usr/bin/python3 can import numpy, dask, distributed and psutil, else why not. */
export function pythonMissing() {
  pythonCheck ??= (async () => {
    if (!existsSync(PY)) return `${PY} not found: run scripts/install-peers.sh`;
    const r = await runCommand([PY, "-c", "import numpy, dask, dask.array, distributed, psutil"], { timeoutMs: 60_000 });
    if (r.code === 0) return null;
    const mod = /No module named '([^']+)'/.exec(r.stderr)?.[1];
    return `${PY} cannot import ${mod ?? "the peers"} (python3-${mod ?? "dask"} not installed): run scripts/install-peers.sh`;
  })();
  return pythonCheck;
}

async function runPeer(argv, opts = {}) {
  const r = await runCommand(argv, { cwd: os.tmpdir(), env: { ...PY_ENV, ...opts.env }, timeoutMs: opts.timeoutMs ?? 900_000 });
  const parsed = lastJsonLine(r.stdout);
  if (r.timedOut) return { error: `timed out after ${(opts.timeoutMs ?? 900_000) / 1000} s`, argv };
  if (!parsed) return { error: `exit ${r.code ?? r.signal}, no JSON output: ${r.stderr.trim().split("\n").slice(-3).join(" | ")}`, argv };
  // harnessPeakRssMiB is measured from outside, over the whole tree; wallSeconds includes interpreter start.
  return { ...parsed, wallSeconds: Math.round(r.seconds * 1000) / 1000, harnessPeakRssMiB: r.peakRssMiB, stealSeconds: r.stealSeconds };
}

/**
 * One dask run of a tutorial case.
 * case: any of bench/lib/cases.mjs CASES (_common.py CASES lists the same names)
 * n: side of the n x n array (ones_tiny_tasks: length; sum_existing: 8192 gives 512 MiB)
 * scheduler: "threads" | "distributed" (LocalCluster, `workers` processes x 1 thread) | "sync"
 * Returns { case, engine, n, chunk, seconds, result, peak_rss_mib, ... } or { missing } or { error }.
 */
export async function runDask(caseName, { n, chunk, seed = 1, scheduler = "threads", workers = 2, timeoutMs } = {}) {
  const missing = await pythonMissing();
  if (missing) return { case: caseName, engine: `dask-${scheduler}`, missing };
  return runPeer([PY, join(peersDir, "dask_tutorial.py"), caseName, String(n), String(chunk), String(seed), scheduler, String(workers)], { timeoutMs });
}

/** Plain numpy, one thread, block by block (no ones_tiny_tasks). Same result shape as runDask. */
export async function runNumpy(caseName, { n, chunk, seed = 1, timeoutMs } = {}) {
  const missing = await pythonMissing();
  if (missing) return { case: caseName, engine: "numpy-1thread", missing };
  return runPeer([PY, join(peersDir, "numpy_tutorial.py"), caseName, String(n), String(chunk), String(seed)], { timeoutMs });
}

let storageCheck; // cached promise per format: null when usable, else the reason
/** null when /usr/bin/python3 has what the storage peer needs (dask, zarr and numcodecs for Zarr; numpy for .npy). */
export function storagePythonMissing(format) {
  storageCheck ??= new Map();
  if (!storageCheck.has(format)) {
    storageCheck.set(format, (async () => {
      if (!existsSync(PY)) return `${PY} not found: run scripts/install-peers.sh`;
      const mods = format === "zarr" ? "numpy, psutil, dask, dask.array, zarr, numcodecs" : "numpy, psutil";
      const r = await runCommand([PY, "-c", `import ${mods}`], { timeoutMs: 60_000 });
      if (r.code === 0) return null;
      const mod = /No module named '([^']+)'/.exec(r.stderr)?.[1];
      return `${PY} cannot import ${mod ?? mods} (python3-${mod ?? "zarr"}): run scripts/install-peers.sh and scripts/install-interop.sh`;
    })());
  }
  return storageCheck.get(format);
}

/**
 * One step of a storage case with dask (zarr-*) or numpy (npy-*): bench/peers/storage_peer.py OP PATH N CHUNK
 * CODEC SEED WORKERS. Same result shape as runDask, or { missing }.
 */
export async function runStoragePeer(op, args, { timeoutMs, env } = {}) {
  const missing = await storagePythonMissing(op.startsWith("zarr") ? "zarr" : "npy");
  if (missing) return { missing };
  return runPeer([PY, join(peersDir, "storage_peer.py"), op, ...args.map(String)], { timeoutMs, env });
}

let nativePath;
async function native(mode, args, timeoutMs) {
  nativePath ??= buildNative({ quiet: true });
  const bin = await nativePath;
  if (!bin) return { engine: "c-native", mode, missing: "gcc not available or native.c failed to build" };
  return runPeer([bin, mode, ...args.map(String)], { timeoutMs });
}

/** Summing a 512 MiB float64 array: { gb_per_s (median of 9), gb_per_s_min, gb_per_s_max, ok }. */
export const runNativeSum = ({ threads = 1 } = {}) => native("sum", [threads], 120_000);
/** xoshiro256+ generate-and-sum of n doubles (16 lane sets, the widest vectors the CPU has) on `threads` threads: { seconds, doubles_per_s, mean, simd }. */
export const runNativeGensum = (n = 1e9, threads = 1) => native("gensum", [Math.round(n), threads], 120_000);
/** Host-contention control: { iters_per_s_1, iters_per_s_2, ratio }; ratio near 2 on two free cores. */
export const runNativeSpin = (seconds = 1) => native("spin", [seconds], 60_000 + seconds * 3000);

// `node bench/lib/peers.mjs` is a quick smoke test at small sizes.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const small = { n: 4000, chunk: 1000 };
  for (const c of ["random_sum", "random_mapblocks_add_sum", "mean_axis0", "slice_sum", "concat_mean1", "reshape_sum"]) {
    console.log(JSON.stringify(await runDask(c, small)));
    console.log(JSON.stringify(await runNumpy(c, small)));
  }
  console.log(JSON.stringify(await runDask("random_mapblocks_add_sum", { ...small, scheduler: "distributed" })));
  console.log(JSON.stringify(await runDask("ones_tiny_tasks", { n: 20_000, chunk: 10 })));
  console.log(JSON.stringify(await runDask("sum_existing", { n: 8192, chunk: 2048 })));
  console.log(JSON.stringify(await runNumpy("sum_existing", { n: 8192, chunk: 2048 })));
  console.log(JSON.stringify(await runDask("transpose_add_sum0", small)));
  console.log(JSON.stringify(await runDask("reshape_existing_sum", { n: 8192, chunk: 2048 })));
  console.log(JSON.stringify(await runNativeSum()));
  console.log(JSON.stringify(await runNativeGensum(5e8)));
  console.log(JSON.stringify(await runNativeSpin(1)));
}
