"""Covariate balance in the manner of R's cobalt: standardised mean differences, variance
ratios and the maximum eCDF difference, before and after matching or weighting."""

from __future__ import annotations

import numpy as np
import pandas as pd


def _wmean(x, w):
    return float(np.sum(w * x) / np.sum(w))


def _wvar(x, w):
    """Weighted variance with the reliability-weights bias correction (as cobalt)."""
    sw = w.sum()
    m = np.sum(w * x) / sw
    denom = sw - np.sum(w**2) / sw
    return float(np.sum(w * (x - m) ** 2) / denom) if denom > 0 else np.nan


def _ecdf_at(x, w, vals):
    """Weighted share of x at or below each of the sorted `vals` (one sort, no loop)."""
    o = np.argsort(x, kind="stable")
    cum = np.concatenate([[0.0], np.cumsum(w[o])])
    return cum[np.searchsorted(x[o], vals, side="right")] / w.sum()


def _ecdf_max(xt, wt, xc, wc):
    vals = np.unique(np.concatenate([xt, xc]))
    if not len(vals):
        return np.nan
    return float(np.max(np.abs(_ecdf_at(xt, wt, vals) - _ecdf_at(xc, wc, vals))))


def balance_table(
    data: pd.DataFrame,
    treatment: str,
    covariates,
    weights: str | None = None,
    estimand: str = "ATT",
    sd_data: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per covariate: means, SMD, raw difference, variance ratio, eCDF max.

    SMD = (mean treated - mean control) / SD of the treated (ATT), with the SD taken from
    `sd_data` (default: `data` unweighted), so before and after share one denominator.
    """
    sd_src = data if sd_data is None else sd_data
    t = data[treatment].to_numpy().astype(bool)
    w = data[weights].to_numpy(float) if weights else np.ones(len(data))
    keep = w > 0
    rows = []
    for c in covariates:
        x = data[c].to_numpy(float)
        xt, xc = x[t & keep], x[~t & keep]
        wt, wc = w[t & keep], w[~t & keep]
        ref = sd_src.loc[sd_src[treatment].astype(bool), c].to_numpy(float)
        sd = float(np.std(ref, ddof=1)) if estimand == "ATT" else np.nan
        mt, mc = _wmean(xt, wt), _wmean(xc, wc)
        binary = set(np.unique(x[~np.isnan(x)])) <= {0.0, 1.0}
        vt, vc = _wvar(xt, wt), _wvar(xc, wc)
        rows.append(
            {
                "covariate": c,
                "type": "binary" if binary else "continuous",
                "mean_treated": mt,
                "mean_control": mc,
                "diff_raw": mt - mc,
                "smd": (mt - mc) / sd if sd > 0 else np.nan,
                "variance_ratio": np.nan if binary or not vc else vt / vc,
                "ecdf_max": _ecdf_max(xt, wt, xc, wc),
            }
        )
    return pd.DataFrame(rows)


def balance_before_after(result, threshold: float = 0.1, covariates=None) -> pd.DataFrame:
    """Balance of a :class:`~sibeval.design.matching.MatchResult` before and after, with the
    distance (propensity score) included, and a flag for |SMD| below `threshold`.

    `covariates` (default: the model's) names the columns to show, e.g. without the
    squared terms the propensity model adds."""
    d = result.data
    covs = list(result.covariates if covariates is None else covariates) + (["distance"] if "distance" in d else [])
    before = balance_table(d, result.treatment, covs, None, result.estimand)
    after = balance_table(d, result.treatment, covs, "weights", result.estimand, sd_data=d)
    out = before.merge(after, on=["covariate", "type"], suffixes=("_before", "_after"))
    out["balanced"] = out["smd_after"].abs() < threshold
    return out


def covariate_counts(data: pd.DataFrame, covariates, treatment: str = "treated") -> pd.DataFrame:
    """Persons behind each binary covariate's mean, per group (participants, eligible pool,
    matched controls): what disclosure control needs to judge the balance table. `n_with`
    is on the scale of the mean's denominator (rows; weighted for the matched controls)."""
    t = data[treatment].to_numpy() == 1
    w = data["weights"].to_numpy(float) if "weights" in data else np.ones(len(data))
    # participants as in the balance after matching (the profile's column)
    groups = {
        "participants": (t & (w > 0), np.ones(len(data))),
        "pool": (~t, np.ones(len(data))),
        "matched_controls": (~t & (w > 0), w),
    }
    # distinct persons as whole numbers (a row per person and index month; no copy of the rows)
    person = pd.factorize(data["pnr"], use_na_sentinel=False)[0] if "pnr" in data else np.arange(len(data))
    rows = []
    for v in covariates:
        x = data[v].to_numpy(float)
        if not set(np.unique(x[~np.isnan(x)])) <= {0.0, 1.0}:
            continue
        for g, (sel, wt) in groups.items():
            n_total = int(sel.sum())
            n_with = float(np.sum(x[sel] * wt[sel]) / np.sum(wt[sel]) * n_total) if n_total else 0.0
            rows.append(
                {
                    "covariate": v,
                    "group": g,
                    "n_total": n_total,
                    "n_with": n_with,
                    "persons_with": _persons(person, sel & (x == 1)),
                    "persons_without": _persons(person, sel & (x == 0)),
                }
            )
    return pd.DataFrame(rows, columns=["covariate", "group", "n_total", "n_with", "persons_with", "persons_without"])


def _persons(person: np.ndarray, rows: np.ndarray) -> int:
    """Distinct persons (codes 0, 1, ...) among `rows`: counted, not sorted."""
    return int(np.count_nonzero(np.bincount(person[rows])))


def score_bins(data: pd.DataFrame, n_bins: int = 40, treatment: str = "treated") -> pd.DataFrame:
    """Persons per propensity-score bin (fine, equal width) for participants, the eligible
    pool and the matched controls; the publish step merges bins until none is small."""
    ps = data["ps"].to_numpy(float)
    t = data[treatment].to_numpy() == 1
    w = data["weights"].to_numpy(float) if "weights" in data else np.zeros(len(data))
    edges = np.linspace(0.0, float(ps.max()) * 1.0001, n_bins + 1)
    b = np.clip(np.searchsorted(edges, ps, side="right") - 1, 0, n_bins - 1)
    pnr = data["pnr"].to_numpy() if "pnr" in data else np.arange(len(data))
    rows = []
    for g, sel in (("participants", t & (w > 0)), ("eligible_pool", ~t), ("matched_controls", ~t & (w > 0))):
        d = pd.DataFrame({"bin": b[sel], "pnr": pnr[sel]}).groupby("bin")["pnr"].agg(["size", "nunique"])
        d = d.reindex(range(n_bins), fill_value=0)
        rows += [
            {
                "group": g,
                "bin_lo": round(float(edges[i]), 6),
                "bin_hi": round(float(edges[i + 1]), 6),
                "n": int(d.at[i, "size"]),
                "persons": int(d.at[i, "nunique"]),
            }
            for i in range(n_bins)
        ]
    return pd.DataFrame(rows)
