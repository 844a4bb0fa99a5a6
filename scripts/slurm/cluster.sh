#!/usr/bin/env bash
# A one-node SLURM cluster on loopback, entirely under a private state directory (nothing in /etc is read
# for configuration or changed). For tests and CI; see scripts/slurm/README.md.
#
#   scripts/slurm/cluster.sh start  [STATE_DIR]   start munged, slurmctld, slurmd; wait for the node to be idle;
#                                                 print `export SLURM_CONF=...` on stdout (eval it)
#   scripts/slurm/cluster.sh stop   [STATE_DIR]   cancel jobs, stop the daemons by their pid files (safe twice)
#   scripts/slurm/cluster.sh status [STATE_DIR]   say what runs
#
# STATE_DIR defaults to $TESSERA_SLURM_DIR, else ${TMPDIR:-/tmp}/tessera-slurm.
# Environment: TESSERA_SLURMCTLD_PORT / TESSERA_SLURMD_PORT (default 6817/6818; when the defaults are taken,
# a free pair above them is chosen; explicitly given ports that are taken are an error),
# TESSERA_SLURM_CPUS (CPUs declared for the node, default 8), TESSERA_SLURM_TIMEOUT (seconds to wait, default 30).
# Diagnostics go to stderr; stdout carries only the export line, so `eval "$(cluster.sh start)"` works.
set -euo pipefail

# Daemons live in /usr/sbin, which a non-login PATH may lack.
case ":$PATH:" in *:/usr/sbin:*) ;; *) export PATH="$PATH:/usr/sbin:/sbin" ;; esac

CMD="${1:-}"
STATE="${2:-${TESSERA_SLURM_DIR:-${TMPDIR:-/tmp}/tessera-slurm}}"
TIMEOUT="${TESSERA_SLURM_TIMEOUT:-30}"
NODE_CPUS="${TESSERA_SLURM_CPUS:-8}"

log() { echo "slurm/cluster.sh: $*" >&2; }
die() { echo "slurm/cluster.sh: ERROR: $*" >&2; exit 1; }

usage() { sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
[ -n "$CMD" ] || usage
mkdir -p "$STATE" 2>/dev/null || die "cannot create state directory $STATE"
STATE="$(cd "$STATE" && pwd -P)"
# The state directory is ours alone (start wipes parts of it): refuse one that holds anything else.
MARK="$STATE/.tessera-slurm-state"
if [ ! -e "$MARK" ]; then
  [ -z "$(ls -A "$STATE")" ] || die "$STATE is not empty and is not a tessera SLURM state directory; choose another"
  : >"$MARK"
fi

CONF="$STATE/slurm.conf"
MUNGE_ETC="$STATE/munge/etc"   # key, mode 700
MUNGE_RUN="$STATE/munge/run"   # socket, mode 755
MUNGE_SOCK="$MUNGE_RUN/munge.socket"
MUNGE_PID="$STATE/munge/munged.pid"
CTLD_PID="$STATE/run/slurmctld.pid"
SLURMD_PID="$STATE/run/slurmd.pid"
LOGS="$STATE/log"

# ---- process helpers ---------------------------------------------------------------------------------------

# pid_of FILE NAME: prints the pid in FILE if that process is alive and is NAME (guards against pid reuse).
pid_of() {
  local file="$1" name="$2" pid comm
  [ -s "$file" ] || return 1
  pid="$(tr -dc '0-9' <"$file")"
  [ -n "$pid" ] && [ -d "/proc/$pid" ] || return 1
  comm="$(cat "/proc/$pid/comm" 2>/dev/null || true)"
  case "$comm" in "$name"*) echo "$pid" ;; *) return 1 ;; esac
}

