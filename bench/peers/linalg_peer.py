"""One linear-algebra bench case with numpy or dask, once; prints one JSON line {seconds, check, ...}.

usage: /usr/bin/python3 linalg_peer.py ENGINE CASE N [CHUNK] [COLS]
  ENGINE  numpy | dask     CASE  matmul | qr | cumsum0
Only the timed call is timed: imports and building stored inputs are not. The checks are the engine's own
(sum of C against the product of A's column sums and B's row sums; ||R||_F^2 against ||A||_F^2; the expected sum).
"""
import json
import os
import sys
import time

import numpy as np

engine, case, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
chunk = int(sys.argv[4]) if len(sys.argv) > 4 else 0
cols = int(sys.argv[5]) if len(sys.argv) > 5 else 50


def blas_name():
    try:
        cfg = np.__config__.blas_opt_info if hasattr(np.__config__, "blas_opt_info") else {}
        libs = cfg.get("libraries", [])
    except Exception:  # noqa: BLE001
        libs = []
    # what the loader resolved libblas.so.3 to (Debian's alternatives: reference BLAS or OpenBLAS)
    try:
        with open("/proc/self/maps") as f:
            maps = f.read()
        for name in ("openblas", "libblas", "mkl", "blis"):
            if name in maps:
                return name
    except OSError:
        pass
    return ",".join(libs) or "unknown"


def inputs(n):
    # deterministic, exactly representable values: every engine builds the same matrices
    i = np.arange(n, dtype=np.float64)
    a = ((i[:, None] * 7 + i[None, :] * 13) % 1000) / 1000.0
    b = ((i[:, None] * 11 + i[None, :] * 3) % 1000) / 1000.0
    return a, b


out = {"engine": engine, "case": case, "n": n, "chunk": chunk}
if case == "matmul":
    a, b = inputs(n)
    want = float(a.sum(axis=0) @ b.sum(axis=1))
    if engine == "numpy":
        t0 = time.perf_counter()
        c = a @ b
        out["seconds"] = time.perf_counter() - t0
    else:
        import dask.array as da
        x, y = da.from_array(a, chunks=chunk), da.from_array(b, chunks=chunk)
        t0 = time.perf_counter()
        c = (x @ y).compute()
        out["seconds"] = time.perf_counter() - t0
    out["check"] = abs(float(c.sum()) - want) / abs(want)
    out["blas"] = blas_name()
elif case == "qr":
    import dask.array as da
    x = da.random.RandomState(1).random_sample((n, cols), chunks=(chunk, cols)).persist()
    t0 = time.perf_counter()
    q, r = da.linalg.qr(x)
    qs, rr = da.compute(q.sum(), r)
    out["seconds"] = time.perf_counter() - t0
    fro = float((x ** 2).sum().compute())
    out["check"] = abs(float((rr ** 2).sum()) - fro) / fro
    out["blas"] = blas_name()
elif case == "cumsum0":
    import dask.array as da
    x = da.random.RandomState(1).random_sample((n, n), chunks=chunk)
    t0 = time.perf_counter()
    s = float(x.cumsum(axis=0).sum().compute())
    out["seconds"] = time.perf_counter() - t0
    want = n * n * (n + 1) / 4.0
    out["check"] = abs(s - want) / want
else:
    sys.exit(f"unknown case {case}")
print(json.dumps(out))
