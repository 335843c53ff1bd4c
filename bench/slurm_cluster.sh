#!/usr/bin/env bash
# A single-node SLURM cluster on this machine, set up as a production site would:
# munge authentication, slurmdbd accounting in MariaDB (so `sacct` works), cgroup process
# tracking and task containment with ConstrainRAMSpace=yes (a job that exceeds its --mem is
# killed: sacct State OUT_OF_MEMORY), one node with the machine's real CPUs and memory.
#
#   bench/slurm_cluster.sh start      start munged, MariaDB, slurmdbd, slurmctld, slurmd
#   bench/slurm_cluster.sh status     what runs, sinfo, the accounting cluster
#   bench/slurm_cluster.sh oomtest    submit a job that exceeds its --mem; show its sacct state
#   bench/slurm_cluster.sh stop       cancel the cluster's jobs, stop exactly what `start` started
#
# Needs Debian's packages (bookworm: slurm-wlm 22.05):
#   apt-get install -y slurm-wlm slurmdbd munge mariadb-server
# Runs as root, without systemd: the daemons are started directly and their PIDs recorded in
# $STATE/started (one "name pid" a line); `stop` signals only those PIDs. A munged that
# already answers is used and left running. MariaDB gets its own data directory under $STATE
# and listens on 127.0.0.1:$SIBEVAL_SLURM_DBPORT only. The configuration files are written to
# /etc/slurm/ (where sbatch, sacct and squeue look) with a marker line; an existing
# slurm.conf without the marker is never overwritten. `stop` removes the files it wrote.
# Logs: $STATE/log/. Tested with cgroup v1 (the hybrid layout under /sys/fs/cgroup); on a
# cgroup v2 host CgroupPlugin=autodetect should pick v2 (not tested here).
set -euo pipefail

STATE=${SIBEVAL_SLURM_STATE:-/var/tmp/sibeval-slurm}
DBPORT=${SIBEVAL_SLURM_DBPORT:-3307}
CLUSTER=sibeval
ETC=/etc/slurm
MARK="# written by sibeval bench/slurm_cluster.sh"
HOST=$(hostname -s)

die() { echo "slurm_cluster.sh: $*" >&2; exit 1; }
log() { echo "[slurm_cluster] $*"; }

alive() {  # alive NAME PID: the process exists and is the program we started
    local pid=$2
    [[ -n "$pid" && -d /proc/$pid ]] || return 1
    grep -q "$1" "/proc/$pid/comm" 2>/dev/null
}

record() { echo "$1 $2" >> "$STATE/started"; }

wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...
    local n=$1 what=$2; shift 2
    for ((i = 0; i < n * 4; i++)); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 0.25
    done
    die "timed out after ${n}s waiting for $what (logs: $STATE/log/, $STATE/mysql-run/)"
}

pidfile_pid() { [[ -s "$1" ]] && tr -dc '0-9' < "$1" || true; }

started_from() {  # started_from NAME PIDFILE: wait until PIDFILE names a live NAME, record it
    local name=$1 file=$2
    wait_for 30 "$name" bash -c "pid=\$(tr -dc 0-9 < '$file' 2>/dev/null); [[ -n \$pid ]] && grep -q '$name' /proc/\$pid/comm"
    record "$name" "$(pidfile_pid "$file")"
}

write_conf() {  # write_conf PATH (content on stdin): refuses to replace a foreign file
    local path=$1
    if [[ -e "$path" ]] && ! grep -qF "$MARK" "$path"; then
        die "$path exists and was not written by this script; move it away first"
    fi
    { echo "$MARK"; cat; } > "$path"
    echo "$path" >> "$STATE/files"
}

