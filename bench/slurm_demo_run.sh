#!/usr/bin/env bash
# The demo under SLURM (or locally), timed, with every job's memory: for bench/README.md,
# "On a SLURM cluster with memory limits". Run from a clone, not from a checkout whose results/
# others use: --fresh deletes results/, .snakemake/ and the generated demo extracts.
#
#   bench/slurm_demo_run.sh OUTDIR [--fresh] [--local] [snakemake args...]
#
# Under SLURM (default): the slurm workflow profile; writes OUTDIR/snakemake.log, sacct.txt
# (every job and step since the start), cpu.txt (bench/slurm_cpuwatch.py: CPU seconds of the
# run and of everything else on the machine: was it quiet?), memwatch.csv (bench/slurm_memwatch.py: each job's cgroup
# peaks), rules.csv (bench/slurm_peaks.py: per rule, requested vs measured) and wall.txt.
# SLURM_PROFILE=DIR: another profile (a variant being measured). --local: `snakemake --cores 2` instead (wall.txt and the log only).
# SOURCE_DATE_EPOCH=1700000000 for both, so published files can be compared byte for byte.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(realpath -m "$1"); shift
fresh=0; local_run=0
while [[ ${1:-} == --fresh || ${1:-} == --local ]]; do
    [[ $1 == --fresh ]] && fresh=1
    [[ $1 == --local ]] && local_run=1
    shift
done
mkdir -p "$out"
if ((fresh)); then
    echo "deleting results/ .snakemake/ and the demo extracts in $(pwd)"
    rm -rf results .snakemake data/raw/demo data/raw/demo_kolding data/raw/demo_unge
fi
export SOURCE_DATE_EPOCH=1700000000
python bench/slurm_cpuwatch.py . "$out/cpu.txt" & cpuwatch=$!
if ((local_run)); then
    t0=$(date +%s.%N)
    rc=0; python -m snakemake --cores 2 "$@" > "$out/snakemake.log" 2>&1 || rc=$?
    t1=$(date +%s.%N)
    kill -TERM $cpuwatch; wait $cpuwatch || true
    echo "local wall_s=$(echo "$t1 - $t0" | bc) rc=$rc" | tee "$out/wall.txt"
    exit $rc
fi
python bench/slurm_memwatch.py "$out/memwatch.csv" & watch=$!
since=$(date +%Y-%m-%dT%H:%M:%S)
t0=$(date +%s.%N)
rc=0; python -m snakemake --workflow-profile "${SLURM_PROFILE:-workflow/profiles/slurm}" "$@" > "$out/snakemake.log" 2>&1 || rc=$?
t1=$(date +%s.%N)
kill -TERM $watch $cpuwatch; wait $watch $cpuwatch || true
sleep 2   # the last jobs' accounting records
sacct -a -S "$since" -P -o JobID,JobName,Comment%200,State,ReqMem,MaxRSS,NCPUS,Elapsed,Submit,Start,End \
    > "$out/sacct.txt"
echo "slurm wall_s=$(echo "$t1 - $t0" | bc) rc=$rc jobs=$(grep -c '^[0-9]*|' "$out/sacct.txt")" | tee "$out/wall.txt"
python bench/slurm_peaks.py "$out" | tee "$out/rules.txt"
exit $rc
