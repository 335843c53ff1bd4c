"""HiGHS on the attacker's problems, through the binding of it that scipy ships.

`scipy.optimize.milp` checks its arguments, converts the constraints and looks up every
option in Python on each call. The disclosure search solves thousands of problems of a few
dozen cells (1,964 for the 10^6 cohort), and that overhead was a third of their time, held
under the GIL while the other solver thread waited. `solve` hands the same model and options
to the same HiGHS directly, so its answers are milp's (tests/test_highs.py compares them);
its result has milp's fields and status codes. Where scipy's binding is not there (another
scipy), it is milp.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import Bounds, OptimizeResult, milp
from scipy.sparse import csc_array

try:                # scipy's binding of HiGHS (scipy >= 1.15), the one milp itself calls
    from scipy.optimize._highspy import _core
    _core._Highs, _core.HighsLp, _core.HighsModelStatus     # noqa: B018 (the parts used here)
except (ImportError, AttributeError):
    _core = None


def _statuses():
    s = _core.HighsModelStatus
    # milp's codes: 0 optimal, 1 a limit reached, 2 infeasible, 3 unbounded, 4 other
    return {s.kOptimal: 0, s.kTimeLimit: 1, s.kIterationLimit: 1, s.kInfeasible: 2, s.kModelError: 2,
            s.kUnbounded: 3}


_STATUS = _statuses() if _core is not None else {}
_VAR_TYPES = [_core.HighsVarType(i) for i in range(4)] if _core is not None else []   # milp's integrality 0-3


def solve(c, constraints: list, integrality, bounds: Bounds, options: dict) -> OptimizeResult:
    """min c @ x subject to `constraints` (at most one LinearConstraint, as the ledger builds
    them), `bounds` and `integrality`, with HiGHS's own `options` (presolve
    True or False): milp's answer, with status, message, x and fun as milp gives them."""
    if _core is None:
        return milp(c, constraints=constraints, integrality=integrality, bounds=bounds, options=dict(options))
    c = np.asarray(c, dtype=np.float64)
    n = c.size
    lp = _core.HighsLp()
    lp.num_col_ = n
    lp.col_cost_ = c
    lp.col_lower_ = np.broadcast_to(bounds.lb, c.shape).astype(np.float64)
    lp.col_upper_ = np.broadcast_to(bounds.ub, c.shape).astype(np.float64)
    matrix = lp.a_matrix_
    matrix.format_ = _core.MatrixFormat.kColwise
    matrix.num_col_ = n
    if constraints:
        (con,) = constraints
        a = con.A if isinstance(con.A, csc_array) else csc_array(con.A)
        lp.num_row_ = matrix.num_row_ = a.shape[0]
        lp.row_lower_ = np.atleast_1d(con.lb).astype(np.float64)
        lp.row_upper_ = np.atleast_1d(con.ub).astype(np.float64)
        matrix.start_, matrix.index_, matrix.value_ = a.indptr, a.indices, a.data.astype(np.float64)
    else:
        lp.num_row_ = matrix.num_row_ = 0
        lp.row_lower_ = lp.row_upper_ = np.empty(0)
        matrix.start_ = np.zeros(n + 1, dtype=np.int32)
    integrality = np.broadcast_to(integrality, c.shape).astype(np.uint8)
    lp.integrality_ = [_VAR_TYPES[i] for i in integrality.tolist()]
    mip = bool(integrality.any())

    h = _core._Highs()
    h.setOptionValue("log_to_console", False)
    for key, value in options.items():
        h.setOptionValue(key, ("on" if value else "off") if key == "presolve" else value)
    h.passModel(lp)
    h.run()
    status = h.getModelStatus()
    info = h.getInfo()
    code = _STATUS.get(status, 4)
    message = h.modelStatusToString(status)
    # as milp: past a limit a MIP's incumbent is an answer if it has one; an LP's only at its optimum
    solved = (code == 0 or (code == 1 and info.objective_function_value != _core.kHighsInf)) if mip else code == 0
    if not solved:
        return OptimizeResult(status=code, message=message, success=False, x=None, fun=None)
    return OptimizeResult(status=code, message=message, success=code == 0,
                          x=np.array(h.getSolution().col_value), fun=info.objective_function_value)
