"""One step of a storage case with dask (Zarr) or numpy (.npy), printing one JSON line as tessera's
bench/tessera_storage_case.mjs does (same steps, same fields):

usage: /usr/bin/python3 storage_peer.py OP PATH N CHUNK CODEC [SEED] [WORKERS]

  zarr-write   da.random.RandomState(seed).random_sample((N, N), chunks=CHUNK).to_zarr(PATH, compressor=...)
               timed (dask threads; CODEC none: compressor=None, zstd: numcodecs.Zstd(level=1), gzip:
               numcodecs.GZip(level=1), as tessera's "zstd" and "gzip"), then every file fdatasync'ed
               (sync_seconds), then `expected`: the generator's sum over
               the same chunks (da.from_zarr reads the storage chunks: the same reduction, equal bit for bit)
  zarr-read    da.from_zarr(PATH).sum() timed
  zarr-sum-vs-persisted   da.from_zarr(PATH).sum() timed, then .persist() (untimed) and the persisted sum timed
  npy-save     np.save(PATH, a) timed, a = RandomState(seed).random_sample((N, N)) made before (untimed: a numpy
               user has the array in memory; it counts in the peak RSS), fdatasync, expected = a.sum()
  npy-load     np.load(PATH, mmap_mode="r").sum() timed (the mapped pages count in the RSS)

Every step also prints `fingerprint` (untimed, after the timed part): sha256 of the column sums then the row
sums (float64, little endian), of the generator in a write step and of the file in a read step, so values in
the wrong place (chunks swapped or transposed: the same total) are caught too.

Before a timed write, untimed, the C control's `pretouch BYTES` when the harness sets TESSERA_BENCH_PRETOUCH and
TESSERA_BENCH_PRETOUCH_BYTES (memory the host backs for the page cache: bench/peers/native.c), as tessera's
case does. Imports and building the lazy arrays are not timed. zarr and numcodecs: Debian's python3-zarr (2.13) and
python3-numcodecs (scripts/install-interop.sh).
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import PeakRss, emit  # noqa: E402

import numpy as np  # noqa: E402

OPS = ("zarr-write", "zarr-read", "zarr-sum-vs-persisted", "npy-save", "npy-load")


def files_under(path):
    if not os.path.isdir(path):
        return [path]
    return [os.path.join(d, f) for d, _, names in os.walk(path) for f in names]


def sync_all(path):
    """fdatasync of every file under path (what was written), timed: the disk's share of a write."""
    t0 = time.perf_counter()
    files = files_under(path)
    size = 0
    for f in files:
        fd = os.open(f, os.O_RDONLY)
        try:
            os.fdatasync(fd)
            size += os.fstat(fd).st_size
        finally:
            os.close(fd)
    return dict(sync_seconds=round(time.perf_counter() - t0, 5), files=len(files), bytes_on_disk=size)


def fingerprint(cols, rows):
    """sha256 (16 hex digits) of the column sums then the row sums, as tessera's bench/tessera_storage_case.mjs."""
    import hashlib
    h = hashlib.sha256()
    for v in (cols, rows):
        h.update(np.ascontiguousarray(v, dtype="<f8").tobytes())
    return h.hexdigest()[:16]


def dask_fingerprint(a):
    import dask
    return fingerprint(*dask.compute(a.sum(axis=0), a.sum(axis=1)))


def pretouch():
    """Before a timed write, untimed: the C control's `pretouch BYTES` in a child process, when the harness asks
    (TESSERA_BENCH_PRETOUCH, TESSERA_BENCH_PRETOUCH_BYTES), so the page cache the write fills lies in memory the
    host backs (bench/peers/native.c pretouch). Returns its seconds, 0 when not asked."""
    import subprocess
    binary, size = os.environ.get("TESSERA_BENCH_PRETOUCH"), os.environ.get("TESSERA_BENCH_PRETOUCH_BYTES")
    if not binary or not size:
        return 0.0
    t0 = time.perf_counter()
    subprocess.run([binary, "pretouch", size], check=True, stdout=subprocess.DEVNULL)
    return round(time.perf_counter() - t0, 5)


def timed(fn):
    with PeakRss() as rss:
        t0 = time.perf_counter()
        value = fn()
        seconds = time.perf_counter() - t0
    return value, dict(seconds=round(seconds, 5), timed_peak_rss_mib=rss.mib)


def main():
    if len(sys.argv) < 6 or sys.argv[1] not in OPS:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    op, path, n, chunk, codec = sys.argv[1], os.path.abspath(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    seed = int(sys.argv[6]) if len(sys.argv) > 6 else 1
    workers = int(sys.argv[7]) if len(sys.argv) > 7 else (os.cpu_count() or 1)
    out = dict(op=op, n=n, chunk=chunk, codec=codec, seed=seed)
    if op.startswith("zarr"):
        import dask
        import dask.array as da
        import numcodecs
        import zarr
        out.update(engine="dask-threads", workers=workers, dask=dask.__version__, zarr=zarr.__version__, numcodecs=numcodecs.__version__)
        if codec not in ("none", "zstd", "gzip"):
            raise SystemExit(f"codec {codec!r}: none, zstd or gzip")
        with dask.config.set(scheduler="threads", num_workers=workers):
            x = da.random.RandomState(seed).random_sample((n, n), chunks=chunk)
            if op == "zarr-write":
                compressor = {"none": None, "zstd": numcodecs.Zstd(level=1), "gzip": numcodecs.GZip(level=1)}[codec]
                out["pretouch_seconds"] = pretouch()
                _, t = timed(lambda: x.to_zarr(path, compressor=compressor))
                out.update(t, **sync_all(path))
                out["expected"] = float(x.sum().compute())
                out["fingerprint"] = dask_fingerprint(x)
            elif op == "zarr-read":
                a = da.from_zarr(path)
                value, t = timed(lambda: a.sum().compute())
                out.update(t, result=float(value), fingerprint=dask_fingerprint(a), read_chunks=[c[0] for c in a.chunks])
            else:
                a = da.from_zarr(path)
                value, t = timed(lambda: a.sum().compute())
                p = a.persist()
                mem, tm = timed(lambda: p.sum().compute())
                out.update(t, result=float(value), persisted_seconds=tm["seconds"], persisted_result=float(mem),
                           ratio=round(t["seconds"] / tm["seconds"], 4), fingerprint=dask_fingerprint(a))
    else:
        out.update(engine="numpy-1thread", workers=1, numpy=np.__version__)
        if op == "npy-save":
            a = np.random.RandomState(seed).random_sample((n, n))
            out["pretouch_seconds"] = pretouch()
            _, t = timed(lambda: np.save(path, a))
            out.update(t, **sync_all(path))
            out["expected"] = float(a.sum())
            out["fingerprint"] = fingerprint(a.sum(axis=0), a.sum(axis=1))
        else:
            a = np.load(path, mmap_mode="r")
            value, t = timed(lambda: a.sum())
            out.update(t, result=float(value), fingerprint=fingerprint(a.sum(axis=0), a.sum(axis=1)))
    import resource
    out["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    emit(**out)


if __name__ == "__main__":
    main()
