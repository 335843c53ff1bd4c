"""Provenance: the extract's summary (participants' and questionnaires' counts are left to
the flows, which publish them safely) and the raw files' sha256."""

from __future__ import annotations

import pandas as pd

from sibeval.publish.family import Context, Family
from sibeval.publish.qc import SUMMARY_COLUMNS, public_summary


class Provenance(Family):
    name = "provenance"
    inputs = ("extract_summary", "checksums")
    tables = inputs
    columns = {"extract_summary": SUMMARY_COLUMNS, "checksums": ("file", "sha256")}

    def render(self, ctx: Context, hidden: dict) -> dict[str, pd.DataFrame]:
        return {"extract_summary": public_summary(ctx.t["extract_summary"], ctx.k), "checksums": ctx.t["checksums"]}
