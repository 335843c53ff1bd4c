"""Inference against published and R values (R 4.x: fisher.test, t.test, wilcox.test)."""

import numpy as np
import pytest

from sibeval.inference.comparisons import (
    boschloo_p,
    compare_means,
    compare_shares,
    design_diagnostics,
    exact_counts,
    fisher_p,
    kish_n,
    newcombe_ci,
    status_distribution_test,
    wilson_ci,
)
from sibeval.inference.effects import outcome_effects
from sibeval.inference.exact2x2 import exact_unconditional


def test_newcombe_matches_the_published_example():
    # Newcombe (1998), Stat Med 17:873, example (a): 56/70 vs 48/80 -> 0.0524 to 0.3339
    lo, hi = newcombe_ci(56, 70, 48, 80)
    assert lo == pytest.approx(0.0524, abs=5e-5) and hi == pytest.approx(0.3339, abs=5e-5)


def test_newcombe_with_a_zero_cell():
    # Newcombe (1998) example (g): 0/10 vs 0/20 -> -0.1611 to 0.2775
    lo, hi = newcombe_ci(0, 10, 0, 20)
    assert lo == pytest.approx(-0.1611, abs=5e-5) and hi == pytest.approx(0.2775, abs=5e-5)


def test_wilson_matches_statsmodels():
    from statsmodels.stats.proportion import proportion_confint
    assert wilson_ci(15, 55) == pytest.approx(proportion_confint(15, 55, method="wilson"))


def test_fisher_equals_r():
    # R: fisher.test(matrix(c(19,36,86,440),2))$p.value
    assert fisher_p(19, 55, 86, 526) == pytest.approx(0.00257165305756343, rel=1e-9)
    # zero cell: fisher.test(matrix(c(0,55,5,521),2)) gives 1
    assert fisher_p(0, 55, 5, 526) == pytest.approx(1.0)


def test_boschloo_is_the_two_sided_fisher_ordered_test_and_at_most_fisher():
    p = boschloo_p(19, 55, 86, 526)
    assert p == exact_unconditional(19, 55, 86, 526, "boschloo").p_value
    assert p <= fisher_p(19, 55, 86, 526)


def test_kish_effective_size():
    assert kish_n(np.ones(7)) == pytest.approx(7)
    assert kish_n([1, 1, 2, 2]) == pytest.approx(36 / 10)
    assert kish_n([0, 0, 3]) == pytest.approx(1)
    assert exact_counts(0.5, 7.0) == (4, 7) and exact_counts(0.2, 9.99) == (2, 9)


def _unequal_design(seed=3):
    """55 participants; controls in sets of 1 to 10 (a caliper leaves sets short), so the
    control weights 1/k differ."""
    rng = np.random.default_rng(seed)
    y, t, w, sets = [], [], [], []
    for s in range(55):
        k = 1 if s < 20 else 10
        y += [rng.random() < 0.3] + list(rng.random(k) < 0.15)
        t += [1] + [0] * k
        w += [1.0] + [1.0 / k] * k
        sets += [s] * (k + 1)
    w = np.array(w)
    t = np.array(t)
    w[t == 0] *= (t == 0).sum() / w[t == 0].sum()
    return np.array(y, float), t, w, np.array(sets)


def test_unequal_weights_use_kish_sizes_in_ci_and_tests():
    y, t, w, sets = _unequal_design()
    r = compare_shares("x", y, t, w, sets)
    ne = kish_n(w[t == 0])
    assert r.n_controls == 370 and r.n_eff_controls == pytest.approx(ne) and ne < 0.5 * r.n_controls
    assert r.n_eff_participants == pytest.approx(55)
    lo, hi = newcombe_ci(r.share_participants * 55, 55, r.share_controls * ne, ne)
    assert (r.ci_low, r.ci_high) == pytest.approx((lo, hi))
    naive = newcombe_ci(r.x_participants, 55, r.x_controls, r.n_controls)
    assert r.ci_high - r.ci_low > naive[1] - naive[0]            # honest: wider than person counts
    k2, m2 = exact_counts(r.share_controls, ne)
    assert r.p_fisher == pytest.approx(fisher_p(round(r.x_participants), 55, k2, m2))
    assert r.p_boschloo == pytest.approx(boschloo_p(round(r.x_participants), 55, k2, m2))
    assert "Kish" in r.method


