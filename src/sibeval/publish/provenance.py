"""Provenance: the extract's summary (participants' and questionnaires' counts are left to
the flows, which publish them safely) and the raw files' sha256."""

from __future__ import annotations

import pandas as pd

from sibeval.publish.family import Context, Family


class Provenance(Family):
    inputs = ("extract_summary", "checksums")
    tables = inputs

    def render(self, ctx: Context, hidden: dict) -> dict[str, pd.DataFrame]:
        es = ctx.t["extract_summary"]
        numeric = pd.to_numeric(es["value"], errors="coerce").notna()
        return {"extract_summary": es[~(es["file"].isin(["participants", "questionnaires"]) & numeric)]
                .reset_index(drop=True),
                "checksums": ctx.t["checksums"]}
