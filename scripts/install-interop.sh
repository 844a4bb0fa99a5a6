#!/usr/bin/env bash
# Installs the storage interop peers from Debian's packages for /usr/bin/python3: numpy (.npy), zarr and
# numcodecs (Zarr v2), h5py (HDF5); and strace, with which a test sees the fsync option's syscalls. The storage tests run against them; with TESSERA_INTEROP=1 (CI) a
# missing peer fails the tests instead of skipping them. Idempotent; exits non-zero when it cannot install.
set -u
PY=/usr/bin/python3
PKGS="python3-numpy python3-zarr python3-numcodecs python3-h5py strace"
CHECK='import numpy, zarr, numcodecs, h5py'

versions() {
  "$PY" -c 'import numpy, zarr, numcodecs, h5py; print("numpy", numpy.__version__, "zarr", zarr.__version__, "numcodecs", numcodecs.__version__, "h5py", h5py.__version__)'
}

if [ -x "$PY" ] && "$PY" -c "$CHECK" 2>/dev/null && command -v strace >/dev/null 2>&1; then
  echo "install-interop: already present: $(versions)"
  exit 0
fi
die() { echo "install-interop: ERROR: $*" >&2; exit 1; }
command -v apt-get >/dev/null 2>&1 || die "apt-get not available"
SUDO=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; else die "not root and no passwordless sudo"; fi
fi
export DEBIAN_FRONTEND=noninteractive
LOG="${TMPDIR:-/tmp}/tessera-install-interop.log"
if ! $SUDO apt-get install -y -q --no-install-recommends $PKGS >"$LOG" 2>&1; then
  $SUDO apt-get update -q >>"$LOG" 2>&1 || true
  $SUDO apt-get install -y -q --no-install-recommends $PKGS >>"$LOG" 2>&1 || die "apt-get install $PKGS failed (see $LOG)"
fi
"$PY" -c "$CHECK" || die "installed, but /usr/bin/python3 cannot import them"
echo "install-interop: $(versions)"
