"""The quality-control tables that may leave with the results: the cohort's extract summary
and the eligibility funnel of the control pool, small counts shown as "<k". Each is
published by its own job (rules publish_qc_*), so it is there even when the analysis stops.
"""

from __future__ import annotations

import pandas as pd

from sibeval.publish.family import Context, Family
from sibeval.publish.flows import flow_shape
from sibeval.publish.small_cells import small_counts, suppress_counts

SUMMARY_COLUMNS = ("file", "item", "value")
# the earliest and latest date of an event register or of the referrals is one person's date
PERSON_DATES = ("first_date", "last_date", "first_visitation", "last_visitation")


def public_summary(summary: pd.DataFrame, k: int) -> pd.DataFrame:
    """The extract summary as it may leave: code counts below k as "<k"; without the
    participants' and questionnaires' counts (the flows publish those, protected with the
    analysis tables; here a difference such as persons - started would be a count of one)
    and without single persons' dates (the registers' coverage in weeks, months and years
    stays: it is the delivery's, not a person's)."""
    es = suppress_counts(summary, k)
    numeric = pd.to_numeric(es["value"], errors="coerce").notna()
    drop = (es["file"].isin(["participants", "questionnaires"]) & numeric) | es["item"].isin(PERSON_DATES)
    return es[~drop].reset_index(drop=True)


# the rule that removes the participants: its exclusion counts referred persons who were
# eligible in some month, which the flows' reasons would narrow (e.g. to "not in bef" <= 1)
PARTICIPANTS_RULE = "never_referred"


def public_funnel(funnel: pd.DataFrame, k: int) -> pd.DataFrame:
    """The eligibility funnel of the control pool, without the rule that removes the
    participants (the match summary gives the pool's rows); a rule is kept only where no
    small exclusion follows by subtraction; persons and rows below k as "<k"."""
    funnel = funnel[funnel["rule"] != PARTICIPANTS_RULE]
    kept = flow_shape(funnel.rename(columns={"rule": "step"}), {}, k, cols=("persons", "rows"))
    funnel = funnel[funnel["rule"].isin(kept)]
    return funnel.assign(persons=small_counts(funnel["persons"], k), rows=small_counts(funnel["rows"], k))


class Qc(Family):
    name = "qc"
    inputs = ("extract_summary", "eligibility_funnel")
    tables = ("qc_extract_summary", "eligibility_funnel")
    columns = {"extract_summary": SUMMARY_COLUMNS,
               "eligibility_funnel": ("rule", "condition", "persons", "rows")}

    @classmethod
    def applies(cls, t: dict) -> bool:
        return any(name in t for name in cls.inputs)    # one QC table per job

    def render(self, ctx: Context, hidden: dict) -> dict[str, pd.DataFrame]:
        t, k = ctx.t, ctx.k
        out = {}
        if "extract_summary" in t:
            out["qc_extract_summary"] = public_summary(t["extract_summary"], k)
        if "eligibility_funnel" in t:
            out["eligibility_funnel"] = public_funnel(t["eligibility_funnel"], k)
        return out
