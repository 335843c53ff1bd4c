"""Propensity-score matching in the manner of R's MatchIt, for any DataFrame.

``match(data, treatment=, covariates=, ...)`` returns one frozen :class:`MatchResult`
with ``.matched_data()``, ``.matched_pairs()`` and ``.summary()``.

Nearest-neighbour matching follows **MatchIt 4.7.2** (``method = "nearest"``; checked
against MatchIt 4.7.2 built from source in tests/test_matching_matchit.py, including
tie-heavy data): treated units in ``m_order``; without replacement in rounds (every
treated unit gets its first control before any its second); MatchIt's search order
outward from the treated unit and its rules for equally near controls; with replacement
the ``ratio`` best at once; ``exact`` strata; ``unit_id`` (MatchIt's unit.id: once a row
is used, every row of its unit leaves the pool); ``mahvars`` (Mahalanobis distance on
chosen covariates among the controls within the propensity caliper); a caliper in
standard deviations of the distance when ``std_caliper``. Distances are compared exactly
(MatchIt 4.5.1, Debian's package, truncated them with C's integer abs()). With mahvars,
controls equally far in exact arithmetic (ages a - 1 and a + 1 of a participant at a) get
bit-identical distances and MatchIt's order decides between them, on every machine. Limit:
MatchIt computes on transformed coordinates, where R's rounding can break such a tie, so
on tie-heavy data it may take the other member of an equally near pair
(docs/statistics.md).

Speed (bench/README.md): the propensity fit starts from a subsample's fit and runs on one
BLAS thread; the Mahalanobis search ranks each participant's caliper window once
(_MahSearch), so 150 participants against 10^6 rows take one to two seconds per design.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sibeval.errors import SibevalError, plain

METHODS = ("nearest", "weighting", None)
DISTANCES = ("logit", "ps")
M_ORDERS = ("largest", "smallest", "data")
ESTIMANDS = ("ATT",)


# The propensity fit's BLAS threads. One: the fit's matrix products are thin (rows x a
# dozen covariates) and memory-bound; on a loaded 2-core machine OpenBLAS's second thread
# made the 10^6-row fit slower, not faster (bench/README.md, matching section).
BLAS_THREADS = 1


def _blas_threads(n):
    """Limit BLAS (OpenBLAS, MKL) to `n` threads for a block (threadpoolctl, installed with
    scikit-learn; numpy reads its thread count only at import, so the environment cannot)."""
    global _THREADPOOLS
    if _THREADPOOLS is None:
        try:
            from threadpoolctl import ThreadpoolController

            _THREADPOOLS = ThreadpoolController()  # the libraries loaded by now, numpy's BLAS among them
        except ImportError:  # pragma: no cover - a dependency of scikit-learn
            _THREADPOOLS = False
    return _THREADPOOLS.limit(limits=n, user_api="blas") if _THREADPOOLS else contextlib.nullcontext()


_THREADPOOLS = None


def _check(name, value, allowed):
    if value not in allowed:
        raise SibevalError(f"match(): {name}={value!r} is not allowed; use one of {list(allowed)}")


@dataclass(frozen=True)
class LogitFit:
    """An unpenalised logistic regression fitted by Newton's method (IRLS)."""

    params: np.ndarray  # intercept first, then one per covariate
    linear_predictor: np.ndarray  # X @ params for every row
    iterations: int
    names: tuple = ()

    def predict(self) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-self.linear_predictor))


def _loglik(eta, y):
    # log(1 + e^eta) = max(eta, 0) + log1p(e^-|eta|): never overflows, a quarter of np.logaddexp's time
    return float(y @ eta) - float(np.sum(np.maximum(eta, 0.0) + np.log1p(np.exp(-np.abs(eta)))))


