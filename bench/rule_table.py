"""Per-rule table (markdown) from the resources line each rule's script writes last in its log
(`sibeval.adapters.resources_used`): wall time since the script's process started, CPU (user +
system) of that process and the ones it waited for (a rule's second process), and peak memory
(max RSS, from the kernel, not sampled: that of the script's process and of the largest process
it waited for; both ran at once, so their sum bounds the job's).

    python bench/rule_table.py results [filter]
"""
import re
import sys
from pathlib import Path

LINE = re.compile(r"resources: wall ([\d.]+) s, CPU ([\d.]+) s \(user [\d.]+ s, system ([\d.]+) s\), "
                  r"peak memory (\d+) MiB \(the largest process it waited for (\d+) MiB\)")


def rows(root, only=None) -> list[dict]:
    """One row per log with a resources line under `root` (whose path contains `only`)."""
    out = []
    for f in sorted(Path(root).rglob("interim/logs/**/*.log")):
        if only and only not in str(f):
            continue
        found = LINE.findall(f.read_text(encoding="utf-8", errors="replace"))
        if not found:
            continue
        wall, cpu, system, peak, waited = (float(v) for v in found[-1])
        # results/<cohort>/interim/logs/<rule>.log or results/extracts/interim/logs/<extract>/<rule>.log
        where = f.parents[2].name if f.parent.name == "logs" else f.parent.name
        out.append({"rule": f.stem, "where": where, "wall": wall, "cpu": cpu, "system": system,
                    "peak": peak, "waited": waited})
    return out


def main(root, only=None):
    found = rows(root, only)
    if not found:
        sys.exit(f"rule_table.py: no log with a resources line under {root}"
                 + (f" matching {only!r}" if only else "") + " (logs of a run since the eleventh round)")
    print("| rule | extract/cohort | wall (s) | CPU (s) | of it system (s) | peak memory (MiB) "
          "| its second process's (MiB) |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for r in sorted(found, key=lambda r: -r["wall"]):
        second = f"{r['waited']:.0f}" if r["waited"] > 50 else ""
        print(f"| {r['rule']} | {r['where']} | {r['wall']:.1f} | {r['cpu']:.1f} | {r['system']:.1f} "
              f"| {r['peak']:.0f} | {second} |")
    print(f"| **sum** | | {sum(r['wall'] for r in found):.1f} | {sum(r['cpu'] for r in found):.1f} "
          f"| {sum(r['system'] for r in found):.1f} | | |")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None)
