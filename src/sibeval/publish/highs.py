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
    _S = _core.HighsModelStatus
    # milp's codes: 0 optimal, 1 a limit reached, 2 infeasible, 3 unbounded, 4 other
    _STATUS = {_S.kOptimal: 0, _S.kTimeLimit: 1, _S.kIterationLimit: 1, _S.kInfeasible: 2, _S.kModelError: 2,
               _S.kUnbounded: 3}
    # past these a MIP's incumbent is milp's answer, if it has one (its status 1, or 4 for the solution limit)
    _LIMITS = {_S.kTimeLimit, _S.kIterationLimit, _S.kSolutionLimit}
    _COLWISE, _MINIMIZE = int(_core.MatrixFormat.kColwise), int(_core.ObjSense.kMinimize)
    _core._Highs, _core.HighsStatus.kError, _core.kHighsInf  # noqa: B018
except (ImportError, AttributeError):    # (the last line: the other parts used here)
    _core = None


def solve(c, constraints: list, integrality, bounds: Bounds, options: dict) -> OptimizeResult:
    """min c @ x subject to `constraints` (a list of at most one LinearConstraint, as the
    ledger builds them), `bounds` and `integrality` (0-3 per cell), with HiGHS's own `options`
    (presolve True or False): milp's answer, with status, x and fun as milp gives them; the
    message is HiGHS's model status, shorter than milp's."""
    if _core is None:
        return _milp(c, constraints, integrality, bounds, options)
    c = np.ascontiguousarray(np.atleast_1d(np.asarray(c, dtype=np.float64)))
    n = c.size
    if constraints and constraints[0].A.shape[1] != n:     # HiGHS would read past the arrays
        raise ValueError(f"the constraints have {constraints[0].A.shape[1]} columns for {n} cells")
    # contiguous copies: a binding may read an array's buffer as it lies
    col_lower = np.ascontiguousarray(np.broadcast_to(np.asarray(bounds.lb, dtype=np.float64), c.shape))
    col_upper = np.ascontiguousarray(np.broadcast_to(np.asarray(bounds.ub, dtype=np.float64), c.shape))
    if constraints:
        (con,) = constraints
        a = con.A if isinstance(con.A, csc_array) else csc_array(con.A)
        row_lower = np.ascontiguousarray(np.broadcast_to(np.asarray(con.lb, dtype=np.float64), a.shape[:1]))
        row_upper = np.ascontiguousarray(np.broadcast_to(np.asarray(con.ub, dtype=np.float64), a.shape[:1]))
        start, index, entries = a.indptr, a.indices, a.data
    else:
        row_lower = row_upper = entries = np.empty(0)
        start, index = np.zeros(n + 1, dtype=np.int32), np.empty(0, dtype=np.int32)
    integrality = np.broadcast_to(integrality, c.shape).astype(np.int32)    # milp's 0-3 are HiGHS's types
    mip = bool(integrality.any())

    h = _core._Highs()
    h.setOptionValue("log_to_console", False)
    error = _core.HighsStatus.kError
    for key, value in options.items():
        if h.setOptionValue(key, ("on" if value else "off") if key == "presolve" else value) == error:
            raise ValueError(f"HiGHS has no option {key} = {value!r}")
    # the model as arrays (HiGHS copies them; a HighsLp filled field by field cost 0.35 ms a problem)
    try:
        passed = h.passModel(n, len(row_lower), len(entries), _COLWISE, _MINIMIZE, 0.0, c, col_lower, col_upper,
                             row_lower, row_upper, start.astype(np.int32), index.astype(np.int32),
                             entries.astype(np.float64), integrality)
    except TypeError:       # a binding without the array form: milp, as where there is none
        return _milp(c, constraints, integrality, bounds, options)
    if passed == error:           # as milp: a model HiGHS rejects (a NaN, a huge number)
        status = _S.kModelError
    else:
        h.run()         # a run that fails leaves a model status that is not optimal (milp reads it too)
        status = h.getModelStatus()
    info = h.getInfo()
    code = _STATUS.get(status, 4)
    message = f"HiGHS: {h.modelStatusToString(status)}"
    # as milp: past a limit a MIP's incumbent is an answer if it has one; an LP's only at its optimum
    solved = (code == 0 or (status in _LIMITS and info.objective_function_value != _core.kHighsInf)) if mip \
        else code == 0
    if not solved or status == _S.kModelError:
        return OptimizeResult(status=code, message=message, success=False, x=None, fun=None)
    return OptimizeResult(status=code, message=message, success=code == 0,
                          x=np.array(h.getSolution().col_value), fun=info.objective_function_value)


def _milp(c, constraints, integrality, bounds, options) -> OptimizeResult:
    """scipy's milp on the same problem and options (where scipy's binding cannot be used)."""
    return milp(c, constraints=constraints, integrality=integrality, bounds=bounds, options=dict(options))
