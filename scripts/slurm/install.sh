#!/usr/bin/env bash
# Installs SLURM (controller, node daemon, clients) and munge from Debian's packages, for the one-node
# test cluster that scripts/slurm/cluster.sh starts. Idempotent: does nothing when everything is present.
# Exits non-zero with a clear message when it cannot install (CI must not silently skip the SLURM tests).
set -u
PKGS="slurmctld slurmd slurm-client munge"
LOG="${TMPDIR:-/tmp}/tessera-slurm-install.log"

die() { echo "slurm/install.sh: ERROR: $*" >&2; exit 1; }

have_all() {
  command -v slurmctld >/dev/null 2>&1 && command -v slurmd >/dev/null 2>&1 &&
    command -v srun >/dev/null 2>&1 && command -v sbatch >/dev/null 2>&1 &&
    command -v sinfo >/dev/null 2>&1 && command -v munged >/dev/null 2>&1
}

# Daemons live in /usr/sbin, which a non-login PATH may lack.
case ":$PATH:" in *:/usr/sbin:*) ;; *) export PATH="$PATH:/usr/sbin:/sbin" ;; esac

# Versions from dpkg (or -V): `srun --version` without a SLURM_CONF tries DNS SRV records and fails noisily.
versions() {
  local v
  if command -v dpkg-query >/dev/null 2>&1; then
    v=$(dpkg-query -W -f='${Package} ${Version}, ' $PKGS 2>/dev/null)
    echo "slurm/install.sh: ${v%, }"
  else
    echo "slurm/install.sh: $(slurmctld -V 2>&1 | head -1), $(munged --version 2>&1 | head -1)"
  fi
}

if have_all; then
  echo "slurm/install.sh: already installed"
  versions
  exit 0
fi

command -v apt-get >/dev/null 2>&1 || die "apt-get not found: install $PKGS by hand"
SUDO=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; else die "must run as root (or with passwordless sudo) to install $PKGS"; fi
fi

export DEBIAN_FRONTEND=noninteractive
: >"$LOG"
install() { $SUDO apt-get install -y -q --no-install-recommends $PKGS >>"$LOG" 2>&1; }
echo "slurm/install.sh: installing $PKGS (log: $LOG)"
if ! install; then
  # Usually empty or stale package lists on a fresh machine: update once and retry.
  echo "slurm/install.sh: first attempt failed, running apt-get update and retrying"
  $SUDO apt-get update -q >>"$LOG" 2>&1 || { tail -20 "$LOG" >&2; die "apt-get update failed (see $LOG)"; }
  install || { tail -20 "$LOG" >&2; die "apt-get install $PKGS failed (see $LOG)"; }
fi

have_all || die "installed $PKGS but slurmctld/slurmd/srun/sbatch/sinfo/munged are still not on PATH ($PATH)"
versions
