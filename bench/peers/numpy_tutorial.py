"""Plain numpy, one thread, block by block: the floor a careful single-core Python user reaches.
Prints the same JSON line as dask_tutorial.py.

usage: /usr/bin/python3 numpy_tutorial.py CASE N CHUNK [SEED]
(ones_tiny_tasks has no meaning without a task scheduler and is refused; so is transpose_add_sum0, which pairs
block (i, j) with block (j, i): not natural block by block with one sequential generator.)
"""
import os

# One thread for any BLAS/OpenMP numpy might touch: this peer is the single-core baseline.
for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(v, "1")

import sys  # noqa: E402
import time  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import (HISTOGRAM_BINS, PeakRss, VECTOR_CASES, emit, existing_array, existing_expected, fail,  # noqa: E402
                     parse_args, slice_margin, vector_fields)

import numpy as np  # noqa: E402


def blocks(n, chunk):
    """Yields (rows, cols) block shapes in row-major block order, edge blocks included."""
    for r in range(0, n, chunk):
        for c in range(0, n, chunk):
            yield min(chunk, n - r), min(chunk, n - c), c


def run(case, n, chunk, seed, a=None, b=None):
    if case == "add_existing":
        return np.add(a, b)  # one call, result allocated inside the timing (as dask and tessera do)
    if case == "reshape_existing_sum":
        # both reshapes are views of the contiguous array in numpy: only the row sums cost anything
        return a.reshape(n // 2, 2, n).reshape(n // 2, 2 * n).sum(axis=1)
    if case == "sum_existing":
        # Same chunked traversal as dask's from_array(...).sum(): per-block partials, then their sum.
        total = 0.0
        for r in range(0, n, chunk):
            for c in range(0, n, chunk):
                total += float(a[r:r + chunk, c:c + chunk].sum())
        return total
    rs = np.random.RandomState(seed)  # one generator, drawn block after block (one block in memory)
    if case == "random_sum":
        return sum(float(rs.random_sample((h, w)).sum()) for h, w, _ in blocks(n, chunk))
    if case in ("random_mapblocks_add_sum", "random_add_sum"):
        return sum(float((rs.random_sample((h, w)) + 1).sum()) for h, w, _ in blocks(n, chunk))
    if case == "mean_axis0":
        col = np.zeros(n)
        for h, w, c in blocks(n, chunk):
            col[c:c + w] += ((rs.random_sample((h, w)) + 1) * 2).sum(axis=0)
        return col / n
    if case == "slice_sum":
        # x[::2, m:-m] block by block: every block is generated (the generator is sequential), its even
        # global rows and the columns inside [m, n - m) are summed
        m = slice_margin(n)
        total = 0.0
        for r in range(0, n, chunk):
            for c in range(0, n, chunk):
                h, w = min(chunk, n - r), min(chunk, n - c)
                b = rs.random_sample((h, w))
                lo, hi = max(0, m - c), min(w, n - m - c)
                if hi > lo:
                    total += float(b[r % 2::2, lo:hi].sum())
        return total
    if case == "histogram":
        # np.histogram block by block, the counts added up
        counts = np.zeros(HISTOGRAM_BINS, dtype=np.int64)
        for h, w, _ in blocks(n, chunk):
            counts += np.histogram(rs.random_sample((h, w)), bins=HISTOGRAM_BINS, range=(0, 1))[0]
        return counts
    if case in ("concat_mean1", "reshape_sum"):
        # row sums block by block; concat_mean1: of x then of y (seed + 1), each row's mean;
        # reshape_sum: row j of the [n/2, 2n] reshape is rows 2j and 2j + 1 of x
        gens = [rs] if case == "reshape_sum" else [rs, np.random.RandomState(seed + 1)]
        rows = []
        for g in gens:
            rowsum = np.zeros(n)
            for r in range(0, n, chunk):
                for c in range(0, n, chunk):
                    h, w = min(chunk, n - r), min(chunk, n - c)
                    rowsum[r:r + h] += g.random_sample((h, w)).sum(axis=1)
            rows.append(rowsum)
        if case == "reshape_sum":
            return rows[0].reshape(n // 2, 2).sum(axis=1)
        return np.concatenate(rows) / n
    raise ValueError(case)


def main():
    args = parse_args(engine_default_scheduler="sync")
    engine = "numpy-1thread"
    if args.case == "ones_tiny_tasks":
        fail(args.case, engine, "ones_tiny_tasks measures a task scheduler; numpy has none")
    if args.case == "transpose_add_sum0":
        fail(args.case, engine, "transpose_add_sum0 pairs block (i, j) with (j, i): not natural block by block")
    extra = {}
    a = b = None
    if args.case in ("sum_existing", "reshape_existing_sum"):
        a = existing_array(args.n)
        extra = {"bytes": a.nbytes, "expected": existing_expected(args.n)}
    if args.case == "add_existing":
        a, b = existing_array(args.n, 1000), existing_array(args.n, 999)
        extra = {"bytes": 3 * a.nbytes, "expected": existing_expected(args.n, 1000) + existing_expected(args.n, 999)}
    with PeakRss() as rss:
        t0 = time.perf_counter()
        value = run(args.case, args.n, args.chunk, args.seed, a, b)
        seconds = time.perf_counter() - t0
    out = dict(case=args.case, engine=engine, n=args.n, chunk=args.chunk, seconds=round(seconds, 4))
    if args.case in VECTOR_CASES:
        out.update(vector_fields(value, "sum of the mean vector" if args.case == "mean_axis0" else "sum of the counts" if args.case == "histogram" else "sum of the result vector"))
        if args.case == "histogram":
            out.update(min_count=int(value.min()), max_count=int(value.max()))
    elif args.case == "add_existing":
        out.update(result=float(value.sum()), result_kind="sum of a + b (after timing)")
    else:
        out["result"] = float(value)
    out.update(peak_rss_mib=rss.mib, workers=1, seed=args.seed, numpy=np.__version__)
    out.update(extra)
    if "bytes" in extra:
        out["gb_per_s"] = round(extra["bytes"] / seconds / 1e9, 2)
    emit(**out)


if __name__ == "__main__":
    main()
