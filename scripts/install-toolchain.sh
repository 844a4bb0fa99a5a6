#!/usr/bin/env bash
# Installs the C++ toolchain node-gyp needs for the native addons (native/): g++, make and python3 from
# Debian's packages when one is missing; and OpenBLAS (libopenblas0-pthread, used with one thread per call), which
# the GEMM addon (native/gemm/, kernels/native-gemm.ts) opens at run time for matmul (without it the canonical
# wasm GEMM runs; CI's TESSERA_EXPECT_BLAS=1 test checks that it loaded). Must run before `npm ci`, whose install step builds the addon
# (scripts/build-native.mjs; without a compiler it falls back to WebSockets, and CI's TESSERA_EXPECT_SHM=1
# test would then fail). The Node headers come with Node itself (/usr/include/node): nothing is downloaded.
# Exits non-zero with a clear message when it cannot install.
set -u
missing=""
command -v g++ >/dev/null 2>&1 || missing="$missing g++"
command -v make >/dev/null 2>&1 || missing="$missing make"
command -v python3 >/dev/null 2>&1 || missing="$missing python3"
ls /usr/lib/*/openblas-pthread/libopenblas.so.0 >/dev/null 2>&1 || missing="$missing libopenblas0-pthread"
if [ -n "$missing" ]; then
  SUDO=""
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
      echo "install-toolchain.sh: ERROR:$missing missing and not root" >&2; exit 1
    fi
  fi
  LOG="${TMPDIR:-/tmp}/tessera-toolchain-install.log"
  if ! { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing; } >"$LOG" 2>&1; then
    tail -20 "$LOG" >&2
    echo "install-toolchain.sh: ERROR: apt-get could not install$missing (log: $LOG)" >&2
    exit 1
  fi
fi
[ -f "$(dirname "$(dirname "$(command -v node)")")/include/node/node.h" ] || [ -f /usr/include/node/node.h ] ||
  echo "install-toolchain.sh: warning: no Node headers beside node; the addon will not build (WebSockets then)" >&2
echo "install-toolchain.sh: $(g++ --version | head -1), $(make --version | head -1), $(python3 --version), $(ls /usr/lib/*/openblas-pthread/libopenblas.so.0)"
