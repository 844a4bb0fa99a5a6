"""Runs one tutorial case once with dask and prints one JSON line:
{case, engine, n, chunk, seconds, result, peak_rss_mib, ...}.

usage: /usr/bin/python3 dask_tutorial.py CASE N CHUNK [SEED] [threads|distributed|sync] [WORKERS]

Only compute() is timed: imports, cluster start-up and building the input of sum_existing are not.
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import (HISTOGRAM_BINS, PeakRss, VECTOR_CASES, emit, existing_array, existing_expected, fail,  # noqa: E402
                     parse_args, slice_margin, vector_fields)

import dask  # noqa: E402
import dask.array as da  # noqa: E402


def add1(b):
    # A named function (not a lambda) so distributed pickles it by reference and the token is stable.
    return b + 1


# The reshape cases make chunks above dask's 128 MiB target (as tessera's do); dask's default (None) then makes
# them anyway and prints a PerformanceWarning; False makes the same chunks without the warning.
LARGE_CHUNKS_OK = {"array.slicing.split_large_chunks": False}


def build(case, n, chunk, seed):
    """Returns (lazy dask object, extra fields known before compute)."""
    with dask.config.set(LARGE_CHUNKS_OK):
        return _build(case, n, chunk, seed)


def _build(case, n, chunk, seed):
    if case == "ones_tiny_tasks":
        x = da.ones(n, chunks=chunk).sum()
        # Tasks dask will actually run: count them on the materialized, optimized graph.
        (opt,) = dask.optimize(x)
        return x, {"tasks": len(dict(opt.__dask_graph__()))}
    if case == "sum_existing":
        a = existing_array(n)
        return da.from_array(a, chunks=chunk).sum(), {"bytes": a.nbytes, "expected": existing_expected(n)}
    if case == "add_existing":
        # a + b of two existing arrays, computed to one numpy array; bytes counts a, b and the result.
        a, b = existing_array(n, 1000), existing_array(n, 999)
        c = da.from_array(a, chunks=chunk) + da.from_array(b, chunks=chunk)
        return c, {"bytes": 3 * a.nbytes, "expected": existing_expected(n, 1000) + existing_expected(n, 999)}
    if case == "reshape_existing_sum":
        # split axis 0 (lines up with the chunks), then merge the last two axes: dask rechunks ("rechunk-merge")
        # (c/2, 2, c) blocks to (c/2, 1, n) first, since a merged axis needs its inner axes whole
        a = existing_array(n)
        r = da.from_array(a, chunks=chunk).reshape(n // 2, 2, n).reshape(n // 2, 2 * n)
        return r.sum(axis=1), {"bytes": a.nbytes, "expected": existing_expected(n)}
    x = da.random.RandomState(seed).random_sample((n, n), chunks=chunk)
    if case == "random_sum":
        return x.sum(), {}
    if case == "random_add_sum":
        return (x + 1).sum(), {}
    if case == "random_mapblocks_add_sum":
        return x.map_blocks(add1, dtype=x.dtype).sum(), {}
    if case == "mean_axis0":
        return ((x + 1) * 2).mean(axis=0), {}
    if case == "slice_sum":
        m = slice_margin(n)
        return x[::2, m:-m].sum(), {"margin": m}
    if case == "transpose_add_sum0":
        return (x.T + x).sum(axis=0), {}
    if case == "concat_mean1":
        y = da.random.RandomState(seed + 1).random_sample((n, n), chunks=chunk)
        return da.concatenate([x, y], axis=0).mean(axis=1), {}
    if case == "histogram":
        counts, _edges = da.histogram(x, bins=HISTOGRAM_BINS, range=(0, 1))
        return counts, {}
    if case == "reshape_sum":
        # dask 2022.12 refuses [n, n] -> [n/2, 2n] directly (not an even split or merge); in two steps the split
        # lines up with the chunks and the merge rechunks (c/2, 2, c) blocks to (c/2, 1, n) ("rechunk-merge")
        return x.reshape(n // 2, 2, n).reshape(n // 2, 2 * n).sum(axis=1), {}
    raise ValueError(case)


def main():
    args = parse_args()
    engine = f"dask-{args.scheduler}"
    client = cluster = None
    if args.scheduler == "distributed":
        from dask.distributed import Client, LocalCluster
        import logging
        logging.getLogger("distributed").setLevel(logging.ERROR)
        # Loopback only, no dashboard; one thread per worker process, as in the tutorial's cluster.
        cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                               host="127.0.0.1", dashboard_address=None)
        client = Client(cluster)
        client.wait_for_workers(args.workers)
        ctx = dict(scheduler=client)
    else:
        ctx = dict(scheduler=args.scheduler, num_workers=args.workers)

    try:
        lazy, extra = build(args.case, args.n, args.chunk, args.seed)
        with dask.config.set(**ctx), PeakRss() as rss:
            t0 = time.perf_counter()
            value = lazy.compute()
            seconds = time.perf_counter() - t0
    except MemoryError as e:
        fail(args.case, engine, f"MemoryError: {e}")
    finally:
        if client is not None:
            client.close()
            cluster.close()

    out = dict(case=args.case, engine=engine, n=args.n, chunk=args.chunk, seconds=round(seconds, 4))
    if args.case in VECTOR_CASES:
        # The result is a vector: report its sum as a checksum, its length and its first element.
        out.update(vector_fields(value, "sum of the mean vector" if args.case == "mean_axis0" else "sum of the counts" if args.case == "histogram" else "sum of the result vector"))
        if args.case == "histogram":
            out.update(min_count=int(value.min()), max_count=int(value.max()))
    elif args.case == "add_existing":
        out.update(result=float(value.sum()), result_kind="sum of a + b (after timing)")
    else:
        out["result"] = float(value)
    out.update(peak_rss_mib=rss.mib, workers=args.workers, seed=args.seed, dask=dask.__version__)
    out.update(extra)
    if "tasks" in extra:
        out["tasks_per_s"] = round(extra["tasks"] / seconds)
    if "bytes" in extra:
        out["gb_per_s"] = round(extra["bytes"] / seconds / 1e9, 2)
    emit(**out)


if __name__ == "__main__":  # required: distributed's worker processes re-import this module
    main()
