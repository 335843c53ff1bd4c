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


# --- the indexed Mahalanobis search against a brute-force reference ----------------------------------


class _BruteForceMahSearch:
    """MatchIt's Mahalanobis search (find_control_mahcovs) done the plain way, afresh at every
    search: every control of the treated row's exact stratum that is still usable (eligible,
    not already in its set) and within the caliper (|distance difference| <= caliper, MatchIt's
    test), ranked by squared Mahalanobis distance; of equal distances the one MatchIt meets last
    (farther from the treated row in the order of the first transformed covariate; at the same
    step the right one, met after the left)."""

    def __init__(self, M, dist, treat, strata, eligible, caliper, split):
        key = M.coords[:, 0]
        order = np.lexsort((key, strata)) if split else np.argsort(key, kind="stable")
        self.pos = np.empty(len(dist), dtype=np.int64)
        self.pos[order] = np.arange(len(dist))
        self.M, self.dist, self.treat, self.strata, self.eligible, self.cal = M, dist, treat, strata, eligible, caliper

    def find(self, t, k, mine):
        from sibeval.design.matching import _mah_d2

        ok = ~self.treat & (self.strata == self.strata[t]) & self.eligible
        ok[list(mine)] = False
        if self.cal is not None:
            ok &= np.abs(self.dist - self.dist[t]) <= self.cal
        rows = np.flatnonzero(ok)
        if len(rows) == 0:
            return []
        d2 = _mah_d2(self.M, t, rows)
        rows, d2 = rows[np.isfinite(d2)], d2[np.isfinite(d2)]
        gap = self.pos[rows] - self.pos[t]
        return [int(r) for r in rows[np.lexsort((gap < 0, -np.abs(gap), d2))][:k]]


