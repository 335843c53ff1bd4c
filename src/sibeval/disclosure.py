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


def mask_lookup(counts: pd.DataFrame, min_cell: int, relations=()) -> dict:
    """{(row, group): (is_small, hidden)}: which cells of a counts table to hide."""
    mask = suppression_mask(counts, min_cell, relations)
    c = counts.astype(float)
    out = {}
    for r in counts.index:
        for g in counts.columns:
            out[(r, g)] = (bool(0 < c.at[r, g] < min_cell), bool(mask.at[r, g]))
    return out


def suppress_long_counts(table: pd.DataFrame, count_cols, min_cell: int) -> pd.DataFrame:
    """Rows whose counts partition a shown total (e.g. up/same/down of n): small counts
    become "<min_cell", a complementary count in the same row is hidden, and the shares,
    CIs and derived columns of every hidden count are blanked."""
    out = table.astype(object).copy()
    out["suppressed"] = False
    for i, row in table.iterrows():
        counts = pd.DataFrame({"n": [row[c] for c in count_cols]}, index=list(count_cols))
        mask = suppression_mask(counts, min_cell)["n"]
        for c in count_cols:
            if not mask[c]:
                continue
            out.at[i, c] = label(min_cell) if 0 < row[c] < min_cell else "x"
            stem = c.removeprefix("n_")
            derived = [col for col in out.columns
                       if col.startswith((f"share_{stem}", f"ci_{stem}_", f"n_{stem}_", f"share_of_{stem}_"))]
            for col in derived:
                out.at[i, col] = ""
            out.at[i, "suppressed"] = True
    return out


def suppression_mask_2d(counts: pd.DataFrame, min_cell: int) -> pd.DataFrame:
    """Primary and complementary suppression for a table whose row and column totals are
    both published: no row or column may have exactly one hidden cell."""
    c = counts.astype(float).to_numpy()
    mask = (c > 0) & (c < min_cell)
    changed = True
    while changed:
        changed = False
        for axis in (0, 1):                       # rows, then columns
            cv, mv = (c, mask) if axis == 0 else (c.T, mask.T)   # numpy views
            for k in range(cv.shape[0]):
                if mv[k].sum() == 1:
                    cand = np.flatnonzero(~mv[k] & (cv[k] > 0))
                    if cand.size:
                        mv[k, cand[np.argmin(cv[k, cand])]] = True
                        changed = True
    return pd.DataFrame(mask, index=counts.index, columns=counts.columns)


def suppress_matrix(matrix: pd.DataFrame, min_cell: int) -> pd.DataFrame:
    """Display copy of a two-way count table with small cells and complements hidden."""
    mask = suppression_mask_2d(matrix, min_cell)
    out = matrix.astype(object).copy()
    for r in matrix.index:
        for col in matrix.columns:
            if mask.at[r, col]:
                out.at[r, col] = label(min_cell) if 0 < matrix.at[r, col] < min_cell else "x"
    return out
