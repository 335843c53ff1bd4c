"""Participant vs control comparisons: shares, differences, CIs, exact and regression
p-values, the whole status distribution, hours and wages, and design diagnostics.

Every result is a frozen dataclass with the estimate, a 95 % CI, a p-value, the method
and the group sizes, and a ``to_frame()``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

# scipy.special's functions, as scipy.stats's norm.ppf and chi2.sf compute them (the same
# numbers): scipy.stats and statsmodels (1.2-2.5 s of imports) are imported only where a test
# or the power diagnostics need them, so the publish job recomputes the shares' tests without
# them (the design diagnostics of a main family whose group size is hidden still need them)
from scipy.special import chdtrc, ndtri

from sibeval.errors import SibevalError
from sibeval.inference.exact2x2 import exact_unconditional, fisher_pvalues
from sibeval.inference.multiplicity import holm
from sibeval.results import OneRow


def wilson_ci(x: float, n: float, alpha: float = 0.05) -> tuple[float, float]:
    """Wilson score interval for x successes of n."""
    if n <= 0:
        return (np.nan, np.nan)
    z = ndtri(1 - alpha / 2)
    p = x / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def newcombe_ci(x1, n1, x2, n2, alpha: float = 0.05) -> tuple[float, float]:
    """Newcombe's hybrid score interval (method 10) for p1 - p2."""
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson_ci(x1, n1, alpha)
    l2, u2 = wilson_ci(x2, n2, alpha)
    d = p1 - p2
    lo = d - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    hi = d + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return (lo, hi)


def risk_ratio(x1, n1, x2, n2, alpha: float = 0.05) -> tuple[float, float, float]:
    """Risk ratio with a log (Katz) CI; NaN when a group has no events."""
    if x1 == 0 or x2 == 0:
        return (np.nan, np.nan, np.nan)
    rr = (x1 / n1) / (x2 / n2)
    se = np.sqrt(1 / x1 - 1 / n1 + 1 / x2 - 1 / n2)
    z = ndtri(1 - alpha / 2)
    return (rr, rr * np.exp(-z * se), rr * np.exp(z * se))


def kish_n(weights) -> float:
    """Kish's effective sample size (sum w)^2 / sum w^2: the number of equally weighted
    persons that would give the weighted share the same variance."""
    w = np.asarray(weights, float)
    w = w[w > 0]
    return float(w.sum() ** 2 / np.sum(w * w)) if len(w) else 0.0


def exact_counts(share: float, n_eff: float) -> tuple[int, int]:
    """Whole counts for the exact tests: n = floor(n_eff) (rounded down, so unequal weights
    never claim more precision than they have; equal weights give the person count) and
    x = share * n rounded to the nearest whole number."""
    n = max(1, int(np.floor(n_eff + 1e-9)))
    return int(np.clip(np.round(share * n), 0, n)), n


def boschloo_p(x1, n1, x2, n2) -> float:
    """Two-sided Boschloo test (tables ordered by Fisher's p, see sibeval.inference.exact2x2)."""
    return exact_unconditional(int(x1), int(n1), int(x2), int(n2), "boschloo").p_value


def z_pooled_p(x1, n1, x2, n2) -> float:
    """Two-sided Suissa-Shuster exact unconditional test (pooled z ordering)."""
    return exact_unconditional(int(x1), int(n1), int(x2), int(n2), "z_pooled").p_value


def fisher_p(x1, n1, x2, n2) -> float:
    """Two-sided Fisher exact test (minimum likelihood, as R's fisher.test)."""
    return float(fisher_pvalues(int(n1), int(n2))[int(x1), int(x2)])


@dataclass(frozen=True)
class RegressionEstimate:
    """Weighted linear-probability estimate of the difference, cluster-robust SEs (CR1, as
    R's sandwich::vcovCL). Without covariates it is the weighted difference in shares;
    with the matching covariates it is MatchIt's recommended covariate-adjusted estimate."""

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float
    clusters: str
    n: int
    covariates: tuple = ()


