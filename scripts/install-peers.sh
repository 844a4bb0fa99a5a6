#!/usr/bin/env bash
# Installs the benchmark peers (dask, distributed, numpy, psutil) from Debian's packages for /usr/bin/python3.
# Idempotent: does nothing when they already import. Never fails the caller: without apt (or root) it
# warns and exits 0, and the bench then reports the peers as missing.
set -u
PY=/usr/bin/python3
PKGS="python3-dask python3-distributed python3-numpy python3-psutil"
CHECK='import dask, numpy, distributed, psutil'

versions() {
  "$PY" -c 'import dask, numpy, distributed, psutil, sys; print("python", sys.version.split()[0], "numpy", numpy.__version__, "dask", dask.__version__, "distributed", distributed.__version__, "psutil", psutil.__version__)'
}

if [ -x "$PY" ] && "$PY" -c "$CHECK" 2>/dev/null; then
  echo "install-peers: already present: $(versions)"
  exit 0
fi

warn() { echo "install-peers: WARNING: $*; benchmarks will report the python peers as missing" >&2; exit 0; }

command -v apt-get >/dev/null 2>&1 || warn "apt-get not available"
SUDO=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; else warn "not root and no passwordless sudo"; fi
fi

export DEBIAN_FRONTEND=noninteractive
# --no-install-recommends keeps it to ~25 small packages (recommends would pull bokeh, scipy, pandas, ...).
install() { $SUDO apt-get install -y -q --no-install-recommends $PKGS >/tmp/install-peers.log 2>&1; }
if ! install; then
  # Most often the package lists are empty or stale on a fresh machine: update once and retry.
  $SUDO apt-get update -q >>/tmp/install-peers.log 2>&1 || warn "apt-get update failed (see /tmp/install-peers.log)"
  install || warn "apt-get install failed (see /tmp/install-peers.log)"
fi

if "$PY" -c "$CHECK" 2>/dev/null; then
  echo "install-peers: installed: $(versions)"
else
  warn "$PY cannot import dask/numpy/distributed/psutil after install"
fi
exit 0
