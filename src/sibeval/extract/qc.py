"""QC summaries of an extract: rows, persons, coverage and code counts per file, and a
cohort's summary (its participants and questionnaires around the extract's registers).
Exact counts: the publish rule hides the small ones (sibeval.publish.qc)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sibeval.extract.codes import CodeTable
from sibeval.extract.readers import Extract

SUMMARY = "summary.csv"     # a normalised extract's register QC summary


def read_summary(folder) -> pd.DataFrame:
    """The register QC summary of a normalised extract folder."""
    return pd.read_csv(Path(folder) / SUMMARY, dtype=str, keep_default_na=False)


def delivered(summary: pd.DataFrame, name: str) -> bool:
    """Whether register `name` was delivered (a file not delivered is written empty)."""
    s = summary
    return not ((s["file"] == name) & (s["item"] == "present") & (s["value"] == "no")).any()


def _participant_rows(part: pd.DataFrame) -> list[dict]:
    return [{"file": "participants", "item": item, "value": value} for item, value in (
        ("rows", len(part)), ("persons", part["pnr"].nunique()), ("started", int(part["start_dato"].notna().sum())),
        ("first_visitation", str(part["visitation_dato"].min().date())),
        ("last_visitation", str(part["visitation_dato"].max().date())))]


def extract_summary(extract: Extract, codes: CodeTable) -> pd.DataFrame:
    """Validate every file and summarise it: rows, persons, coverage and code counts."""
    part = extract.participants()
    rows = _participant_rows(part)

    def add(file, item, value):
        rows.append({"file": file, "item": item, "value": value})

    dream = extract.dream(codes)
    add("dream", "rows", len(dream.pnr))
    add("dream", "persons", len(dream.pnr))
    add("dream", "first_week", f"{dream.weeks[0][0]}-W{dream.weeks[0][1]:02d}")
    add("dream", "last_week", f"{dream.weeks[-1][0]}-W{dream.weeks[-1][1]:02d}")
    add("dream", "weeks", len(dream.weeks))
    for code, n in sorted(dream.code_counts.items()):
        add("dream", f"code:{code or '(empty)'}", n)
    for code, n in sorted(dream.unknown_counts.items()):
        add("dream", f"unknown_code:{code}", n)
    bef = extract.bef()
    add("bef", "rows", len(bef))
    add("bef", "persons", bef["pnr"].nunique())
    add("bef", "first_year", int(bef["aar"].min()))
    add("bef", "last_year", int(bef["aar"].max()))
    missing_bef = ~part["pnr"].isin(set(bef["pnr"]))
    add("participants", "not_in_bef", int(missing_bef.sum()))
    ek = extract.eindkomst()
    add("eindkomst", "rows", len(ek))
    add("eindkomst", "persons", ek["pnr"].nunique())
    months = ek["maaned"]
    if isinstance(months.dtype, pd.CategoricalDtype):   # dictionary-encoded: the used categories
        months = pd.Series(months.cat.categories[np.unique(months.cat.codes[months.cat.codes >= 0])])
    add("eindkomst", "first_month", months.min())
    add("eindkomst", "last_month", months.max())
    for name, date_col in (("vnds", "haend_dato"), ("dod", "doddato"), ("udda", None), ("lpr", "dato")):
        df = getattr(extract, name)()
        if df is None:
            add(name, "present", "no")
            continue
        add(name, "rows", len(df))
        add(name, "persons", df["pnr"].nunique())
        if date_col:
            add(name, "first_date", str(df[date_col].min().date()))
            add(name, "last_date", str(df[date_col].max().date()))
    q = extract.questionnaires(part)
    if q is None:
        add("questionnaires", "present", "no")
    else:
        add("questionnaires", "rows", len(q))
        add("questionnaires", "persons", q["pnr"].nunique())
    out = pd.DataFrame(rows)
    out["value"] = out["value"].astype(str)
    return out


def cohort_summary(registers: pd.DataFrame, part: pd.DataFrame, questionnaires, bef_pnr) -> pd.DataFrame:
    """A cohort's QC summary: its participant list and questionnaires around the extract's
    register summary (the row order of :func:`extract_summary`)."""
    head = pd.DataFrame(_participant_rows(part))
    reg = registers[["file", "item", "value"]]
    before = reg[reg["file"].isin(["dream", "bef"])]
    after = reg[~reg["file"].isin(["dream", "bef"])]
    mid = pd.DataFrame([{"file": "participants", "item": "not_in_bef",
                         "value": int((~part["pnr"].isin(set(bef_pnr))).sum())}])
    if questionnaires is None:
        tail = pd.DataFrame([{"file": "questionnaires", "item": "present", "value": "no"}])
    else:
        tail = pd.DataFrame([{"file": "questionnaires", "item": "rows", "value": len(questionnaires)},
                             {"file": "questionnaires", "item": "persons", "value": questionnaires["pnr"].nunique()}])
    out = pd.concat([head, before, mid, after, tail], ignore_index=True)
    out["value"] = out["value"].astype(str)
    return out