def test_equal_weights_give_the_person_counts():
    y = np.r_[np.ones(19), np.zeros(36), np.ones(86), np.zeros(440)]
    t = np.r_[np.ones(55), np.zeros(526)]
    r = compare_shares("x", y, t, np.ones(581), np.arange(581))
    assert r.n_eff_controls == pytest.approx(526) and r.p_fisher == pytest.approx(0.00257165305756343, rel=1e-9)
    assert (r.ci_low, r.ci_high) == pytest.approx(newcombe_ci(19, 55, 86, 526))


def test_covariate_adjusted_estimate_equals_a_hand_cr1_sandwich():
    # CR1 as R's sandwich::vcovCL(type = "HC1"): G/(G-1) * (N-1)/(N-K) * bread meat bread
    y, t, w, sets = _unequal_design(7)
    rng = np.random.default_rng(8)
    x = np.column_stack([rng.normal(size=len(y)), rng.random(len(y)) < 0.4, np.ones(len(y))])
    r = compare_shares("x", y, t, w, sets, covariates=x, covariate_names=("age", "female", "const_cov"))
    X = np.column_stack([np.ones(len(y)), t, x[:, :2]])
    W = w
    bread = np.linalg.inv(X.T @ (W[:, None] * X))
    beta = bread @ X.T @ (W * y)
    e = y - X @ beta
    meat = np.zeros((4, 4))
    for g in np.unique(sets):
        s = (X[sets == g] * (W[sets == g] * e[sets == g])[:, None]).sum(axis=0)
        meat += np.outer(s, s)
    G, N, K = len(np.unique(sets)), len(y), 4
    V = G / (G - 1) * (N - 1) / (N - K) * bread @ meat @ bread
    assert r.adjusted_estimate == pytest.approx(beta[1], rel=1e-10)
    assert r.adjusted_se == pytest.approx(np.sqrt(V[1, 1]), rel=1e-8)
    assert r.adjusted_for == "age, female"                 # the constant column is left out
    assert r.regression_estimate == pytest.approx(r.estimate)   # unadjusted = weighted difference


def test_compare_shares_zero_of_55():
    y = np.r_[np.zeros(55), np.ones(5), np.zeros(95)]
    t = np.r_[np.ones(55), np.zeros(100)]
    r = compare_shares("x", y, t, np.ones(155), np.arange(155))
    assert r.share_participants == 0 and r.share_controls == 0.05
    assert np.isnan(r.risk_ratio) and r.ci_low < r.estimate < r.ci_high
    assert not r.significant and r.to_frame().shape[0] == 1


def test_weighted_case_regression_equals_weighted_difference():
    # 2 sets: treated 1 with 1 control (y=1), treated 0 with 3 controls (y=0,0,1)
    y = np.array([1, 1, 0, 0, 0, 1.0])
    t = np.array([1, 0, 1, 0, 0, 0])
    sets = np.array([1, 1, 2, 2, 2, 2])
    w = np.array([1, 1, 1, 1 / 3, 1 / 3, 1 / 3])
    w[t == 0] *= 4 / w[t == 0].sum()
    r = compare_shares("x", y, t, w, sets, primary_test="regression")
    pc = np.average(y[t == 0], weights=w[t == 0])
    assert pc == pytest.approx(2 / 3)
    assert r.share_controls == pytest.approx(pc)
    assert r.regression_estimate == pytest.approx(0.5 - pc)
    assert r.p_value == r.p_regression


def test_welch_and_mann_whitney_equal_r():
    r = compare_means("timer", [1, 2, 3, 4, 10], [2, 2, 3, 3, 3, 4])
    assert r.p_welch == pytest.approx(0.506306314982614, rel=1e-9)
    r2 = compare_means("timer", [1, 2, 3, 4, 10], [2.5, 2.2, 3.1, 3.3, 3.4, 4.1])
    assert r2.p_mannwhitney == pytest.approx(0.792207792207792, rel=1e-9)


def test_distribution_test_is_seeded_and_agrees_with_chi_square():
    rng = np.random.default_rng(0)
    status = rng.choice(list("abcd"), 400)
    t = rng.random(400) < 0.2
    a = status_distribution_test(status, t, reps=5000, seed=3)
    b = status_distribution_test(status, t, reps=5000, seed=3)
    assert a == b
    assert abs(a.p_value - a.p_asymptotic) < 0.05


