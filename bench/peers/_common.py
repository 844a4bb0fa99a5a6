"""Shared bits of the python peers: argument parsing, the input of sum_existing, peak RSS sampling, output."""
import argparse
import json
import os
import resource
import sys
import threading

import numpy as np

CASES = ("random_sum", "random_add_sum", "random_mapblocks_add_sum", "mean_axis0", "slice_sum", "transpose_add_sum0",
         "concat_mean1", "reshape_sum", "histogram", "ones_tiny_tasks", "sum_existing", "add_existing", "reshape_existing_sum")

# Cases whose result is a vector: reported as its sum (result) and its length (result_length).
VECTOR_CASES = ("mean_axis0", "transpose_add_sum0", "concat_mean1", "reshape_sum", "reshape_existing_sum", "histogram")

# histogram: 100 equal bins over [0, 1] (bench/lib/cases.mjs HISTOGRAM_BINS)
HISTOGRAM_BINS = 100


def slice_margin(n):
    """The column margin of slice_sum, as bench/lib/cases.mjs sliceMargin: 1000, or n // 8 below n = 8000."""
    return min(1000, n // 8)


def parse_args(engine_default_scheduler="threads"):
    # Positional so the node harness can call `python3 peer.py case n chunk seed [scheduler] [workers]`.
    p = argparse.ArgumentParser()
    p.add_argument("case", choices=CASES)
    p.add_argument("n", type=int, help="side of the n x n array (ones_tiny_tasks: length of the 1-d array)")
    p.add_argument("chunk", type=int, help="chunk side (ones_tiny_tasks: chunk length)")
    p.add_argument("seed", type=int, nargs="?", default=1)
    p.add_argument("scheduler", nargs="?", default=engine_default_scheduler, choices=("threads", "distributed", "sync"))
    p.add_argument("workers", type=int, nargs="?", default=os.cpu_count() or 1)
    return p.parse_args()


def existing_array(n, m=1000):
    # n x n float64 (n=8192 is 512 MiB). Small integers, so the exact sum is the same in any order and
    # any engine can check it: sum = total of (i % m) over i < n*n. add_existing adds m=1000 and m=999.
    a = np.arange(n * n, dtype=np.float64)
    np.remainder(a, float(m), out=a)  # in place: a temporary would double the peak RSS we report
    return a.reshape(n, n)


def existing_expected(n, m=1000):
    size = n * n
    full, rest = divmod(size, m)
    return float(full * (m * (m - 1) // 2) + rest * (rest - 1) // 2)


class PeakRss:
    """Samples the RSS of this process and all its descendants (distributed's nanny and worker
    processes included) every `interval` s, keeping the peak of the sum. A thread, so it costs
    the measured code a little GIL time; 20 ms is frequent enough for multi-second runs."""

    def __init__(self, interval=0.02):
        import psutil  # imported here so a missing psutil only disables this measurement
        self._psutil = psutil
        self._proc = psutil.Process()
        self._interval = interval
        self._stop = threading.Event()
        self.peak = 0
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self):
        total = 0
        procs = [self._proc]
        try:
            procs += self._proc.children(recursive=True)
        except self._psutil.Error:
            pass
        for p in procs:
            try:
                total += p.memory_info().rss
            except self._psutil.Error:
                pass  # a process that exited between listing and reading
        self.peak = max(self.peak, total)

    def _run(self):
        while not self._stop.wait(self._interval):
            self.sample()

    def __enter__(self):
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.sample()
        # ru_maxrss (KiB on Linux) catches a spike between samples in this process.
        self.peak = max(self.peak, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
        return False

    @property
    def mib(self):
        return round(self.peak / 2**20, 1)


def vector_fields(value, kind):
    """A vector result as every engine reports it: its sum, its length and its first element."""
    return dict(result=float(value.sum()), result_kind=kind, result_length=int(value.shape[0]), first=float(value[0]))


def emit(**fields):
    print(json.dumps(fields), flush=True)


def fail(case, engine, msg):
    emit(case=case, engine=engine, error=msg)
    sys.exit(2)
