"""The quality-control tables that may leave with the results: the cohort's extract summary
and the eligibility funnel of the control pool, small counts shown as "<k"."""

from __future__ import annotations

import pandas as pd

from sibeval.publish.family import Context, Family
from sibeval.publish.flows import flow_shape
from sibeval.publish.small_cells import small_counts, suppress_counts


class Qc(Family):
    name = "qc"
    inputs = ("extract_summary", "eligibility_funnel")
    tables = ("qc_extract_summary", "eligibility_funnel")

    def render(self, ctx: Context, hidden: dict) -> dict[str, pd.DataFrame]:
        k = ctx.k
        funnel = ctx.t["eligibility_funnel"]
        # the published funnel keeps a rule only where no small exclusion follows by subtraction
        kept = flow_shape(funnel.rename(columns={"rule": "step"}), {}, k, cols=("persons", "rows"))
        funnel = funnel[funnel["rule"].isin(kept)]
        return {"qc_extract_summary": suppress_counts(ctx.t["extract_summary"], k),
                "eligibility_funnel": funnel.assign(persons=small_counts(funnel["persons"], k),
                                                    rows=small_counts(funnel["rows"], k))}