# stop_daemons NAME... : sends SIGTERM to each named daemon (slurmd, slurmctld, munged) found through its pid
# file, waits up to 5 s for all of them, SIGKILLs the ones left, and removes the pid files.
stop_daemons() {
  local name file pid i left pids=() names=()
  for name in "$@"; do
    file="$(pidfile_for "$name")"
    if pid="$(pid_of "$file" "$name")"; then
      kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid")
      names+=("$name")
    else
      log "$name: not running"
    fi
    rm -f "$file"
  done
  [ "${#pids[@]}" -gt 0 ] || return 0
  for i in $(seq 1 50); do
    left=0
    for pid in "${pids[@]}"; do [ -d "/proc/$pid" ] && left=1; done
    [ "$left" = 0 ] && break
    sleep 0.1
  done
  for i in "${!pids[@]}"; do
    pid="${pids[$i]}"
    if [ -d "/proc/$pid" ]; then
      log "${names[$i]} (pid $pid) ignored SIGTERM for 5 s: SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  for i in $(seq 1 20); do
    left=0
    for pid in "${pids[@]}"; do [ -d "/proc/$pid" ] && left=1; done
    [ "$left" = 0 ] && break
    sleep 0.1
  done
  for i in "${!pids[@]}"; do log "${names[$i]} (pid ${pids[$i]}) stopped"; done
}

pidfile_for() {
  case "$1" in
    slurmd) echo "$SLURMD_PID" ;;
    slurmctld) echo "$CTLD_PID" ;;
    munged) echo "$MUNGE_PID" ;;
  esac
}

# ---- ports -------------------------------------------------------------------------------------------------

# port_busy PORT: true when something listens on TCP PORT (any address), read from /proc (no ss/netstat needed).
port_busy() {
  local hex
  hex="$(printf '%04X' "$1")"
  cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk -v p=":$hex" '$4 == "0A" && substr($2, length($2) - 4) == p { f = 1 } END { exit !f }'
}

choose_ports() {
  if [ -n "${TESSERA_SLURMCTLD_PORT:-}" ] || [ -n "${TESSERA_SLURMD_PORT:-}" ]; then
    CTLD_PORT="${TESSERA_SLURMCTLD_PORT:-6817}"
    SLURMD_PORT="${TESSERA_SLURMD_PORT:-$((CTLD_PORT + 1))}"
    port_busy "$CTLD_PORT" && die "TESSERA_SLURMCTLD_PORT=$CTLD_PORT is already in use"
    port_busy "$SLURMD_PORT" && die "TESSERA_SLURMD_PORT=$SLURMD_PORT is already in use"
    return 0
  fi
  local base
  for base in 6817 16817 26817 36817 46817 6917 7017 7117; do
    if ! port_busy "$base" && ! port_busy "$((base + 1))"; then
      CTLD_PORT="$base"
      SLURMD_PORT="$((base + 1))"
      [ "$base" = 6817 ] || log "ports 6817/6818 are taken: using $CTLD_PORT/$SLURMD_PORT"
      return 0
    fi
  done
  die "no free port pair found for slurmctld/slurmd; set TESSERA_SLURMCTLD_PORT and TESSERA_SLURMD_PORT"
}

# ---- status ------------------------------------------------------------------------------------------------

status() {
  local any=0 pid
  if pid="$(pid_of "$MUNGE_PID" munged)"; then log "munged    running (pid $pid, socket $MUNGE_SOCK)"; any=1; else log "munged    not running"; fi
  if pid="$(pid_of "$CTLD_PID" slurmctld)"; then log "slurmctld running (pid $pid)"; any=1; else log "slurmctld not running"; fi
  if pid="$(pid_of "$SLURMD_PID" slurmd)"; then log "slurmd    running (pid $pid)"; any=1; else log "slurmd    not running"; fi
  if pid_of "$CTLD_PID" slurmctld >/dev/null && [ -f "$CONF" ]; then
    SLURM_CONF="$CONF" timeout 10 sinfo -N -o '%N %T %c %m' >&2 || true
    SLURM_CONF="$CONF" timeout 10 squeue >&2 || true
    echo "export SLURM_CONF=$CONF"
  fi
  [ "$any" = 1 ]
}

# ---- stop --------------------------------------------------------------------------------------------------

