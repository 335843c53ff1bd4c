"""match(): argument errors, exact strata, unit reuse, weighting, the unmatched baseline."""

import numpy as np
import pandas as pd
import pytest

from sibeval.design.balance import balance_before_after, balance_table
from sibeval.design.matching import match
from sibeval.errors import SibevalError


@pytest.fixture
def data():
    rng = np.random.default_rng(5)
    n = 600
    x1 = rng.normal(size=n)
    x2 = (rng.random(n) < 0.4).astype(float)
    t = (rng.random(n) < 1 / (1 + np.exp(-(-2.5 + 0.8 * x1 + 0.5 * x2)))).astype(int)
    return pd.DataFrame({"t": t, "x1": x1, "x2": x2, "month": rng.integers(0, 3, n),
                         "person": rng.integers(0, 400, n)})


@pytest.mark.parametrize("kw,needle", [
    ({"method": "optimal"}, "method='optimal'"),
    ({"m_order": "random"}, "m_order='random'"),
    ({"ratio": 0}, "ratio=0"),
    ({"caliper": -1}, "caliper=-1"),
    ({"distance": "mahalanobis"}, "distance='mahalanobis'"),
    ({"estimand": "ATE"}, "estimand='ATE'"),
])
def test_errors_name_argument_value_and_allowed(data, kw, needle):
    with pytest.raises(SibevalError, match=needle.replace("(", r"\(")):
        match(data, "t", ["x1", "x2"], **kw)


def test_missing_column_and_bad_treatment(data):
    with pytest.raises(SibevalError, match="x9"):
        match(data, "t", ["x1", "x9"])
    with pytest.raises(SibevalError, match="treatment='x1'"):
        match(data, "x1", ["x2"])


def test_exact_strata_are_respected(data):
    r = match(data, "t", ["x1", "x2"], ratio=2, exact=["month"])
    p = r.matched_pairs().merge(r.data[["month"]], left_on="row", right_index=True)
    assert (p.groupby("subclass")["month"].nunique() == 1).all()


def test_unit_used_once_across_rows(data):
    r = match(data, "t", ["x1", "x2"], ratio=3, unit_id="person")
    ctrl = r.matched_data()
    ctrl = ctrl[ctrl.t == 0]
    assert ctrl["person"].is_unique


def test_unmatched_participants_are_reported_not_dropped(data):
    r = match(data, "t", ["x1", "x2"], caliper=0.001)
    un = r.unmatched_treated()
    s = r.summary().set_index("sample")
    assert len(un) > 0 and s.loc["Unmatched", "treated"] == len(un)
    assert s.loc["All", "treated"] == data.t.sum()


def test_weighting_and_baseline(data):
    w = match(data, "t", ["x1", "x2"], method="weighting")
    c = w.data[w.data.t == 0]
    assert np.isclose(c.weights.sum(), len(c))
    assert (w.data.loc[w.data.t == 1, "weights"] == 1).all()
    base = match(data, "t", ["x1", "x2"], method=None)
    assert (base.data.weights == 1).all()
    b = balance_before_after(w)
    assert b.loc[b.covariate == "x1", "smd_after"].abs().item() < b.loc[b.covariate == "x1", "smd_before"].abs().item()


def test_balance_smd_by_hand():
    d = pd.DataFrame({"t": [1, 1, 1, 0, 0, 0, 0], "x": [1.0, 2, 3, 1, 1, 2, 2]})
    b = balance_table(d, "t", ["x"]).iloc[0]
    assert b.smd == pytest.approx((2 - 1.5) / 1.0)       # treated SD = 1
    assert b.variance_ratio == pytest.approx(1.0 / (1 / 3))
    assert b.ecdf_max == pytest.approx(1 / 3)             # at x=2: 2/3 vs 4/4


def test_squares_of_the_non_binary_covariates_join_the_model_not_the_balance_table():
    from sibeval.design.matching import with_squares
    rng = np.random.default_rng(5)
    n = 2000
    age = rng.integers(25, 65, n).astype(float)
    # participation rises and falls with age: a logit linear in age cannot follow it
    eta = -1 - 0.02 * (age - 45) ** 2
    p = 1 / (1 + np.exp(-eta))
    d = pd.DataFrame({"age": age, "female": rng.integers(0, 2, n).astype(float),
                      "treated": (rng.random(n) < p).astype(int)})
    data, model_covs = with_squares(d, ["age", "female"])
    assert model_covs == ["age", "female", "age_squared"]
    assert np.allclose(data["age_squared"], (age - age.mean()) ** 2) and "female_squared" not in data
    r = match(data, "treated", model_covs, ratio=2, caliper=0.2)
    lin = match(d, "treated", ["age", "female"], ratio=2, caliper=0.2)
    assert r.model.names == ("const", "age", "female", "age_squared")
    b = balance_before_after(r, covariates=["age", "female"])
    assert list(b["covariate"]) == ["age", "female", "distance"]
    # the score with the square separates participants from the others; the linear one cannot
    assert np.corrcoef(r.data["distance"], eta)[0, 1] > 0.95 > abs(np.corrcoef(lin.data["distance"], eta)[0, 1])
