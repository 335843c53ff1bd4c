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