stop() {
  if pid_of "$CTLD_PID" slurmctld >/dev/null && [ -f "$CONF" ]; then
    # Cancel what still runs, so slurmd kills the job steps (their slurmstepd processes) before it goes.
    local jobs i
    jobs="$(SLURM_CONF="$CONF" timeout 10 squeue -h -o %i 2>/dev/null || true)"
    if [ -n "$jobs" ]; then
      log "cancelling jobs: ${jobs//$'\n'/ }"
      # SIGKILL every process of the jobs (batch shells too), then cancel what is left (pending jobs).
      # shellcheck disable=SC2086 # one argument per job id
      SLURM_CONF="$CONF" timeout 10 scancel --full --signal=KILL $jobs 2>/dev/null || true
      # shellcheck disable=SC2086
      SLURM_CONF="$CONF" timeout 10 scancel $jobs 2>/dev/null || true
      for i in $(seq 1 50); do
        [ -z "$(SLURM_CONF="$CONF" timeout 5 squeue -h -o %i 2>/dev/null || true)" ] && break
        sleep 0.1
      done
    fi
  fi
  # All three at once: munged alone takes about 2 s to exit, and the SLURM daemons do not need it to shut down.
  stop_daemons slurmd slurmctld munged
}

# ---- start -------------------------------------------------------------------------------------------------

tail_logs() {
  local f
  for f in "$LOGS/munged.log" "$LOGS/slurmctld.log" "$LOGS/slurmd.log"; do
    [ -f "$f" ] || continue
    echo "---- last lines of $f" >&2
    tail -n 25 "$f" >&2
  done
}

fail_start() {
  echo "slurm/cluster.sh: ERROR: $*" >&2
  tail_logs
  stop >/dev/null 2>&1 || true
  exit 1
}

write_conf() {
  local mem_kb real_mem
  mem_kb="$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)"
  # Declare 90% of the machine's memory so `--mem` requests are checked against something real.
  real_mem="$(( mem_kb * 9 / 10 / 1024 ))"
  : >"$STATE/plugstack.conf"
  cat >"$CONF" <<EOF
# Generated by scripts/slurm/cluster.sh: a one-node test cluster on loopback. Do not edit; it is rewritten on start.
ClusterName=tessera
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$MUNGE_SOCK
StateSaveLocation=$STATE/state
SlurmdSpoolDir=$STATE/spool
SlurmctldPidFile=$CTLD_PID
SlurmdPidFile=$SLURMD_PID
SlurmctldLogFile=$LOGS/slurmctld.log
SlurmdLogFile=$LOGS/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
PlugStackConfig=$STATE/plugstack.conf
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
MpiDefault=none
MailProg=/bin/true
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SlurmdParameters=config_overrides
EnforcePartLimits=ALL
SchedulerParameters=batch_sched_delay=0
ReturnToService=2
InactiveLimit=0
KillWait=5
# sbatch --wait polls after 2 s, then 8 s, 32 s... unless 2 >= MinJobAge/2: with 5 it polls every 2 s. Finished
# jobs then leave squeue/scontrol after 5 s or more (sbatch --wait still returns the job's exit code).
MinJobAge=5
SlurmdTimeout=60
NodeName=localhost NodeAddr=127.0.0.1 NodeHostname=localhost CPUs=$NODE_CPUS RealMemory=$real_mem State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=UNLIMITED State=UP
EOF
}

# munged refuses a socket whose every ancestor directory is not searchable (o+x) by all users; a state directory
# from mkdtemp is 0700. Open the state directory itself, and name an ancestor we must not touch.
check_socket_path() {
  chmod 755 "$STATE"
  local d="$STATE"
  while [ "$d" != / ] && [ -n "$d" ]; do
    d="$(dirname "$d")"
    [ "$(( 0$(stat -c %a "$d") & 1 ))" = 1 ] ||
      die "munged needs every directory above its socket to be searchable by all (o+x), and $d is mode $(stat -c %a "$d"); choose a state directory elsewhere"
  done
}

start_munge() {
  check_socket_path
  mkdir -p "$MUNGE_ETC" "$MUNGE_RUN" "$STATE/munge/lib" "$LOGS"
  chmod 700 "$MUNGE_ETC" "$STATE/munge/lib"
  chmod 755 "$STATE/munge" "$MUNGE_RUN"
  local key="$MUNGE_ETC/munge.key"
  if [ ! -s "$key" ]; then
    if command -v mungekey >/dev/null 2>&1; then
      mungekey --create --keyfile="$key" >/dev/null 2>&1 || dd if=/dev/urandom of="$key" bs=1024 count=1 status=none
    else
      dd if=/dev/urandom of="$key" bs=1024 count=1 status=none
    fi
  fi
  chmod 0400 "$key"
  munged --socket="$MUNGE_SOCK" --key-file="$key" --pid-file="$MUNGE_PID" \
    --log-file="$LOGS/munged.log" --seed-file="$STATE/munge/lib/munged.seed" </dev/null >&2 \
    || fail_start "munged failed to start"
  local i
  for i in $(seq 1 50); do
    [ -S "$MUNGE_SOCK" ] && munge -n --socket="$MUNGE_SOCK" 2>/dev/null | unmunge --socket="$MUNGE_SOCK" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  fail_start "munged does not answer on $MUNGE_SOCK"
}

