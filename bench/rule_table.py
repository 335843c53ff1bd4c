"""Per-rule table (markdown) from Snakemake's benchmark files: wall seconds and max RSS.

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
                     "max_rss_mb": float(b["max_rss"]), "mean_load": float(b["mean_load"])})
    print("| rule | extract/cohort | wall (s) | max RSS (MiB) |")
    print("|---|---|---:|---:|")
    for r in rows:
        print(f"| {r['rule']} | {r['wildcard']} | {r['s']:.1f} | {r['max_rss_mb']:.0f} |")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None)
