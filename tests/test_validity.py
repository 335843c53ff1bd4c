"""Seeded Monte Carlo checks of the primary test and the CI at a small matched design.

Synthetic matched sets (no register data): 40 participants; controls either in sets of 3
(equal weights) or, as when a caliper leaves sets short, 30 sets with 1 control and 10 sets
with 10 (control weights 1 and 1/10: Kish's effective size 52 of 130 persons). Outcomes
are independent Bernoulli draws. With 300 replications the Monte Carlo standard error of a
5 % rejection rate is 1.3 points and of a 95 % coverage 1.3 points; the bounds below allow
two of them. Counting the 130 unequally weighted controls as 130 persons (the former
method) covers the true difference in 91-92 % of these replications, so the coverage
bound would fail.
"""

import numpy as np
import pytest

from sibeval.inference.comparisons import compare_shares

REPS = 300
MC_SE = np.sqrt(0.05 * 0.95 / REPS)


def _design(sizes):
    t, w, s = [], [], []
    for i, k in enumerate(sizes):
        t += [1] + [0] * k
        w += [1.0] + [1.0 / k] * k
        s += [i] * (k + 1)
    t, w = np.array(t), np.array(w)
    w[t == 0] *= (t == 0).sum() / w[t == 0].sum()
    return t, w, np.array(s)


DESIGNS = {
    "equal": _design([3] * 40),
    "unequal": _design([1] * 30 + [10] * 10),
}


def _simulate(design, p_participants, p_controls, seed):
    t, w, s = DESIGNS[design]
    rng = np.random.default_rng(seed)
    p = np.where(t == 1, p_participants, p_controls)
    reject = cover = 0
    for _ in range(REPS):
        y = (rng.random(len(t)) < p).astype(float)
        r = compare_shares("y", y, t, w, s)
        reject += r.p_value < 0.05
        cover += r.ci_low <= p_participants - p_controls <= r.ci_high
    return reject / REPS, cover / REPS


@pytest.mark.parametrize("design", ["equal", "unequal"])
def test_size_and_coverage_under_the_null(design):
    size, coverage = _simulate(design, 0.2, 0.2, seed=11)
    assert size <= 0.05 + 2 * MC_SE, size
    assert coverage >= 0.93, coverage


@pytest.mark.parametrize("design", ["equal", "unequal"])
def test_coverage_and_power_under_an_effect(design):
    power, coverage = _simulate(design, 0.45, 0.2, seed=12)
    assert coverage >= 0.93, coverage
    assert power > 0.6, power          # the test does detect a 25-point effect at this size
