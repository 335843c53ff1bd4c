"""E-values against the published example; Rosenbaum bounds against the paired case."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sibeval.errors import SibevalError
from sibeval.inference.comparisons import compare_shares
from sibeval.inference.effects import sensitivity_table
from sibeval.inference.sensitivity import (
    critical_gamma,
    e_value,
    e_value_ci,
    matched_sets,
    rosenbaum_p,
    sensitivity,
)


def test_e_value_published_example():
    # VanderWeele & Ding (2017), Ann Intern Med 167:268: RR 3.9 (95 % CI 1.8 to 8.7)
    # gives E-values 7.26 for the estimate and 3.0 for the lower limit
    assert e_value(3.9) == pytest.approx(7.26, abs=0.005)
    assert e_value_ci(3.9, 1.8, 8.7) == pytest.approx(3.0, abs=0.005)
    assert e_value(1 / 3.9) == pytest.approx(e_value(3.9))          # protective: use 1/RR
    assert e_value_ci(1.3, 0.9, 1.8) == 1.0 and np.isnan(e_value(np.nan))


def _pairs(n_pairs, t_only, c_only, both):
    """1:1 pairs: t_only pairs where only the participant has the outcome, c_only where only
    the control has it, both where both have it."""
    y, t, s = [], [], []
    kinds = [(1, 0)] * t_only + [(0, 1)] * c_only + [(1, 1)] * both
    kinds += [(0, 0)] * (n_pairs - len(kinds))
    for i, (a, b) in enumerate(kinds):
        y += [a, b]
        t += [1, 0]
        s += [i, i]
    return np.array(y, float), np.array(t), np.array(s)


def test_rosenbaum_pairs_reduce_to_the_binomial_of_discordant_pairs():
    # Rosenbaum (2002, sec. 4.3): with pairs, the worst case is Binomial(D, Gamma/(1+Gamma))
    y, t, s = _pairs(60, 15, 4, 6)
    n, m, t_obs = matched_sets(y, t, s)
    for g in (1.0, 1.5, 2.5):
        ref = stats.binom.sf(15 - 1, 19, g / (1 + g))
        assert rosenbaum_p(n, m, t_obs, g) == pytest.approx(ref, rel=1e-10)
    g = critical_gamma(n, m, t_obs, 0.05)
    assert stats.binom.sf(14, 19, g / (1 + g)) == pytest.approx(0.025, rel=1e-6)
    assert critical_gamma(*matched_sets(*_pairs(60, 5, 4, 6)), 0.05) == 1.0   # not significant


def test_sensitivity_of_k_to_1_sets_grows_with_the_effect():
    rng = np.random.default_rng(4)
    out = []
    for pt in (0.3, 0.45):
        y, t, s = [], [], []
        for i in range(55):
            y += [rng.random() < pt] + list(rng.random(10) < 0.15)
            t += [1] + [0] * 10
            s += [i] * 11
        r = sensitivity("x", y, t, s, 2.0, 1.4, 3.0)
        out.append(r.gamma_critical)
        assert r.p_rosenbaum < 0.025 and r.matched_sets == 55 and r.e_value == pytest.approx(2 + np.sqrt(2))
    assert 1 < out[0] < out[1]


def test_sets_without_a_participant_are_refused():
    with pytest.raises(SibevalError, match="exactly one participant"):
        matched_sets([1, 0, 0], [0, 0, 1], [1, 1, 2])


def test_sensitivity_table_of_the_headlines():
    y, t, s = _pairs(60, 15, 4, 6)
    df = pd.DataFrame({"ordinary_employment": y, "role": np.where(t == 1, "participant", "control"),
                       "subclass": s, "weight": 1.0})
    r = compare_shares("ordinary_employment", y, t, np.ones(len(y)), s)
    tab = sensitivity_table(df, [r], 0.05)
    assert list(tab["outcome"]) == ["ordinary_employment"]
    assert tab.loc[0, "e_value"] == pytest.approx(e_value(r.risk_ratio)) and tab.loc[0, "gamma_critical"] > 1
