"""Benchmark: match 150 participants against 1,000,000 candidate rows, 12 covariates,
propensity fit included (10:1 nearest neighbour without replacement, caliper 0.2,
exact on index month, each candidate person used once across index months).

    python bench/bench_matching.py [--rows 1000000] [--treated 150] [--matchit RLIB]

--matchit RLIB also times MatchIt (from the R library RLIB, e.g. MatchIt 4.7.2 built from
source) on the same data and settings, glm fit included, and checks the matched sets agree.
"""

import argparse
import os
import resource
import subprocess
import tempfile
import time

import numpy as np
import pandas as pd

from sibeval.design.matching import match


def data(rows, treated, seed=1):
    rng = np.random.default_rng(seed)
    n = rows + treated
    X = rng.normal(size=(n, 12))
    X[:, 6:] = (X[:, 6:] > 0.3).astype(float)          # half binary, as the real covariates
    t = np.zeros(n, int)
    t[rng.choice(n, treated, replace=False)] = 1
    X[t == 1, :3] += 0.3
    df = pd.DataFrame(X, columns=[f"x{i}" for i in range(12)])
    df["treated"] = t
    df["index_month"] = rng.integers(0, 12, n)
    df["person"] = rng.integers(0, rows // 8, n)           # a person is a candidate in ~8 months
    return df


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--treated", type=int, default=150)
    ap.add_argument("--matchit", metavar="RLIB", help="time MatchIt from this R library as well")
    a = ap.parse_args()
    df = data(a.rows, a.treated)
    t0 = time.perf_counter()
    r = match(df, "treated", [f"x{i}" for i in range(12)], ratio=10, caliper=0.2,
              exact=["index_month"], unit_id="person")
    dt = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2
    s = r.summary().set_index("sample")
    print(f"rows={a.rows} treated={a.treated} matched_treated={s.loc['Matched', 'treated']} "
          f"matched_controls={s.loc['Matched', 'control']} time_s={dt:.2f} peak_rss_gib={peak:.2f}")
    if a.matchit:
        matchit(df, r, a.matchit)


R_CODE = """
suppressPackageStartupMessages(library(MatchIt))
d <- read.csv(commandArgs(TRUE)[1])
f <- reformulate(paste0("x", 0:11), "treated")
t <- system.time(m <- matchit(f, data = d, method = "nearest", distance = "glm", link = "linear.logit",
                              ratio = 10, caliper = 0.2, exact = ~index_month, unit.id = ~person,
                              m.order = "largest"))[["elapsed"]]
cat(sprintf("MatchIt %s time_s=%.2f\\n", packageVersion("MatchIt"), t))
write.csv(data.frame(w = sprintf("%.17g", m$weights)), commandArgs(TRUE)[2], row.names = FALSE)
"""


def matchit(df, r, rlib):
    with tempfile.TemporaryDirectory() as tmp:
        data, out, code = (os.path.join(tmp, x) for x in ("d.csv", "w.csv", "b.R"))
        df.to_csv(data, index=False, float_format="%.17g")
        with open(code, "w") as fh:
            fh.write(R_CODE)
        subprocess.run(["Rscript", code, data, out], check=True, env={**os.environ, "R_LIBS": rlib})
        w = pd.read_csv(out)["w"].to_numpy()
    same = np.abs(w - r.data["weights"].to_numpy()).max()
    print(f"max |weight difference| sibeval vs MatchIt: {same:.2e}")


if __name__ == "__main__":
    main()
