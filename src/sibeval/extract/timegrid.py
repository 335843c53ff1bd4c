"""Calendar helpers: month indices and DREAM ISO-week columns.

A month index is ``year * 12 + month - 1``; it makes month arithmetic plain integer
arithmetic. A DREAM week belongs to the calendar month that holds its Thursday.
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd

WEEK_COLUMN = re.compile(r"^y_(\d{2})(\d{2})$")


def month_index(year, month):
    return np.asarray(year) * 12 + np.asarray(month) - 1


def month_of_dates(dates) -> np.ndarray:
    """Month index of each date (NaT gives -1)."""
    d = pd.to_datetime(pd.Series(dates))
    out = (d.dt.year * 12 + d.dt.month - 1).to_numpy(dtype="float64")
    return np.where(np.isnan(out), -1, out).astype("int64")


def month_label(idx) -> str:
    idx = int(idx)
    return f"{idx // 12:04d}-{idx % 12 + 1:02d}"


def parse_month_label(label: str) -> int:
    y, m = label.split("-")
    return int(y) * 12 + int(m) - 1


def week_column(iso_year: int, week: int) -> str:
    return f"y_{iso_year % 100:02d}{week:02d}"


def parse_week_column(name: str) -> tuple[int, int] | None:
    """(ISO year, week) for a column like ``y_2001``; None if it is not a week column.

    Two-digit years 90-99 are 19xx, the others 20xx (DATA_CONTRACT.md).
    """
    m = WEEK_COLUMN.match(name)
    if not m:
        return None
    yy, ww = int(m.group(1)), int(m.group(2))
    return (1900 + yy if yy >= 90 else 2000 + yy), ww


def iso_weeks(first_year: int, last_year: int) -> list[tuple[int, int]]:
    """Every ISO week of the ISO years first_year..last_year (53 where the year has it)."""
    out = []
    for y in range(first_year, last_year + 1):
        n = dt.date(y, 12, 28).isocalendar()[1]
        out.extend((y, w) for w in range(1, n + 1))
    return out


def week_thursday(iso_year: int, week: int) -> dt.date:
    return dt.date.fromisocalendar(iso_year, week, 4)


def week_month(iso_year: int, week: int) -> int:
    t = week_thursday(iso_year, week)
    return t.year * 12 + t.month - 1


def week_of_date(d) -> tuple[int, int]:
    iso = pd.Timestamp(d).isocalendar()
    return int(iso[0]), int(iso[1])
