"""Propensity-score matching in the manner of R's MatchIt, for any DataFrame.

``match(data, treatment=, covariates=, ...)`` returns one frozen :class:`MatchResult`
with ``.matched_data()``, ``.matched_pairs()`` and ``.summary()``.

Nearest-neighbour matching follows MatchIt 4 (checked against it in the tests):
treated units are taken in ``m_order``; matching runs in rounds, so every treated unit
gets its first control before any gets its second; the nearest control is the one with
the smallest absolute distance difference, ties going to the control that comes first
in the data; a caliper is in standard deviations of the distance when ``std_caliper``.
Beyond MatchIt, ``unit_id`` makes a control that appears in several rows (a person who
is a candidate in several index months) usable once without replacement.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import statsmodels.api as sm

from .errors import SibevalError, plain

METHODS = ("nearest", "weighting", None)
DISTANCES = ("logit", "ps")
M_ORDERS = ("largest", "smallest", "data")
ESTIMANDS = ("ATT",)


def _check(name, value, allowed):
    if value not in allowed:
        raise SibevalError(f"match(): {name}={value!r} is not allowed; use one of {list(allowed)}")


def propensity_model(data: pd.DataFrame, treatment: str, covariates: list[str]):
    """Unpenalised logistic regression of treatment on the covariates (statsmodels)."""
    X = data[covariates].astype(float)
    bad = [c for c in covariates if X[c].isna().any()]
    if bad:
        raise SibevalError(f"match(): covariate(s) {bad} have missing values "
                           f"({int(X[bad].isna().any(axis=1).sum())} rows); impute or drop them")
    const = [c for c in covariates if X[c].nunique() < 2]
    if const:
        raise SibevalError(f"match(): covariate(s) {const} take a single value; drop them from covariates")
    X = sm.add_constant(X.to_numpy(), has_constant="add")
    y = data[treatment].to_numpy(dtype=float)
    try:
        fit = sm.Logit(y, X).fit(method="newton", disp=0, maxiter=100)
    except Exception as exc:  # perfect separation, singular design
        raise SibevalError(f"match(): the propensity model could not be fitted ({exc}); "
                           "check for covariates that predict treatment perfectly") from None
    return fit


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
    caliper: float | None        # in distance units, as applied
    caliper_sd: float | None     # as given
    m_order: str
    exact: tuple
    covariates: tuple
    treatment: str
    data: pd.DataFrame = field(repr=False)
    pairs: pd.DataFrame = field(repr=False)
    model: object = field(repr=False, default=None)

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
            ess = lambda x: float(x.sum() ** 2 / (x ** 2).sum()) if x.sum() > 0 else 0.0  # noqa: E731
            rows.insert(1, {"sample": "Matched (ESS)", "control": round(ess(w[~t & (w > 0)]), 2),
                            "treated": round(ess(w[t & (w > 0)]), 2)})
        return pd.DataFrame(rows)


def _order(dist_t, idx_t, m_order):
    """Treated rows in matching order (ties keep data order, as R's order())."""
    if m_order == "largest":
        return idx_t[np.lexsort((idx_t, -dist_t))]
    if m_order == "smallest":
        return idx_t[np.lexsort((idx_t, dist_t))]
    return idx_t


def _nearest(dist, treat, strata, ratio, replace, caliper, m_order, unit):
    """Nearest-neighbour matching; returns [(treated row, [control rows])] in matching order.

    All rows are sorted by distance (stable, so equal distances keep data order). A
    treated unit looks for the first usable control to its left and to its right in that
    order and takes the closer one, the left one on a tie. The scan on a side stops at the
    first usable control outside the caliper.
    """
    n = len(dist)
    sorted_rows = np.argsort(dist, kind="stable")
    pos_of = np.empty(n, dtype=np.int64)
    pos_of[sorted_rows] = np.arange(n)
    d_s = dist[sorted_rows]
    t_s = treat[sorted_rows]
    st_s = strata[sorted_rows]
    usable = ~t_s.copy()
    if unit is not None and not replace:
        # positions (in distance order) of every row of a unit: rows sorted by unit code
        unit_code = pd.factorize(unit[sorted_rows])[0]
        by_unit = np.argsort(unit_code, kind="stable")
        bounds = np.searchsorted(unit_code[by_unit], np.arange(unit_code.max() + 2))

    def scan(p, step, mine):
        k = p + step
        while 0 <= k < n:
            if t_s[k] or not usable[k] or (replace and k in mine):
                k += step
                continue
            if caliper is not None and abs(d_s[k] - d_s[p]) > caliper:
                return -1
            if st_s[k] != st_s[p]:
                k += step
                continue
            return k
        return -1

    order = _order(dist[treat], np.flatnonzero(treat), m_order)
    got = {int(t): [] for t in order}
    for _ in range(ratio):
        for t in order:
            p = pos_of[t]
            mine = got[int(t)]
            mine_pos = {pos_of[c] for c in mine} if replace else ()
            left, right = scan(p, -1, mine_pos), scan(p, 1, mine_pos)
            if left >= 0 and right >= 0:
                # equal up to rounding noise counts as a tie, and a tie goes left
                tol = 1e-10 * max(1.0, abs(d_s[p]))
                k = left if abs(d_s[left] - d_s[p]) <= abs(d_s[right] - d_s[p]) + tol else right
            else:
                k = max(left, right)
            if k < 0:
                continue
            mine.append(int(sorted_rows[k]))
            if not replace:
                if unit is not None:
                    u = unit_code[k]
                    usable[by_unit[bounds[u]:bounds[u + 1]]] = False
                else:
                    usable[k] = False
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


def match(data: pd.DataFrame, treatment: str, covariates, method: str | None = "nearest",
          distance: str = "logit", ratio: int = 1, replace: bool = False,
          caliper: float | None = None, std_caliper: bool = True, exact=None,
          m_order: str = "largest", estimand: str = "ATT", unit_id: str | None = None) -> MatchResult:
    """Match treated rows to control rows on a propensity score.

    distance: "logit" matches on the linear predictor (MatchIt link="linear.logit"),
    "ps" on the probability (MatchIt's default), or the name of a column holding a
    precomputed distance. method=None keeps everyone (the unmatched baseline);
    "weighting" gives ATT odds weights p/(1-p) to controls.
    """
    if not isinstance(data, pd.DataFrame):
        raise SibevalError(f"match(): data must be a pandas DataFrame, not {type(data).__name__}")
    _check("method", method, METHODS)
    _check("estimand", estimand, ESTIMANDS)
    _check("m_order", m_order, M_ORDERS)
    covariates = list(covariates)
    missing = [c for c in [treatment, *covariates, *(exact or []), *([unit_id] if unit_id else [])]
               if c not in data.columns]
    if missing:
        raise SibevalError(f"match(): column(s) {missing} are not in data; columns are {list(data.columns)[:20]}")
    tvals = set(pd.unique(data[treatment]))
    if not tvals <= {0, 1} or len(tvals) < 2:
        raise SibevalError(f"match(): treatment={treatment!r} must be 0/1 with both values present; found {plain(sorted(tvals)[:5])}")
    if not isinstance(ratio, (int, np.integer)) or ratio < 1:
        raise SibevalError(f"match(): ratio={ratio!r} must be a whole number >= 1")
    if caliper is not None and caliper <= 0:
        raise SibevalError(f"match(): caliper={caliper!r} must be > 0 or None")

    d = data.reset_index(drop=True).copy()
    treat = d[treatment].to_numpy().astype(bool)
    model = None
    if distance in DISTANCES:
        model = propensity_model(d, treatment, covariates)
        lin = model.model.exog @ model.params
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
            strata = pd.Series(list(zip(*[d[c] for c in exact]))).factorize()[0] if len(exact) > 1 \
                else d[exact[0]].factorize()[0]
        else:
            strata = np.zeros(len(d), dtype=int)
        unit = d[unit_id].to_numpy() if unit_id else None
        matched = _nearest(dist, treat, np.asarray(strata), int(ratio), replace, cal, m_order, unit)
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
    return MatchResult(method=method, distance=distance, estimand=estimand, ratio=int(ratio),
                       replace=bool(replace), caliper=cal, caliper_sd=caliper, m_order=m_order,
                       exact=tuple(exact or ()), covariates=tuple(covariates), treatment=treatment,
                       data=d, pairs=pairs, model=model)