need() {
    local missing=()
    for b in munged munge mariadbd mariadb-install-db mariadb slurmdbd slurmctld slurmd sbatch sacct sacctmgr; do
        command -v "$b" >/dev/null || [[ -x /usr/sbin/$b ]] || missing+=("$b")
    done
    if ((${#missing[@]})); then
        die "missing ${missing[*]}; install with: apt-get install -y slurm-wlm slurmdbd munge mariadb-server"
    fi
    [[ $(id -u) == 0 ]] || die "run as root (the daemons and the cgroups need it)"
}

start_munge() {
    if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
        log "munged already answers: using it (not stopped by stop)"
        return
    fi
    [[ -s /etc/munge/munge.key ]] || { mungekey --create --keyfile=/etc/munge/munge.key; \
        chown munge:munge /etc/munge/munge.key; chmod 400 /etc/munge/munge.key; }
    install -d -o munge -g munge -m 755 /run/munge
    install -d -o munge -g munge -m 700 /var/lib/munge /var/log/munge
    rm -f /run/munge/munged.pid
    runuser -u munge -- /usr/sbin/munged --pid-file=/run/munge/munged.pid
    started_from munged /run/munge/munged.pid
    wait_for 10 "munge credentials" bash -c "munge -n | unmunge"
}

start_mariadb() {
    local data=$STATE/mysql run=$STATE/mysql-run
    install -d -o mysql -g mysql "$run"
    if [[ ! -d $data/mysql ]]; then
        install -d -o mysql -g mysql "$data"
        mariadb-install-db --user=mysql --datadir="$data" --auth-root-authentication-method=socket \
            --skip-test-db > "$STATE/log/mariadb-install.log" 2>&1
    fi
    # its own socket, port and pid file: a MariaDB of the machine is left alone
    rm -f "$run/mariadb.pid"
    setsid /usr/sbin/mariadbd --user=mysql --datadir="$data" --socket="$run/mysql.sock" \
        --pid-file="$run/mariadb.pid" --port="$DBPORT" --bind-address=127.0.0.1 \
        --log-error="$run/mariadb.log" --innodb-buffer-pool-size=64M < /dev/null > /dev/null 2>&1 &
    wait_for 60 MariaDB test -S "$run/mysql.sock"
    wait_for 60 MariaDB mariadb --socket="$run/mysql.sock" -e "select 1"
    started_from mariadbd "$run/mariadb.pid"
    local pass
    pass=$(cat "$STATE/dbpass" 2>/dev/null || head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
    echo "$pass" > "$STATE/dbpass"; chmod 600 "$STATE/dbpass"
    mariadb --socket="$run/mysql.sock" <<SQL
CREATE DATABASE IF NOT EXISTS slurm_acct_db;
CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1' IDENTIFIED BY '$pass';
CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY '$pass';
GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';
GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost';
FLUSH PRIVILEGES;
SQL
}

write_configs() {
    local cpus mem
    # the node as slurmd sees it: real CPUs and memory (MiB)
    read -r cpus mem < <(slurmd -C | awk '/NodeName/ {for (i = 1; i <= NF; i++) {split($i, kv, "=");
        if (kv[1] == "CPUs") c = kv[2]; if (kv[1] == "RealMemory") m = kv[2]}} END {print c, m}')
    mkdir -p "$ETC"
    write_conf "$ETC/slurm.conf" <<EOF
ClusterName=$CLUSTER
SlurmctldHost=$HOST
SlurmUser=slurm
AuthType=auth/munge
StateSaveLocation=$STATE/slurmctld
SlurmdSpoolDir=$STATE/slurmd
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$STATE/log/slurmctld.log
SlurmdLogFile=$STATE/log/slurmd.log
# cgroups: processes tracked and contained; memory enforced (cgroup.conf)
ProctrackType=proctrack/cgroup
TaskPlugin=task/cgroup
JobAcctGatherType=jobacct_gather/cgroup
JobAcctGatherFrequency=task=1
# memory is a consumable resource: --mem is reserved and enforced
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
# accounting through slurmdbd (sacct)
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=$HOST
JobCompType=jobcomp/none
# the plugin names each job's rule in its comment: keep it for sacct -o Comment
AccountingStoreFlags=job_comment
# Slurm's defaults, stated: finished jobs stay in squeue for 300 s
MinJobAge=300
SchedulerType=sched/backfill
ReturnToService=2
MpiDefault=none
NodeName=$HOST CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=main Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
EOF
    write_conf "$ETC/cgroup.conf" <<EOF
CgroupPlugin=autodetect
ConstrainCores=yes
ConstrainRAMSpace=yes
AllowedRAMSpace=100
EOF
    write_conf "$ETC/slurmdbd.conf" <<EOF
AuthType=auth/munge
DbdHost=$HOST
SlurmUser=slurm
PidFile=$STATE/slurmdbd.pid
LogFile=$STATE/log/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$DBPORT
StorageUser=slurm
StoragePass=$(cat "$STATE/dbpass")
StorageLoc=slurm_acct_db
EOF
    chown slurm:slurm "$ETC/slurmdbd.conf"
    chmod 600 "$ETC/slurmdbd.conf"
}

cmd_start() {
    need
    if [[ -s "$STATE/started" ]]; then
        while read -r name pid; do
            alive "$name" "$pid" && die "already started ($name pid $pid); run stop first"
        done < "$STATE/started"
    fi
    install -d -m 755 "$STATE" "$STATE/log"
    install -d -o slurm -g slurm "$STATE/slurmctld" "$STATE/slurmd"
    chown slurm:slurm "$STATE/log"
    : > "$STATE/started"
    : > "$STATE/files"
    start_munge
    start_mariadb
    write_configs

    log "slurmdbd"
    rm -f "$STATE/slurmdbd.pid"   # a stale one would be read before the daemon rewrites it
    /usr/sbin/slurmdbd
    started_from slurmdbd "$STATE/slurmdbd.pid"
    wait_for 60 "slurmdbd answering" sacctmgr -n show cluster
    sacctmgr -i add cluster "$CLUSTER" >/dev/null 2>&1 || true
    # an account for the demo user (root), so `sacct`/`sacctmgr` name one
    sacctmgr -i add account sibeval Description="sibeval demo" Organization=sibeval >/dev/null 2>&1 || true
    sacctmgr -i add user root Account=sibeval DefaultAccount=sibeval >/dev/null 2>&1 || true

    log "slurmctld"
    rm -f "$STATE/slurmctld.pid"   # a stale one would be read before the daemon rewrites it
    /usr/sbin/slurmctld
    started_from slurmctld "$STATE/slurmctld.pid"
    wait_for 60 "slurmctld answering" scontrol ping

    log "slurmd"
    rm -f "$STATE/slurmd.pid"   # a stale one would be read before the daemon rewrites it
    /usr/sbin/slurmd
    started_from slurmd "$STATE/slurmd.pid"
    wait_for 60 "node $HOST idle" bash -c "sinfo -h -n $HOST -o %t | grep -qx idle"
    log "up: $(sinfo -h -o '%P %D %c CPUs %m MB %t' | head -1); state in $STATE"
}

stop_pid() {  # stop_pid NAME PID: TERM, then KILL after 30 s; only this one process
    local name=$1 pid=$2
    alive "$name" "$pid" || return 0
    kill -TERM "$pid"
    for ((i = 0; i < 120; i++)); do alive "$name" "$pid" || { log "stopped $name ($pid)"; return 0; }; sleep 0.25; done
    log "$name ($pid) did not stop in 30 s: KILL"
    kill -KILL "$pid" 2>/dev/null || true
}

cmd_stop() {
    [[ -s "$STATE/started" ]] || { log "nothing recorded in $STATE/started"; return 0; }
    if command -v squeue >/dev/null && scontrol ping >/dev/null 2>&1; then
        local jobs
        jobs=$(squeue -h -o %i 2>/dev/null || true)
        [[ -z "$jobs" ]] || { log "cancelling jobs: $jobs"; scancel $jobs || true; sleep 2; }
    fi
    # reverse order of start
    tac "$STATE/started" | while read -r name pid; do stop_pid "$name" "$pid"; done
    : > "$STATE/started"
    if [[ -s "$STATE/files" ]]; then
        while read -r f; do grep -qF "$MARK" "$f" 2>/dev/null && rm -f "$f"; done < "$STATE/files"
        : > "$STATE/files"
    fi
    log "stopped; data and logs kept in $STATE"
}

cmd_status() {
    if [[ -s "$STATE/started" ]]; then
        while read -r name pid; do
            if alive "$name" "$pid"; then echo "$name $pid running"; else echo "$name $pid NOT running"; fi
        done < "$STATE/started"
    else
        echo "not started by this script (no $STATE/started)"
    fi
    if scontrol ping >/dev/null 2>&1; then
        sinfo -o '%P %D %c %m %t %N'
        sacctmgr -n show cluster format=cluster,controlhost 2>/dev/null || true
        grep -E '^(Constrain|CgroupPlugin)' "$ETC/cgroup.conf" 2>/dev/null || true
    fi
}

cmd_oomtest() {
    # a job that asks for 200 MB and allocates 600 MB: the cgroup must kill it
    local dir id
    dir=$(mktemp -d /tmp/slurm_oomtest.XXXX)
    id=$(sbatch --parsable --mem=200M -c1 -t 5 -J oomtest -o "$dir/out" --chdir "$dir" --wrap \
        "python3 -c 'import time; b = bytearray(600 * 2**20); b[::4096] = b\"x\" * len(b[::4096]); time.sleep(2)'")
    log "job $id: --mem=200M, allocates 600 MB"
    for ((i = 0; i < 120; i++)); do
        squeue -h -j "$id" 2>/dev/null | grep -q . || break
        sleep 0.5
    done
    sleep 2
    sacct -j "$id" -o JobID,JobName,ReqMem,MaxRSS,State%16,ExitCode
    cat "$dir/out"
    if sacct -n -X -P -j "$id" -o State | grep -q OUT_OF_MEMORY; then
        log "memory enforcement works: job $id ended OUT_OF_MEMORY"
    else
        log "memory NOT enforced: job $id did not end OUT_OF_MEMORY"; return 1
    fi
}

case ${1:-} in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    oomtest) cmd_oomtest ;;
    *) echo "usage: $0 start|stop|status|oomtest" >&2; exit 2 ;;
esac
