"""Progression from start to end questionnaire: BIP items and WHO-5 (DATA_CONTRACT.md).

Pairs are participants with both a start and an end questionnaire; by default only
complete pairs (every item answered both times) are analysed, as the published note.
WHO-5 score = raw sum x 4 (0-100), only when all five items are answered.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from sibeval.extract.contract import BIP_ITEMS, WHO5_ITEMS
from sibeval.inference.comparisons import wilson_ci
from sibeval.progression.bands import BANDS


def pairs(q: pd.DataFrame, participants: pd.DataFrame, mode: str = "complete"):
    """Wide start/end pairs with the municipality, and a flow of who was left out why."""
    items = list(BIP_ITEMS + WHO5_ITEMS)
    started = participants[participants["start_dato"].notna()]
    s = q[q["runde"] == "start"].set_index("pnr")[items]
    e = q[q["runde"] == "slut"].set_index("pnr")[items]
    both = s.index.intersection(e.index)
    flow = [
        {"step": "started", "n": len(started), "reason": ""},
        {
            "step": "start_questionnaire",
            "n": int(started["pnr"].isin(s.index).sum()),
            "reason": "no start questionnaire",
        },
        {"step": "both_questionnaires", "n": len(both), "reason": "no end questionnaire"},
    ]
    wide = s.loc[both].add_suffix("_start").join(e.loc[both].add_suffix("_end"))
    complete = wide.notna().all(axis=1)
    if mode == "complete":
        wide = wide[complete]
        flow.append({"step": "complete_pairs", "n": int(complete.sum()), "reason": "incomplete items"})
    wide = wide.join(participants.set_index("pnr")["kommune"]).reset_index()
    f = pd.DataFrame(flow)
    f["excluded"] = (f["n"].shift(1) - f["n"]).fillna(0).astype(int)
    return wide, f


def _groups(wide, by):
    yield "all", wide
    if by:
        for k, g in wide.groupby(by, sort=True):
            yield str(k), g


def item_changes(
    wide: pd.DataFrame,
    items,
    targets: dict | None = None,
    by: str | None = "kommune",
    indicators=(),
    unsure_max: int = 2,
) -> pd.DataFrame:
    """Per item (and group): shares up / same / down with Wilson CIs, the exact binomial
    test of the positive share against its target, and the 'opposing tendencies' columns."""
    rows = []
    for group, g in _groups(wide, by):
        for it in items:
            a, b = g[f"{it}_start"], g[f"{it}_end"]
            ok = a.notna() & b.notna()
            d = (b[ok] - a[ok]).to_numpy(float)
            n = int(ok.sum())
            up, same, down = int((d > 0).sum()), int((d == 0).sum()), int((d < 0).sum())
            row = {
                "group": group,
                "item": it,
                "indicator": it in indicators,
                "n": n,
                "n_up": up,
                "n_same": same,
                "n_down": down,
            }
            for k, x in (("up", up), ("same", same), ("down", down)):
                lo, hi = wilson_ci(x, n) if n else (np.nan, np.nan)
                row[f"share_{k}"] = x / n if n else np.nan
                row[f"ci_{k}_low"], row[f"ci_{k}_high"] = lo, hi
            target = (targets or {}).get(it)
            row["target"] = target
            row["p_vs_target"] = float(stats.binomtest(up, n, target).pvalue) if n and target is not None else np.nan
            row["target_reached"] = bool(n and target is not None and up / n >= target)
            starts = a[ok].to_numpy(float)
            row["n_down_started_unsure"] = int(((d < 0) & (starts <= unsure_max)).sum())
            row["share_of_down_started_unsure"] = row["n_down_started_unsure"] / down if down else np.nan
            rows.append(row)
    return pd.DataFrame(rows)


def who5_scores(wide: pd.DataFrame) -> pd.DataFrame:
    """Start and end WHO-5 score per person (NaN unless all five items are answered)."""
    out = wide[["pnr", "kommune"]].copy()
    for r in ("start", "end"):
        raw = wide[[f"{i}_{r}" for i in WHO5_ITEMS]]
        out[f"score_{r}"] = (raw.sum(axis=1, min_count=5) * 4).where(raw.notna().all(axis=1))
    return out


def _band(x):
    return pd.cut(x, [-0.1, 35, 50, 100], labels=list(BANDS))


def _mean_ci(x):
    x = np.asarray(x, float)
    if len(x) < 2:
        return (np.nan, np.nan)
    if np.all(x == x[0]):  # no spread: the interval is the point
        return (float(x[0]), float(x[0]))
    ci = stats.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=stats.sem(x))
    return (float(ci[0]), float(ci[1]))


def who5_summary(scores: pd.DataFrame, population_mean=68.0, meaningful=10, by="kommune") -> pd.DataFrame:
    """Mean score start and end with CIs, paired t and Wilcoxon signed-rank, share
    improving by `meaningful` points or more, and the end mean against the population."""
    rows = []
    for group, g in _groups(scores.dropna(subset=["score_start", "score_end"]), by):
        s, e = g["score_start"].to_numpy(float), g["score_end"].to_numpy(float)
        d = e - s
        n = len(d)
        row = {
            "group": group,
            "n": n,
            "mean_start": s.mean() if n else np.nan,
            "mean_end": e.mean() if n else np.nan,
            "mean_change": d.mean() if n else np.nan,
        }
        row["ci_start_low"], row["ci_start_high"] = _mean_ci(s)
        row["ci_end_low"], row["ci_end_high"] = _mean_ci(e)
        row["ci_change_low"], row["ci_change_high"] = _mean_ci(d)
        row["p_paired_t"] = float(stats.ttest_rel(e, s).pvalue) if n > 1 and d.std() > 0 else np.nan
        nz = d[d != 0]
        row["p_wilcoxon"] = float(stats.wilcoxon(nz, method="auto").pvalue) if len(nz) > 0 else np.nan
        row["wilcoxon_method"] = (
            "exact" if len(nz) <= 50 and len(np.unique(np.abs(nz))) == len(nz) else "normal approximation"
        )
        row["n_improved_meaningfully"] = int((d >= meaningful).sum())
        row["share_improved_meaningfully"] = float((d >= meaningful).mean()) if n else np.nan
        row["population_mean"] = population_mean
        row["p_end_vs_population"] = (
            float(stats.ttest_1samp(e, population_mean).pvalue) if n > 1 and e.std() > 0 else np.nan
        )
        row["significant_change"] = bool(row["p_paired_t"] < 0.05) if n > 1 else False
        rows.append(row)
    return pd.DataFrame(rows)


def band_transitions(scores: pd.DataFrame) -> pd.DataFrame:
    """3x3 counts: WHO-5 band at start (rows) by band at end (columns)."""
    s = scores.dropna(subset=["score_start", "score_end"])
    t = pd.crosstab(_band(s["score_start"]), _band(s["score_end"]), dropna=False)
    return t.reindex(index=list(BANDS), columns=list(BANDS), fill_value=0)
