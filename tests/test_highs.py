"""sibeval.publish.highs against scipy's milp: the same answers (status, value, point) on the
attacker's kind of problem, generated, and on the problems HiGHS found hard (tests/fixtures)."""
import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import csc_array

from sibeval.publish import highs
from sibeval.publish.ledger import HIGHS

FIXTURES = Path(__file__).parent / "fixtures"


def _milp(c, cons, integrality, bounds, options):
    with warnings.catch_warnings():     # milp passes HiGHS's own options on, with a warning
        warnings.filterwarnings("ignore", "Unrecognized options", RuntimeWarning)
        return milp(c, constraints=cons, integrality=integrality, bounds=bounds, options=dict(options))


def _same(a, b):
    assert a.status == b.status
    assert (a.x is None) == (b.x is None)
    if a.x is not None:
        assert a.fun == b.fun                   # bit for bit: the same HiGHS on the same model
        np.testing.assert_array_equal(a.x, b.x)


def _problem(rng):
    """Counts tied by sums (a table's margins, flow steps), some known, a few unknown with
    marker bounds, an equality held to a tolerance as the ledger does; some infeasible or
    unbounded, some pure LPs."""
    n = int(rng.integers(1, 14))
    truth = rng.integers(0, 40, n).astype(float)
    rows, lo, hi = [], [], []
    for _ in range(int(rng.integers(0, 8))):
        row = np.zeros(n)
        pick = rng.choice(n, size=int(rng.integers(1, n + 1)), replace=False)
        row[pick] = rng.choice([-1.0, 1.0, 0.5, 2.0], size=len(pick))
        v = row @ truth + (rng.integers(-3, 4) if rng.random() < 0.1 else 0)   # now and then infeasible
        rows.append(row)
        lo.append(v - 1e-6 if rng.random() < 0.8 else -np.inf)
        hi.append(v + 1e-6)
    cons = [LinearConstraint(csc_array(np.array(rows)), np.array(lo), np.array(hi))] if rows else []
    lb = np.where(rng.random(n) < 0.5, 1.0, 0.0)
    ub = np.where(rng.random(n) < 0.3, 4.0, np.where(rng.random(n) < 0.2, np.inf, 1e4))
    lb, ub = np.minimum(lb, truth), np.where(np.isfinite(ub), np.maximum(ub, truth), ub)
    integrality = (rng.random(n) < 0.8).astype(int) if rng.random() < 0.8 else np.zeros(n, dtype=int)
    c = np.zeros(n)
    c[rng.integers(n)] = rng.choice([1.0, -1.0])
    return c, cons, integrality, Bounds(lb, ub)


@pytest.mark.skipif(highs._core is None, reason="this scipy has no binding of HiGHS of its own: solve is milp")
@pytest.mark.parametrize("options", [HIGHS, {**HIGHS, "presolve": False},
                                     {**HIGHS, "presolve": False, "mip_feasibility_tolerance": 1e-5}])
def test_solve_gives_milp_s_answer_on_generated_problems(options):
    rng = np.random.default_rng(20261206)
    statuses = set()
    for _ in range(300):
        p = _problem(rng)
        r = highs.solve(*p, options)
        _same(r, _milp(*p, options))
        statuses.add(r.status)
    assert {0, 2} <= statuses           # the generator reaches solved and infeasible problems


@pytest.mark.parametrize("fixture", ["highs_presolve_infeasible.npz", "highs_presolve_off_loose.npz",
                                     "highs_status4.json"])
@pytest.mark.parametrize("options", [HIGHS, {**HIGHS, "presolve": False}])
def test_solve_gives_milp_s_answer_on_the_problems_highs_found_hard(fixture, options):
    if fixture.endswith(".json"):
        p = json.loads((FIXTURES / fixture).read_text())
        a, lo, hi, lb, ub = (np.array(p[k]) for k in ("A", "lb", "ub", "bounds_lb", "bounds_ub"))
    else:
        p = np.load(FIXTURES / fixture)
        a, lo, hi, lb, ub = p["A"], p["lo"], p["hi"], p["lb"], p["ub"]
    args = (np.array(p["c"]), [LinearConstraint(csc_array(a), lo, hi)], np.array(p["integrality"]), Bounds(lb, ub))
    _same(highs.solve(*args, options), _milp(*args, options))


@pytest.mark.filterwarnings("ignore:Unrecognized options")
def test_without_scipy_s_binding_solve_is_milp(monkeypatch):
    rng = np.random.default_rng(7)
    p = _problem(rng)
    monkeypatch.setattr(highs, "_core", None)
    _same(highs.solve(*p, HIGHS), _milp(*p, HIGHS))


@pytest.mark.skipif(highs._core is None, reason="this scipy has no binding of HiGHS of its own: solve is milp")
@pytest.mark.filterwarnings("ignore:Unrecognized options")
def test_a_binding_without_the_array_form_of_pass_model_gives_milp(monkeypatch):
    class NoArrays(highs._core._Highs):
        def passModel(self, *args):
            if len(args) > 1:
                raise TypeError("passModel(): incompatible function arguments")
            return super().passModel(*args)

    calls = []
    monkeypatch.setattr(highs._core, "_Highs", NoArrays)
    monkeypatch.setattr(highs, "milp", lambda *a, **k: calls.append(1) or milp(*a, **k))
    p = _problem(np.random.default_rng(8))
    _same(highs.solve(*p, HIGHS), _milp(*p, HIGHS))
    assert calls == [1]


@pytest.mark.skipif(highs._core is None, reason="this scipy has no binding of HiGHS of its own: solve is milp")
def test_solve_gives_milp_s_status_where_there_is_no_optimum():
    """Unbounded, a model HiGHS rejects (a NaN bound), and a MIP stopped at its time limit,
    with a dense matrix and an infinite lower bound."""
    unbounded = (np.array([-1.0, 0.0]), [], np.zeros(2, dtype=int), Bounds([-np.inf, 0.0], [np.inf, 1.0]))
    rejected = (np.array([1.0, 0.0]), [LinearConstraint(np.array([[1.0, 1.0]]), [1.0], [3.0])], np.ones(2, dtype=int),
                Bounds([0.0, np.nan], [5.0, 5.0]))
    for p, status in ((unbounded, 3), (rejected, 2)):
        r = highs.solve(*p, HIGHS)
        _same(r, _milp(*p, HIGHS))
        assert r.status == status and r.x is None
    rng = np.random.default_rng(1)     # 60 whole numbers in 40 loose sums: far from solved in 0.2 s
    a = rng.integers(-3, 4, (40, 60)).astype(float)
    v = a @ rng.integers(0, 30, 60)
    hard = (np.eye(60)[0], [LinearConstraint(csc_array(a), v - 5, v + 5)], np.ones(60, dtype=int),
            Bounds(np.zeros(60), np.full(60, 100.0)))
    for r in (highs.solve(*hard, {**HIGHS, "time_limit": 0.2}), _milp(*hard, {**HIGHS, "time_limit": 0.2})):
        assert r.status == 1 and (r.x is None) == (r.fun is None)     # with the best value found, if any


def test_solve_refuses_what_highs_would_misread():
    c = np.zeros(3)
    with pytest.raises(ValueError, match="2 columns for 3 cells"):
        highs.solve(c, [LinearConstraint(csc_array(np.ones((1, 2))), [0.0], [1.0])], np.ones(3), Bounds(0, 1), HIGHS)
    if highs._core is not None:
        with pytest.raises(ValueError, match="no option"):
            highs.solve(c, [], np.ones(3), Bounds(0, 1), {**HIGHS, "no_such_option": 1})
