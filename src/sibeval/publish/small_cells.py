"""Small-cell rules shared by every table: counts of 1 to ``min_cell - 1`` persons are
shown as "<min_cell". The QC tables use `small_counts`/`suppress_counts` directly; the
analysis tables of a cohort are protected jointly, with complementary cells and an attacker
audit, by `sibeval.publish.boundary` and `sibeval.publish.ledger`.
"""

from __future__ import annotations

import pandas as pd


def label(min_cell: int) -> str:
    return f"<{min_cell}"


def small_counts(values: pd.Series, min_cell: int) -> pd.Series:
    """Counts of 1 to min_cell-1 shown as "<min_cell"."""
    out = values.astype(object)
    num = pd.to_numeric(values, errors="coerce")
    out[(num > 0) & (num < min_cell)] = label(min_cell)
    return out


def suppress_counts(summary: pd.DataFrame, min_cell: int) -> pd.DataFrame:
    """QC summary: hide code counts below `min_cell` (they count person-weeks of few persons)."""
    out = summary.copy().astype({"value": object})
    is_count = out["item"].str.startswith(("code:", "unknown_code:"))
    out.loc[is_count, "value"] = small_counts(out.loc[is_count, "value"], min_cell)
    return out
