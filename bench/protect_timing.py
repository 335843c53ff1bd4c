"""Time a cohort's disclosure protection from its interim tables and dump what it hides.

    python bench/protect_timing.py COHORT_YAML RESULTS_DIR OUT [THREADS]

Runs the publish rule's protection (`Boundary.protect`) on RESULTS_DIR/interim/tables and the
extract's checksums, counts the HiGHS solves, and writes OUT.hidden.json and OUT.audit.csv:
run it with two versions of the code (`PYTHONPATH=<checkout>/src`) and `cmp` the outputs to
check that a change to the search hides the same cells (bench/README.md, issue 26).
"""

import json
import sys
import threading
import time
from pathlib import Path

import pandas as pd

import sibeval
from sibeval.config import load_yaml, validate
from sibeval.publish import ledger
from sibeval.publish.boundary import Boundary, tables_to_publish


def main(cohort_yaml: str, results: str, out: str, threads: str = "1") -> None:
    res = Path(results)
    schema = Path(sibeval.__file__).resolve().parents[2] / "workflow" / "schemas" / "cohort.schema.yaml"
    c = validate(load_yaml(cohort_yaml), load_yaml(schema), cohort_yaml)
    read = {"keep_default_na": False, "na_values": [""]}
    tables = {p.stem: pd.read_csv(p, **read) for p in (res / "interim" / "tables").glob("*.csv")}
    checksums = res.parent / "extracts" / "interim" / c["extract"] / "checksums.csv"
    tables["checksums"] = pd.read_csv(checksums, dtype=str, **read)
    boundary = Boundary(tables_to_publish(tables, c), c["disclosure"], c["matching"]["replace"])
    solves, real, lock = [0], ledger._solve, threading.Lock()

    def counted(*a, **k):
        with lock:                  # called from the solver's threads
            solves[0] += 1
        return real(*a, **k)

    ledger._solve = counted
    t = time.perf_counter()
    p = boundary.protect(threads=int(threads))
    seconds = time.perf_counter() - t
    p.audit.to_csv(f"{out}.audit.csv", index=False)
    Path(f"{out}.hidden.json").write_text(json.dumps(p.hidden, indent=0))
    print(f"{sibeval.__file__}: protect() on {threads} threads {seconds:.1f} s, {solves[0]} solves, "
          f"{len(p.hidden)} cells hidden")


if __name__ == "__main__":
    if len(sys.argv) not in (4, 5):
        raise SystemExit(__doc__)
    main(*sys.argv[1:])