def _logit_newton(X, y, maxiter=100, tol=1e-7, start=None, overwrite=False):
    """Maximum likelihood logit by Newton-Raphson on the full Hessian (statsmodels'
    Logit(...).fit(method="newton")), safeguarded as R's glm2 (and glm.fit on overflow): a
    step that lowers the log-likelihood (or overflows) is halved until it does not. Newton converges
    quadratically, so after a step of at most `tol` the coefficients are within about
    tol**2 of the maximum; stop there. The columns after the intercept are standardised
    while fitting (Newton's iterates do not depend on it, the conditioning of the Hessian
    does: a square of a heavy-tailed covariate spans many orders of magnitude). `start`:
    coefficients to start from (on X's scale); by default the intercept-only fit.

    Each iteration passes over the data four times (the linear predictor, the gradient, the
    weighted rows and their cross-products); the working arrays are in column order, so
    standardising and weighting run along contiguous columns. `overwrite`: standardise X
    itself (column order, intercept first) instead of a copy: one design matrix less in
    memory, the same operations."""
    n, k = X.shape
    Z = X if overwrite else np.empty((n, k), order="F")
    Z[:, 0] = 1.0
    mu, sd = np.zeros(k), np.ones(k)
    for j in range(1, k):
        z = Z[:, j]
        mu[j] = X[:, j].mean()
        np.subtract(X[:, j], mu[j], out=z)
        s = float(np.sqrt(z @ z / n))
        if s > 0:
            sd[j] = s
            z /= s
    if start is None:
        g = np.zeros(k)
        ybar = y.mean()
        g[0] = np.log(ybar / (1 - ybar))  # start at the intercept-only fit (X[:, 0] is 1)
    else:
        g = np.asarray(start, dtype=float) * sd
        g[0] = start[0] + float(np.sum(start[1:] * mu[1:]))
    Zw = np.empty_like(Z)
    eta = Z @ g
    ll = _loglik(eta, y)
    for it in range(1, maxiter + 1):
        p = 0.5 * (1.0 + np.tanh(0.5 * eta))  # the logistic function without overflow
        grad = Z.T @ (y - p)
        np.multiply(Z, np.sqrt(p * (1 - p))[:, None], out=Zw)
        full = np.linalg.lstsq(Zw.T @ Zw, grad, rcond=None)[0]
        step = full
        for _ in range(40):  # step-halving (glm2's rule; glm.fit's on overflow)
            new = g + step
            eta_new = Z @ new
            ll_new = _loglik(eta_new, y)
            if np.isfinite(ll_new) and ll_new >= ll - 1e-10 * max(1.0, abs(ll)):
                break
            step = step / 2
        else:
            raise np.linalg.LinAlgError("the fit could not increase the likelihood")
        g, eta, ll = new, eta_new, ll_new
        if np.max(np.abs(full)) < tol:  # converged: the full Newton step, not a halved one
            if np.max(np.abs(g[1:]), initial=0.0) > 30.0:
                # a coefficient of 30 per SD: the rows a combination of covariates separates
                # reached probabilities of exactly 0 or 1, their weights vanished, and the fit
                # stopped seeing them; that is no maximum (R: "fitted probabilities 0 or 1")
                raise np.linalg.LinAlgError("the coefficients run off to infinity (separation)")
            beta = g / sd
            beta[0] = g[0] - float(np.sum(g[1:] * mu[1:] / sd[1:]))
            return beta, it
    raise np.linalg.LinAlgError(f"no convergence in {maxiter} iterations")


def separating_covariates(X: np.ndarray, y: np.ndarray, names) -> list[str]:
    """Covariates that alone predict treatment perfectly or quasi-perfectly, so the logit
    has no finite maximum: treated values all at or beyond one end of the controls' (a
    binary covariate that is the same for every treated row), or, when the covariate's
    square is in the model, one value for every treated row."""
    t = y == 1
    names = list(names)
    out = []
    c = ~t
    for j, name in enumerate(names):
        xt = X[t, j]
        # the controls' extremes without gathering them (one pass each)
        c_max = np.maximum.reduce(X[:, j], where=c, initial=-np.inf)
        c_min = np.minimum.reduce(X[:, j], where=c, initial=np.inf)
        one_sided = xt.min() >= c_max or xt.max() <= c_min
        # with its square in the model, a value shared by every treated row separates too
        peaked = f"{name}_squared" in names and xt.min() == xt.max()
        if one_sided or peaked:
            out.append(name)
    return out


def constant_among_treated(data: pd.DataFrame, treatment: str, covariates) -> dict:
    """Covariates with one value for every treated row but others among the controls,
    {name: value}. The logit has no finite estimate with them (the controls with another
    value would get a score of exactly 0); R's glm stops at a huge coefficient instead."""
    t = data[treatment].to_numpy() == 1
    out = {}
    for c in covariates:
        v = data.loc[t, c]
        if v.nunique(dropna=False) == 1 and data.loc[~t, c].nunique(dropna=False) > 1:
            out[c] = v.iloc[0]
    return out


def exact_on_constant(data: pd.DataFrame, treatment: str, covariates) -> tuple[pd.DataFrame, list, dict]:
    """The limit of the logit when covariates are constant among the treated: matching is
    exact on them. Returns the data without the control rows of other values, the
    covariates left for the propensity model and {name: (value, control rows left out)}."""
    const = constant_among_treated(data, treatment, covariates)
    keep = np.ones(len(data), bool)
    dropped = {}
    for c, v in const.items():
        other = (data[c] != v).to_numpy() & keep
        dropped[c] = (v, int(other.sum()))
        keep &= ~other
    return data[keep], [c for c in covariates if c not in const], dropped


