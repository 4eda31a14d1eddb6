#!/usr/bin/env bash
# slurm-local.sh — a real single-node SLURM on this machine, for trying and testing
# `mentia slurm` without a cluster. Not a production setup: one node, no accounting,
# no cgroups (works inside containers), everything private under one state directory.
#
#   scripts/slurm-local.sh start    install slurm-wlm + munge with apt if missing (needs root),
#                                   start munged, slurmctld, slurmd; wait until the node is idle
#   scripts/slurm-local.sh stop     cancel this cluster's jobs, stop exactly the daemons started here
#   scripts/slurm-local.sh status   which daemons run, and sinfo
#   scripts/slurm-local.sh env      print `export SLURM_CONF=...` (use: eval "$(scripts/slurm-local.sh env)")
#
# Configuration lives in $MENTIA_SLURM_DIR (default /tmp/mentia-slurm): slurm.conf, a private
# munge key and socket, state, logs and pid files. /etc is not touched (apt aside); SLURM
# commands find the cluster through SLURM_CONF=$MENTIA_SLURM_DIR/slurm.conf.
# Ports: MENTIA_SLURM_CTLD_PORT (default 6817), MENTIA_SLURM_D_PORT (default 6818).
#
# Exit codes: 0 ok; 1 SLURM failed to start or stop; 3 SLURM cannot be set up here
# (not installed and not root, or apt unavailable) — callers may treat 3 as "skip".
set -euo pipefail

STATE="${MENTIA_SLURM_DIR:-/tmp/mentia-slurm}"
CONF="$STATE/slurm.conf"
CTLD_PORT="${MENTIA_SLURM_CTLD_PORT:-6817}"
D_PORT="${MENTIA_SLURM_D_PORT:-6818}"
NODE="$(hostname -s 2>/dev/null || uname -n | cut -d. -f1)"
PARTITION="local"
export SLURM_CONF="$CONF"

log() { echo "slurm-local: $*" >&2; }
die() { log "$1"; exit "${2:-1}"; }

# A pid file names a live process of the expected program (guards against pid reuse).
alive() { # pidfile program
  local pid
  [[ -f "$1" ]] || return 1
  pid="$(cat "$1" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [[ -r "/proc/$pid/comm" ]] || return 1
  [[ "$(cat "/proc/$pid/comm")" == "$2" ]]
}

install_packages() {
  if command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v munged >/dev/null \
     && command -v sbatch >/dev/null; then
    return 0
  fi
  [[ "$(id -u)" == 0 ]] || die "slurm-wlm/munge are not installed and installing them needs root" 3
  command -v apt-get >/dev/null || die "slurm-wlm/munge are not installed and apt-get is not available" 3
  log "installing slurm-wlm and munge with apt (takes a minute or two)"
  # apt may be busy (another install); wait for its lock rather than fail.
  if ! { apt-get -o DPkg::Lock::Timeout=300 update -q >/dev/null &&
         DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -q \
           --no-install-recommends slurm-wlm munge >/dev/null; }; then
    die "apt-get could not install slurm-wlm and munge" 3
  fi
}

