// What the benchmark measures: the cases, their work units, their sanity checks, and which engine runs
// which case at which size. Pure data and small functions; bench/run.mjs runs them.

/** The tutorial pipelines: random n x n float64 with chunks c x c, sized by --sizes. */
export const TUTORIAL = ["random_sum", "random_add_sum", "random_mapblocks_add_sum", "mean_axis0"];

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
      "GB/s counts 3 arrays (read a, b, write c); '2nd compute' makes c again while the first c is still held",
    unit: "GB/s", work: (n) => 3 * n * n * 8,
    expect: (n) => ({ value: existingExpected(n * n, 1000) + existingExpected(n * n, 999), rel: 0 }),
  },
  ones_tiny_tasks: {
    title: "per-task overhead",
    what: "ones([N], { chunks: 10 }).sum(): one task per 10 elements; dask runs fewer tasks (it is slow): compare tasks/s",
    unit: "tasks/s", work: null, // from the result's task count
    expect: (n) => ({ value: n, rel: 0 }),
  },
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

/** Checks a result against the case's expectation; returns null when fine, else a message. */
export function checkResult(caseName, n, result, { expectOverride } = {}) {
  const c = CASES[caseName];
  if (!c || result === null || result === undefined) return result == null ? "no result" : null;
  const { value, rel } = expectOverride ?? c.expect(n);
  if (typeof result !== "number" || !Number.isFinite(result)) return `result ${result} is not a finite number`;
  const err = Math.abs(result - value) / Math.max(1, Math.abs(value));
  if (rel === 0 ? result !== value : err > rel) {
    return `result ${result} differs from expected ${value} (relative ${err.toExponential(2)}${rel ? `, limit ${rel}` : ", must be exact"})`;
  }
  return null;
}

export const ENGINES = {
  tessera: { label: "tessera", cases: Object.keys(CASES) },
  "dask-threads": { label: "dask threads", cases: Object.keys(CASES) },
  "dask-distributed": { label: "dask distributed 2×1", cases: ["random_mapblocks_add_sum", "ones_tiny_tasks"] },
  numpy: { label: "numpy 1 thread", cases: [...TUTORIAL, "sum_existing", "add_existing"] },
  native: { label: "C native", cases: ["random_sum", "random_add_sum", "random_mapblocks_add_sum", "sum_existing", "add_existing"] },
};
