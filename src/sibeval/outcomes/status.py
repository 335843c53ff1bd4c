"""Status in the outcome month (Table 1 of the effect note) and the headline outcomes.

Precedence (first match wins, DATA_CONTRACT.md): not resident, permanent benefit, flex
job or ledighedsydelse, education, wage with temporary benefit, temporary benefit,
self-supporting with wage, self-supporting with unknown income.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sibeval.errors import SibevalError
from sibeval.extract.codes import CodeTable
from sibeval.extract.panel import Panel
from sibeval.extract.timegrid import month_label, month_of_dates
from sibeval.outcomes.names import HEADLINES, OUTCOMES, PRECEDENCE, STATUSES


def classify_status(group, ordinary, resident, codes: CodeTable) -> np.ndarray:
    """Status per element from month group id, ordinary employment and vnds residence."""
    g = np.asarray(group)
    o = np.asarray(ordinary, dtype=bool)

    def isin(key):
        return np.isin(g, codes.gids(key))

    temporary = isin("temporary_groups")
    none = isin("none_groups")
    conditions = [
        ~np.asarray(resident, dtype=bool) | isin("emigrated_groups"),
        isin("permanent_groups"),
        isin("flex_groups"),
        isin("education_groups"),
        temporary & o,
        temporary & ~o,
        none & o,
        none & ~o,
    ]
    out = np.select(conditions, list(PRECEDENCE), default="unclassified")
    if (out == "unclassified").any():
        bad = sorted({codes.groups[x] for x in g[out == "unclassified"]})
        raise SibevalError(
            f"dream_codes: group(s) {bad} are in no classification set; add them to "
            "classification in config/dream_codes.yaml"
        )
    return out


def outcome_months(end_dates, follow_up_months: int) -> np.ndarray:
    """Month index of the outcome month: the month of the end date plus the follow-up."""
    return month_of_dates(end_dates) + int(follow_up_months)


def add_headlines(df: pd.DataFrame, status_col: str = "status") -> pd.DataFrame:
    """Add one 0/1 column per status and per headline outcome (NaN where not classified)."""
    out = df.copy()
    ok = out[status_col].notna()
    for s in STATUSES:
        out[s] = np.where(ok, (out[status_col] == s).astype(float), np.nan)
    for h, members in HEADLINES.items():
        out[h] = np.where(ok, out[status_col].isin(members).astype(float), np.nan)
    return out


def classify_outcomes(persons: pd.DataFrame, panel: Panel, codes: CodeTable,
                      beyond_coverage: str = "exclude") -> pd.DataFrame:
    """Status in each person's outcome month.

    `persons` has `pnr` and `outcome_month` (month index). Returns the input with
    `maaned`, `group`, `loen`, `timer`, `ordinary_employment`, `status` and `excluded`
    (a reason, or empty when the person is analysed) plus the 0/1 outcome columns.
    """
    df = persons.reset_index(drop=True).copy()
    rows = panel.row_of(df["pnr"])
    cols = panel.col_of(df["outcome_month"])
    df["maaned"] = [month_label(m) for m in df["outcome_month"]]
    found = rows >= 0
    inside = cols >= 0
    covered = np.zeros(len(df), bool)
    covered[inside] = panel.covered[cols[inside]]
    r, c = np.where(found, rows, 0), np.where(inside, cols, 0)
    dead = found & inside & panel.dead[r, c]
    reason = np.select(
        [~found, ~covered, dead],
        ["not in DREAM", "outcome month after the extract's coverage", "died before the outcome month ended"],
        default="",
    )
    if beyond_coverage == "error" and (reason == "outcome month after the extract's coverage").any():
        k = int((reason == "outcome month after the extract's coverage").sum())
        last = month_label(panel.months[panel.covered][-1])
        raise SibevalError(
            f"{k} person(s) have an outcome month after the extract's last covered month {last}; "
            "deliver a newer extract or set beyond_coverage: exclude in the cohort file"
        )
    ok = reason == ""
    df["group"] = pd.Series([panel.groups[g] for g in panel.group[r, c]]).where(ok)
    df["loen"] = np.where(ok, panel.loen[r, c], np.nan)
    df["timer"] = np.where(ok, panel.timer[r, c], np.nan)
    status = np.full(len(df), None, dtype=object)
    status[ok] = classify_status(panel.group[r, c][ok], panel.ordinary[r, c][ok],
                                 panel.resident[r, c][ok], codes)
    df["status"] = pd.Series(status, dtype=object)
    df["excluded"] = reason
    return add_headlines(df)


def table1(df: pd.DataFrame, by: str = "role", weight: str | None = None) -> pd.DataFrame:
    """Counts (weighted where `weight`) and shares of each status and headline by group."""
    rows = []
    ok = df[df["status"].notna()]
    for key, sub in ok.groupby(by, sort=True):
        if weight:
            sub = sub[sub[weight] > 0]
        w = sub[weight].to_numpy() if weight else np.ones(len(sub))
        total = w.sum()
        for o in OUTCOMES:
            cnt = float((sub[o].to_numpy() * w).sum())
            rows.append({by: key, "outcome": o, "n": int((sub[o] == 1).sum()), "weighted_n": cnt,
                         "total": int(len(sub)), "share": cnt / total if total else np.nan})
    return pd.DataFrame(rows)


def analysis_persons(participants: pd.DataFrame, matched: pd.DataFrame, follow_up_months: int,
                     control_dates: str = "matched") -> pd.DataFrame:
    """Participants and matched controls with their outcome months.

    A control takes the end date of its matched participant (`control_dates="matched"`)
    or the participants' mean end date (`"mean_end_date"`, as the 2022 note did).
    """
    p = participants[["pnr", "kommune", "start_dato", "slut_dato"]].copy()
    p["outcome_month"] = outcome_months(p["slut_dato"], follow_up_months)
    p["index_month"] = month_of_dates(p["start_dato"])
    p["role"] = "participant"
    sets = matched[matched["treated"] == 1][["pnr", "subclass"]]
    p = p.merge(sets, on="pnr", how="left")
    c = matched[matched["treated"] == 0][["pnr", "subclass", "participant_pnr", "index_month"]].copy()
    c["role"] = "control"
    if control_dates == "matched":
        if c["participant_pnr"].isna().any():
            raise SibevalError("control_dates: matched needs matched sets (nearest-neighbour "
                               "matching); use control_dates: mean_end_date with weighting")
        ends = p.set_index("pnr")["slut_dato"]
        c["slut_dato"] = c["participant_pnr"].map(ends)
        c["outcome_month"] = outcome_months(c["slut_dato"], follow_up_months)
    elif control_dates == "mean_end_date":
        mean_end = pd.to_datetime(p["slut_dato"]).mean()
        c["slut_dato"] = mean_end
        c["outcome_month"] = int(outcome_months(pd.Series([mean_end]), follow_up_months)[0])
    else:
        raise SibevalError(f"control_dates: {control_dates!r} is not allowed; use matched or mean_end_date")
    cols = ["pnr", "role", "subclass", "index_month", "slut_dato", "outcome_month"]
    return pd.concat([p[cols + ["kommune"]], c[cols]], ignore_index=True)


# Why a person of the matched sample is not analysed (beside classify_outcomes' reasons)
NO_CONTROL_IN_CALIPER = "no eligible control within the caliper"
NO_CONTROL_OBSERVED = "no matched control with an observed status"
PARTICIPANT_UNOBSERVED = "their participant has no observed status"


def analysed_sample(df: pd.DataFrame) -> pd.DataFrame:
    """The one decision of who is analysed, read by every table (flow, Table 1, effects,
    subgroups, placebo, hours and wages, sensitivity).

    `df` is classify_outcomes' frame (`role`, `subclass`, `excluded`). A control is analysed
    when its participant's status is observed and its own is; a participant when its
    status is observed and at least one control of its matched set is analysed. Returns
    `reason` (empty for the analysed; else the first reason that applies, in this order:
    for participants the outcome reason, no control within the caliper, no control with
    an observed status; for controls their participant's missing status, then their own
    outcome reason) and `weight` (ATT weights, 0 for those not analysed: a control gets
    1/k in a set of k analysed controls, on each of a reused control's rows, scaled so the
    control weights sum to the number of analysed control rows).
    """
    role = df["role"].to_numpy()
    part, ctrl = role == "participant", role == "control"
    own = df["excluded"].fillna("").astype(str).to_numpy()
    observed = own == ""
    sub = df["subclass"]
    in_set = sub.notna().to_numpy()
    in_observed_set = sub.isin(set(sub[part & observed & in_set])).to_numpy()
    reason = own.astype(object)                          # the person's own reason first
    reason[ctrl & ~in_observed_set] = PARTICIPANT_UNOBSERVED
    c_ok = ctrl & in_observed_set & observed
    reason[part & observed & ~in_set] = NO_CONTROL_IN_CALIPER
    reason[part & observed & in_set & ~sub.isin(set(sub[c_ok])).to_numpy()] = NO_CONTROL_OBSERVED
    analysed = reason == ""
    w = pd.Series(0.0, index=df.index)
    w[analysed & part] = 1.0
    k = sub[c_ok].value_counts()
    w[c_ok] = 1.0 / sub[c_ok].map(k).to_numpy(float)
    if c_ok.any():
        # on the scale of the analysed control rows, which the effects count as n_controls
        # (equal to the persons unless a control is reused across matched sets)
        w[c_ok] *= c_ok.sum() / w[c_ok].sum()
    return pd.DataFrame({"reason": pd.Series(reason, index=df.index, dtype=object), "weight": w})


def set_weights(df: pd.DataFrame) -> pd.Series:
    """ATT weights of :func:`analysed_sample` (0 for everyone not analysed)."""
    return analysed_sample(df)["weight"]
