#!/usr/bin/python3
"""Open MPI through mpi4py: allreduce latency of one float64 and bandwidth of a large float64 array.

    mpirun --oversubscribe --allow-run-as-root -n P /usr/bin/python3 bench/peers/mpi_allreduce.py \
        [LAT_ITERS=1000] [WARMUP=200] [BW_ELEMENTS=8388608] [BW_REPS=5]

The same protocol as bench/ranks_case.mjs (tessera): warm up, barrier, then time every operation on its
own; rank 0 prints one JSON line with the median per-op latency (µs) and the median bandwidth (GB/s of the
array, i.e. bytes / time, the "algorithm bandwidth"). BW_ELEMENTS=0 skips the bandwidth part.
Two latency figures: `Allreduce` on 1-element numpy buffers (the MPI path) and `allreduce` of a python
float (pickled, like tessera's allreduce of a JS number).
"""
import json
import sys
import time

import numpy as np
from mpi4py import MPI


def median(v):
    v = sorted(v)
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


def main():
    lat_iters = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    warm = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    bw_n = int(sys.argv[3]) if len(sys.argv) > 3 else 8 * 1024 * 1024
    bw_reps = int(sys.argv[4]) if len(sys.argv) > 4 else 5
    comm = MPI.COMM_WORLD
    r, P = comm.Get_rank(), comm.Get_size()
    clock = time.perf_counter
    out = {"engine": "mpi4py", "ranks": P, "mpi": MPI.Get_library_version().replace("\x00", "").splitlines()[0].strip(),
           "mpi4py": __import__("mpi4py").__version__}

    # ---- latency: Allreduce of one float64 (buffer path) ----
    s = np.array([r + 1.0]); d = np.zeros(1)
    for _ in range(warm):
        comm.Allreduce(s, d, op=MPI.SUM)
    comm.Barrier()
    times = []
    t_all = clock()
    for _ in range(lat_iters):
        t0 = clock()
        comm.Allreduce(s, d, op=MPI.SUM)
        times.append(clock() - t0)
    t_all = clock() - t_all
    ok = d[0] == P * (P + 1) / 2
    out.update(lat_iters=lat_iters, lat_median_us=median(times) * 1e6, lat_mean_us=t_all / lat_iters * 1e6,
               lat_min_us=min(times) * 1e6, lat_ok=bool(ok))

    # ---- latency: allreduce of a python float (pickled object path) ----
    for _ in range(warm):
        comm.allreduce(r + 1.0, op=MPI.SUM)
    comm.Barrier()
    times = []
    for _ in range(lat_iters):
        t0 = clock()
        v = comm.allreduce(r + 1.0, op=MPI.SUM)
        times.append(clock() - t0)
    out.update(lat_obj_median_us=median(times) * 1e6, lat_obj_ok=v == P * (P + 1) / 2)

    # ---- bandwidth: Allreduce of bw_n float64 ----
    if bw_n > 0:
        a = np.arange(bw_n, dtype=np.float64) % 1000 + r
        b = np.empty_like(a)
        comm.Allreduce(a, b, op=MPI.SUM)  # warm-up: page faults of b, connection buffers
        comm.Barrier()
        times = []
        for _ in range(bw_reps):
            comm.Barrier()
            t0 = clock()
            comm.Allreduce(a, b, op=MPI.SUM)
            times.append(clock() - t0)
        # element i: sum over ranks of (i % 1000 + rank) = P * (i % 1000) + P(P-1)/2
        idx = np.array([0, 1, 999, bw_n // 2, bw_n - 1])
        ok = bool(np.all(b[idx] == P * (idx % 1000) + P * (P - 1) / 2))
        nbytes = a.nbytes
        out.update(bw_bytes=nbytes, bw_reps=bw_reps, bw_median_s=median(times), bw_min_s=min(times),
                   bw_gb_per_s=nbytes / median(times) / 1e9, bw_ok=ok)
    if r == 0:
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
