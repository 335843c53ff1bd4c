"""Benchmark: match 150 participants against 1,000,000 candidate rows (12 covariates named and
shaped as the cohort's: age in whole years, binary indicators, one share), propensity fit
included, for two designs side by side:

* score: the propensity score alone (logit on the 12 covariates);
* default: the project's default design, the centred squares of the non-binary covariates in
  the logit (squares: true) and Mahalanobis distance on age and employed_24m among the
  controls within the caliper (mahvars).

Both: 10:1 nearest neighbour without replacement on the logit, caliper 0.2 SD, exact on index
month (12 strata), each candidate person used once across index months (unit_id).

    python bench/bench_matching.py [--rows 1000000] [--treated 150] [--design score default]
                                   [--matchit RLIB] [--continuous-age] [--profile]

--matchit RLIB also runs MatchIt (from the R library RLIB, e.g. MatchIt 4.7.2 built from
source) on the same data and settings in the same run, glm fit included, timed inside R, and
prints the largest difference between the two sets of weights and how many matched sets
differ. With age in whole years a participant of age a has controls of ages a - 1 and a + 1
exactly as near; sibeval gives them bit-identical distances and takes the one MatchIt's order
meets last, MatchIt's transformed coordinates may round either way (the module docstring of
sibeval.design.matching); so does a - d and a + d for age in days. --continuous-age adds a
uniform fraction of a year to every age, so that no two controls are exactly as near.
"""

import argparse
import cProfile
import os
import pstats
import resource
import subprocess
import tempfile
import time

import numpy as np
import pandas as pd

from sibeval.design.matching import _mah_d2, _mahalanobis_space, match, with_squares

COVS = ["age", "age_50plus", "female", "partner", "employed_24m", "benefit_share_36m",
        "primary_school_only", "years_dk_lt7", "passive_4w", "somatic_2y", "psych_2y", "non_western"]
MAHVARS = ["age", "employed_24m"]
DESIGNS = {"score": (False, None), "default": (True, MAHVARS)}
SETTINGS = dict(ratio=10, caliper=0.2, exact=["index_month"], unit_id="person")


