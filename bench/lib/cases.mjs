// What the benchmark measures: the cases, their work units, their sanity checks, and which engine runs
// which case at which size. Pure data and small functions; bench/run.mjs runs them.

/** The tutorial pipelines: random n x n float64 with chunks c x c, sized by --sizes. */
export const TUTORIAL = ["random_sum", "random_add_sum", "random_mapblocks_add_sum", "mean_axis0"];

/** Views and movement of random n x n arrays (issue 9), sized by --sizes too (--case-sizes overrides). */
export const VIEW_CASES = ["slice_sum", "transpose_add_sum0", "concat_mean1", "reshape_sum"];

/** histogram of random n x n (issue 12), sized by --sizes too. */
export const HISTOGRAM_BINS = 100;
export const HISTOGRAM_CASES = ["histogram"];

/** Cases whose arrays are random n x n with chunks --chunk, at the sizes --sizes (or --case-sizes) gives. */
export const SIZED = [...TUTORIAL, ...VIEW_CASES, ...HISTOGRAM_CASES];

/** Cases over the existing (persisted) arrays of side --existing-n. */
export const EXISTING = ["sum_existing", "add_existing", "reshape_existing_sum"];

/** The column margin of slice_sum: slice(m, -m) with m = 1000, or n / 8 below n = 8000 (--quick sizes). */
export const sliceMargin = (n) => Math.min(1000, Math.floor(n / 8));

/**
 * Relative tolerance for a sum of `count` independent uniforms [0, 1) times `scale`, whose expected value
 * is `value`: six standard deviations (sd of one uniform: 1 / sqrt(12)), so a correct engine fails it with
 * a probability near 1e-9 and a wrong shape, offset or double count (errors of order 1 / count or more) is caught.
 */
export function uniformTolerance(count, scale, value) {
  return (6 * scale * Math.sqrt(count / 12)) / Math.abs(value);
}

/**
 * Storage cases (issue 10): random n x n float64 written to, or read from, a fresh directory under the
 * harness's temporary storage directory (--storage-n, --storage-chunk, --storage-dir). Every step is a child
 * process of its own (bench/lib/storage.mjs), so each row's peak RSS is that step's alone. `step` is what is
 * timed: "write" (the engine's write call; its "+ fdatasync" row adds the sync of every file written),
 * "read" (a sum that reads every byte, right after the same engine's own write and fdatasync: warm cache,
 * unless --cold-reads), "sum-vs-persisted" (the file's sum, then the persisted array's sum, same process).
 * Results are checked against the sum the engine's own generator gives (computed by the engine in the write
 * step, over the chunks the read uses, so a correct read matches it bit for bit).
 */
const STORAGE = {
  zarr_write: { format: "zarr", codec: "none", step: "write", title: "random → toZarr (uncompressed)",
    what: "toZarr(random.random([n, n], { chunks: c, seed }), p, { codec: 'none' }) (dask: x.to_zarr(p, compressor=None)); " +
      "C: pwrite() of the same number of bytes into as many files (page cache), then fdatasync() (the disk's limit)" },
  zarr_write_zstd: { format: "zarr", codec: "zstd", step: "write", title: "random → toZarr (zstd)",
    what: "toZarr(x, p, { codec: 'zstd' }) (level 1; dask: compressor=numcodecs.Zstd(level=1)); the C row writes the uncompressed bytes" },
  zarr_read: { format: "zarr", codec: "none", step: "read", title: "openZarr → sum (uncompressed)",
    what: "openZarr(p).sum() (dask: da.from_zarr(p).sum()) right after the engine's own write and fdatasync; C: pread() and sum of the same files" },
  zarr_read_zstd: { format: "zarr", codec: "zstd", step: "read", title: "openZarr → sum (zstd)",
    what: "openZarr(p).sum() of the zstd array (dask: da.from_zarr(p).sum()); the C row reads the uncompressed bytes" },
  zarr_write_gzip: { format: "zarr", codec: "gzip", step: "write", title: "random → toZarr (gzip)",
    what: "toZarr(x, p, { codec: 'gzip' }) (level 1; dask: compressor=numcodecs.GZip(level=1)); the C row writes the uncompressed bytes" },
  zarr_read_gzip: { format: "zarr", codec: "gzip", step: "read", title: "openZarr → sum (gzip)",
    what: "openZarr(p).sum() of the gzip array (dask: da.from_zarr(p).sum()); the C row reads the uncompressed bytes" },
  zarr_sum_vs_persisted: { format: "zarr", codec: "none", step: "sum-vs-persisted", title: "openZarr(p).sum() vs persisted sum",
    what: "in one process: openZarr(p).sum() timed, then a = openZarr(p).persist() (untimed) and a.sum() timed (the 'persisted' row); " +
      "dask: da.from_zarr(p).sum() vs .persist().sum(); the persisted copy is the array's size in memory" },
  npy_save: { format: "npy", codec: "none", step: "write", title: "random → saveNpy",
    what: "saveNpy(random.random([n, n], { chunks: c, seed }), p) (generation included) vs numpy np.save(p, a) of an array made before " +
      "(untimed; it counts in numpy's RSS); C: pwrite() of one file of the same size, then fdatasync()" },
  npy_load: { format: "npy", codec: "none", step: "read", title: "loadNpy → sum",
    what: "loadNpy(p).sum() (by byte ranges per chunk) vs numpy np.load(p, mmap_mode='r').sum() (its mapped pages count in its RSS); C: pread() and sum" },
};
export const STORAGE_CASES = Object.keys(STORAGE);
/**
 * What `--cases storage` names: issue 10's cases (uncompressed, zstd, the persisted comparison, .npy). Not gzip:
 * level 1 deflate of random doubles runs at about 20 MB/s a core here (half an hour a rep at 4 GiB), so its
 * cases run only when named.
 */