def regression_difference(y, treated, weights, clusters, alpha: float = 0.05,
                          covariates=None, names=()) -> RegressionEstimate:
    """WLS of y on treatment (and `covariates`, an (n, k) array); SEs clustered by matched
    set (2-way with person if given a 2-column `clusters`). Covariates constant among the
    analysed persons are left out (they cannot be estimated)."""
    y = np.asarray(y, float)
    w = np.asarray(weights, float)
    keep = w > 0
    cols = [np.asarray(treated, float)]
    used = []
    if covariates is not None:
        cov = np.asarray(covariates, float).reshape(len(y), -1)
        names = list(names) or [f"x{j}" for j in range(cov.shape[1])]
        if np.isnan(cov[keep]).any():
            bad = [n for n, m in zip(names, np.isnan(cov[keep]).any(axis=0)) if m]
            raise SibevalError(f"regression_difference: covariate(s) {', '.join(bad)} have missing "
                               "values among analysed persons")
        for j, name in enumerate(names):
            if np.ptp(cov[keep, j]) > 0:
                cols.append(cov[:, j])
                used.append(name)
    from statsmodels.regression.linear_model import WLS  # here: 0.6 s to import, for this alone
    from statsmodels.tools.tools import add_constant

    X = add_constant(np.column_stack(cols), has_constant="add")
    groups = np.asarray(clusters)[keep]
    kind = "matched set and person" if groups.ndim == 2 else "matched set"
    if np.all(y[keep] == y[keep][0]):
        return RegressionEstimate(0.0, 0.0, 0.0, 0.0, 1.0, kind, int(keep.sum()), tuple(used))
    n = int(keep.sum())
    if n <= X.shape[1] or min(len(np.unique(g)) for g in groups.reshape(n, -1).T) < 2:
        # no residual degrees of freedom, or one cluster: the cluster-robust SE is not defined
        # (statsmodels divides by zero); a small subgroup gets no regression estimate
        nan = float("nan")
        return RegressionEstimate(nan, nan, nan, nan, nan, kind, n, tuple(used))
    t = np.asarray(treated, float)[keep] > 0
    if any(np.ptp(y[keep][m]) == 0 for m in (t, ~t)):
        # everyone in one group has the same outcome (no participant in education): that group
        # adds no variance, so the Wald SE rests on the other group alone and its p-value is far
        # too small (p = 4e-8 beside Boschloo's 0.02); the estimate stands, its SE is undefined
        est = float(WLS(y[keep], X[keep], weights=w[keep]).fit().params[1])
        nan = float("nan")
        return RegressionEstimate(est, nan, nan, nan, nan, kind, n, tuple(used))
    fit = WLS(y[keep], X[keep], weights=w[keep]).fit(cov_type="cluster", cov_kwds={"groups": groups})
    est, se = float(fit.params[1]), float(fit.bse[1])
    z = ndtri(1 - alpha / 2)
    p = float(fit.pvalues[1]) if se > 0 else 1.0
    return RegressionEstimate(est, se, est - z * se, est + z * se, p, kind, int(keep.sum()), tuple(used))


@dataclass(frozen=True)
class ProportionComparison(OneRow):
    """Participant vs control share of one outcome.

    `estimate` is the risk difference (participants - controls) with a Newcombe 95 % CI;
    `p_value` is the primary test's, `significant` compares it with `alpha`. The CI, the
    risk ratio and the exact tests use Kish's effective sample sizes (`n_eff_*`), which
    equal the person counts when every person in a group carries the same weight.
    """

    outcome: str
    n_participants: int
    n_controls: int
    x_participants: float
    x_controls: float          # weighted, on the scale of the control persons
    share_participants: float
    share_controls: float      # weighted
    estimate: float
    ci_low: float
    ci_high: float
    risk_ratio: float
    rr_ci_low: float
    rr_ci_high: float
    p_boschloo: float
    p_fisher: float
    regression_estimate: float
    regression_se: float
    p_regression: float
    primary_test: str
    p_value: float
    significant: bool
    alpha: float
    method: str
    p_adjusted: float = np.nan      # see adjust_family; `significant` uses it when set
    adjustment: str = "none"
    n_eff_participants: float = np.nan
    n_eff_controls: float = np.nan
    p_z_pooled: float = np.nan
    adjusted_estimate: float = np.nan      # covariate-adjusted (MatchIt's recommended)
    adjusted_se: float = np.nan
    adjusted_ci_low: float = np.nan
    adjusted_ci_high: float = np.nan
    p_adjusted_regression: float = np.nan
    adjusted_for: str = ""


