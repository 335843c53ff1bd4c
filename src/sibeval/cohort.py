"""The analysis cohort: participant flow, eligibility and covariates at an index month.

Risk-set (calendar-time) design: each participant's start month is an index month; every
person eligible in that month who was never referred is a candidate row (person, index
month), with covariates measured relative to the index month exactly as for the
participants at their own start.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .errors import SibevalError
from .panel import Panel
from .timegrid import month_of_dates, week_of_date, week_thursday

# covariate -> what it measures (shown in the report's method section)
COVARIATES = {
    "age": "Age in years on the first day of the index month",
    "age_50plus": "Aged 50 or more",
    "partner": "Lives with a partner (bef samlev, snapshot of the index year)",
    "years_dk_lt7": "Less than 7 years in Denmark since the latest immigration (vnds)",
    "employed_24m": "Ordinary employment in any of the 24 months before the index month",
    "benefit_share_36m": "Share of the 36 months before the index month on a public benefit",
    "primary_school_only": "At most primary school (hfaudd 10xx, or no education record)",
    "passive_4w": "Cash benefit or SHY (the eligibility groups) 4 weeks before the index week",
    "somatic_2y": "Somatic hospital contact in the two calendar years before the index year",
    "psych_2y": "Psychiatric hospital contact in the two calendar years before the index year",
    "herning_viborg": "Lives in one of the participants' municipalities",
    "female": "Woman (bef koen 2)",
    "non_western": "Non-Western origin (opr_land outside the Western list)",
}



def participant_flow(part: pd.DataFrame, bef: pd.DataFrame, municipalities=()) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Participants kept for the analysis and a flow table with reasons for each exclusion.

    Returns (analysed participants, flow rows [step, n, reason]).
    """
    flow = [("referred", len(part), "")]
    p = part
    if municipalities:
        p = p[p["kommune"].isin(municipalities)]
        flow.append(("in_cohort_municipalities", len(p), "referred by another municipality"))
    p = p[p["start_dato"].notna()]
    flow.append(("started", len(p), "referred but never started"))
    p = p[p["pnr"].isin(set(bef["pnr"]))]
    flow.append(("found_in_bef", len(p), "not found in the population register (bef)"))
    p = p[p["slut_dato"].notna()]
    flow.append(("ended", len(p), "still in the programme (no slut_dato)"))
    rows = []
    for i, (step, n, reason) in enumerate(flow):
        excluded = flow[i - 1][1] - n if i else 0
        rows.append({"step": step, "n": n, "excluded": excluded, "reason": reason if excluded else ""})
    return p.reset_index(drop=True), pd.DataFrame(rows)


def _snapshot(bef: pd.DataFrame, year: int) -> pd.DataFrame:
    """Each person's bef row for `year`, else the latest earlier one."""
    b = bef[bef["aar"] <= year]
    person, _ = pd.factorize(b["pnr"])
    order = np.lexsort((b["aar"].to_numpy(), person))     # by person, then year
    last = order[np.r_[person[order][1:] != person[order][:-1], True]] if len(order) else order
    return b.iloc[np.sort(last)].set_index("pnr")


def _index_week(index_month: int) -> tuple[int, int]:
    """The first ISO week whose Thursday lies in the index month."""
    y, m = index_month // 12, index_month % 12 + 1
    first = pd.Timestamp(year=y, month=m, day=1)
    thursday = first + pd.Timedelta(days=(3 - first.day_of_week) % 7)
    return week_of_date(thursday)


def week_minus(week: tuple[int, int], k: int) -> tuple[int, int]:
    d = pd.Timestamp(week_thursday(*week)) - pd.Timedelta(weeks=k)
    return week_of_date(d)