def propensity_model(data: pd.DataFrame, treatment: str, covariates: list[str]) -> LogitFit:
    """Unpenalised logistic regression of treatment on the covariates (agrees with
    statsmodels' Logit and R's glm to 1e-8; numpy only: 10^6 rows and 15 coefficients in
    about 0.35 s, three Newton steps from a subsample's fit, on one BLAS thread)."""
    X1 = _design(data, covariates)
    X = X1[:, 1:]
    nan = np.isnan(X)
    if nan.any():
        bad = [c for c, b in zip(covariates, nan.any(axis=0)) if b]
        raise SibevalError(
            f"match(): covariate(s) {bad} have missing values ({int(nan.any(axis=1).sum())} rows); impute or drop them"
        )
    const = [c for j, c in enumerate(covariates) if np.all(X[:, j] == X[0, j])]
    if const:
        raise SibevalError(f"match(): covariate(s) {const} take a single value; drop them from covariates")
    y = data[treatment].to_numpy(dtype=float)
    sep = separating_covariates(X, y, covariates)
    if sep:
        base = sorted({c.removesuffix("_squared") for c in sep})
        raise SibevalError(
            f"match(): covariate(s) {base} predict participation perfectly among these "
            f"{int(y.sum())} participants and {int(len(y) - y.sum())} eligible control rows (e.g. one "
            "value for every participant), so the propensity model has no finite estimate. "
            "Fix: drop them from covariates: in the cohort file, or restrict eligibility: to "
            "persons with the participants' values"
        )
    try:
        with _blas_threads(BLAS_THREADS):
            start = _warm_start(X1, y)
            del X, nan
            try:
                # the fit standardises X1 in place: the scores are computed from the columns
                beta, it = _logit_newton(X1, y, start=start, overwrite=True)
            except np.linalg.LinAlgError:
                if start is None:
                    raise
                # the warm start never decides whether it fits
                beta, it = _logit_newton(_design(data, covariates), y, overwrite=True)
    except np.linalg.LinAlgError as exc:
        raise SibevalError(
            f"match(): the propensity model did not converge ({exc}); a combination "
            f"of the covariates {covariates} may predict participation perfectly: "
            "drop or merge covariates in the cohort file"
        ) from None
    del X1
    columns = (data[c].to_numpy(dtype=float) for c in covariates)
    return LogitFit(
        params=beta, linear_predictor=_linear_predictor(columns, beta, len(data)), iterations=it,
        names=("const", *covariates)
    )


def _design(data: pd.DataFrame, covariates: list[str]) -> np.ndarray:
    """The design matrix in column order (the fit works column by column), intercept first."""
    X1 = np.empty((len(data), len(covariates) + 1), order="F")
    X1[:, 0] = 1.0
    for j, c in enumerate(covariates):
        X1[:, j + 1] = data[c].to_numpy(dtype=float)
    return X1


# the warm start's control rows (below four times as many it saves nothing)
WARM_START_CONTROLS = 100_000


def _warm_start(X, y):
    """Starting coefficients for the fit on many rows: the fit on every participant and
    evenly spaced control rows (about WARM_START_CONTROLS), its intercept moved by the log of
    the controls' sampling fraction (a logit's slopes survive sampling on the outcome;
    Prentice & Pyke 1979). Newton on all rows then takes three or four steps instead of
    seven. It changes where Newton starts, not where it stops (to about 1e-14). None when
    there are too few controls to gain or the subsample's fit fails."""
    ctrl = np.flatnonzero(y == 0)
    step = len(ctrl) // WARM_START_CONTROLS
    treated = np.flatnonzero(y == 1)
    if step < 4 or len(treated) > len(y) // 4:
        return None
    take = ctrl[::step]
    rows = np.sort(np.concatenate([treated, take]))
    try:
        beta, _ = _logit_newton(X[rows], y[rows], tol=1e-4)
    except np.linalg.LinAlgError:
        return None
    beta[0] += np.log(len(take) / len(ctrl))
    return beta


def _linear_predictor(columns, beta, n: int):
    """The covariate columns (intercept left out) times beta accumulated column by column,
    b0 + x1 b1 + x2 b2 + ..., the same operations for every row: rows with the same
    covariates get bit-identical scores, so they tie as they do in exact arithmetic (a BLAS
    product may round a row differently by its place in a block: 1 pattern of 300,056 in
    the 10^6-row benchmark got two scores 1 ulp apart)."""
    lin = np.full(n, beta[0])
    tmp = np.empty(n)
    for j, x in enumerate(columns, start=1):
        np.multiply(x, beta[j], out=tmp)
        lin += tmp
    return lin


def with_squares(data: pd.DataFrame, covariates) -> tuple[pd.DataFrame, list[str]]:
    """The data with the centred square of every covariate that takes more than two values
    (`<name>_squared`), and the propensity model's covariate list (the covariates, then
    those squares): a logit linear in age cannot follow a participation that rises and
    falls with age (Imbens & Rubin 2015, ch. 13: quadratic terms for continuous covariates)."""
    covariates = list(covariates)
    cont = [c for c in covariates if data[c].nunique(dropna=True) > 2]
    extra = {f"{c}_squared": (data[c].astype(float) - data[c].astype(float).mean()) ** 2 for c in cont}
    return data.assign(**extra), covariates + list(extra)