def data(rows, treated, seed=1):
    """Candidate rows and participants; participation rises and falls with age and is more
    likely without recent employment, so the squares and the Mahalanobis step matter."""
    rng = np.random.default_rng(seed)
    n = rows + treated
    t = np.zeros(n, int)
    t[rng.choice(n, treated, replace=False)] = 1
    age = np.where(t == 1, np.clip(np.round(rng.normal(42, 8, n)), 25, 64), rng.integers(25, 65, n))
    df = pd.DataFrame({"age": age.astype(float)})
    df["age_50plus"] = (df["age"] >= 50).astype(float)
    for name, p_c, p_t in (("female", 0.5, 0.55), ("partner", 0.45, 0.35), ("employed_24m", 0.5, 0.3),
                           ("primary_school_only", 0.35, 0.45), ("years_dk_lt7", 0.1, 0.15),
                           ("passive_4w", 0.3, 0.2), ("somatic_2y", 0.3, 0.35), ("psych_2y", 0.2, 0.3),
                           ("non_western", 0.15, 0.2)):
        df[name] = (rng.random(n) < np.where(t == 1, p_t, p_c)).astype(float)
    share = rng.beta(np.where(t == 1, 2.0, 1.2), 1.5, n)
    df["benefit_share_36m"] = np.round(share * 36) / 36          # months out of 36
    df = df[COVS]
    df["treated"] = t
    df["index_month"] = rng.integers(0, 12, n)
    # a candidate person is a candidate in about 8 index months; a participant is their own unit
    df["person"] = np.where(t == 1, rows + np.arange(n), rng.integers(0, rows // 8, n))
    return df


def run(df, design):
    squares, mahvars = DESIGNS[design]
    t0 = time.perf_counter()
    c0 = time.process_time()
    d, covs = with_squares(df, COVS) if squares else (df, COVS)
    r = match(d, "treated", covs, mahvars=mahvars, **SETTINGS)
    return r, time.perf_counter() - t0, time.process_time() - c0


R_CODE = """
suppressPackageStartupMessages(library(MatchIt))
a <- commandArgs(TRUE)
d <- read.csv(a[1])
covs <- strsplit(a[4], ",")[[1]]
mah <- if (nzchar(a[5])) reformulate(strsplit(a[5], ",")[[1]]) else NULL
f <- reformulate(covs, "treated")
t <- system.time(m <- matchit(f, data = d, method = "nearest", distance = "glm", link = "linear.logit",
                              ratio = 10, caliper = 0.2, exact = ~index_month, unit.id = ~person,
                              m.order = "largest", mahvars = mah))
cat(sprintf("MatchIt %s elapsed_s=%.2f cpu_s=%.2f\\n", packageVersion("MatchIt"), t[["elapsed"]],
            t[["user.self"]] + t[["sys.self"]]))
write.csv(data.frame(w = sprintf("%.17g", m$weights)), a[2], row.names = FALSE)
mm <- m$match.matrix
write.csv(data.frame(t = match(rownames(mm), rownames(d)) - 1, matrix(match(mm, rownames(d)), nrow = nrow(mm)) - 1),
          a[3], row.names = FALSE)
"""


def matchit(d, covs, mahvars, rlib):
    """MatchIt on the same rows (the squares as columns, as the workflow passes them):
    its timing line, weights and matched sets {treated row: control rows}."""
    with tempfile.TemporaryDirectory() as tmp:
        path, w, mm, code = (os.path.join(tmp, x) for x in ("d.csv", "w.csv", "mm.csv", "b.R"))
        d.to_csv(path, index=False, float_format="%.17g")
        with open(code, "w") as fh:
            fh.write(R_CODE)
        p = subprocess.run(["Rscript", code, path, w, mm, ",".join(covs), ",".join(mahvars or [])],
                           check=True, env={**os.environ, "R_LIBS": rlib}, capture_output=True, text=True)
        sets = {int(r[0]): sorted(int(c) for c in r[1:] if not pd.isna(c))
                for r in pd.read_csv(mm).itertuples(index=False)}
        return p.stdout.strip().splitlines()[-1], pd.read_csv(w)["w"].to_numpy(), sets


def sets_of(r):
    p = r.matched_pairs()
    t = p[p.treated == 1].set_index("subclass")["row"]
    c = p[p.treated == 0].groupby("subclass")["row"].apply(sorted)
    return {int(t[k]): [int(x) for x in c.get(k, [])] for k in t.index}


def compare(r, d, mahvars, ref):
    """Matched sets that differ from MatchIt's, and of those how many hold controls exactly as
    near (the same sorted Mahalanobis distances in exact arithmetic; MatchIt may break such a
    tie by its rounding of transformed coordinates: module docstring)."""
    mine = sets_of(r)
    differ = [t for t in ref if ref[t] != mine.get(t, [])]
    ties = 0
    if mahvars and differ:
        treat = d["treated"].to_numpy() == 1
        M = _mahalanobis_space(d[mahvars].to_numpy(float), treat)
        for t in differ:
            a, b = mine.get(t, []), ref[t]
            if len(a) == len(b) and np.array_equal(np.sort(_mah_d2(M, t, np.array(a))),
                                                    np.sort(_mah_d2(M, t, np.array(b)))):
                ties += 1
    return len(differ), ties


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--treated", type=int, default=150)
    ap.add_argument("--design", nargs="+", choices=list(DESIGNS), default=list(DESIGNS))
    ap.add_argument("--matchit", metavar="RLIB", help="run MatchIt from this R library on the same data")
    ap.add_argument("--profile", action="store_true", help="print the cProfile of each design")
    ap.add_argument("--continuous-age", action="store_true",
                    help="age with a uniform fraction of a year added: no two controls exactly as near")
    a = ap.parse_args()
    df = data(a.rows, a.treated)
    if a.continuous_age:
        df["age"] += np.random.default_rng(2).random(len(df))
    for design in DESIGNS:  # warm-up: the first call's imports (as R's library(MatchIt), untimed)
        run(data(20_000, 20, seed=2), design)
    for design in a.design:
        prof = cProfile.Profile() if a.profile else None
        if prof:
            prof.enable()
        r, wall, cpu = run(df, design)
        if prof:
            prof.disable()
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
        s = r.summary().set_index("sample")
        print(f"{design}: rows={a.rows} treated={a.treated} matched_treated={s.loc['Matched', 'treated']} "
              f"matched_controls={s.loc['Matched', 'control']} wall_s={wall:.2f} cpu_s={cpu:.2f} "
              f"peak_rss_gib={peak:.2f}", flush=True)
        if prof:
            pstats.Stats(prof).sort_stats("cumulative").print_stats(25)
        if a.matchit:
            squares, mahvars = DESIGNS[design]
            d, covs = with_squares(df, COVS) if squares else (df, COVS)
            line, w, ref = matchit(d, covs, mahvars, a.matchit)
            diff = np.abs(w - r.data["weights"].to_numpy()).max()
            n_diff, ties = compare(r, d, mahvars, ref)
            print(f"{design}: {line}; speed-up {float(line.split('elapsed_s=')[1].split()[0]) / wall:.1f}x wall; "
                  f"max |weight difference| {diff:.2e}; matched sets that differ: {n_diff} of {len(ref)}"
                  + (f" ({ties} of them with controls exactly as near)" if mahvars and n_diff else ""), flush=True)

if __name__ == "__main__":
    main()
