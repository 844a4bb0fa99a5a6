#!/usr/bin/env bash
# Installs Debian's headless-capable Chromium (/usr/bin/chromium) for the dashboard's browser tests,
# which drive it with playwright-core (an npm dependency that never downloads a browser). With
# TESSERA_BROWSER=1 (CI) a missing browser fails those tests instead of skipping them.
# Idempotent; exits non-zero when it cannot install.
set -u
BIN=/usr/bin/chromium
if [ -x "$BIN" ]; then
  echo "install-browser: already present: $("$BIN" --version 2>/dev/null || echo chromium)"
  exit 0
fi
die() { echo "install-browser: ERROR: $*" >&2; exit 1; }
command -v apt-get >/dev/null 2>&1 || die "apt-get not available"
SUDO=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; else die "not root and no passwordless sudo"; fi
fi
export DEBIAN_FRONTEND=noninteractive
LOG="${TMPDIR:-/tmp}/tessera-install-browser.log"
if ! $SUDO apt-get install -y -q --no-install-recommends chromium >"$LOG" 2>&1; then
  $SUDO apt-get update -q >>"$LOG" 2>&1 || true
  $SUDO apt-get install -y -q --no-install-recommends chromium >>"$LOG" 2>&1 || die "apt-get install chromium failed (see $LOG)"
fi
[ -x "$BIN" ] || die "installed, but $BIN is missing"
echo "install-browser: installed $("$BIN" --version 2>/dev/null || echo chromium)"