@dataclass(frozen=True)
class MatchResult:
    """The result of :func:`match`: settings, the fitted propensity model and the data.

    `data` holds every input row plus `distance`, `weights` (0 for unmatched rows) and
    `subclass` (matched-set id of the treated unit; NaN for controls matched with
    replacement, whose sets are in `pairs`).
    """

    method: str | None
    distance: str
    estimand: str
    ratio: int
    replace: bool
    caliper: float | None  # in distance units, as applied
    caliper_sd: float | None  # as given
    m_order: str
    exact: tuple
    covariates: tuple
    treatment: str
    data: pd.DataFrame = field(repr=False)
    pairs: pd.DataFrame = field(repr=False)
    model: object = field(repr=False, default=None)
    mahvars: tuple = ()

    def matched_data(self) -> pd.DataFrame:
        """Rows with a positive weight (MatchIt's match.data)."""
        return self.data[self.data["weights"] > 0].copy()

    def matched_pairs(self) -> pd.DataFrame:
        """One row per (matched set, unit): subclass, row (index into data), treated."""
        return self.pairs.copy()

    def unmatched_treated(self) -> pd.DataFrame:
        d = self.data
        return d[(d[self.treatment] == 1) & (d["weights"] == 0)].copy()

    def summary(self) -> pd.DataFrame:
        """Sample sizes as in MatchIt's summary: All, Matched, Unmatched by group."""
        d = self.data
        t = d[self.treatment] == 1
        w = d["weights"]
        rows = []
        for label, mask in (("All", np.ones(len(d), bool)), ("Matched", w > 0), ("Unmatched", w == 0)):
            rows.append({"sample": label, "control": int((mask & ~t).sum()), "treated": int((mask & t).sum())})
        if self.method is not None:
            ess = lambda x: float(x.sum() ** 2 / (x**2).sum()) if x.sum() > 0 else 0.0  # noqa: E731
            rows.insert(
                1,
                {
                    "sample": "Matched (ESS)",
                    "control": round(ess(w[~t & (w > 0)]), 2),
                    "treated": round(ess(w[t & (w > 0)]), 2),
                },
            )
        return pd.DataFrame(rows)


def _order(dist_t, idx_t, m_order):
    """Treated rows in matching order (ties keep data order, as R's order())."""
    if m_order == "largest":
        return idx_t[np.lexsort((idx_t, -dist_t))]
    if m_order == "smallest":
        return idx_t[np.lexsort((idx_t, dist_t))]
    return idx_t