export const STORAGE_GROUP = STORAGE_CASES.filter((c) => STORAGE[c].codec !== "gzip");
/** The storage case run by --quick (tiny: a smoke test of the write and read steps and a codec). */
export const QUICK_STORAGE = ["zarr_read_zstd"];

export const CASES = {
  random_sum: {
    title: "random → sum",
    what: "random.random([n, n], { chunks, seed }).sum(): generate and reduce, nothing stored",
    unit: "el/s", work: (n) => n * n,
    expect: (n) => ({ value: (n * n) / 2, rel: 1e-3 }),
  },
  random_add_sum: {
    title: "random → +1 → sum",
    what: "x.add(1).sum() (dask: (x + 1).sum()): the fused elementwise chain of the README",
    unit: "el/s", work: (n) => n * n,
    expect: (n) => ({ value: 1.5 * n * n, rel: 1e-3 }),
  },
  random_mapblocks_add_sum: {
    title: "random → mapBlocks(+1) → sum",
    what: "x.mapBlocks((b) => b.add(1)).sum() (dask: x.map_blocks(add1).sum()): the tutorial; a user function per block",
    unit: "el/s", work: (n) => n * n,
    expect: (n) => ({ value: 1.5 * n * n, rel: 1e-3 }),
  },
  mean_axis0: {
    title: "((x+1)*2).mean(axis 0)",
    what: "x.add(1).mul(2).mean({ axis: 0 }) to an n-vector; result checked as the vector's sum (≈ 3n)",
    unit: "el/s", work: (n) => n * n,
    expect: (n) => ({ value: 3 * n, rel: 1e-3 }),
    length: (n) => n,
  },
  slice_sum: {
    title: "random → get(::2, m:-m) → sum",
    what: "x.get(slice(null, null, 2), slice(m, -m)).sum() with m = 1000 (n / 8 below 8000; dask: x[::2, m:-m].sum()): " +
      "a strided view of a virtual source (tessera fuses it: every other row is generated, nothing stored; dask generates whole chunks and slices them)",
    unit: "el/s", work: (n) => Math.ceil(n / 2) * (n - 2 * sliceMargin(n)), // elements of the view
    expect: (n) => {
      const count = Math.ceil(n / 2) * (n - 2 * sliceMargin(n));
      return { value: count / 2, rel: uniformTolerance(count, 1, count / 2) };
    },
  },
  transpose_add_sum0: {
    title: "x.T + x → sum(axis 0)",
    what: "x.T.add(x).sum({ axis: 0 }) to an n-vector (dask: (x.T + x).sum(axis=0)); checked as the vector's sum, 2 sum(x) ≈ n² " +
      "(tessera reads the random source twice, once transposed; dask generates each chunk once and transposes it)",
    unit: "el/s", work: (n) => n * n,
    expect: (n) => ({ value: n * n, rel: uniformTolerance(n * n, 2, n * n) }),
    length: (n) => n,
  },
  concat_mean1: {
    title: "concatenate([x, y]) → mean(axis 1)",
    what: "concatenate([x, y], { axis: 0 }).mean({ axis: 1 }) of two random n×n arrays (seeds s and s + 1) to a 2n-vector " +
      "(dask: da.concatenate([x, y], axis=0).mean(axis=1)); checked as the vector's sum ≈ n",
    unit: "el/s", work: (n) => 2 * n * n,
    expect: (n) => ({ value: n, rel: uniformTolerance(2 * n * n, 1 / n, n) }),
    length: (n) => 2 * n,
  },
  reshape_sum: {
    title: "reshape ×2 → sum(axis 1)",
    what: "x.reshape([n / 2, 2, n]) (splits axis 0: the chunks line up) .reshape([n / 2, 2 * n]) (merges the last two axes: " +
      "axis 2 must be whole, a rechunk for a stored array) .sum({ axis: 1 }) to an n/2-vector; checked as its sum ≈ n²/2. " +
      "tessera reshapes the random source itself (values follow the flat index), so neither reshape moves data; " +
      "dask 2022.12 (which refuses a direct [n, n] → [n/2, 2n]) splits without a copy, then rechunks (c/2, 2, c) blocks to (c/2, 1, n) ('rechunk-merge') and reshapes them",
    unit: "el/s", work: (n) => n * n,
    expect: (n) => ({ value: (n * n) / 2, rel: uniformTolerance(n * n, 1, (n * n) / 2) }),
    length: (n) => n / 2,
  },
  histogram: {
    title: "random → histogram(100 bins)",
    what: "histogram(x, { bins: 100, range: [0, 1] }) (dask: da.histogram(x, bins=100, range=(0, 1))): counts of 100 equal bins, " +
      "fused in tessera (random values binned as generated, a task's partial is its 100 counters); checked as the counts' sum, n² exactly, and their length",
    unit: "el/s", work: (n) => n * n,
    expect: (n) => ({ value: n * n, rel: 0 }),
    length: () => HISTOGRAM_BINS,
  },
  sum_existing: {
    title: "sum of an existing array",
    what: "fromArray(Float64Array(n*n) of i % 1000, { shape: [n, n], chunks }).persist(), then .sum() timed; n = 8192 is 512 MiB. " +
      "The persisted chunks live in the workers' kernel memory, as numpy's array lives in its own; '2nd compute' is the same sum again",
    unit: "GB/s", work: (n) => n * n * 8,
    expect: (n) => ({ value: existingExpected(n * n, 1000), rel: 0 }),
  },
  add_existing: {
    title: "a + b of existing arrays",
    what: "a.add(b).persist() of persisted a and b into a new persisted array (numpy: np.add(a, b); dask: to a numpy array); " +
      "GB/s counts 3 arrays (read a, b, write c); '2nd compute' makes c again after the first c is dropped: into its memory, once the heap's full garbage collection (about 6-9 ms here, timed) has found it gone",
    unit: "GB/s", work: (n) => 3 * n * n * 8,
    expect: (n) => ({ value: existingExpected(n * n, 1000) + existingExpected(n * n, 999), rel: 0 }),
  },
  reshape_existing_sum: {
    title: "reshape ×2 of an existing array → sum(axis 1)",
    what: "the persisted array of sum_existing, a.reshape([n / 2, 2, n]) (lines up: in place) .reshape([n / 2, 2 * n]) " +
      "(needs axis 2 whole: one rechunk copy in tessera and dask; free in numpy) .sum({ axis: 1 }), timed; the vector's sum is exact",
    unit: "GB/s", work: (n) => n * n * 8,
    expect: (n) => ({ value: existingExpected(n * n, 1000), rel: 0 }),
    length: (n) => n / 2,
  },
  ones_tiny_tasks: {
    title: "per-task overhead",
    what: "ones([N], { chunks: 10 }).sum(): one task per 10 elements; dask runs fewer tasks (it is slow): compare tasks/s",
    unit: "tasks/s", work: null, // from the result's task count
    expect: (n) => ({ value: n, rel: 0 }),
  },
  ...Object.fromEntries(Object.entries(STORAGE).map(([c, v]) => [c, {
    title: v.title, what: v.what, unit: "GB/s", work: (n) => n * n * 8, // GB/s of the array's bytes, for every engine
    expect: null, storage: v, // checked by bench/lib/storage.mjs against the engine's own generator
  }])),
};

