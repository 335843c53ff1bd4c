"""Exact unconditional tests for two independent binomials (x1 of n1 vs x2 of n2).

Under H0: p1 = p2 = pi, the p-value of an ordering T is

    p = sup over pi in [0, 1] of P_pi(tables at least as extreme as the observed one),

the probability summed over all (n1 + 1) x (n2 + 1) tables with binomial probabilities.
Two orderings:

* ``boschloo``: tables ordered by their two-sided Fisher p-value (the "minlike" p-value of
  R's fisher.test; smaller = more extreme). Every table with Fisher p <= the observed one
  belongs to the tail. As the tail always contains Fisher's own rejection set, the p-value
  is never above Fisher's (Boschloo 1970), so the test is uniformly at least as powerful.
  This is the two-sided Boschloo test of R's Exact package (tsmethod "square") and StatXact;
  scipy's ``boschloo_exact`` instead doubles the smaller one-sided p-value, which can exceed
  Fisher's p.
* ``z_pooled``: tables ordered by the squared pooled z statistic (Suissa & Shuster 1985;
  Barnard's test with the pooled statistic).

The supremum is taken on a grid of pi, refined around every local maximum of the grid with
a bounded Brent search (as R Exact's ``ref.pvalue``); the p-value is a polynomial in pi.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import optimize
from scipy.special import gammaln

try:        # Boost's binomial pmf, which scipy.stats.binom.pmf calls (scipy.stats: 1.2 s of imports)
    from scipy.special._ufuncs import _binom_pmf
except ImportError:                     # pragma: no cover - a scipy without it
    def _binom_pmf(k, n, p):
        from scipy import stats
        return stats.binom.pmf(k, n, p)

from sibeval.errors import SibevalError
from sibeval.results import OneRow

METHODS = ("boschloo", "z_pooled")
# R's fisher.test and Exact treat p-values/statistics equal within this relative error as ties
REL_TIE = 1e-7
GRID = 400
PEAK_SHARE = 0.98


def _log_choose(n, k):
    return gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1)


@lru_cache(maxsize=32)
def fisher_pvalues(n1: int, n2: int, alternative: str = "two-sided") -> np.ndarray:
    """Fisher's exact p-value of every table, shape (n1 + 1, n2 + 1), entry [x1, x2].

    Two-sided: the minimum-likelihood p-value (sum of the conditional probabilities not
    above the observed one, relative tolerance 1e-7, as R). "greater": P(X1 >= x1 | s),
    "less": P(X1 <= x1 | s), X1 hypergeometric given the total s = x1 + x2."""
    x1 = np.arange(n1 + 1)[:, None]
    x2 = np.arange(n2 + 1)[None, :]
    s = x1 + x2
    logp = _log_choose(n1, x1) + _log_choose(n2, x2) - _log_choose(n1 + n2, s)
    out = np.empty((n1 + 1, n2 + 1))
    for total in range(n1 + n2 + 1):
        a = np.arange(max(0, total - n2), min(n1, total) + 1)
        b = total - a
        pmf = np.exp(logp[a, b])
        pmf /= pmf.sum()
        if alternative == "two-sided":
            order = np.argsort(pmf, kind="stable")
            csum = np.cumsum(pmf[order])
            # index of the last sorted probability <= pmf * (1 + tol)
            idx = np.searchsorted(pmf[order], pmf * (1 + REL_TIE), side="right") - 1
            p = csum[idx]
        elif alternative == "greater":
            p = np.cumsum(pmf[::-1])[::-1]
        elif alternative == "less":
            p = np.cumsum(pmf)
        else:
            raise SibevalError(f"unknown alternative '{alternative}' (two-sided, less, greater)")
        out[a, b] = np.minimum(p, 1.0)
    return out


def _z_pooled_sq(n1: int, n2: int) -> np.ndarray:
    x1 = np.arange(n1 + 1)[:, None] / n1
    x2 = np.arange(n2 + 1)[None, :] / n2
    p = (x1 * n1 + x2 * n2) / (n1 + n2)
    var = p * (1 - p) * (1 / n1 + 1 / n2)
    with np.errstate(divide="ignore", invalid="ignore"):
        z2 = np.where(var > 0, (x1 - x2) ** 2 / var, 0.0)
    return z2


def _tail(x1: int, n1: int, x2: int, n2: int, method: str, alternative: str) -> np.ndarray:
    """Boolean mask of the tables at least as extreme as (x1, x2)."""
    if method == "boschloo":
        f = fisher_pvalues(n1, n2, alternative)
        return f <= f[x1, x2] * (1 + REL_TIE)
    if method == "z_pooled":
        if alternative != "two-sided":
            raise SibevalError("the z-pooled test is implemented two-sided only")
        z2 = _z_pooled_sq(n1, n2)
        return z2 >= z2[x1, x2] * (1 - REL_TIE)
    raise SibevalError(f"unknown exact test '{method}' (one of {', '.join(METHODS)})")


def _binomial(n: int, pi: np.ndarray) -> np.ndarray:
    """P(X = i) for X ~ Bin(n, pi) at every pi, shape (n + 1, len(pi))."""
    # clipped to [0, 1] as binom.pmf clips it (Boost gives 1 + 5e-15 at n = 1000, pi = 1e-20)
    return np.clip(_binom_pmf(np.arange(n + 1)[:, None], n, pi[None, :]), 0.0, 1.0)


def _mask_probability(mask: np.ndarray, b1: np.ndarray, b2: np.ndarray) -> np.ndarray:
    """At each pi, the probability of the tables in `mask` from each group's binomials."""
    return np.einsum("ig,ig->g", b1, mask.astype(float) @ b2)