def covariates_at(persons: pd.DataFrame, panel: Panel, bef: pd.DataFrame, codes,
                  vnds=None, udda=None, lpr=None, week_groups=None, passive_groups=(),
                  participant_municipalities=(), western=frozenset()) -> pd.DataFrame:
    """Covariates for rows (pnr, index_month, index_week) relative to each row's index.

    `week_groups(pnr, week) -> group ids` gives the DREAM group of a week (for passive_4w).
    """
    df = persons.reset_index(drop=True).copy()
    rows = panel.row_of(df["pnr"])
    if (rows < 0).any():
        raise SibevalError(f"{int((rows < 0).sum())} person(s) are not in DREAM; e.g. row {np.flatnonzero(rows < 0)[0]}")
    cols = panel.col_of(df["index_month"])
    if (cols < 36).any():
        raise SibevalError("an index month lies less than 36 months after the first DREAM week; "
                           "the covariate windows need 36 months of history")
    idx_date = pd.to_datetime({"year": df["index_month"] // 12, "month": df["index_month"] % 12 + 1, "day": 1})
    year = (df["index_month"] // 12).to_numpy()
    out = {}
    # bef traits of the index year
    snap = pd.concat([_snapshot(bef, y).reindex(df.loc[year == y, "pnr"]).set_index(df.index[year == y])
                      for y in np.unique(year)]).sort_index()
    age = (idx_date - pd.to_datetime(snap["foed_dag"])).dt.days / 365.25
    out["age"] = np.floor(age).to_numpy()
    out["age_50plus"] = (out["age"] >= 50).astype(float)
    out["partner"] = snap["samlev"].to_numpy(dtype=float)
    out["kom"] = snap["kom"].to_numpy(dtype=float)
    out["herning_viborg"] = np.isin(out["kom"], list(participant_municipalities)).astype(float)
    out["female"] = (snap["koen"].to_numpy(dtype=float) == 2).astype(float)
    out["non_western"] = (~snap["opr_land"].isin(western).to_numpy()).astype(float)
    # labour-market history from the panel
    ordinary_cs = np.concatenate([np.zeros((panel.group.shape[0], 1)), np.cumsum(panel.ordinary, axis=1)], axis=1)
    benefit = ~np.isin(panel.group, np.concatenate([codes.gids("none_groups"), codes.gids("education_groups")]))
    benefit_cs = np.concatenate([np.zeros((panel.group.shape[0], 1)), np.cumsum(benefit, axis=1)], axis=1)
    out["employed_24m"] = ((ordinary_cs[rows, cols] - ordinary_cs[rows, cols - 24]) > 0).astype(float)
    out["benefit_share_36m"] = (benefit_cs[rows, cols] - benefit_cs[rows, cols - 36]) / 36.0
    # years in Denmark: since the latest immigration before the index date
    if vnds is not None:
        imm = vnds[vnds["indud_kode"] == "I"][["pnr", "haend_dato"]]
        m = df[["pnr"]].assign(_i=df.index, _d=idx_date).merge(imm, on="pnr", how="left")
        m = m[m["haend_dato"].isna() | (m["haend_dato"] < m["_d"])]
        last = m.groupby("_i")["haend_dato"].max().reindex(df.index)
        yrs = (idx_date - last).dt.days / 365.25
        out["years_dk_lt7"] = (yrs < 7).fillna(False).astype(float).to_numpy()
    else:
        out["years_dk_lt7"] = np.full(len(df), np.nan)
    # education: latest record at or before the index year; no record counts as primary
    if udda is not None:
        u = udda.sort_values(["pnr", "aar"])
        m = df[["pnr"]].assign(_i=df.index, _y=year).merge(u, on="pnr", how="left")
        m = m[m["aar"].isna() | (m["aar"] <= m["_y"])]
        last = m.groupby("_i")["hfaudd"].last().reindex(df.index)
        out["primary_school_only"] = (last.isna() | last.astype(str).str[:2].eq("10")).astype(float).to_numpy()
    else:
        out["primary_school_only"] = np.full(len(df), np.nan)
    # hospital contacts in the two calendar years before the index year
    for name, psyk in (("somatic_2y", 0), ("psych_2y", 1)):
        if lpr is None:
            out[name] = np.full(len(df), np.nan)
            continue
        c = lpr[lpr["psyk"] == psyk]
        cy = pd.DataFrame({"pnr": c["pnr"], "y": pd.to_datetime(c["dato"]).dt.year}).drop_duplicates()
        have = set(zip(cy["pnr"], cy["y"]))
        out[name] = np.array([float((p, y - 1) in have or (p, y - 2) in have)
                              for p, y in zip(df["pnr"], year)])
    # benefit group 4 weeks before the index week
    if week_groups is not None:
        wk = [week_minus(w, 4) for w in df["index_week"]]
        g = week_groups(df["pnr"].to_numpy(), wk)
        out["passive_4w"] = np.isin(g, [codes.gid(x) for x in passive_groups]).astype(float)
    else:
        out["passive_4w"] = np.full(len(df), np.nan)
    for k, v in out.items():
        df[k] = v
    return df


def eligible_at(panel: Panel, bef: pd.DataFrame, index_month: int, eligibility: dict,
                western: set, exclude_pnr: set, participant_municipalities=(), snapshot=None,
                excluded=None) -> np.ndarray:
    """pnr of the persons eligible as controls in `index_month`.

    `snapshot` (the bef snapshot of the index year in panel row order) and `excluded` (a
    mask of `exclude_pnr` over the panel rows) may be passed when computed once already.
    """
    col = int(panel.col_of([index_month])[0])
    if col < 0:
        raise SibevalError(f"index month {index_month // 12}-{index_month % 12 + 1:02d} is outside the DREAM weeks")
    snap = _snapshot(bef, index_month // 12).reindex(panel.pnr) if snapshot is None else snapshot
    idx_date = pd.Timestamp(year=index_month // 12, month=index_month % 12 + 1, day=1)
    age = np.floor((idx_date - pd.to_datetime(snap["foed_dag"])).dt.days / 365.25).to_numpy()
    ok = snap["koen"].isin(eligibility["sex"]).to_numpy()
    nw = eligibility["non_western"]
    if nw is not None:
        is_nw = ~snap["opr_land"].isin(western).to_numpy() & snap["opr_land"].notna().to_numpy()
        ok &= is_nw if nw else ~is_nw
    ok &= (age >= eligibility["age_min"]) & (age <= eligibility["age_max"])
    ok &= np.isin(panel.group[:, col], [panel.groups.index(g) for g in eligibility["benefit_groups"]])
    ok &= panel.resident[:, col] & ~panel.dead[:, col]
    if eligibility.get("no_employment_in_index_month", True):
        ok &= ~panel.ordinary[:, col]
    ok &= ~(pd.Index(panel.pnr).isin(list(exclude_pnr)) if excluded is None else excluded)
    if eligibility.get("exclude_participant_municipalities"):
        ok &= ~snap["kom"].isin(list(participant_municipalities)).to_numpy()
    return panel.pnr[ok]


def build_candidates(participants: pd.DataFrame, all_referred: set, panel: Panel, bef, codes,
                     eligibility: dict, western: set, vnds=None, udda=None, lpr=None,
                     week_groups=None, municipalities=()) -> pd.DataFrame:
    """Participants (treated=1, at their start month) and eligible candidates (treated=0)
    for each distinct start month, with covariates."""
    treated = pd.DataFrame({
        "pnr": participants["pnr"].to_numpy(),
        "index_month": month_of_dates(participants["start_dato"]),
        "index_week": [week_of_date(d) for d in participants["start_dato"]],
        "treated": 1,
    })
    parts = [treated]
    snapshots = {}     # one bef snapshot per index year, in panel row order
    excluded = pd.Index(panel.pnr).isin(list(all_referred))
    for m in sorted(treated["index_month"].unique()):
        year = int(m) // 12
        if year not in snapshots:
            snapshots[year] = _snapshot(bef, year).reindex(panel.pnr)
        pnr = eligible_at(panel, bef, int(m), eligibility, western, all_referred, municipalities,
                          snapshot=snapshots[year], excluded=excluded)
        w = _index_week(int(m))
        parts.append(pd.DataFrame({"pnr": pnr, "index_month": int(m), "index_week": [w] * len(pnr), "treated": 0}))
    cand = pd.concat(parts, ignore_index=True)
    cand = covariates_at(cand, panel, bef, codes, vnds, udda, lpr, week_groups,
                         eligibility["benefit_groups"], municipalities, western)
    cand["index_week"] = [f"{y}-W{w:02d}" for y, w in cand["index_week"]]
    return cand


def index_weeks_needed(participants: pd.DataFrame, k: int = 4) -> list[tuple[int, int]]:
    """The DREAM weeks the covariates read: k weeks before every index week."""
    weeks = {week_minus(week_of_date(d), k) for d in participants["start_dato"]}
    weeks |= {week_minus(_index_week(int(m)), k) for m in month_of_dates(participants["start_dato"])}
    return sorted(weeks)


def week_lookup(dream):
    """A function (pnr array, [(year, week)]) -> group ids, from a projected DreamData."""
    rows = pd.Index(dream.pnr)
    cols = {w: j for j, w in enumerate(dream.weeks)}

    def lookup(pnr, weeks):
        r = rows.get_indexer(pnr)
        c = np.array([cols.get(tuple(w), -1) for w in weeks])
        if (r < 0).any() or (c < 0).any():
            raise SibevalError("a week 4 weeks before an index week is outside the DREAM extract")
        return dream.groups[r, c]

    return lookup
