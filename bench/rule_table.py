"""Per-rule table (markdown) from Snakemake's benchmark files: wall and CPU seconds, max RSS.

    python bench/rule_table.py benchmarks [filter]
"""
import sys
from pathlib import Path

import pandas as pd


def main(root, only=None):
    rows = []
    for f in sorted(Path(root).rglob("*.tsv")):
        if only and only not in str(f):
            continue
        b = pd.read_csv(f, sep="\t").iloc[-1]
        rows.append({"rule": f.stem, "wildcard": f.parent.name, "s": float(b["s"]),
                     "cpu": float(b.get("cpu_time", float("nan"))), "max_rss_mb": float(b["max_rss"])})
    print("| rule | extract/cohort | wall (s) | CPU (s) | max RSS (MiB) |")
    print("|---|---|---:|---:|---:|")
    for r in sorted(rows, key=lambda r: -r["s"]):
        print(f"| {r['rule']} | {r['wildcard']} | {r['s']:.1f} | {r['cpu']:.1f} | {r['max_rss_mb']:.0f} |")
    print(f"| **sum** | | {sum(r['s'] for r in rows):.1f} | {sum(r['cpu'] for r in rows):.1f} | |")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None)
