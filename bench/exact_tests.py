"""Size and power of the two-sided tests at the SIB design (55 participants vs 550 controls,
control share 0.16): Fisher, scipy's Boschloo (twice the smaller one-sided p), sibeval's
Boschloo (tables ordered by the two-sided Fisher p) and the z-pooled test.

Part 1 is exact: each test rejects a fixed set of tables; its probability is summed over all
56 x 551 tables (no Monte Carlo error). Sibeval's Boschloo p-value is non-decreasing in the
Fisher p-value (the tails are nested), so its rejection set is {Fisher p <= c*}, with c* the
largest level whose tail has supremum probability <= alpha; likewise for the others.
Part 2 is a seeded Monte Carlo with the real functions (sibeval.inference.exact2x2 and
scipy.stats.boschloo_exact) confirming part 1.

    PYTHONPATH=src python bench/exact_tests.py [--reps 400]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy import stats

from sibeval.inference.exact2x2 import _sup, _z_pooled_sq, exact_unconditional, fisher_pvalues

N1, N2, P0, ALPHA = 55, 550, 0.16, 0.05
EFFECTS = (0.0, -0.08, 0.10, 0.15, 0.20)      # participants' share minus the controls'


def _largest_level(values, alpha, larger_is_extreme=False):
    """Largest cut c with sup_pi P(tables beyond c) <= alpha (bisection on the sorted values)."""
    u = np.unique(values)
    if larger_is_extreme:
        u = u[::-1]
    lo, hi = -1, len(u) - 1                    # u[lo] admissible (lo = -1: nothing), u[hi] unknown
    while lo < hi:
        mid = (lo + hi + 1) // 2
        mask = values >= u[mid] if larger_is_extreme else values <= u[mid]
        if _sup(mask, N1, N2, 400)[0] <= alpha:
            lo = mid
        else:
            hi = mid - 1
    if lo < 0:
        return np.zeros_like(values, bool)
    return values >= u[lo] if larger_is_extreme else values <= u[lo]


def rejection_sets():
    f2 = fisher_pvalues(N1, N2)
    return {
        "Fisher": f2 <= ALPHA,
        "scipy Boschloo (2 x one-sided)": _largest_level(fisher_pvalues(N1, N2, "less"), ALPHA / 2)
        | _largest_level(fisher_pvalues(N1, N2, "greater"), ALPHA / 2),
        "sibeval Boschloo (two-sided Fisher ordering)": _largest_level(f2, ALPHA),
        "z-pooled (Suissa-Shuster)": _largest_level(_z_pooled_sq(N1, N2), ALPHA, larger_is_extreme=True),
    }


def rejection_probability(mask, p1, p2):
    b1 = stats.binom.pmf(np.arange(N1 + 1), N1, p1)
    b2 = stats.binom.pmf(np.arange(N2 + 1), N2, p2)
    return float(b1 @ mask.astype(float) @ b2)


def monte_carlo(reps, seed=20221101):
    rng = np.random.default_rng(seed)
    out = {}
    for d in EFFECTS:
        x1 = rng.binomial(N1, P0 + d, reps)
        x2 = rng.binomial(N2, P0, reps)
        f = [stats.fisher_exact([[a, N1 - a], [b, N2 - b]])[1] for a, b in zip(x1, x2)]
        sp = [stats.boschloo_exact([[a, b], [N1 - a, N2 - b]], n=32).pvalue for a, b in zip(x1, x2)]
        bo = [exact_unconditional(a, N1, b, N2).p_value for a, b in zip(x1, x2)]
        out[d] = {"Fisher": np.mean(np.array(f) < ALPHA), "scipy": np.mean(np.array(sp) < ALPHA),
                  "sibeval": np.mean(np.array(bo) < ALPHA),
                  "scipy p > Fisher p": np.mean(np.array(sp) > np.array(f) + 1e-12),
                  "sibeval p > Fisher p": np.mean(np.array(bo) > np.array(f) + 1e-12)}
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=400)
    args = ap.parse_args()
    t0 = time.time()
    sets = rejection_sets()
    pis = np.linspace(0.01, 0.99, 99)
    print(f"Exact rejection probabilities, {N1} vs {N2}, control share {P0}, alpha {ALPHA}")
    heads = ["size at 0.16" if d == 0 else f"power {100 * d:+.0f} pp" for d in EFFECTS]
    print("| test | max size over pi | " + " | ".join(heads) + " |")
    print("|---|" + "---:|" * (len(heads) + 1))
    for name, mask in sets.items():
        size_max = max(rejection_probability(mask, p, p) for p in pis)
        cells = [rejection_probability(mask, P0 + d, P0) for d in EFFECTS]
        print(f"| {name} | {100 * size_max:.2f} % | " + " | ".join(f"{100 * c:.2f} %" for c in cells) + " |")
    print(f"({time.time() - t0:.0f} s)")
    t0 = time.time()
    mc = monte_carlo(args.reps)
    print(f"\nMonte Carlo with the real functions, {args.reps} tables per row, seed 20221101")
    print("| difference | Fisher | scipy Boschloo | sibeval Boschloo | scipy p > Fisher p | sibeval p > Fisher p |")
    print("|---:|---:|---:|---:|---:|---:|")
    for d, r in mc.items():
        print(f"| {100 * d:+.0f} pp | " + " | ".join(f"{100 * v:.1f} %" for v in r.values()) + " |")
    print(f"({time.time() - t0:.0f} s)")


if __name__ == "__main__":
    main()