def _heap_select(vals, k):
    """Indices kept by C++ std::partial_sort(first, first + k, last) (libstdc++ heap
    select): which of several equally near candidates MatchIt keeps."""
    h = list(range(k))

    def adjust(hole, length, value):
        top, child = hole, hole
        while child < (length - 1) // 2:
            child = 2 * (child + 1)
            if vals[h[child]] < vals[h[child - 1]]:
                child -= 1
            h[hole] = h[child]
            hole = child
        if length % 2 == 0 and child == (length - 2) // 2:
            child = 2 * (child + 1)
            h[hole] = h[child - 1]
            hole = child - 1
        parent = (hole - 1) // 2
        while hole > top and vals[h[parent]] < vals[value]:
            h[hole] = h[parent]
            hole = parent
            parent = (hole - 1) // 2
        h[hole] = value

    if k > 1:
        for parent in range((k - 2) // 2, -1, -1):
            adjust(parent, k, h[parent])
    for i in range(k, len(vals)):
        if vals[i] < vals[h[0]]:
            adjust(0, k, i)
    return h


class _Pool:
    """Control rows by exact stratum, in the order of the search variable, with the
    MatchIt eligibility bookkeeping (times matched, unit ids)."""

    def __init__(self, key, treat, strata, split=False):
        n = len(key)
        # R's order(): ties keep data order; split: each stratum searched on its own
        self.order = np.lexsort((key, strata)) if split else np.argsort(key, kind="stable")
        self.pos = np.empty(n, dtype=np.int64)
        self.pos[self.order] = np.arange(n)
        srt = self.order[~treat[self.order]]  # control rows in search order
        st = strata[srt]
        by = np.argsort(st.astype(np.int16) if st.max() < 2**15 else st, kind="stable")  # int16: radix sort
        st = st[by]
        cpos = self.pos[srt[by]]
        cuts = np.flatnonzero(np.diff(st)) + 1
        self.by_stratum = {int(st[a]): cpos[a:b] for a, b in zip(np.r_[0, cuts], np.r_[cuts, len(st)])}


def _vec_candidates(t, pool, dist, strata, eligible, cal, ratio, mine):
    """MatchIt 4.7.2's search on a scalar distance for treated row `t` (find_control_vec).

    Outward from the treated unit's place in distance order, each side collects up to
    `ratio` usable controls of the same exact stratum within the caliper; in later rounds
    without replacement the search starts beyond the unit's earlier matches and skips
    controls nearer than them. Candidates are listed in the order MatchIt meets them
    (alternating left, right) and the `ratio` nearest are kept as std::partial_sort does.
    """
    ctrl_pos = pool.by_stratum.get(int(strata[t]))
    if ctrl_pos is None:
        return []
    ii = pool.pos[t]
    dt = dist[t]
    lo = hi = ii
    min_dist = 0.0
    if mine:
        starts = [pool.pos[c] for c in mine] + [ii]
        lo, hi = min(starts), max(starts)
        dl, dr = abs(dt - dist[pool.order[lo]]), abs(dt - dist[pool.order[hi]])
        min_dist = dr if lo == ii else dl if hi == ii else max(dl, dr)
    found = []
    for step, j0 in ((-1, np.searchsorted(ctrl_pos, lo) - 1), (1, np.searchsorted(ctrl_pos, hi, "right"))):
        got = 0
        j = j0
        while 0 <= j < len(ctrl_pos) and got < ratio:
            p = ctrl_pos[j]
            j += step
            r = pool.order[p]
            if not eligible[r] or r in mine:
                continue
            dc = abs(dt - dist[r])
            if cal is not None and dc > cal:
                break
            if dc < min_dist:
                continue
            found.append((p - hi if step > 0 else lo - p, step, r, dc))
            got += 1
    if len(found) <= 1:
        return [f[2] for f in found]
    found.sort(key=lambda f: (f[0], f[1]))  # order met: fewer steps first, left first
    if len(found) <= ratio:
        return [f[2] for f in found]
    keep = _heap_select([f[3] for f in found], ratio)
    return [found[i][2] for i in keep]


def _mahalanobis_space(X, treat):
    """MatchIt's transform_covariates(method="mahalanobis"): standardise, invert the
    pooled within-group covariance and multiply by its (pivoted) Cholesky factor. The
    transformed coordinates give MatchIt's search order; the distances themselves are
    computed from the standardised differences and the inverse (see _mah_d2)."""
    X = np.asarray(X, dtype=float)
    keep = np.abs(X.max(0) - X.min(0)) >= np.sqrt(np.finfo(float).eps)
    if not keep.any():
        return _MahSpace(X[:, :1].copy(), X[:, :1].copy(), np.ones(1), np.zeros((1, 1)))
    raw = X[:, keep]
    sd = raw.std(0, ddof=1)
    X = (raw - raw.mean(0)) / sd
    C = X.copy()
    for g in (True, False):
        C[treat == g] -= C[treat == g].mean(0)
    n = len(X)
    var = (C.T @ C) / (n - 1) * (n - 1) / (n - 2)
    inv = np.linalg.inv(var) if np.linalg.det(var) > 1e-8 else np.linalg.pinv(var, rcond=1e-8)
    ch, piv = _pivoted_cholesky(inv)
    return _MahSpace(X @ ch[:, np.argsort(piv)].T, raw, sd, inv)


@dataclass(frozen=True)
class _MahSpace:
    """The transformed covariates (`coords`: MatchIt's search order runs along column 0) and
    what the exact distance needs: the raw covariates, their SDs and the inverse pooled
    covariance of the standardised covariates."""

    coords: np.ndarray
    raw: np.ndarray
    sd: np.ndarray
    inv: np.ndarray


def _pivoted_cholesky(A, tol=None):
    """Upper-triangular R and pivot p with R'R = A[p][:, p] (LAPACK dpstrf's pivoting:
    the largest remaining diagonal first); columns beyond the numerical rank are zero."""
    A = np.array(A, dtype=float)
    n = len(A)
    piv = np.arange(n)
    R = np.zeros_like(A)
    tol = n * np.finfo(float).eps * np.max(np.diag(A)) if tol is None else tol
    for j in range(n):
        d = np.diag(A)[j:] - np.sum(R[:j, j:] ** 2, axis=0)
        q = j + int(np.argmax(d))
        if d[q - j] <= tol:
            break
        for M in (A,):
            M[[j, q]] = M[[q, j]]
            M[:, [j, q]] = M[:, [q, j]]
        R[:, [j, q]] = R[:, [q, j]]
        piv[[j, q]] = piv[[q, j]]
        R[j, j] = np.sqrt(A[j, j] - np.sum(R[:j, j] ** 2))
        R[j, j + 1 :] = (A[j, j + 1 :] - R[:j, j] @ R[:j, j + 1 :]) / R[j, j]
    return R, piv


def _mah_d2(M: _MahSpace, t: int, rows) -> np.ndarray:
    """Squared Mahalanobis distances of `rows` from row `t`, (x_t - x_c)' S^-1 (x_t - x_c) on
    the covariates' own (standardised) differences: controls equally far in exact arithmetic
    (ages a - 1 and a + 1) get bit-identical distances, so MatchIt's order decides between
    them on every machine, not the last bit of a transformed coordinate."""
    delta = (M.raw[t] - M.raw[rows]) / M.sd
    return np.einsum("ij,jk,ik->i", delta, M.inv, delta)


class _MahSearch:
    """MatchIt 4.7.2's Mahalanobis search (find_control_mahcovs): for treated row `t`, among
    the usable controls of its exact stratum within the propensity caliper, the `k` smallest
    Mahalanobis distances; of equal distances the one MatchIt meets last wins (its search runs
    outward in the order of the first transformed covariate: farther first, then right
    before left at the same step).

    Indexed so that it scales with the caliper's window, not the pool: per exact stratum the
    controls sorted by the propensity distance, so a window is a contiguous slice found by
    searchsorted; a treated unit's window is ranked once, on its first search, by the order
    above (distances from _mah_d2, computed once per control), keeping the PREFIX best and
    every control tied with the last of them. Usability only ever ends (a control is used
    up, a unit leaves, a control joins the unit's own set), so a search walks the ranking
    from where the unit's last search found its first usable control; when the kept prefix
    runs out it ranks the usable rest of the window again. The result equals ranking the
    usable controls of the window afresh at every search (the tests keep that reference).
    """

    PREFIX = 64  # controls kept of a ranked window (more when tied with the last)

    def __init__(self, M, dist, treat, strata, eligible, caliper, split):
        n = len(dist)
        # positions in MatchIt's search order (R's order(): ties keep data order)
        order = np.lexsort((M.coords[:, 0], strata)) if split else np.argsort(M.coords[:, 0], kind="stable")
        self.pos = np.empty(n, dtype=np.int64)
        self.pos[order] = np.arange(n)
        # controls by stratum in distance order (ties in data order): the windows
        ctrl = np.flatnonzero(~treat)
        st = strata[ctrl]
        by = np.argsort(st.astype(np.int16) if st.max(initial=0) < 2**15 else st, kind="stable")  # radix
        ctrl, st = ctrl[by], st[by]
        cuts = np.flatnonzero(np.diff(st)) + 1
        self.by_dist = {}
        for a, b in zip(np.r_[0, cuts], np.r_[cuts, len(ctrl)]):
            rows = ctrl[a:b][np.argsort(dist[ctrl[a:b]], kind="stable")]
            self.by_dist[int(st[a])] = (rows, dist[rows])
        self.M, self.dist, self.strata, self.eligible, self.cal = M, dist, strata, eligible, caliper
        self.ranked = {}  # treated row -> [ranked controls, first not yet known unusable, complete]

    def window(self, t):
        """Controls of t's stratum within the caliper by MatchIt's test |d_t - d| <= caliper
        (all of them without a caliper). The slice is found a few ulps wider than
        [d_t - caliper, d_t + caliper]: rounded, the bound can fall on the wrong side of
        controls that pass the test (tests/fixtures/matchit_reference.R, `edge`)."""
        got = self.by_dist.get(int(self.strata[t]))
        if got is None:
            return np.empty(0, dtype=np.int64)
        rows, d = got
        if self.cal is None:
            return rows
        dt = self.dist[t]
        slack = 4 * np.finfo(float).eps * (abs(dt) + self.cal)
        if np.isfinite(slack):
            rows = rows[np.searchsorted(d, dt - self.cal - slack) : np.searchsorted(d, dt + self.cal + slack, "right")]
        return rows[np.abs(self.dist[rows] - dt) <= self.cal]

    def _rank(self, t, rows, size):
        """The `size` best of `rows` for t (with every control tied with the last), best
        first, and whether that is all of them."""
        if len(rows) == 0:
            return [rows, 0, True]
        d2 = _mah_d2(self.M, t, rows)
        ok = np.isfinite(d2)
        if not ok.all():
            rows, d2 = rows[ok], d2[ok]
        complete = len(rows) <= size
        if not complete:
            keep = d2 <= np.partition(d2, size - 1)[size - 1]
            complete = bool(keep.all())
            rows, d2 = rows[keep], d2[keep]
        gap = self.pos[rows] - self.pos[t]
        o = np.lexsort((gap < 0, -np.abs(gap), d2))  # nearest; then met last: farther, right before left
        return [rows[o], 0, complete]

    def _usable(self, rows, mine):
        ok = self.eligible[rows]
        if mine:
            ok &= ~np.isin(rows, mine)
        return ok

    def find(self, t, k, mine):
        # the unit's own controls that are still eligible (none without replacement: a used
        # control leaves the pool)
        mine = [c for c in mine if self.eligible[c]]
        entry = self.ranked.get(t)
        if entry is None:
            entry = self.ranked[t] = self._rank(t, self.window(t), max(self.PREFIX, 4 * k))
        while True:
            ranked, p, complete = entry
            out, first, step = [], None, max(16, 2 * k)
            while p < len(ranked) and len(out) < k:
                chunk = ranked[p : p + step]
                idx = np.flatnonzero(self._usable(chunk, mine))
                if first is None and len(idx):
                    first = p + int(idx[0])
                out.extend(chunk[idx[: k - len(out)]].tolist())
                p += len(chunk)
                step *= 2
            entry[1] = p if first is None else first  # what lies before is unusable for good
            if len(out) == k or complete:
                return out
            # the kept prefix ran out: rank the usable rest of the window
            rows = self.window(t)
            rows = rows[self._usable(rows, mine)]
            entry[:] = self._rank(t, rows, 2 * max(len(ranked), self.PREFIX, 4 * k))


def _nearest(dist, treat, strata, ratio, replace, caliper, m_order, unit, mah=None, split=False):
    """Nearest-neighbour matching as MatchIt 4.7.2 (method="nearest"); returns
    [(treated row, [control rows])] in matching order.

    Without replacement matching runs in rounds (every treated unit gets its first control
    before any gets its second), a used control (and, with `unit`, every row of its unit)
    leaves the pool, and a treated unit without a control in round one is dropped. With
    replacement each treated unit takes its `ratio` controls at once. `mah` (Mahalanobis
    coordinates) switches the choice among controls within the caliper to Mahalanobis
    distance (MatchIt's mahvars).
    """
    n = len(dist)
    strata = np.asarray(strata)
    # exact strata without both groups are discarded, as MatchIt does
    has = pd.DataFrame({"s": strata, "t": treat}).groupby("s")["t"].agg(["min", "max"])
    both = has.index[(has["min"] == 0) & (has["max"] == 1)]
    eligible = np.isin(strata, both)
    ids = np.flatnonzero(treat)
    reuse = not replace
    if replace:
        order = ids
    else:
        order = _order(dist[treat], ids, m_order)
        order = order[eligible[order]] if m_order == "data" else order
    if mah is None:
        pool = _Pool(dist, treat, strata)

        def find(t, k, mine):
            return _vec_candidates(t, pool, dist, strata, eligible, caliper, k, mine)
    else:
        find = _MahSearch(mah, dist, treat, strata, eligible, caliper, split).find

    got = {int(t): [] for t in order}
    if not reuse:
        for t in order:
            if eligible[t]:
                got[int(t)] = find(t, ratio, set())
        return [(int(t), got[int(t)]) for t in order]

    times = np.zeros(n, dtype=np.int64)
    allowed = np.where(treat, ratio, 1)
    if unit is not None:
        codes, uniq = pd.factorize(pd.Series(unit))
        # the rows of each unit, in data order: a counting sort (scipy's CSR construction,
        # linear; np.argsort of the codes took six times as long at 10^6 rows)
        from scipy import sparse

        csr = sparse.csr_matrix(
            (np.ones(len(codes), dtype=bool), (codes, np.arange(len(codes)))), shape=(len(uniq), len(codes))
        )
        by_unit, bounds = csr.indices, csr.indptr
    n_ctrl = int((eligible & ~treat).sum())
    for r in range(1, ratio + 1):
        for t in order:
            if n_ctrl == 0:
                break
            if not eligible[t]:
                continue
            mine = got[int(t)]
            k = find(t, 1, set(mine) if mah is not None else mine)
            if not k:
                if r == 1:
                    eligible[t] = False
                continue
            mine.append(int(k[0]))
            touched = [t, k[0]]
            if unit is not None:
                touched = np.concatenate([by_unit[bounds[codes[x]] : bounds[codes[x] + 1]] for x in touched])
            for x in touched:
                if not eligible[x]:
                    continue
                times[x] += 1
                if times[x] >= allowed[x]:
                    eligible[x] = False
                    if not treat[x]:
                        n_ctrl -= 1
    return [(int(t), got[int(t)]) for t in order]


def _att_weights(n, treat, matched):
    """MatchIt's matching weights: treated 1; a control gets 1/k from each treated unit it
    serves (k = that unit's number of controls), rescaled to sum to the matched controls."""
    w = np.zeros(n)
    for t, cs in matched:
        if cs:
            w[t] = 1.0
            for c in cs:
                w[c] += 1.0 / len(cs)
    c = (~treat) & (w > 0)
    if c.any():
        w[c] *= c.sum() / w[c].sum()
    return w


def match(
    data: pd.DataFrame,
    treatment: str,
    covariates,
    method: str | None = "nearest",
    distance: str = "logit",
    ratio: int = 1,
    replace: bool = False,
    caliper: float | None = None,
    std_caliper: bool = True,
    exact=None,
    m_order: str = "largest",
    estimand: str = "ATT",
    unit_id: str | None = None,
    mahvars=None,
) -> MatchResult:
    """Match treated rows to control rows on a propensity score.

    distance: "logit" matches on the linear predictor (MatchIt link="linear.logit"),
    "ps" on the probability (MatchIt's default), or the name of a column holding a
    precomputed distance. mahvars: covariates whose Mahalanobis distance chooses among
    the controls within the caliper (MatchIt's mahvars); the propensity score then only
    sets the caliper and the matching order. method=None keeps everyone (the unmatched baseline);
    "weighting" gives ATT odds weights p/(1-p) to controls.
    """
    if not isinstance(data, pd.DataFrame):
        raise SibevalError(f"match(): data must be a pandas DataFrame, not {type(data).__name__}")
    _check("method", method, METHODS)
    _check("estimand", estimand, ESTIMANDS)
    _check("m_order", m_order, M_ORDERS)
    covariates = list(covariates)
    mahvars = list(mahvars or [])
    missing = [
        c
        for c in [treatment, *covariates, *(exact or []), *mahvars, *([unit_id] if unit_id else [])]
        if c not in data.columns
    ]
    if missing:
        raise SibevalError(f"match(): column(s) {missing} are not in data; columns are {list(data.columns)[:20]}")
    tvals = set(pd.unique(data[treatment]))
    if not tvals <= {0, 1} or len(tvals) < 2:
        raise SibevalError(
            f"match(): treatment={treatment!r} must be 0/1 with both values present; found {plain(sorted(tvals)[:5])}"
        )
    if not isinstance(ratio, (int, np.integer)) or ratio < 1:
        raise SibevalError(f"match(): ratio={ratio!r} must be a whole number >= 1")
    if caliper is not None and caliper <= 0:
        raise SibevalError(f"match(): caliper={caliper!r} must be > 0 or None")

    d = data.reset_index(drop=True)  # a new frame (pandas copies on write): data is left as it is
    treat = d[treatment].to_numpy().astype(bool)
    model = None
    if distance in DISTANCES:
        model = propensity_model(d, treatment, covariates)
        lin = model.linear_predictor
        d["ps"] = 1.0 / (1.0 + np.exp(-lin))
        d["distance"] = lin if distance == "logit" else d["ps"]
    elif distance in d.columns:
        d["distance"] = d[distance].astype(float)
    else:
        raise SibevalError(f"match(): distance={distance!r} is neither one of {list(DISTANCES)} nor a column of data")
    dist = d["distance"].to_numpy(dtype=float)

    cal = None
    if caliper is not None:
        cal = caliper * float(np.std(dist, ddof=1)) if std_caliper else float(caliper)

    pairs = pd.DataFrame(columns=["subclass", "row", "treated"])
    if method is None:
        d["weights"] = 1.0
        d["subclass"] = np.nan
    elif method == "weighting":
        ps = d["ps"].to_numpy() if "ps" in d else 1 / (1 + np.exp(-dist))
        w = np.where(treat, 1.0, ps / (1 - ps))
        w[~treat] *= (~treat).sum() / w[~treat].sum()
        d["weights"] = w
        d["subclass"] = np.nan
    else:
        if exact:
            strata = (
                pd.Series(list(zip(*[d[c] for c in exact]))).factorize()[0]
                if len(exact) > 1
                else d[exact[0]].factorize()[0]
            )
        else:
            strata = np.zeros(len(d), dtype=int)
        unit = d[unit_id].to_numpy() if unit_id and not replace else None
        if unit is not None and pd.Series(unit[treat]).is_unique and pd.Series(unit[~treat]).is_unique:
            unit = None  # one row per unit: unit ids change nothing (as MatchIt)
        mah = None
        if mahvars:
            X = d[mahvars].to_numpy(dtype=float)
            if np.isnan(X).any():
                raise SibevalError(f"match(): mahvars {mahvars} have missing values; impute or drop them")
            with _blas_threads(BLAS_THREADS):
                mah = _mahalanobis_space(X, treat)
        # with mahvars MatchIt matches each exact stratum on its own (unless unit ids tie them)
        matched = _nearest(
            dist,
            treat,
            np.asarray(strata),
            int(ratio),
            replace,
            cal,
            m_order,
            unit,
            mah,
            split=bool(exact) and unit is None,
        )
        d["weights"] = _att_weights(len(d), treat, matched)
        sub = np.full(len(d), np.nan)
        prow = []
        k = 0
        for t, cs in sorted(matched, key=lambda x: x[0]):
            if not cs:
                continue
            k += 1
            sub[t] = k
            prow.append((k, t, 1))
            for c in cs:
                if not replace:
                    sub[c] = k
                prow.append((k, c, 0))
        d["subclass"] = sub
        pairs = pd.DataFrame(prow, columns=["subclass", "row", "treated"])
    return MatchResult(
        method=method,
        distance=distance,
        estimand=estimand,
        ratio=int(ratio),
        replace=bool(replace),
        caliper=cal,
        caliper_sd=caliper,
        m_order=m_order,
        exact=tuple(exact or ()),
        covariates=tuple(covariates),
        treatment=treatment,
        mahvars=tuple(mahvars),
        data=d,
        pairs=pairs,
        model=model,
    )