/** Not built yet in tessera: printed as skipped, never measured or estimated. */
export const SKIPPED = {
  matmul: "matmul: not built yet in tessera (peer to compare when it is: numpy/OpenBLAS 1 thread, 4000×4000 float64)",
};

/** Cases of the rank layer: bench/ranks.mjs runs them (as a child process) in the section named here. */
export const RANK_CASES = {
  allreduce: { section: "allreduce", title: "allreduce across ranks", what: "world.allreduce of one float64 (latency) and of a large Float64Array (GB/s) on 2 and 4 local ranks, beside mpi4py on Open MPI" },
  scaling: { section: "pipeline", title: "multi-rank scaling", what: "the tutorial pipeline on 2 ranks × 1 worker vs 1 rank × 1 and × 2 workers (run.js --np), beside C generate-and-sum on 1 and 2 threads (the host's ceiling)" },
  startup: { section: "startup", title: "rank start-up", what: "srun -n 4 / run.js --np 4 start-up wall time and the rendezvous share of it" },
};

/** The exact sum of (i % m) over i < size (small integers: exact in float64 in any order). */
export function existingExpected(size, m = 1000) {
  const full = Math.floor(size / m), rest = size % m;
  return full * ((m * (m - 1)) / 2) + (rest * (rest - 1)) / 2;
}

