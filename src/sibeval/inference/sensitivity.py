"""Sensitivity of a matched comparison to unmeasured confounding.

* E-value (VanderWeele & Ding 2017, Ann Intern Med 167:268): the minimum strength of
  association, on the risk-ratio scale, that an unmeasured confounder would need with both
  participation and the outcome to explain away an observed risk ratio RR:
  E = RR + sqrt(RR * (RR - 1)) for RR >= 1 (use 1/RR below 1); for the CI, the same formula
  at the limit closest to 1, or 1 when the CI includes 1.
* Rosenbaum bounds for matched sets with one participant, k_s controls and a binary
  outcome (Rosenbaum 2002, Observational Studies, sec. 4.4.5): the test statistic is the
  number of participants with the outcome. If hidden bias changes the odds of
  participation within a set by at most Gamma, the chance that the participant is one of the
  m_s persons with the outcome among the n_s = k_s + 1 persons of set s is at most
  Gamma m_s / (Gamma m_s + n_s - m_s); the worst-case p-value is the exact upper tail of the
  sum of these independent Bernoulli variables. The critical Gamma is the smallest Gamma at
  which that worst-case one-sided p-value reaches alpha / 2 (the one-sided half of the
  two-sided level used for the headline tests).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize

from sibeval.errors import SibevalError
from sibeval.results import OneRow


def e_value(rr: float) -> float:
    """E-value of a risk ratio (NaN when the ratio is undefined)."""
    if rr is None or not np.isfinite(rr) or rr <= 0:
        return np.nan
    r = rr if rr >= 1 else 1 / rr
    return float(r + np.sqrt(r * (r - 1)))


def e_value_ci(rr: float, lo: float, hi: float) -> float:
    """E-value of the CI limit closest to 1 (1 when the CI includes 1)."""
    if not all(v is not None and np.isfinite(v) and v > 0 for v in (rr, lo, hi)):
        return np.nan
    if lo <= 1 <= hi:
        return 1.0
    return e_value(lo if rr > 1 else hi)


def _poisson_binomial_sf(probs: np.ndarray, t: int) -> float:
    """P(sum of independent Bernoulli(probs) >= t), exact by convolution."""
    dist = np.zeros(len(probs) + 1)
    dist[0] = 1.0
    for i, p in enumerate(probs):
        dist[1:i + 2] = dist[1:i + 2] * (1 - p) + dist[:i + 1] * p
        dist[0] *= 1 - p
    return float(min(1.0, dist[t:].sum()))


def matched_sets(y, treated, sets) -> tuple[np.ndarray, np.ndarray, int]:
    """Per matched set: persons n_s, persons with the outcome m_s; and the participants
    with the outcome. Every set must hold exactly one participant and at least one control."""
    d = pd.DataFrame({"y": np.asarray(y, float), "t": np.asarray(treated).astype(bool), "s": np.asarray(sets)})
    if d["y"].isna().any():
        raise SibevalError("rosenbaum: the outcome has missing values among analysed persons")
    g = d.groupby("s")
    n_t, n = g["t"].sum(), g.size()
    bad = int(((n_t != 1) | (n < 2)).sum())
    if bad:
        raise SibevalError(f"rosenbaum: {bad} matched set(s) do not hold exactly one participant and "
                           "at least one control; pass the analysed persons of whole matched sets")
    return n.to_numpy(), g["y"].sum().to_numpy().astype(int), int(d.loc[d["t"], "y"].sum())


def rosenbaum_p(n: np.ndarray, m: np.ndarray, t_obs: int, gamma: float, upper: bool = True) -> float:
    """Worst-case one-sided p-value at hidden bias `gamma` (upper: an excess of participants
    with the outcome; lower: a deficit, by symmetry on the outcome without)."""
    if not upper:
        return rosenbaum_p(n, n - m, int(len(n) - t_obs), gamma, True)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.where(m == 0, 0.0, gamma * m / (gamma * m + n - m))
    return _poisson_binomial_sf(p, t_obs)


def critical_gamma(n, m, t_obs: int, alpha: float, upper: bool = True, gamma_max: float = 100.0) -> float:
    """Smallest Gamma >= 1 at which the worst-case one-sided p-value reaches alpha / 2:
    1 when the effect is not significant without hidden bias, inf beyond gamma_max."""
    target = alpha / 2

    def f(log_g):
        return rosenbaum_p(n, m, t_obs, float(np.exp(log_g)), upper) - target

    if f(0.0) >= 0:
        return 1.0
    if f(np.log(gamma_max)) < 0:
        return np.inf
    return float(np.exp(optimize.brentq(f, 0.0, np.log(gamma_max), xtol=1e-10)))


@dataclass(frozen=True)
class Sensitivity(OneRow):
    """E-values and the Rosenbaum critical Gamma of one outcome."""

    outcome: str
    risk_ratio: float
    rr_ci_low: float
    rr_ci_high: float
    e_value: float
    e_value_ci: float
    p_rosenbaum: float          # randomisation p-value (Gamma = 1), one-sided in the observed direction
    gamma_critical: float
    matched_sets: int
    alpha: float
    method: str = ("E-value (VanderWeele & Ding 2017) of the risk ratio and of its CI limit closest "
                   "to 1; Rosenbaum bound for matched sets with a binary outcome: smallest hidden "
                   "bias Gamma at which the worst-case one-sided p-value reaches alpha/2")


def sensitivity(outcome: str, y, treated, sets, rr: float, rr_lo: float, rr_hi: float,
                alpha: float = 0.05) -> Sensitivity:
    """Sensitivity of one outcome's matched comparison (persons of whole matched sets)."""
    n, m, t_obs = matched_sets(y, treated, sets)
    upper = not (np.isfinite(rr) and rr < 1)
    p1 = rosenbaum_p(n, m, t_obs, 1.0, upper)
    return Sensitivity(outcome, rr, rr_lo, rr_hi, e_value(rr), e_value_ci(rr, rr_lo, rr_hi), p1,
                       critical_gamma(n, m, t_obs, alpha, upper), len(n), alpha)