node_state() { SLURM_CONF="$CONF" timeout 5 sinfo -h -N -n localhost -o %T 2>/dev/null | head -1 || true; }

start() {
  local c
  for c in slurmctld slurmd munged munge sinfo scontrol; do
    command -v "$c" >/dev/null 2>&1 || die "$c not found: SLURM or munge is not installed (run scripts/slurm/install.sh)"
  done

  if pid_of "$CTLD_PID" slurmctld >/dev/null && pid_of "$SLURMD_PID" slurmd >/dev/null && pid_of "$MUNGE_PID" munged >/dev/null; then
    log "already running in $STATE"
    echo "export SLURM_CONF=$CONF"
    return 0
  fi
  # A partial cluster (one daemon died): start over cleanly.
  stop >/dev/null 2>&1 || true

  # Unix socket paths are limited to 107 bytes.
  [ "${#MUNGE_SOCK}" -lt 100 ] || die "state directory path is too long for a unix socket: $MUNGE_SOCK"

  local t0 t1 state i
  t0="$(date +%s%N)"
  # A clean slate every time: no jobs or node states from an earlier run of this state directory (a recovered
  # node state would read "idle" before slurmd has registered). The munge key is kept.
  rm -rf "$STATE/state" "$STATE/spool"
  mkdir -p "$STATE/state" "$STATE/spool" "$STATE/run" "$LOGS"
  : >"$LOGS/slurmctld.log"
  : >"$LOGS/slurmd.log"
  choose_ports
  write_conf
  export SLURM_CONF="$CONF"

  start_munge
  # The daemons' stdout goes to stderr: stdout carries only the export line.
  slurmctld -c -f "$CONF" </dev/null >&2 || fail_start "slurmctld failed to start"
  # Start slurmd once slurmctld answers, so its first registration is not lost to a retry interval.
  local up=0
  for i in $(seq 1 $((TIMEOUT * 10))); do
    if SLURM_CONF="$CONF" timeout 5 scontrol ping 2>/dev/null | grep -q 'is UP'; then up=1; break; fi
    pid_of "$CTLD_PID" slurmctld >/dev/null || [ "$i" -lt 20 ] || fail_start "slurmctld exited"
    sleep 0.05
  done
  [ "$up" = 1 ] || fail_start "slurmctld does not answer on port $CTLD_PORT after ${TIMEOUT}s"
  slurmd -c -f "$CONF" -N localhost </dev/null >&2 || fail_start "slurmd failed to start"

  for i in $(seq 1 $((TIMEOUT * 10))); do
    state="$(node_state)"
    case "$state" in
      idle) break ;;
      *drain* | *down* | *fail*)
        # Should not happen with a fresh state; resume once after 2 s, then keep waiting.
        if [ "$i" = 20 ]; then SLURM_CONF="$CONF" scontrol update nodename=localhost state=resume >/dev/null 2>&1 || true; fi ;;
    esac
    pid_of "$CTLD_PID" slurmctld >/dev/null || [ "$i" -lt 20 ] || fail_start "slurmctld exited"
    pid_of "$SLURMD_PID" slurmd >/dev/null || [ "$i" -lt 20 ] || fail_start "slurmd exited"
    sleep 0.1
  done
  [ "$state" = idle ] || fail_start "node 'localhost' is not idle after ${TIMEOUT}s (state: '${state:-no answer from slurmctld}')"
  t1="$(date +%s%N)"
  log "cluster up in $(( (t1 - t0) / 1000000 )) ms: ctld port $CTLD_PORT, slurmd port $SLURMD_PORT, $NODE_CPUS CPUs, state $STATE"
  echo "export SLURM_CONF=$CONF"
}

case "$CMD" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) usage ;;
esac
