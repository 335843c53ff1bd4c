"""Small-cell suppression applied to every table before it leaves `interim/`.

Counts of persons from 1 to ``min_cell - 1`` are shown as "<min_cell" with their shares
blanked (primary suppression). A published total (a column total or a headline that sums
several cells) with exactly one suppressed member would let a reader subtract it back,
so a second member is suppressed too (complementary suppression), preferring the cell
that takes part in the fewest other published sums, then the smallest. Zero cells are
shown. Only the display changes: statistics are computed before suppression.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def label(min_cell: int) -> str:
    return f"<{min_cell}"


def suppression_mask(counts: pd.DataFrame, min_cell: int, relations=()) -> pd.DataFrame:
    """Boolean mask of the cells to hide in a table of counts (rows x groups).

    `relations` lists sets of row labels whose sum is published (e.g. headline outcomes);
    every column's total over all rows in `counts` is treated as published too.
    """
    c = counts.astype(float)
    mask = (c > 0) & (c < min_cell)
    rels = [list(counts.index)] + [list(r) for r in relations]
    membership = {r: sum(r in rel for rel in rels) for r in counts.index}
    changed = True
    while changed:
        changed = False
        for col in c.columns:
            for rel in rels:
                hidden = [r for r in rel if mask.at[r, col]]
                if len(hidden) != 1:
                    continue
                cands = [r for r in rel if not mask.at[r, col] and c.at[r, col] > 0]
                if not cands:
                    continue
                pick = min(cands, key=lambda r: (membership[r], c.at[r, col]))
                mask.at[pick, col] = True
                changed = True
    return mask


def suppress_counts(summary: pd.DataFrame, min_cell: int) -> pd.DataFrame:
    """QC summary: hide code counts below `min_cell` (they count person-weeks of few persons)."""
    out = summary.copy()
    is_count = out["item"].str.startswith(("code:", "unknown_code:"))
    val = pd.to_numeric(out["value"], errors="coerce")
    small = is_count & (val > 0) & (val < min_cell)
    out.loc[small, "value"] = label(min_cell)
    return out


def apply_mask(table: pd.DataFrame, mask_by_row_group: dict, min_cell: int,
               row_col: str, group_col: str, count_cols=(), blank_cols=()) -> pd.DataFrame:
    """Replace suppressed cells in a long table: counts become "<min_cell" (when small) or
    "x" (complementary), and `blank_cols` are emptied. Adds a `suppressed` column."""
    out = table.copy().astype(object)
    out["suppressed"] = False
    for i, row in table.iterrows():
        m = mask_by_row_group.get((row[row_col], row[group_col]))
        if m is None:
            continue
        small, hidden = m
        if hidden:
            out.at[i, "suppressed"] = True
            for c in count_cols:
                out.at[i, c] = label(min_cell) if small else "x"
            for c in blank_cols:
                out.at[i, c] = ""
    return out


def mask_lookup(counts: pd.DataFrame, min_cell: int, relations=()) -> dict:
    """{(row, group): (is_small, hidden)} for :func:`apply_mask`."""
    mask = suppression_mask(counts, min_cell, relations)
    c = counts.astype(float)
    out = {}
    for r in counts.index:
        for g in counts.columns:
            out[(r, g)] = (bool(0 < c.at[r, g] < min_cell), bool(mask.at[r, g]))
    return out


def any_suppressed(*tables) -> bool:
    return any(("suppressed" in t and bool(np.any(t["suppressed"].astype(bool)))) for t in tables)
