"""Exact unconditional tests against published R values and an independent brute force.

Reference values (sample 1 = x1 of n1, sample 2 = x2 of n2):
* two-sided z-pooled (Suissa-Shuster / Barnard, pooled): R package Barnard,
  ``barnard.test(n11, n12, n21, n22, dp=1e-6, pooled=TRUE)``, as published in SciPy's test
  suite (scipy/stats/tests/test_hypotests.py, TestBarnardExact.test_precise);
* one-sided Boschloo: R package Exact, ``exact.test(data, method="Boschloo",
  alternative=..., np.interval=TRUE, beta=1e-8)``, same file, TestBoschlooExact.
The two-sided Boschloo test uses the same supremum with the two-sided Fisher ordering; it is
checked against a direct enumeration with scipy's fisher_exact and a dense grid of pi.
"""

import numpy as np
import pytest
from scipy import stats

from sibeval.errors import SibevalError
from sibeval.inference.exact2x2 import exact_unconditional, fisher_pvalues

# (x1, n1, x2, n2, p) from barnard.test(n11, n12, n21, n22) with columns as samples
BARNARD_POOLED = [
    (43, 53, 40, 79, 0.000362832367),
    (100, 1100, 2, 7, 0.135126970878),
    (2, 10, 7, 9, 0.019210815430),
    (5, 15, 1, 11, 0.156277546306),
    (5, 25, 15, 35, 0.066363501421),
    (5, 25, 16, 41, 0.116984852192),
    (10, 20, 5, 6, 0.177536588915),
    (5, 6, 0, 4, 0.013671875000),
    (0, 3, 1, 3, 0.509667991877),
    (0, 6, 2, 6, 0.197019618792),
]

# (x1, n1, x2, n2, alternative, p) from Exact::exact.test(method="Boschloo")
EXACT_BOSCHLOO_ONE_SIDED = [
    (2, 10, 7, 9, "less", 0.009886142),
    (5, 25, 16, 41, "less", 0.05827348),
    (10, 20, 5, 6, "less", 0.08565611),
    (7, 15, 12, 15, "less", 0.03410916),
    (10, 35, 24, 61, "less", 0.1512882),
    (43, 53, 40, 79, "greater", 0.0001615562),
    (5, 15, 1, 11, "greater", 0.09008534),
    (5, 6, 0, 4, "greater", 0.006865367),
    (7, 15, 12, 15, "greater", 0.9771215),
]


@pytest.mark.parametrize("x1,n1,x2,n2,p", BARNARD_POOLED)
def test_z_pooled_equals_r_barnard(x1, n1, x2, n2, p):
    assert exact_unconditional(x1, n1, x2, n2, "z_pooled").p_value == pytest.approx(p, abs=1e-9)


@pytest.mark.parametrize("x1,n1,x2,n2,alt,p", EXACT_BOSCHLOO_ONE_SIDED)
def test_one_sided_boschloo_equals_r_exact(x1, n1, x2, n2, alt, p):
    assert exact_unconditional(x1, n1, x2, n2, "boschloo", alt).p_value == pytest.approx(p, abs=1e-7)


def test_fisher_matrix_equals_scipy_fisher_exact():
    f = fisher_pvalues(55, 550)
    for x1, x2 in [(19, 86), (15, 65), (0, 0), (55, 550), (3, 40), (10, 90), (0, 30)]:
        ref = stats.fisher_exact([[x1, 55 - x1], [x2, 550 - x2]])[1]
        assert f[x1, x2] == pytest.approx(ref, rel=1e-9, abs=1e-15)


def _brute_force_boschloo(x1, n1, x2, n2):
    """Enumerate every table with scipy's Fisher p and maximise on a fine grid."""
    fp = np.array([[stats.fisher_exact([[a, n1 - a], [b, n2 - b]])[1] for b in range(n2 + 1)]
                   for a in range(n1 + 1)])
    tail = fp <= fp[x1, x2] * (1 + 1e-7)
    pi = np.linspace(0, 1, 20001)
    b1 = stats.binom.pmf(np.arange(n1 + 1)[:, None], n1, pi)
    b2 = stats.binom.pmf(np.arange(n2 + 1)[:, None], n2, pi)
    return float(np.max(np.sum(b1 * (tail.astype(float) @ b2), axis=0)))


@pytest.mark.parametrize("x1,n1,x2,n2", [(2, 10, 7, 9), (7, 15, 12, 15), (5, 12, 1, 30), (9, 11, 8, 40)])
def test_two_sided_boschloo_equals_brute_force(x1, n1, x2, n2):
    p = exact_unconditional(x1, n1, x2, n2).p_value
    assert p == pytest.approx(_brute_force_boschloo(x1, n1, x2, n2), abs=1e-6)


def test_two_sided_boschloo_is_never_above_fisher_unlike_scipys():
    rng = np.random.default_rng(5)
    above_scipy = 0
    for _ in range(40):
        x1, x2 = rng.binomial(30, 0.3), rng.binomial(90, 0.2)
        f = stats.fisher_exact([[x1, 30 - x1], [x2, 90 - x2]])[1]
        p = exact_unconditional(x1, 30, x2, 90).p_value
        assert p <= f + 1e-12
        above_scipy += stats.boschloo_exact([[x1, x2], [30 - x1, 90 - x2]], n=64).pvalue > f + 1e-12
    assert above_scipy > 0      # the doubled one-sided p-value is not Boschloo's ordering


def test_sib_design_is_fast_and_stronger_than_fisher():
    r = exact_unconditional(19, 55, 86, 526)
    assert r.p_value < r.statistic          # statistic = Fisher's two-sided p
    assert r.statistic == pytest.approx(0.00257165305756343, rel=1e-9)   # R fisher.test


def test_bad_counts_are_named():
    with pytest.raises(SibevalError, match="0 <= x <= n"):
        exact_unconditional(6, 5, 1, 10)
    with pytest.raises(SibevalError, match="unknown exact test"):
        exact_unconditional(1, 5, 1, 10, "wald")
