// Runs one benchmark case with tessera and prints one JSON line, like the python peers:
//   {case, engine, n, chunk, seconds, result, peak_rss_mib, ...}
//
// usage: node bench/tessera_case.mjs CASE N CHUNK [SEED] [WORKERS]
//
// Only compute() is timed. Not timed: importing tessera, starting the worker pool and compiling the
// kernels (a one-chunk warm-up compute, reported as startup_seconds: the peers likewise exclude imports
// and cluster start-up), and building the input arrays of sum_existing / add_existing.
// TESSERA_BENCH_DIST=dir loads tessera from a copy of dist/ (the harness snapshots it, so a rebuild by
// someone else mid-run cannot change the engine under measurement), or from the build of another commit
// (the harness's tessera-before engine: only the cases that existed then, which use only the API of then).
// A vector result is reported as its sum (result) and its length (result_length), as the python peers do.
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export const CASES = [
  "random_sum", "random_add_sum", "random_mapblocks_add_sum", "mean_axis0", "slice_sum", "transpose_add_sum0", "concat_mean1",
  "reshape_sum", "histogram", "sum_existing", "add_existing", "reshape_existing_sum", "ones_tiny_tasks",
];

const here = dirname(fileURLToPath(import.meta.url));

/** The exact sum of (i % m) over i < size, as the python peers' existing_expected. */
export function existingExpected(size, m = 1000) {
  const full = Math.floor(size / m), rest = size % m;
  return full * ((m * (m - 1)) / 2) + (rest * (rest - 1)) / 2;
}

function existingArray(size, m) {
  const a = new Float64Array(size);
  for (let i = 0, v = 0; i < size; i++) {
    a[i] = v;
    if (++v === m) v = 0;
  }
  return a;
}

const now = () => performance.now() / 1000;

