"""Are two runs' results byte-identical? Compares every file under two results/ folders by
SHA-256: the CSVs outside interim/ (published/, qc/, disclosure/, economics/), then every other
file (notes, workbooks, figures, interim/ tables). Logs and Snakemake's markers are skipped
(they hold times and paths). Run both with SOURCE_DATE_EPOCH=1700000000.

    python bench/slurm_compare.py RESULTS_A RESULTS_B
"""
import hashlib
import sys
from pathlib import Path

SKIP_SUFFIXES = {".log", ".snakemake_timestamp"}


def digests(root):
    root = Path(root)
    out = {}
    for p in sorted(root.rglob("*")):
        if p.is_file() and p.suffix not in SKIP_SUFFIXES and "logs" not in p.relative_to(root).parts:
            out[str(p.relative_to(root))] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def main(a, b):
    da, db = digests(a), digests(b)
    only = sorted(set(da) ^ set(db))
    both = sorted(set(da) & set(db))
    differ = [f for f in both if da[f] != db[f]]

    def published_csv(f):
        return f.endswith(".csv") and "interim" not in Path(f).parts

    n_csv = sum(published_csv(f) for f in both)
    print(f"CSVs outside interim/: {n_csv - sum(published_csv(f) for f in differ)} of {n_csv} identical")
    print(f"all files: {len(both) - len(differ)} of {len(both)} identical; in one run only: {len(only)}")
    for f in differ:
        print(f"  differs: {f}")
    for f in only:
        print(f"  only in {'A' if f in da else 'B'}: {f}")
    return 1 if differ or only else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(*sys.argv[1:]))