def test_design_diagnostics_power_and_warnings():
    y = np.r_[np.ones(5), np.zeros(20), np.ones(20), np.zeros(180)]
    t = np.r_[np.ones(25), np.zeros(200)]
    r = compare_shares("x", y, t, np.ones(225), np.arange(225))
    d = design_diagnostics(r)
    assert "fewer than 30 participants" in d.warnings and "fewer than 10 participants" in d.warnings
    assert 0.15 < d.minimum_detectable_difference < 0.35
    assert d.participants_needed > 25            # the observed 10 points needs more


def test_outcome_effects_on_a_matched_frame():
    import pandas as pd

    from sibeval.outcomes.status import OUTCOMES
    rng = np.random.default_rng(1)
    rows = []
    for s in range(40):
        rows.append({"pnr": f"t{s}", "role": "participant", "subclass": s, "weight": 1.0,
                     "status": "self_supporting_wage" if s % 3 == 0 else "temporary_benefit"})
        for j in range(3):
            rows.append({"pnr": f"c{s}_{j}", "role": "control", "subclass": s, "weight": 1.0,
                         "status": "self_supporting_wage" if rng.random() < 0.1 else "temporary_benefit"})
    from sibeval.outcomes.status import add_headlines
    df = add_headlines(pd.DataFrame(rows))
    res = outcome_effects(df, "boschloo", 0.05)
    assert [r.outcome for r in res] == list(OUTCOMES)
    emp = res[-1]
    assert emp.n_participants == 40 and emp.n_controls == 120


def test_statuses_are_holm_adjusted_headlines_are_not():
    from sibeval.inference.comparisons import adjust_family
    rng = np.random.default_rng(2)
    t = np.r_[np.ones(50), np.zeros(300)]
    res = [compare_shares(o, (rng.random(350) < 0.3).astype(float), t, np.ones(350), np.arange(350))
           for o in ("a", "b", "c", "headline")]
    adj = {r.outcome: r for r in adjust_family(res, {"a", "b", "c"})}
    ps = sorted(r.p_value for r in res[:3])
    assert adj["a"].p_adjusted >= adj["a"].p_value and "holm over 3" in adj["a"].adjustment
    assert min(r.p_adjusted for r in adj.values() if r.outcome != "headline") == pytest.approx(min(1, 3 * ps[0]))
    assert adj["headline"].p_adjusted == adj["headline"].p_value
    assert adj["headline"].adjustment.startswith("none")


def test_regression_without_residual_degrees_of_freedom_gives_no_estimate():
    """A small subgroup with as many covariates as persons (or a single matched set) has no
    cluster-robust SE; statsmodels would divide by zero (found on a generated extract)."""
    import math

    from sibeval.inference.comparisons import regression_difference
    y, t, w = [1, 0, 1, 0], [1, 1, 0, 0], [1.0, 1.0, 1.0, 1.0]
    cov = np.array([[1, 0], [0, 1], [1, 1], [0, 0]], float)
    r = regression_difference(y, t, w, [1, 2, 1, 2], covariates=cov, names=["a", "b"])
    assert math.isnan(r.estimate) and math.isnan(r.p_value) and r.n == 4
    one = regression_difference(y, t, w, [7, 7, 7, 7])
    assert math.isnan(one.se)
    ok = regression_difference([1, 0, 1, 0, 0, 1], [1, 1, 1, 0, 0, 0], [1.0] * 6, [1, 2, 3, 1, 2, 3])
    assert not math.isnan(ok.se)


def test_no_regression_p_value_when_a_group_has_one_outcome_value_for_all():
    """#23: with no participant in education (0 of 55) the cluster-robust Wald SE rests on the
    controls alone: SIB printed p (regression) = 4e-8 beside Boschloo's 0.02, which reads as
    a highly significant effect. The estimate stands; its SE, CI and p are undefined, and a
    regression primary test falls back to Boschloo."""
    rng = np.random.default_rng(3)
    y = np.r_[np.zeros(55), (rng.random(550) < 0.08).astype(float)]
    t = np.r_[np.ones(55), np.zeros(550)]
    sets = np.r_[np.arange(55), np.repeat(np.arange(55), 10)]
    r = compare_shares("education", y, t, np.ones(605), sets, primary_test="regression")
    assert r.regression_estimate == pytest.approx(-y[55:].mean())
    assert np.isnan(r.regression_se) and np.isnan(r.p_regression)
    assert r.primary_test == "boschloo" and r.p_value == r.p_boschloo and r.p_boschloo > 1e-4
    both = compare_shares("education", np.r_[y[:54], [1.0], y[55:]], t, np.ones(605), sets)
    assert np.isfinite(both.p_regression)          # one participant with the outcome: defined again