def _tail_probability(mask: np.ndarray, n1: int, n2: int, pi: np.ndarray) -> np.ndarray:
    return _mask_probability(mask, _binomial(n1, pi), _binomial(n2, pi))


@lru_cache(maxsize=8)
def _binomial_on_grid(n: int, grid: int) -> np.ndarray:
    """`_binomial` at every pi of the grid: the same for every table of a group size (the
    outcomes, months and placebo tests of a cohort), computed once."""
    out = _binomial(n, np.linspace(0.0, 1.0, grid + 1))
    out.flags.writeable = False
    return out


def _sup(mask: np.ndarray, n1: int, n2: int, grid: int) -> tuple[float, float]:
    """Supremum over pi of the tail probability and where it is attained."""
    pi = np.linspace(0.0, 1.0, grid + 1)
    f = _mask_probability(mask, _binomial_on_grid(n1, grid), _binomial_on_grid(n2, grid))
    best_p, best_pi = float(f.max()), float(pi[f.argmax()])
    if best_p >= 1 - 1e-12:
        return 1.0, best_pi
    # a polynomial of this degree moves little between grid points: only local maxima
    # close to the grid maximum can hold the supremum
    peaks = [i for i in range(1, grid) if f[i] >= f[i - 1] and f[i] >= f[i + 1]
             and f[i] >= PEAK_SHARE * best_p]
    for i in peaks:
        res = optimize.minimize_scalar(
            lambda q: -_tail_probability(mask, n1, n2, np.array([q]))[0],
            bounds=(pi[i - 1], pi[i + 1]), method="bounded", options={"xatol": 1e-10})
        if -res.fun > best_p:
            best_p, best_pi = float(-res.fun), float(res.x)
    return min(best_p, 1.0), best_pi


@lru_cache(maxsize=4096)
def _sup_cached(x1, n1, x2, n2, method, alternative, grid):
    return _sup(_tail(x1, n1, x2, n2, method, alternative), n1, n2, grid)


@dataclass(frozen=True)
class ExactTest(OneRow):
    """Result of an exact unconditional test of p1 = p2."""

    method: str
    alternative: str
    x1: int
    n1: int
    x2: int
    n2: int
    statistic: float        # Fisher p-value (boschloo) or pooled z (z_pooled) of the table
    p_value: float
    nuisance: float         # the pi at which the supremum is attained


def exact_unconditional(x1: int, n1: int, x2: int, n2: int, method: str = "boschloo",
                        alternative: str = "two-sided", grid: int = GRID) -> ExactTest:
    """Exact unconditional test of x1/n1 vs x2/n2 (see the module docstring).

    `alternative` "less" (p1 < p2) and "greater" order Boschloo's tables by the one-sided
    Fisher p-value; they exist to check the computation against published one-sided values."""
    x1, n1, x2, n2 = int(x1), int(n1), int(x2), int(n2)
    if n1 < 1 or n2 < 1 or not (0 <= x1 <= n1 and 0 <= x2 <= n2):
        raise SibevalError(f"exact test needs 0 <= x <= n and n >= 1 (got {x1}/{n1} vs {x2}/{n2})")
    p, pi = _sup_cached(x1, n1, x2, n2, method, alternative, grid)
    if method == "boschloo":
        stat = float(fisher_pvalues(n1, n2, alternative)[x1, x2])
    else:
        z2 = _z_pooled_sq(n1, n2)[x1, x2]
        stat = float(np.sign(x1 / n1 - x2 / n2) * np.sqrt(z2))
    return ExactTest(method, alternative, x1, n1, x2, n2, stat, p, pi)

