"""CPU seconds of each rule's Python processes (user + system), from the log that
bench/process_cpu/sitecustomize.py writes during bench/run_scale.sh:

    python bench/process_cpu.py bench/out/process_cpu_NAME.tsv

A rule's script runs as .snakemake/scripts/tmp*.<rule>.py; the second processes of
normalise_extract and build_candidates are counted with their rule. Rules of the same name
(the QC tables' publish jobs, the notes in two languages) are added up.
"""
import sys
from collections import defaultdict
from pathlib import Path

SECOND = {"dream_worker.py": "normalise_extract", "candidate_process.py": "build_candidates"}


def rule_of(argv0: str) -> str:
    name = Path(argv0).name
    if name in SECOND:
        return SECOND[name]
    if name.startswith("tmp") and name.count(".") >= 2:
        return name.split(".")[-2]
    return "snakemake" if "snakemake" in argv0 else name or "(other)"


def main(path):
    cpu, wall, n = defaultdict(float), defaultdict(float), defaultdict(int)
    for line in Path(path).read_text().splitlines():
        _, _, argv0, own, _, seconds = line.split("\t")
        r = rule_of(argv0)
        cpu[r] += float(own)
        wall[r] += float(seconds)
        n[r] += 1
    print("| rule (its Python processes) | processes | CPU (s) | their wall (s) |")
    print("|---|---:|---:|---:|")
    for r in sorted(cpu, key=lambda r: -cpu[r]):
        print(f"| {r} | {n[r]} | {cpu[r]:.1f} | {wall[r]:.1f} |")
    print(f"| **sum** | {sum(n.values())} | {sum(cpu.values()):.1f} | |")


if __name__ == "__main__":
    main(sys.argv[1])