write_config() {
  mkdir -p "$STATE"/{munge,ctld,spool,log}
  chmod 0755 "$STATE" "$STATE/munge"
  if [[ ! -s "$STATE/munge/munge.key" ]]; then
    (umask 077; dd if=/dev/urandom of="$STATE/munge/munge.key" bs=1024 count=1 status=none)
  fi
  chmod 0600 "$STATE/munge/munge.key"
  local cpus mem_mb
  cpus="$(nproc)"
  mem_mb="$(awk '/^MemTotal:/ {print int($2 / 1024)}' /proc/meminfo)"
  # Leave headroom for the OS and the daemons: 10% or 512 MB, whichever is larger.
  mem_mb=$(( mem_mb - ( mem_mb / 10 > 512 ? mem_mb / 10 : 512 ) ))
  (( mem_mb > 256 )) || mem_mb=256
  cat >"$CONF" <<EOF
# Written by scripts/slurm-local.sh — a single-node SLURM for local testing.
ClusterName=mentia-local
SlurmctldHost=$NODE(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$CTLD_PORT
SlurmdPort=$D_PORT
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$STATE/munge/munge.socket
MpiDefault=none
# No cgroups: containers often lack them.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SlurmdParameters=config_overrides
ReturnToService=2
# Finished jobs stay visible to scontrol for 10 minutes.
MinJobAge=600
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/spool
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$STATE/log/slurmctld.log
SlurmdLogFile=$STATE/log/slurmd.log
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=$PARTITION Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF
}

node_state() { sinfo -h -N -n "$NODE" -o "%t" 2>/dev/null | head -n1 || true; }

start() {
  if alive "$STATE/slurmctld.pid" slurmctld && alive "$STATE/slurmd.pid" slurmd && alive "$STATE/munged.pid" munged; then
    log "already running (SLURM_CONF=$CONF)"
    return 0
  fi
  install_packages
  [[ "$(id -u)" == 0 ]] || die "starting the local SLURM needs root (SlurmUser=root)" 3
  # Stale daemons from an earlier, half-finished start: stop them first.
  stop_daemons
  write_config
  munged --force --socket="$STATE/munge/munge.socket" --key-file="$STATE/munge/munge.key" \
    --pid-file="$STATE/munged.pid" --log-file="$STATE/log/munged.log" --seed-file="$STATE/munge/munged.seed" \
    || die "munged failed to start (see $STATE/log/munged.log)"
  slurmctld || die "slurmctld failed to start (see $STATE/log/slurmctld.log)"
  slurmd -N "$NODE" || die "slurmd failed to start (see $STATE/log/slurmd.log)"
  local state=""
  for _ in $(seq 1 120); do
    state="$(node_state)"
    case "$state" in
      idle|mix|alloc) break ;;
      drain*|down*) scontrol update nodename="$NODE" state=resume >/dev/null 2>&1 || true ;;
    esac
    sleep 0.5
  done
  case "$state" in
    idle|mix|alloc) ;;
    *)
      tail -n 20 "$STATE/log/slurmctld.log" "$STATE/log/slurmd.log" >&2 || true
      stop_daemons
      die "node $NODE did not become idle (state '${state:-unknown}')" ;;
  esac
  log "running: node $NODE, $(nproc) CPUs, partition '$PARTITION'; SLURM_CONF=$CONF"
}

# Stop one daemon by its pid file: SIGTERM, wait, then SIGKILL.
stop_one() { # pidfile program
  alive "$1" "$2" || { rm -f "$1"; return 0; }
  local pid
  pid="$(cat "$1")"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do
    [[ -d "/proc/$pid" ]] || break
    sleep 0.2
  done
  if [[ -d "/proc/$pid" ]]; then kill -KILL "$pid" 2>/dev/null || true; fi
  rm -f "$1"
}

stop_daemons() {
  stop_one "$STATE/slurmd.pid" slurmd
  stop_one "$STATE/slurmctld.pid" slurmctld
  stop_one "$STATE/munged.pid" munged
}

stop() {
  if alive "$STATE/slurmctld.pid" slurmctld && alive "$STATE/slurmd.pid" slurmd; then
    # Cancel this cluster's jobs so no job step outlives its slurmd.
    local jobs
    jobs="$(squeue -h -o %A 2>/dev/null | tr '\n' ' ' || true)"
    if [[ -n "${jobs// /}" ]]; then
      # shellcheck disable=SC2086
      scancel $jobs 2>/dev/null || true
      for _ in $(seq 1 60); do
        [[ -z "$(squeue -h -t running,completing -o %A 2>/dev/null || true)" ]] && break
        sleep 0.5
      done
    fi
  fi
  stop_daemons
  log "stopped"
}

status() {
  local rc=0 d
  for d in munged slurmctld slurmd; do
    if alive "$STATE/$d.pid" "$d"; then echo "$d: running (pid $(cat "$STATE/$d.pid"))"; else echo "$d: not running"; rc=1; fi
  done
  if [[ $rc == 0 ]]; then sinfo; fi
  return $rc
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  env) echo "export SLURM_CONF=$CONF" ;;
  *) echo "usage: $0 start|stop|status|env" >&2; exit 2 ;;
esac
