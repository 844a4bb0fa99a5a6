"""Runs one tutorial case once with dask and prints one JSON line:
{case, engine, n, chunk, seconds, result, peak_rss_mib, ...}.

usage: /usr/bin/python3 dask_tutorial.py CASE N CHUNK [SEED] [threads|distributed|sync] [WORKERS]

Only compute() is timed: imports, cluster start-up and building the input of sum_existing are not.
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import PeakRss, emit, existing_array, existing_expected, fail, parse_args  # noqa: E402

import dask  # noqa: E402
import dask.array as da  # noqa: E402


def add1(b):
    # A named function (not a lambda) so distributed pickles it by reference and the token is stable.
    return b + 1


def build(case, n, chunk, seed):
    """Returns (lazy dask object, extra fields known before compute)."""
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
    x = da.random.RandomState(seed).random_sample((n, n), chunks=chunk)
    if case == "random_sum":
        return x.sum(), {}
    if case == "random_add_sum":
        return (x + 1).sum(), {}
    if case == "random_mapblocks_add_sum":
        return x.map_blocks(add1, dtype=x.dtype).sum(), {}
    if case == "mean_axis0":
        return ((x + 1) * 2).mean(axis=0), {}
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
    if args.case == "mean_axis0":
        # The result is a vector: report its sum as a checksum, plus its first element.
        out.update(result=float(value.sum()), result_kind="sum of the mean vector", first=float(value[0]))
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
