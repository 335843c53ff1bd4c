"""Balance after matching on a built candidate table: the default design (squares in the
propensity model, Mahalanobis distance on age and employed_24m within the caliper) beside
the score alone and Mahalanobis distance on every covariate.

    python bench/bench_balance.py results/<cohort>/interim/candidates.parquet [--covariates ...]

Matches as the match rule does with the SIB cohort's settings (10:1, caliper 0.2 SD, exact
on index month, each candidate person once) and prints max |SMD| over the covariates.
"""

import argparse
import time

import pandas as pd

from sibeval.design.balance import balance_before_after
from sibeval.design.matching import match, with_squares

COVS = ["age", "age_50plus", "partner", "years_dk_lt7", "employed_24m", "benefit_share_36m",
        "primary_school_only", "passive_4w", "somatic_2y", "psych_2y"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("candidates")
    ap.add_argument("--covariates", nargs="+", default=COVS)
    ap.add_argument("--ratio", type=int, default=10)
    a = ap.parse_args()
    cand = pd.read_parquet(a.candidates)
    covs = [c for c in a.covariates if c in cand and cand[c].notna().all()]
    print(f"rows={len(cand)} treated={int(cand.treated.sum())} covariates={covs}")
    designs = (("propensity score only", False, None), ("mahvars = covariates", False, covs),
               ("default: squares, mahvars = age, employed_24m", True,
                [c for c in ("age", "employed_24m") if c in covs]))
    for label, squares, mv in designs:
        data, model_covs = with_squares(cand, covs) if squares else (cand, covs)
        t0 = time.perf_counter()
        r = match(data, "treated", model_covs, ratio=a.ratio, caliper=0.2, exact=["index_month"],
                  unit_id="pnr", mahvars=mv)
        dt = time.perf_counter() - t0
        b = balance_before_after(r, covariates=covs).set_index("covariate")["smd_after"]
        worst = b.drop("distance").abs()
        print(f"{label}: max |SMD| {worst.max():.3f} ({worst.idxmax()}), distance SMD {b['distance']:.4f}, "
              f"matched {int(r.matched_data().treated.sum())} participants, time {dt:.1f} s")

if __name__ == "__main__":
    main()