def adjust_family(results, members, alpha: float = 0.05, method: str = "holm"):
    """Holm-adjust the primary p-values of the results whose outcome is in `members`
    (an exploratory family, e.g. the eight statuses); the others are pre-specified and
    keep their p-value. `significant` then compares the adjusted p-value with alpha."""
    from dataclasses import replace

    if method != "holm":
        raise ValueError(f"adjust_family: method={method!r} is not supported; the one allowed: 'holm'")
    fam = [r for r in results if r.outcome in members]
    adj = dict(zip([r.outcome for r in fam], holm([r.p_value for r in fam]))) if fam else {}
    out = []
    for r in results:
        if r.outcome in adj:
            p = float(adj[r.outcome])
            out.append(replace(r, p_adjusted=p, adjustment=f"{method} over {len(fam)} statuses",
                               significant=bool(p < alpha)))
        else:
            out.append(replace(r, p_adjusted=r.p_value, adjustment="none (pre-specified)"))
    return out


PRIMARY_TESTS = ("boschloo", "z_pooled", "fisher", "regression")


def compare_shares(outcome: str, y, treated, weights, clusters, primary_test="boschloo",
                   alpha: float = 0.05, covariates=None, covariate_names=()) -> ProportionComparison:
    """Compare a 0/1 outcome between participants (treated=1) and weighted controls.

    Precision comes from Kish's effective sample sizes: the Newcombe CI and the Katz risk
    ratio CI use x = share * n_eff; the exact tests use whole counts (see exact_counts).
    With `covariates` (matching covariates, one row per person) the covariate-adjusted
    regression estimate is reported beside the unadjusted one."""
    if primary_test not in PRIMARY_TESTS:
        raise SibevalError(f"compare_shares: unknown primary_test '{primary_test}' "
                           f"(one of {', '.join(PRIMARY_TESTS)})")
    y = np.asarray(y, float)
    t = np.asarray(treated).astype(bool)
    w = np.asarray(weights, float)
    if np.isnan(y[w > 0]).any():
        raise SibevalError(f"compare_shares: outcome '{outcome}' has missing values among analysed persons")
    tw, cw = t & (w > 0), ~t & (w > 0)
    n1, n2 = int(tw.sum()), int(cw.sum())
    if n1 == 0 or n2 == 0:
        raise SibevalError(f"compare_shares: '{outcome}' needs both groups (participants {n1}, controls {n2})")
    p1 = float(np.sum(y[tw] * w[tw]) / np.sum(w[tw]))
    p2 = float(np.sum(y[cw] * w[cw]) / np.sum(w[cw]))
    ne1, ne2 = kish_n(w[tw]), kish_n(w[cw])
    lo, hi = newcombe_ci(p1 * ne1, ne1, p2 * ne2, ne2, alpha)
    rr = risk_ratio(p1 * ne1, ne1, p2 * ne2, ne2, alpha)
    (k1, m1), (k2, m2) = exact_counts(p1, ne1), exact_counts(p2, ne2)
    pb, pf, pz = boschloo_p(k1, m1, k2, m2), fisher_p(k1, m1, k2, m2), z_pooled_p(k1, m1, k2, m2)
    reg = regression_difference(y, t, w, clusters, alpha)
    adj = (regression_difference(y, t, w, clusters, alpha, covariates, covariate_names)
           if covariates is not None else None)
    test = primary_test if primary_test != "regression" or np.isfinite(reg.p_value) else "boschloo"
    primary = {"boschloo": pb, "z_pooled": pz, "fisher": pf, "regression": reg.p_value}[test]
    # one text whatever the weights: "on effective sizes" only where they differ would say
    # whether a subgroup lost a control
    method = ("Newcombe hybrid score CI; two-sided Boschloo (Fisher-p ordering), Suissa-Shuster "
              "z-pooled and Fisher exact tests on Kish effective sizes (n_eff; the counts when weights are equal)"
              + f"; WLS with cluster-robust SE by {reg.clusters}"
              + ("" if np.isfinite(reg.se) else " (no SE where a group has one outcome value for all)"))
    extra = {}
    if adj is not None:
        extra = dict(adjusted_estimate=adj.estimate, adjusted_se=adj.se, adjusted_ci_low=adj.ci_low,
                     adjusted_ci_high=adj.ci_high, p_adjusted_regression=adj.p_value,
                     adjusted_for=", ".join(adj.covariates))
    return ProportionComparison(
        outcome=outcome, n_participants=n1, n_controls=n2, x_participants=p1 * n1, x_controls=p2 * n2,
        share_participants=p1, share_controls=p2, estimate=p1 - p2, ci_low=lo, ci_high=hi,
        risk_ratio=rr[0], rr_ci_low=rr[1], rr_ci_high=rr[2], p_boschloo=pb, p_fisher=pf,
        regression_estimate=reg.estimate, regression_se=reg.se, p_regression=reg.p_value,
        primary_test=test, p_value=primary, significant=bool(primary < alpha),
        alpha=alpha, method=method, n_eff_participants=ne1, n_eff_controls=ne2, p_z_pooled=pz,
        **extra)


