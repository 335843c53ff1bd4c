"""Benchmark: person x month panel from an extract (DREAM read + build), e.g. the demo
with 1,000,000 persons x 470 weeks.

    sibeval demo --out bench/out/demo_1m --pool-size 1000000 --force
    python bench/bench_panel.py bench/out/demo_1m
"""

import argparse
import resource
import time
from pathlib import Path

from sibeval.config import load_yaml
from sibeval.extract.codes import CodeTable
from sibeval.extract.panel import build_panel
from sibeval.extract.readers import Extract

ROOT = Path(__file__).resolve().parents[1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("extract")
    a = ap.parse_args()
    codes = CodeTable.from_config(load_yaml(ROOT / "config" / "dream_codes.yaml"))
    ex = Extract(a.extract)
    t0 = time.perf_counter()
    dream = ex.dream(codes)
    t1 = time.perf_counter()
    ek, vnds, dod = ex.eindkomst(), ex.vnds(), ex.dod()
    t2 = time.perf_counter()
    panel = build_panel(dream, ek, codes, vnds, dod)
    t3 = time.perf_counter()
    n, weeks = dream.groups.shape
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2
    print(f"persons={n} weeks={weeks} months={len(panel.months)} eindkomst_rows={len(ek)}")
    print(f"read_dream_s={t1 - t0:.1f} read_other_s={t2 - t1:.1f} build_panel_s={t3 - t2:.1f} "
          f"total_s={t3 - t0:.1f} persons_per_s={n / (t3 - t0):,.0f} peak_rss_gib={peak:.2f}")


if __name__ == "__main__":
    main()
