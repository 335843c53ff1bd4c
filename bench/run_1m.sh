#!/bin/sh
# End-to-end 10^6-person run (extract generation excluded); see bench/README.md.
# Usage: flock /work/bigmem.lock sh bench/run_1m.sh [extra snakemake args]
set -e
mkdir -p bench/out/cohorts
sed 's/^extract: demo$/extract: demo_1m/' config/cohorts/sib_herning_viborg.yaml > bench/out/cohorts/sib_1m.yaml
rm -rf results/extracts/interim/demo_1m results/sib_1m benchmarks/extracts/demo_1m benchmarks/sib_1m
/usr/bin/time -v -o bench/out/time_1m.txt python bench/treemem.py -- \
    snakemake --cores 2 --configfile bench/config_1m.yaml "$@"
grep -E "Elapsed|Maximum resident" bench/out/time_1m.txt
python bench/rule_table.py benchmarks