def compare_published(outcome: str, p1: float, ne1: float, p2: float, ne2: float, primary_test="boschloo",
                      alpha: float = 0.05) -> ProportionComparison:
    """The comparison of two shares from published numbers only: each group's share as printed
    and an effective size the reader can compute (for a group whose count is hidden, one that
    follows from published numbers, see sibeval.publish.outcomes.Coarse). The CI, risk ratio and exact tests are those
    of compare_shares; the regression estimates, which need the persons, are left out (NaN),
    and a regression primary test falls back to Boschloo's."""
    lo, hi = newcombe_ci(p1 * ne1, ne1, p2 * ne2, ne2, alpha)
    rr = risk_ratio(p1 * ne1, ne1, p2 * ne2, ne2, alpha)
    (k1, m1), (k2, m2) = exact_counts(p1, ne1), exact_counts(p2, ne2)
    pb, pf, pz = boschloo_p(k1, m1, k2, m2), fisher_p(k1, m1, k2, m2), z_pooled_p(k1, m1, k2, m2)
    test = primary_test if primary_test != "regression" else "boschloo"
    primary = {"boschloo": pb, "z_pooled": pz, "fisher": pf}[test]
    return ProportionComparison(
        outcome=outcome, n_participants=m1, n_controls=m2, x_participants=p1 * ne1, x_controls=p2 * ne2,
        share_participants=p1, share_controls=p2, estimate=p1 - p2, ci_low=lo, ci_high=hi,
        risk_ratio=rr[0], rr_ci_low=rr[1], rr_ci_high=rr[2], p_boschloo=pb, p_fisher=pf,
        regression_estimate=np.nan, regression_se=np.nan, p_regression=np.nan, primary_test=test,
        p_value=primary, significant=bool(primary < alpha), alpha=alpha,
        method="Newcombe hybrid score CI and exact tests from the published shares",
        n_eff_participants=ne1, n_eff_controls=ne2, p_z_pooled=pz)


@dataclass(frozen=True)
class DistributionTest(OneRow):
    """Participants vs controls across all statuses: Pearson chi-square with a seeded
    Monte Carlo p-value (margins fixed, as R's chisq.test(simulate.p.value=TRUE))."""

    statistic: float
    df: int
    p_value: float
    p_asymptotic: float
    reps: int
    seed: int
    n_participants: int
    n_controls: int
    method: str = "Pearson chi-square, Monte Carlo p-value with fixed margins"


