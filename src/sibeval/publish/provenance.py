"""Provenance: the extract's summary (participants' and questionnaires' counts are left to
the flows, which publish them safely) and the raw files' sha256."""

from __future__ import annotations

import pandas as pd

from sibeval.publish.family import Context, Family
from sibeval.publish.small_cells import suppress_counts


class Provenance(Family):
    name = "provenance"
    inputs = ("extract_summary", "checksums")
    tables = inputs

    def render(self, ctx: Context, hidden: dict) -> dict[str, pd.DataFrame]:
        es = suppress_counts(ctx.t["extract_summary"], ctx.k)
        numeric = pd.to_numeric(es["value"], errors="coerce").notna()
        return {"extract_summary": es[~(es["file"].isin(["participants", "questionnaires"]) & numeric)]
                .reset_index(drop=True),
                "checksums": ctx.t["checksums"]}
