#!/usr/bin/env bash
# Installs iproute2 (`ip netns`, veth) from Debian's packages when it is missing: the cluster's network test
# (test/cluster/netns.test.mjs) puts the scheduler and a worker in different network namespaces.
# Exits non-zero with a clear message when it cannot (CI must not silently skip that test).
set -u
case ":$PATH:" in *:/usr/sbin:*) ;; *) export PATH="$PATH:/usr/sbin:/sbin" ;; esac
if command -v ip >/dev/null 2>&1 && ip -V >/dev/null 2>&1; then
  echo "install-netns.sh: $(ip -V)"
  exit 0
fi
[ "$(id -u)" = 0 ] || { echo "install-netns.sh: ERROR: iproute2 is missing and this is not root" >&2; exit 1; }
LOG="${TMPDIR:-/tmp}/tessera-netns-install.log"
if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends iproute2; } >"$LOG" 2>&1; then
  tail -20 "$LOG" >&2
  echo "install-netns.sh: ERROR: apt-get could not install iproute2 (log: $LOG)" >&2
  exit 1
fi
echo "install-netns.sh: $(ip -V)"