def _generated(seed):
    """A small data set with ties everywhere: integer, binary and rounded covariates,
    a rounded distance, 1-3 exact strata, units with several rows."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(40, 300))
    d = pd.DataFrame()
    for j in range(int(rng.integers(1, 4))):
        kind = rng.integers(0, 3)
        d[f"m{j}"] = (rng.integers(18, 30, n) if kind == 0 else rng.integers(0, 2, n) if kind == 1
                      else np.round(rng.normal(size=n), int(rng.integers(0, 3)))).astype(float)
    d["t"] = (rng.random(n) < rng.uniform(0.08, 0.35)).astype(int)
    d.loc[0, "t"], d.loc[1, "t"] = 1, 0
    d["dist"] = np.round(rng.normal(size=n) + d["t"], int(rng.integers(0, 3)))
    d["s"] = rng.integers(0, int(rng.integers(1, 4)), n)
    d["u"] = rng.integers(0, max(2, n // int(rng.integers(1, 4))), n)
    kw = dict(ratio=int(rng.integers(1, 11)), replace=bool(rng.random() < 0.3),
              caliper=[None, 0.1, 0.3, 1.0][rng.integers(0, 4)],
              m_order=["largest", "smallest", "data"][rng.integers(0, 3)],
              exact=["s"] if rng.random() < 0.6 else None, unit_id="u" if rng.random() < 0.5 else None,
              mahvars=[c for c in d if c.startswith("m")])
    return d, kw


def _matched(d, kw):
    r = match(d, "t", ["dist"], distance="dist", **kw)
    return sorted(map(tuple, r.matched_pairs().to_numpy().tolist())), r.data["weights"].to_numpy()


def test_indexed_mahalanobis_search_gives_the_brute_force_sets(monkeypatch):
    """The ranked windows (the best kept, re-ranked when used up; with a prefix of 1 at almost
    every search) give exactly the sets and weights of the plain search on 200 tie-heavy data
    sets: strata, unit ids, ratio 1-10, with and without caliper and replacement, 1-3 mahvars."""
    from sibeval.design import matching

    for seed in range(200):
        d, kw = _generated(seed)
        with monkeypatch.context() as m:
            m.setattr(matching, "_MahSearch", _BruteForceMahSearch)
            ref = _matched(d, kw)
        for prefix in (64, 1):
            monkeypatch.setattr(matching._MahSearch, "PREFIX", prefix)
            got = _matched(d, kw)
            assert got[0] == ref[0], (seed, prefix, kw)
            np.testing.assert_array_equal(got[1], ref[1])


def test_indexed_mahalanobis_search_on_wide_windows(monkeypatch):
    """The default design's shape on a few thousand rows: age in whole years and a binary
    covariate (thousands of exact ties in distance), wide windows, participants competing for
    the same controls over ten rounds, a person in several index months."""
    from sibeval.design import matching

    rng = np.random.default_rng(26)
    n = 6000
    d = pd.DataFrame({"age": rng.integers(25, 65, n).astype(float), "emp": rng.integers(0, 2, n).astype(float),
                      "t": (rng.random(n) < 0.04).astype(int), "month": rng.integers(0, 3, n),
                      "person": rng.integers(0, 1500, n)})
    d["dist"] = np.round(0.02 * d["age"] - 0.5 * d["emp"] + rng.normal(0, 0.3, n) + 0.3 * d["t"], 3)
    kw = dict(ratio=10, caliper=0.2, exact=["month"], unit_id="person", mahvars=["age", "emp"])
    got = _matched(d, kw)
    monkeypatch.setattr(matching, "_MahSearch", _BruteForceMahSearch)
    ref = _matched(d, kw)
    assert got[0] == ref[0] and len(got[0]) > 1200
    np.testing.assert_array_equal(got[1], ref[1])


def test_rows_with_the_same_covariates_get_the_same_score():
    """The linear predictor is accumulated column by column, so duplicated rows tie exactly
    wherever they sit (a BLAS product rounded one pattern 1 ulp apart at 10^6 rows)."""
    from sibeval.design.matching import propensity_model

    rng = np.random.default_rng(4)
    n = 20_000
    d = pd.DataFrame({"age": rng.integers(25, 65, n).astype(float), "a": rng.integers(0, 2, n).astype(float),
                      "b": rng.integers(0, 2, n).astype(float), "share": np.round(rng.random(n) * 36) / 36})
    d["age_squared"] = (d["age"] - d["age"].mean()) ** 2
    d["t"] = (rng.random(n) < 1 / (1 + np.exp(-(-3 + 0.03 * (d["age"] - 45) + 0.5 * d["a"])))).astype(int)
    covs = ["age", "a", "b", "share", "age_squared"]
    fit = propensity_model(d, "t", covs)
    spread = d[covs].assign(lin=fit.linear_predictor).groupby(covs)["lin"].agg(lambda x: x.max() - x.min())
    assert (spread == 0).all()


def test_warm_start_and_one_blas_thread(monkeypatch):
    """The fit on many rows starts from a subsample's fit (every participant, evenly spaced
    controls) and ends where the cold start ends; it runs with one BLAS thread."""
    from threadpoolctl import threadpool_info

    from sibeval.design import matching

    rng = np.random.default_rng(8)
    n = 40_000
    X = rng.normal(size=(n, 4))
    X[:, 3] = X[:, 3] > 0.5
    y = (rng.random(n) < 1 / (1 + np.exp(-(-4 + X @ [0.5, -0.3, 0.2, 0.7])))).astype(int)
    d = pd.DataFrame(X, columns=list("abcd")).assign(t=y)
    threads, starts = [], []
    newton = matching._logit_newton

    def spy(X, y, **kw):
        threads.append({i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"})
        starts.append(kw.get("start"))
        return newton(X, y, **kw)

    monkeypatch.setattr(matching, "_logit_newton", spy)
    monkeypatch.setattr(matching, "_THREADPOOLS", None)  # find every BLAS loaded by now (scipy's too)
    monkeypatch.setattr(matching, "WARM_START_CONTROLS", 2000)
    warm = matching.propensity_model(d, "t", list("abcd"))
    monkeypatch.setattr(matching, "WARM_START_CONTROLS", n)
    cold = matching.propensity_model(d, "t", list("abcd"))
    assert starts[0] is None and starts[1] is not None and starts[2] is None  # subsample, all rows; cold
    assert warm.iterations < cold.iterations
    np.testing.assert_allclose(warm.params, cold.params, rtol=0, atol=1e-12)
    assert all(t <= {1} for t in threads)


def test_a_failed_warm_start_falls_back_to_the_cold_start(monkeypatch):
    from sibeval.design import matching

    rng = np.random.default_rng(9)
    x = rng.normal(size=20_000)
    d = pd.DataFrame({"x": x, "t": (rng.random(20_000) < 1 / (1 + np.exp(3.5 - x))).astype(int)})
    cold = matching.propensity_model(d, "t", ["x"])
    newton = matching._logit_newton

    def fails_when_warm(X, y, **kw):
        if kw.get("start") is not None and len(y) == len(d):
            raise np.linalg.LinAlgError("from the warm start")
        return newton(X, y, **kw)

    monkeypatch.setattr(matching, "_logit_newton", fails_when_warm)
    monkeypatch.setattr(matching, "WARM_START_CONTROLS", 1000)
    assert matching._warm_start(np.column_stack([np.ones(len(x)), x]), d["t"].to_numpy(float)) is not None
    np.testing.assert_array_equal(matching.propensity_model(d, "t", ["x"]).params, cold.params)


def test_covariate_counts_count_distinct_persons_of_each_group():
    """A person is a candidate in several index months: persons_with/without count each
    person once per group (as the disclosure rule counts persons), whatever the rows."""
    from sibeval.design.balance import covariate_counts

    rng = np.random.default_rng(3)
    n = 400
    d = pd.DataFrame({
        "pnr": rng.integers(0, 120, n).astype(str),
        "treated": (rng.random(n) < 0.1).astype(int),
        "flag": rng.integers(0, 2, n).astype(float),
        "age": rng.normal(40, 9, n),
        "weights": np.where(rng.random(n) < 0.3, rng.choice([0.5, 1.0, 2.0], n), 0.0),
    })
    out = covariate_counts(d, ["flag", "age"]).set_index(["covariate", "group"])
    assert list(out.index.get_level_values(0).unique()) == ["flag"]       # binary covariates only
    t, w = d.treated == 1, d.weights
    for g, sel in {"participants": t & (w > 0), "pool": ~t, "matched_controls": ~t & (w > 0)}.items():
        row = out.loc[("flag", g)]
        assert row.persons_with == d.loc[sel & (d.flag == 1), "pnr"].nunique()
        assert row.persons_without == d.loc[sel & (d.flag == 0), "pnr"].nunique()
        assert row.n_total == sel.sum()