async function main(argv) {
  const [caseName, nArg, chunkArg, seedArg = "1", workersArg] = argv;
  if (!CASES.includes(caseName) || !nArg || !chunkArg) {
    console.error(`usage: node bench/tessera_case.mjs CASE N CHUNK [SEED] [WORKERS]\n  CASE: ${CASES.join(" | ")}`);
    return 2;
  }
  const n = Number(nArg), chunk = Number(chunkArg), seed = Number(seedArg);
  const distDir = resolve(process.env.TESSERA_BENCH_DIST ?? join(here, "..", "dist"));
  const t = await import(pathToFileURL(join(distDir, "index.js")).href);
  const workers = workersArg ? Number(workersArg) : undefined;
  const opts = workers ? { workers } : {};

  let t0 = now();
  await t.ones([1], { chunks: 1 }).sum().compute(opts); // starts the pool, compiles the kernels
  const startup = now() - t0;

  const out = { case: caseName, engine: "tessera", n, chunk, seconds: NaN, result: null };
  const extra = {};
  // Graph building is cheap and timed with the compute (dask's graph building is timed too).
  const timed = async (build) => {
    t0 = now();
    const v = await build().compute(opts);
    return { v, s: now() - t0 };
  };

  /** A vector result as the peers report it: its sum (in index order) and its length. */
  const vector = (v, kind) => {
    let sum = 0;
    for (const e of v.data) sum += e;
    Object.assign(extra, { result_kind: kind, result_length: v.data.length, first: v.data[0] });
    return sum;
  };

  if (caseName === "random_sum" || caseName === "random_add_sum" || caseName === "random_mapblocks_add_sum" || caseName === "mean_axis0") {
    const x = () => t.random.random([n, n], { chunks: chunk, seed });
    const build = {
      random_sum: () => x().sum(),
      random_add_sum: () => x().add(1).sum(),
      random_mapblocks_add_sum: () => x().mapBlocks((b) => b.add(1)).sum(),
      mean_axis0: () => x().add(1).mul(2).mean({ axis: 0 }),
    }[caseName];
    const { v, s } = await timed(build);
    out.seconds = s;
    out.result = caseName === "mean_axis0" ? vector(v, "sum of the mean vector") : v;
  } else if (caseName === "slice_sum" || caseName === "transpose_add_sum0" || caseName === "concat_mean1" || caseName === "reshape_sum") {
    // Views and movement (issue 9). The margin of slice_sum as bench/lib/cases.mjs sliceMargin.
    const x = () => t.random.random([n, n], { chunks: chunk, seed });
    const m = Math.min(1000, Math.floor(n / 8));
    const build = {
      slice_sum: () => x().get(t.slice(null, null, 2), t.slice(m, -m)).sum(),
      transpose_add_sum0: () => { const a = x(); return a.T.add(a).sum({ axis: 0 }); },
      concat_mean1: () => t.concatenate([x(), t.random.random([n, n], { chunks: chunk, seed: seed + 1 })], { axis: 0 }).mean({ axis: 1 }),
      reshape_sum: () => x().reshape([n / 2, 2, n]).reshape([n / 2, 2 * n]).sum({ axis: 1 }),
    }[caseName];
    const { v, s } = await timed(build);
    out.seconds = s;
    out.result = typeof v === "number" ? v : vector(v, "sum of the result vector");
    if (caseName === "slice_sum") extra.margin = m;
  } else if (caseName === "histogram") {
    // 100 equal bins over [0, 1]: the counts (a lazy 100-vector) reported as their sum and length
    const { v, s } = await timed(() => t.histogram(t.random.random([n, n], { chunks: chunk, seed }), { bins: 100, range: [0, 1] })[0]);
    out.seconds = s;
    out.result = vector(v, "sum of the counts");
    Object.assign(extra, { min_count: Math.min(...v.data), max_count: Math.max(...v.data) });
  } else if (caseName === "sum_existing") {
    // An array that already lives in tessera's memory (persist(), untimed), as numpy's does in its own.
    const size = n * n;
    const a = await t.fromArray(existingArray(size, 1000), { shape: [n, n], chunks: chunk }).persist();
    const first = await timed(() => a.sum());
    const second = await timed(() => a.sum());
    out.seconds = first.s;
    out.result = first.v;
    Object.assign(extra, {
      bytes: size * 8, expected: existingExpected(size), second_seconds: Math.round(second.s * 1e5) / 1e5, second_result: second.v,
      gb_per_s: (size * 8) / first.s / 1e9, second_gb_per_s: (size * 8) / second.s / 1e9,
      note: "a persisted array (in kernel memory, like numpy's in its own)",
    });
  } else if (caseName === "add_existing") {
    // a + b of persisted arrays into a new persisted array (numpy: a new array), then checked.
    const size = n * n;
    const a = await t.fromArray(existingArray(size, 1000), { shape: [n, n], chunks: chunk }).persist();
    const b = await t.fromArray(existingArray(size, 999), { shape: [n, n], chunks: chunk }).persist();
    const t0 = now();
    let c = await a.add(b).persist();
    const s1 = now() - t0;
    out.seconds = s1;
    out.result = await c.sum().compute(); // exact: small integers
    c = null;
    const t1 = now();
    const c2 = await a.add(b).persist();
    const s2 = now() - t1;
    Object.assign(extra, {
      result_kind: "sum of a + b (after timing)", bytes: 3 * size * 8,
      expected: existingExpected(size, 1000) + existingExpected(size, 999),
      second_seconds: Math.round(s2 * 1e5) / 1e5, second_result: await c2.sum().compute(),
      gb_per_s: (3 * size * 8) / s1 / 1e9, second_gb_per_s: (3 * size * 8) / s2 / 1e9,
      note: "persisted operands, result persisted (kept in kernel memory, as numpy's new array)",
    });
  } else if (caseName === "reshape_existing_sum") {
    // The persisted array of sum_existing, split (lines up: no copy), merged (a rechunk), summed along rows.
    const size = n * n;
    const a = await t.fromArray(existingArray(size, 1000), { shape: [n, n], chunks: chunk }).persist();
    const build = () => a.reshape([n / 2, 2, n]).reshape([n / 2, 2 * n]).sum({ axis: 1 });
    const first = await timed(build);
    out.seconds = first.s;
    out.result = vector(first.v, "sum of the row sums");
    const second = await timed(build);
    let secondSum = 0;
    for (const e of second.v.data) secondSum += e;
    Object.assign(extra, {
      bytes: size * 8, expected: existingExpected(size), gb_per_s: (size * 8) / first.s / 1e9,
      second_seconds: Math.round(second.s * 1e5) / 1e5, second_result: secondSum, second_gb_per_s: (size * 8) / second.s / 1e9,
      note: "a persisted array reshaped twice (the second reshape rechunks), then summed along rows",
    });
  } else if (caseName === "ones_tiny_tasks") {
    const r = await timed(() => t.ones([n], { chunks: chunk }).sum());
    out.seconds = r.s;
    out.result = r.v;
    const tasks = Math.ceil(n / chunk);
    Object.assign(extra, { tasks, tasks_per_s: tasks / r.s, expected: n });
  }

  const workersUsed = workers ?? (Number(process.env.TESSERA_WORKERS) || (await import("node:os")).availableParallelism());
  const peak = process.resourceUsage().maxRSS / 1024; // KiB -> MiB; worker threads share this process
  // which kernels ran the programs (native-<level>, wasm-simd, js); a dist from before the native kernels has wasm or js
  let kernels;
  try {
    kernels = (await import(pathToFileURL(join(distDir, "kernels", "backend.js")).href)).kernelsName();
  } catch {
    kernels = process.env.TESSERA_KERNELS === "js" ? "js" : "wasm-simd";
  }
  console.log(JSON.stringify({
    ...out, seconds: Math.round(out.seconds * 1e5) / 1e5, peak_rss_mib: Math.round(peak * 10) / 10,
    workers: workersUsed, kernels, seed, startup_seconds: Math.round(startup * 1e4) / 1e4, ...extra,
  }));
  await t.shutdown?.();
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    process.exitCode = await main(process.argv.slice(2));
  } catch (e) {
    console.log(JSON.stringify({ case: process.argv[2], engine: "tessera", error: `${e?.code ?? ""} ${e?.message ?? e}`.trim() }));
    process.exitCode = 1;
  }
}