def _chi2(table):
    rows, cols = table.sum(axis=-1, keepdims=True), table.sum(axis=-2, keepdims=True)
    exp = rows * cols / table.sum(axis=(-2, -1), keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.nansum(np.where(exp > 0, (table - exp) ** 2 / exp, 0.0), axis=(-2, -1))


def status_distribution_test(status, treated, reps=20000, seed=20221101) -> DistributionTest:
    """Chi-square test of the status distribution, participants vs controls."""
    s = pd.Series(status).astype(str)
    t = np.asarray(treated).astype(bool)
    cats = sorted(s.unique())
    table = np.array([[np.sum((s == c) & t), np.sum((s == c) & ~t)] for c in cats], dtype=float).T
    keep = table.sum(axis=0) > 0
    table = table[:, keep]
    obs = float(_chi2(table))
    totals = table.sum(axis=0).astype(np.int64)
    rng = np.random.default_rng(seed)
    sim_t = rng.multivariate_hypergeometric(totals, int(table[0].sum()), size=reps).astype(float)
    sims = np.stack([sim_t, totals - sim_t], axis=1)
    stat = _chi2(sims)
    p = float((1 + np.sum(stat >= obs - 1e-9)) / (reps + 1))
    df = int(table.shape[1] - 1)
    # chi2.sf's value: NaN without a degree of freedom (one status), as scipy.stats gives
    p_asymptotic = float(chdtrc(df, obs)) if df > 0 else float("nan")
    return DistributionTest(obs, df, p, p_asymptotic, reps, seed,
                            int(table[0].sum()), int(table[1].sum()))


@dataclass(frozen=True)
class MeanComparison(OneRow):
    """Mean of a continuous outcome, participants vs controls (Welch t; Mann-Whitney)."""

    variable: str
    n_participants: int
    n_controls: int
    mean_participants: float
    mean_controls: float
    estimate: float
    ci_low: float
    ci_high: float
    p_welch: float
    p_mannwhitney: float
    p_value: float
    significant: bool
    method: str = "Welch t-test (CI of the difference); Mann-Whitney U alongside"


def compare_means(variable, x_participants, x_controls, alpha=0.05) -> MeanComparison:
    a = np.asarray(x_participants, float)
    b = np.asarray(x_controls, float)
    if len(a) < 2 or len(b) < 2:
        return MeanComparison(variable, len(a), len(b), float(np.mean(a)) if len(a) else np.nan,
                              float(np.mean(b)) if len(b) else np.nan, np.nan, np.nan, np.nan,
                              np.nan, np.nan, np.nan, False)
    from scipy import stats

    tt = stats.ttest_ind(a, b, equal_var=False)
    ci = tt.confidence_interval(1 - alpha)
    mw = stats.mannwhitneyu(a, b, alternative="two-sided")
    return MeanComparison(variable, len(a), len(b), float(a.mean()), float(b.mean()),
                          float(a.mean() - b.mean()), float(ci.low), float(ci.high),
                          float(tt.pvalue), float(mw.pvalue), float(tt.pvalue), bool(tt.pvalue < alpha))


@dataclass(frozen=True)
class DesignDiagnostics(OneRow):
    """Power diagnostics in the style of the UK Justice Data Lab for one outcome."""

    outcome: str
    n_participants: int
    n_controls: int
    share_controls: float
    observed_difference: float
    minimum_detectable_difference: float
    participants_needed: float
    power: float
    alpha: float
    warnings: str


def design_diagnostics(c: ProportionComparison, power=0.8, alpha=0.05) -> DesignDiagnostics:
    """MDE at the current (Kish effective) sizes; participants needed to detect the observed
    difference (same control ratio); warnings where normal approximations are unreliable."""
    n1 = c.n_eff_participants if np.isfinite(c.n_eff_participants) else c.n_participants
    n2 = c.n_eff_controls if np.isfinite(c.n_eff_controls) else c.n_controls
    ratio = n2 / n1
    pc = c.share_controls
    from statsmodels.stats.power import NormalIndPower
    from statsmodels.stats.proportion import proportion_effectsize

    analysis = NormalIndPower()
    # minimum detectable difference above the control share (Cohen's h inverted)
    h = analysis.solve_power(effect_size=None, nobs1=n1, alpha=alpha, power=power, ratio=ratio)
    pt = np.sin(np.arcsin(np.sqrt(pc)) + h / 2) ** 2
    mde = float(min(1.0, pt) - pc)
    needed = np.nan
    if c.estimate != 0 and 0 < c.share_participants < 1:
        es = abs(proportion_effectsize(c.share_participants, pc))
        if es > 0:
            needed = float(np.ceil(analysis.solve_power(effect_size=es, alpha=alpha, power=power, ratio=ratio)))
    warn = []
    if c.n_participants < 30:
        warn.append("fewer than 30 participants")
    if c.n_controls < 30:
        warn.append("fewer than 30 controls")
    if c.x_participants < 10:
        warn.append("fewer than 10 participants with the outcome")
    if c.x_controls < 10:
        warn.append("fewer than 10 controls with the outcome (weighted)")
    return DesignDiagnostics(c.outcome, c.n_participants, c.n_controls, pc, c.estimate, mde,
                             needed, power, alpha, "; ".join(warn))


def results_frame(results) -> pd.DataFrame:
    """Stack the frames of several results."""
    return pd.concat([r.to_frame() for r in results], ignore_index=True)