def _p_value_families(rng, count):
    """Generated families of p-values: ties, zeros, ones, NaN, tiny and near-one values,
    products above 1 (capped); of 0 to 12 members, and every tenth of 17 to 300 (numpy's
    sort then reorders ties)."""
    for i in range(count):
        n = int(rng.integers(17, 301)) if i % 10 == 0 else int(rng.integers(0, 13))
        kind = rng.integers(0, 4)
        p = rng.uniform(size=n) if kind == 0 else rng.choice(
            [0.0, -0.0, 1e-12, 0.001, 0.01, 0.0125, 0.05, 0.2, 0.5, 0.99, 1.0], size=n)
        if kind == 2 and n:
            p[rng.integers(0, n, 1 + n // 20)] = np.nan
        if kind == 3:
            p = p ** 8
        yield p


def _bits(a) -> np.ndarray:
    return np.asarray(a, dtype=np.float64).view(np.int64)


def test_holm_gives_statsmodels_numbers_bit_for_bit(monkeypatch):
    from statsmodels.stats.multitest import multipletests

    monkeypatch.setattr("gc.collect", lambda *a: 0)     # multipletests collects at every call

    from sibeval.inference.comparisons import adjust_family
    from sibeval.inference.multiplicity import holm

    rng = np.random.default_rng(20261207)
    ties = 0
    for p in _p_value_families(rng, 2000):
        got, want = holm(p), multipletests(p, method="holm")[1]
        assert got.dtype == np.float64 and np.array_equal(_bits(got), _bits(want)), (p, got, want)
        ties += len(p) > 1 and len(set(p.tolist())) < len(p)
    assert ties > 100          # families with ties were among them
    assert holm([0.01, 0.04, 0.03]).tolist() == pytest.approx([0.03, 0.06, 0.06])
    with pytest.raises(ValueError, match="one-dimensional"):
        holm([[0.1, 0.2]])
    with pytest.raises(ValueError, match="method='fdr_bh'.*'holm'"):
        adjust_family([], [], method="fdr_bh")


def test_the_special_functions_are_the_distributions_numbers_bit_for_bit():
    """comparisons and exact2x2 call scipy.special's functions where scipy.stats's methods
    call them: the same bits over the ranges they are used on, and at their edges."""
    from scipy import stats
    from scipy.special import chdtrc, ndtri

    from sibeval.inference.comparisons import status_distribution_test
    from sibeval.inference.exact2x2 import _binomial

    q = np.r_[np.linspace(0.5, 1 - 1e-12, 5001), 0.975, 0.995, 1 - 0.05 / 16, 0.0, 1.0]
    assert np.array_equal(_bits(ndtri(q)), _bits(stats.norm.ppf(q)))
    assert np.isnan(ndtri(np.nan)) and np.isnan(stats.norm.ppf(np.nan))
    x = np.r_[np.linspace(0, 200, 4001), np.inf]
    for df in range(1, 20):
        assert np.array_equal(_bits(chdtrc(df, x)), _bits(stats.chi2.sf(x, df)))
    one = status_distribution_test(["a"] * 30, [True] * 10 + [False] * 20, reps=99)
    assert one.df == 0 and np.isnan(one.p_asymptotic) and np.isnan(stats.chi2.sf(one.statistic, 0))
    pi = np.r_[np.linspace(0.0, 1.0, 401), np.random.default_rng(3).uniform(size=200), 1e-20, 1e-300, 1 - 1e-16]
    for n in (0, 1, 2, 7, 40, 150, 543, 1000, 1200):
        want = stats.binom.pmf(np.arange(n + 1)[:, None], n, pi[None, :])
        assert np.array_equal(_bits(_binomial(n, pi)), _bits(want)), n
