"""The propensity fit converges wherever a standard GLM does, and names the covariate
when the logit truly has no finite estimate (perfect or quasi-perfect separation)."""

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from sibeval.design.matching import match, propensity_model, with_squares
from sibeval.errors import SibevalError


def heavy_tailed(seed, n=10_150, n_treated=150):
    """One lognormal covariate (and, with squares, its centred square): plain Newton
    from the intercept-only start overshot and stopped with 'Singular matrix' on 26 of
    these 40 seeds (0, 1, 2 and 39 among them); R's glm converges in about 7 iterations."""
    rng = np.random.default_rng(seed)
    x = rng.lognormal(0.0, 1.5, n)
    score = 0.5 * np.log(x) + rng.gumbel(size=n)
    t = np.zeros(n, int)
    t[np.argsort(-score)[:n_treated]] = 1
    return with_squares(pd.DataFrame({"x": x, "t": t}), ["x"])


@pytest.mark.parametrize("seed", [0, 1, 2, 31, 39])
def test_heavy_tailed_square_converges_and_equals_glm(seed):
    d, covs = heavy_tailed(seed)
    fit = propensity_model(d, "t", covs)
    glm = sm.GLM(d["t"], sm.add_constant(d[covs]), family=sm.families.Binomial()).fit(tol=1e-14)
    np.testing.assert_allclose(fit.params, glm.params.to_numpy(), rtol=1e-8, atol=1e-10)
    assert fit.iterations < 30


def test_binary_covariate_constant_among_participants_is_named():
    rng = np.random.default_rng(3)
    n = 2000
    df = pd.DataFrame({"age": rng.integers(20, 60, n).astype(float),
                       "female": (rng.random(n) < 0.5).astype(float), "t": 0})
    idx = rng.choice(np.flatnonzero(df["female"] == 0), 12, replace=False)
    df.loc[idx, "t"] = 1                                   # every participant a man
    with pytest.raises(SibevalError, match=r"\['female'\].*drop them from covariates"):
        propensity_model(df, "t", ["age", "female"])
    with pytest.raises(SibevalError, match=r"\['female'\]"):
        match(df, "t", ["age", "female"], ratio=2)


def test_continuous_covariate_with_its_square_constant_among_participants_is_named():
    rng = np.random.default_rng(4)
    df = pd.DataFrame({"age": rng.integers(20, 60, 3000).astype(float), "t": 0})
    df.loc[np.flatnonzero(df["age"] == 30)[:8], "t"] = 1
    d, covs = with_squares(df, ["age"])
    with pytest.raises(SibevalError, match=r"\['age'\]"):
        propensity_model(d, "t", covs)
    propensity_model(df, "t", ["age"])   # linear only: controls on both sides, a finite fit


def test_no_false_separation_message_on_overlapping_data():
    rng = np.random.default_rng(9)
    n = 5000
    x = rng.normal(size=n)
    t = (rng.random(n) < 1 / (1 + np.exp(-(-3 + 1.5 * x)))).astype(int)
    fit = propensity_model(pd.DataFrame({"x": x, "t": t}), "t", ["x"])
    ref = sm.Logit(t, sm.add_constant(x)).fit(disp=0)
    np.testing.assert_allclose(fit.params, ref.params, rtol=1e-8)


def test_mahalanobis_ties_in_exact_arithmetic_stay_ties():
    """Controls at ages a - 1 and a + 1 (same other covariate) are equally far from a
    participant at a: their distances must be bit-identical, so MatchIt's order decides
    between them on every machine, not the last bit of a transformed coordinate (on the
    transformed coordinates 95 of 118 such pairs differed in the last bit)."""
    from sibeval.design.matching import _mah_d2, _mahalanobis_space

    rng = np.random.default_rng(11)
    pairs = 0
    for _ in range(20):
        n = 400
        X = np.column_stack([rng.integers(18, 65, n), rng.integers(0, 2, n)]).astype(float)
        treat = rng.random(n) < 0.1
        M = _mahalanobis_space(X, treat)
        for t in np.flatnonzero(treat)[:10]:
            a, e = X[t]
            lo = np.flatnonzero((X[:, 0] == a - 1) & (X[:, 1] == e))
            hi = np.flatnonzero((X[:, 0] == a + 1) & (X[:, 1] == e))
            if len(lo) and len(hi):
                d = _mah_d2(M, t, np.array([lo[0], hi[0]]))
                assert d[0] == d[1]
                pairs += 1
    assert pairs > 50


def test_separation_by_a_combination_of_covariates_is_not_a_fit():
    """No single covariate separates, their sum does: the fit must not report convergence
    after the separated rows' weights vanished."""
    rng = np.random.default_rng(21)
    n = 3000
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    s = x1 + x2
    df = pd.DataFrame({"x1": x1, "x2": x2, "t": (s > 1.5).astype(int)})
    df = df[(s > 1.7) | (s < 1.3)]                       # a gap: complete separation
    with pytest.raises(SibevalError, match="did not converge.*predict participation perfectly"):
        propensity_model(df, "t", ["x1", "x2"])


def test_exact_on_constant_is_the_limit_of_the_logit():
    from sibeval.design.matching import exact_on_constant

    rng = np.random.default_rng(5)
    n = 2000
    df = pd.DataFrame({"age": rng.integers(25, 64, n).astype(float),
                       "psych": (rng.random(n) < 0.2).astype(float), "t": 0})
    df.loc[rng.choice(np.flatnonzero(df["psych"] == 0), 15, replace=False), "t"] = 1
    data, covs, dropped = exact_on_constant(df, "t", ["age", "psych"])
    assert covs == ["age"] and dropped["psych"][0] == 0
    assert dropped["psych"][1] == int((df["psych"] == 1).sum())
    assert (data["psych"] == 0).all() and data["t"].sum() == 15
    m = match(data, "t", covs, ratio=3)
    assert m.matched_data()["psych"].eq(0).all()
