#!/bin/sh
# End to end on a large extract (extract generation excluded); see bench/README.md.
# Usage: flock /work/bigmem.lock sh bench/run_scale.sh EXTRACT_FOLDER NAME [extra snakemake args]
#   e.g. sibeval demo --out /work/data/demo_1m --pool-size 1000000
#        flock /work/bigmem.lock sh bench/run_scale.sh /work/data/demo_1m 1m
# Runs the SIB cohort as sib_NAME on extract demo_NAME from empty results, under GNU time
# and bench/treemem.py (peak RSS of the whole process tree), then prints each rule's wall
# time, CPU time and peak memory from the resources line that ends its log (bench/rule_table.py),
# and each rule's CPU time added up over its Python processes (bench/process_cpu.py).
set -e
[ $# -ge 2 ] || { echo "usage: sh bench/run_scale.sh EXTRACT_FOLDER NAME [snakemake args]" >&2; exit 2; }
extract=$(cd "$1" && pwd) || { echo "run_scale.sh: extract folder $1 not found" >&2; exit 2; }
name=$2
shift 2
. bench/scale_config.sh
scale_config "$extract" "$name"
cpu_log="$(pwd)/bench/out/process_cpu_$name.tsv"
rm -f "$cpu_log"
SIBEVAL_PROCESS_CPU="$cpu_log" PYTHONPATH="$(pwd)/bench/process_cpu${PYTHONPATH:+:$PYTHONPATH}" \
    /usr/bin/time -v -o "bench/out/time_$name.txt" python bench/treemem.py -- \
    snakemake --cores 2 --configfile "bench/out/config_$name.yaml" "$@"
grep -E "Elapsed|User time|System time|Maximum resident" "bench/out/time_$name.txt"
python bench/rule_table.py results "$name"
python bench/process_cpu.py "$cpu_log"