/**
 * Checks a result against the case's expectation; returns null when fine, else a message. `length`, when
 * the engine reported one (result_length), is checked against the case's vector length.
 */
export function checkResult(caseName, n, result, { expectOverride, length } = {}) {
  const c = CASES[caseName];
  if (!c || result === null || result === undefined) return result == null ? "no result" : null;
  const { value, rel } = expectOverride ?? c.expect(n);
  if (typeof result !== "number" || !Number.isFinite(result)) return `result ${result} is not a finite number`;
  if (c.length && length !== undefined && length !== null && !expectOverride && length !== c.length(n)) {
    return `result vector has ${length} elements, expected ${c.length(n)}`;
  }
  const err = Math.abs(result - value) / Math.max(1, Math.abs(value));
  if (rel === 0 ? result !== value : err > rel) {
    return `result ${result} differs from expected ${value} (relative ${err.toExponential(2)}${rel ? `, limit ${Number(rel.toPrecision(3))}` : ", must be exact"})`;
  }
  return null;
}

/** The cases that existed before the redesign (issue 9): what the tessera-before engine can run. */
export const BEFORE_CASES = [...TUTORIAL, "sum_existing", "add_existing", "ones_tiny_tasks"];

const NPY_CASES = STORAGE_CASES.filter((c) => STORAGE[c].format === "npy");

export const ENGINES = {
  tessera: { label: "tessera", cases: Object.keys(CASES) },
  // The engine of commit 123c012 (or whatever --before-dist DIR was built from: the label names its commit),
  // run by the same bench/tessera_case.mjs; only selected by default when --before-dist is given.
  "tessera-before": { label: "tessera before the redesign (123c012)", cases: BEFORE_CASES, optional: true },
  // The same engine under an environment of its own (`env`), selected by name: the kernel backend forced
  // (TESSERA_KERNELS: the rows that stay beside the default, native kernels where they are built, else
  // wasm), or the kernel memory in huge pages (TESSERA_HUGE_PAGES=1, src/kernels/huge-pages.ts).
  "tessera-wasm": { label: "tessera, wasm kernels", cases: Object.keys(CASES).filter((c) => !CASES[c].storage), optional: true, env: { TESSERA_KERNELS: "wasm" } },
  "tessera-js": { label: "tessera, js kernels", cases: Object.keys(CASES).filter((c) => !CASES[c].storage && c !== "ones_tiny_tasks"), optional: true, env: { TESSERA_KERNELS: "js" } },
  "tessera-thp": { label: "tessera, huge pages", cases: Object.keys(CASES).filter((c) => !CASES[c].storage), optional: true, env: { TESSERA_HUGE_PAGES: "1" } },
  "dask-threads": { label: "dask threads", cases: Object.keys(CASES).filter((c) => !NPY_CASES.includes(c)) },
  "dask-distributed": { label: "dask distributed 2×1", cases: ["random_mapblocks_add_sum", "ones_tiny_tasks"] },
  // transpose_add_sum0 is not natural block by block with one sequential generator (it pairs block (i, j) with (j, i))
  numpy: { label: "numpy 1 thread", cases: [...TUTORIAL, "slice_sum", "concat_mean1", "reshape_sum", "histogram", "sum_existing", "add_existing", "reshape_existing_sum", ...NPY_CASES] },
  native: { label: "C native", cases: ["random_sum", "random_add_sum", "random_mapblocks_add_sum", "sum_existing", "add_existing", ...STORAGE_CASES.filter((c) => c !== "zarr_sum_vs_persisted")] },
};
