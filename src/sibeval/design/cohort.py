"""The analysis cohort: the participant flow from referral to an analysable programme
(started, found in the population register, ended), and the covariates the design uses.
The control candidates are built in :mod:`sibeval.design.candidates`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sibeval.errors import ExtractError, SibevalError, file_rows, plain

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



AGE_AT_START = (15, 100)   # plausible age at the programme start (item check, years)
BIRTH_DATE_REASON = (f"birth date after the programme start or age outside "
                     f"{AGE_AT_START[0]}-{AGE_AT_START[1]} at start")


def file_name(files, key):
    return str((files or {}).get(key, key))


def short_name(files, key):
    """The file name alone, for a file mentioned inside another file's message."""
    return Path(file_name(files, key)).name


def participant_flow(part: pd.DataFrame, bef: pd.DataFrame, municipalities=(),
                     birth_date_problems: str = "stop", files=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Participants kept for the analysis and a flow table with reasons for each exclusion.

    `part` and `bef` keep the row order of their files (messages give file row numbers);
    `files` maps "participants"/"bef" to the file paths named in messages. A birth date
    after start_dato or an age outside 15-100 at start stops the run
    (`birth_date_problems="stop"`) or excludes the person with a flow reason ("exclude").
    A step that leaves no participant stops with what is wrong and how to fix it.

    Returns (analysed participants, index = row in `part`; flow rows [step, n, excluded, reason]).
    """
    pf, bf = file_name(files, "participants"), file_name(files, "bef")
    flow = [("referred", len(part), "")]
    p = part
    if municipalities:
        p = p[p["kommune"].isin(municipalities)]
        flow.append(("in_cohort_municipalities", len(p), "referred by another municipality"))
        if p.empty:
            have = part["kommune"].value_counts().sort_index()
            raise ExtractError(pf, f"none of the {len(part)} referred participants is from the cohort's "
                               f"municipalities ({plain(list(municipalities))})", column="kommune", n=len(part),
                               examples=[f"kommune {plain(k)} ({plain(v)} participants)" for k, v in have.items()],
                               fix="set municipalities: in the cohort file to the codes of the file, or [] for all")
    n_ref = len(p)
    p = p[p["start_dato"].notna()]
    flow.append(("started", len(p), "referred but never started"))
    if p.empty:
        raise ExtractError(pf, f"no participant has started: start_dato is empty for all {n_ref} "
                           "referred participants", column="start_dato", n=n_ref,
                           fix="deliver the participant list with start_dato for those who started")
    n_started = len(p)
    in_bef = p["pnr"].isin(set(bef["pnr"]))
    if not in_bef.any():
        raise ExtractError(bf, f"none of the {n_started} started participants of {short_name(files, 'participants')} "
                           "is in this file",
                           column="pnr", n=n_started,
                           examples=[f"{short_name(files, 'participants')} {r}"
                                     for r in file_rows(pf, _positions(part, p.index))],
                           fix="deliver bef rows for the participants, and check that pnr is written "
                               "the same way in both files (leading zeros, text not numbers)")
    p = p[in_bef]
    flow.append(("found_in_bef", len(p), "not found in the population register (bef)"))
    bad = _birth_date_problems(p, bef)
    if bad.any():
        if birth_date_problems == "stop":
            rows, bef_rows = _positions(part, p.index[bad]), _bef_rows(p[bad], bef)
            raise ExtractError(bf, f"foed_dag is after start_dato or the age at start_dato is outside "
                               f"{AGE_AT_START[0]}-{AGE_AT_START[1]} for {int(bad.sum())} participant(s)",
                               column="foed_dag", n=int(bad.sum()),
                               examples=[f"{b} ({short_name(files, 'participants')} {r})" for b, r in
                                         zip(file_rows(bf, bef_rows), file_rows(pf, rows))],
                               fix="correct the birth date in bef or start_dato in the participant list, "
                                   "or set birth_date_problems: exclude in the cohort file")
        p = p[~bad]
        flow.append(("valid_birth_date", len(p), BIRTH_DATE_REASON))
        if p.empty:
            raise ExtractError(bf, f"every participant has {BIRTH_DATE_REASON}", column="foed_dag",
                               n=int(bad.sum()), fix="correct the birth dates (foed_dag)")
    n_found = len(p)
    p = p[p["slut_dato"].notna()]
    flow.append(("ended", len(p), "still in the programme (no slut_dato)"))
    if p.empty:
        raise ExtractError(pf, f"no participant has ended: slut_dato is empty for all {n_found} "
                           "started participants; the outcome is measured in the month of slut_dato "
                           "plus follow_up_months, so results need ended spells",
                           column="slut_dato", n=n_found,
                           fix="run the evaluation when participants have ended, with slut_dato filled in")
    rows = []
    for i, (step, n, reason) in enumerate(flow):
        excluded = flow[i - 1][1] - n if i else 0
        rows.append({"step": step, "n": n, "excluded": excluded, "reason": reason if excluded else ""})
    return p, pd.DataFrame(rows)


def _positions(frame: pd.DataFrame, labels) -> np.ndarray:
    """0-based positions (file order) of index labels of `frame`."""
    return frame.index.get_indexer(pd.Index(labels))


def _bef_row_of(persons: pd.DataFrame, bef: pd.DataFrame) -> pd.Series:
    """Per person (index of `persons`), the bef row position used for traits at start:
    the latest year at or before the start year, else the earliest year."""
    b = bef[["pnr", "aar"]].assign(_pos=np.arange(len(bef)))
    m = persons[["pnr"]].assign(_y=pd.to_datetime(persons["start_dato"]).dt.year,
                                _i=persons.index).merge(b, on="pnr", how="left")
    m["_before"] = m["aar"] <= m["_y"]
    m["_key"] = np.where(m["_before"], m["aar"], -m["aar"])   # latest before, else earliest
    m = m.sort_values(["_i", "_before", "_key"]).drop_duplicates("_i", keep="last")
    return m.set_index("_i")["_pos"].reindex(persons.index)


def _bef_rows(persons, bef) -> np.ndarray:
    """The bef file's row of each person's traits (bef's index holds its file rows)."""
    return bef.index.to_numpy()[_bef_row_of(persons, bef).to_numpy(dtype=np.int64)]


def _birth_date_problems(persons: pd.DataFrame, bef: pd.DataFrame) -> pd.Series:
    """True where foed_dag is after start_dato or the age at start is outside 15-100."""
    pos = _bef_row_of(persons, bef)
    born = pd.to_datetime(bef["foed_dag"]).to_numpy()[pos.to_numpy(dtype=np.int64)]
    start = pd.to_datetime(persons["start_dato"]).to_numpy()
    age = np.floor((start - born) / np.timedelta64(1, "D") / 365.25)
    bad = (born > start) | (age < AGE_AT_START[0]) | (age > AGE_AT_START[1])
    return pd.Series(bad, index=persons.index)


def require_publishable(n: int, min_cell: int, what: str) -> None:
    """Stop when fewer than `min_cell` participants are left: every count would be hidden."""
    if n < min_cell:
        raise SibevalError(
            f"only {plain(n)} participant(s) {what}, fewer than disclosure.min_cell = {plain(min_cell)}: "
            f"every count of participants would be shown as '<{plain(min_cell)}', so nothing can be "
            "published for this cohort. Fix: evaluate the cohort when more participants have ended, "
            "or merge it with another cohort; see the flow in the rule's log for where participants were lost")
