#!/usr/bin/env bash
# bench/run_scale.sh's run under SLURM: the SIB cohort as sib_NAME on a large extract, with the
# slurm workflow profile, timed, every job's memory recorded (bench/slurm_demo_run.sh); see
# bench/README.md, "10^6 persons under SLURM". Run it in a clone (it deletes the cohort's results).
#
#   flock /work/bigmem.lock bench/slurm_scale_run.sh EXTRACT_FOLDER NAME OUTDIR [--local] [snakemake args]
#   e.g. flock /work/bigmem.lock bench/slurm_scale_run.sh /work/data/demo_1m 1m /tmp/slurm_1m \
#            --default-resources slurm_account=sibeval slurm_partition=main mem_mb=1000 runtime=30
#
# Writes bench/out/config_NAME.yaml and bench/out/cohorts/sib_NAME.yaml as run_scale.sh does,
# deletes the extract's and the cohort's results (the extract folder itself is
# only read), then runs bench/slurm_demo_run.sh OUTDIR [--local] --configfile bench/out/config_NAME.yaml
# (--local: the same with `snakemake --cores 2`, the reference for wall time and results).
# SLURM_PROFILE=DIR as for slurm_demo_run.sh.
set -euo pipefail
[[ $# -ge 3 ]] || { echo "usage: bench/slurm_scale_run.sh EXTRACT_FOLDER NAME OUTDIR [--local] [snakemake args]" >&2; exit 2; }
extract=$(cd "$1" && pwd) || { echo "slurm_scale_run.sh: extract folder $1 not found" >&2; exit 2; }
name=$2
out=$(realpath -m "$3")
shift 3
mode=()
if [[ ${1:-} == --local ]]; then mode=(--local); shift; fi
cd "$(dirname "$0")/.."
. bench/scale_config.sh
scale_config "$extract" "$name"
exec bash bench/slurm_demo_run.sh "$out" "${mode[@]}" --configfile "bench/out/config_$name.yaml" "$@"
