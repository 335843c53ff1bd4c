"""The propensity fit on the heavy-tailed case of issue #20, 40 seeds.

    python bench/propensity_fit.py [--seeds 40]

10,150 rows, 150 participants chosen on a lognormal covariate, the covariate and its
centred square in the model (the default `squares: true`). Prints how many fits converge
and the largest difference from statsmodels' GLM (IRLS) over the seeds.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import statsmodels.api as sm

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))


def main(argv=None) -> int:
    from sibeval.design.matching import propensity_model
    from sibeval.errors import SibevalError
    from test_propensity_fit import heavy_tailed

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=40)
    a = ap.parse_args(argv)
    ok, worst, iters = 0, 0.0, []
    for seed in range(a.seeds):
        d, covs = heavy_tailed(seed)
        try:
            fit = propensity_model(d, "t", covs)
        except SibevalError as exc:
            print(f"seed {seed}: {exc}")
            continue
        glm = sm.GLM(d["t"], sm.add_constant(d[covs]), family=sm.families.Binomial()).fit(tol=1e-14)
        rel = np.max(np.abs(fit.params - glm.params.to_numpy()) / np.maximum(np.abs(glm.params.to_numpy()), 1e-12))
        worst = max(worst, float(rel))
        iters.append(fit.iterations)
        ok += 1
    print(f"converged {ok} of {a.seeds}; largest relative difference from statsmodels' GLM {worst:.1e}; "
          f"Newton iterations {min(iters)}-{max(iters)}")
    return 0 if ok == a.seeds else 1


if __name__ == "__main__":
    sys.exit(main())
