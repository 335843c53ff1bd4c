"""sibeval.design.matching against R's MatchIt 4.7.2 built from source (fixtures/matchit/).

Regenerate with `R_LIBS=<lib> Rscript matchit_reference.R` from tests/fixtures (see its
header). Every spec in fixtures/matchit/specs.csv (lalonde; a tie-heavy data set with
duplicated covariate rows, few distinct distances, exact strata and units with several
rows; the two examples of issue 15) must give MatchIt's matched sets and weights exactly.
MatchIt matches on the distance it is given (the fitted score from R's glm); the fit
itself is compared separately. Subclass labels are arbitrary; sets are compared as sets.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sibeval.design.matching import match, propensity_model

F = Path(__file__).parent / "fixtures" / "matchit"
SPECS = pd.read_csv(F / "specs.csv", keep_default_na=False)
COVS = {
    "lalonde": ["age", "educ", "race_black", "race_hispan", "married", "nodegree", "re74", "re75"],
    "ties": ["x1", "x2", "x3"],
    "ex1": ["dist"],
    "ex2": ["dist"],
    "wide": ["x1", "x2", "x3"],
}


def _sets(result):
    p = result.matched_pairs()
    return {
        int(g.loc[g.treated == 1, "row"].iloc[0]): sorted(g.loc[g.treated == 0, "row"].tolist())
        for _, g in p.groupby("subclass")
    }


def _ref_sets(name):
    pairs = pd.read_csv(F / f"{name}_pairs.csv")
    out = {}
    for row in pairs.itertuples(index=False):
        cs = sorted(int(x) for x in row[1:] if not pd.isna(x))
        if cs:
            out[int(row[0])] = cs
    return out


def _run(spec):
    data = pd.read_csv(F / f"{spec['data']}.csv")
    return match(
        data,
        "treat",
        COVS[spec["data"]],
        distance=spec["distance"],
        ratio=int(spec["ratio"]),
        replace=str(spec["replace"]).upper() == "TRUE",
        caliper=float(spec["caliper"]) if spec["caliper"] else None,
        m_order=spec["m_order"],
        exact=[spec["exact"]] if spec["exact"] else None,
        mahvars=spec["mahvars"].split() or None,
        unit_id=spec["unit_id"] or None,
    )


def test_fixtures_come_from_matchit_472():
    assert (F / "VERSION.txt").read_text().startswith("MatchIt 4.7.2")


@pytest.mark.parametrize("name", SPECS["name"].tolist())
def test_matched_sets_and_weights_equal_matchit(name):
    spec = SPECS.set_index("name").loc[name].to_dict() | {"name": name}
    res = _run(spec)
    ref = pd.read_csv(F / f"{name}.csv")
    assert _sets(res) == _ref_sets(name)
    np.testing.assert_allclose(res.data["weights"], ref["weights"], rtol=0, atol=1e-12)


def test_tie_cases_are_tie_heavy():
    ties = pd.read_csv(F / "ties.csv")
    assert ties.duplicated(["x1", "x2", "x3", "s"]).mean() > 0.9
    assert ties["dist"].nunique() < 40
    assert (ties.groupby("unit").size() > 1).any()


def test_issue_examples():
    """A truly nearer control wins (no tolerance); with replacement the k best are taken
    at once in MatchIt's search order."""
    assert _ref_sets("ex1_nn1") == {0: [2]}
    assert _sets(_run(SPECS.set_index("name").loc["ex1_nn1"].to_dict() | {"name": "ex1_nn1"})) == {0: [2]}


@pytest.mark.parametrize("distance,column", [("ps", "dist_ps"), ("logit", "dist_logit")])
def test_propensity_scores_equal_r_glm(distance, column):
    lalonde = pd.read_csv(F / "lalonde.csv")
    res = match(lalonde, "treat", COVS["lalonde"], distance=distance)
    # R's glm stops when the deviance changes by less than 1e-8 (relative), so its
    # coefficients are good to about 1e-7; the fit itself is checked against statsmodels below
    np.testing.assert_allclose(res.data["distance"], lalonde[column], atol=1e-6, rtol=0)


def test_logit_fit_equals_statsmodels():
    sm = pytest.importorskip("statsmodels.api")
    rng = np.random.default_rng(3)
    X = rng.normal(size=(5000, 6))
    X[:, 3:] = X[:, 3:] > 0.2
    y = (rng.random(5000) < 1 / (1 + np.exp(-(-2 + X @ [0.5, -0.3, 0.2, 0.4, 0.1, -0.6])))).astype(int)
    df = pd.DataFrame(X, columns=list("abcdef")).assign(t=y)
    mine = propensity_model(df, "t", list("abcdef"))
    ref = sm.Logit(y, sm.add_constant(X)).fit(method="newton", disp=0, tol=1e-12, maxiter=100)
    np.testing.assert_allclose(mine.params, ref.params, atol=1e-8, rtol=0)


def test_matching_is_deterministic():
    lalonde = pd.read_csv(F / "lalonde.csv")
    a = match(lalonde, "treat", COVS["lalonde"], ratio=3, caliper=0.2, mahvars=["age", "educ"])
    b = match(lalonde.copy(), "treat", COVS["lalonde"], ratio=3, caliper=0.2, mahvars=["age", "educ"])
    pd.testing.assert_frame_equal(a.data, b.data)


def test_caliper_edge_in_floating_point():
    """Two controls share a distance two ulps below dist_t - caliper as rounded, yet pass
    MatchIt's test |dist_t - dist| <= caliper: both are candidates, and the nearer in m wins
    (the Mahalanobis search's window once took one row beyond the rounded bound and missed
    the other)."""
    data = pd.read_csv(F / "edge.csv")
    cal = 0.42846034898568186
    assert data["dist"][1] < data["dist"][0] - cal and abs(data["dist"][0] - data["dist"][1]) <= cal
    res = match(data, "treat", ["dist"], distance="dist", caliper=cal, std_caliper=False, mahvars=["m"])
    assert _sets(res) == _ref_sets("edge_caliper") == {0: [1]}
