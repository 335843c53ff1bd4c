"""Errors users see: each names what is wrong, where, and how to fix it.

Messages never show a person identifier: examples point at a file's row number. Values
are shown as a user writes them (:func:`plain`, months as YYYY-MM by :func:`months`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


class SibevalError(Exception):
    """Base class for every error sibeval raises on purpose."""


class ConfigError(SibevalError):
    """A configuration or cohort file does not hold."""


class InconsistentTables(Exception):
    """Two analysis tables disagree on a number they both publish: a bug in sibeval, not a
    problem of the input (deliberately not a SibevalError, so it is reported as one)."""


class UndeclaredColumns(Exception):
    """An analysis table has a column its publish family does not declare: a bug in sibeval
    (a new column must say how it is published before it can leave)."""


def plain(value) -> str:
    """A value as a user writes it: numpy scalars as plain numbers, lists comma-separated."""
    if isinstance(value, (list, tuple, set, frozenset, np.ndarray)):
        items = sorted(value, key=str) if isinstance(value, (set, frozenset)) else list(value)
        return ", ".join(plain(v) for v in items)
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def months(values) -> str:
    """Month indices (year * 12 + month - 1) as YYYY-MM, comma-separated."""
    arr = np.atleast_1d(np.asarray(values, dtype=np.int64))
    return ", ".join(f"{m // 12:04d}-{m % 12 + 1:02d}" for m in arr.tolist())


def file_rows(file, positions, n: int = 2) -> list[str]:
    """How a user finds the rows at 0-based `positions` of a file: the line number in a
    CSV (the header is line 1), the 1-based row in parquet, SAS and Stata files."""
    first = 2 if Path(str(file)).suffix.lower() == ".csv" else 1
    return [f"row {int(i) + first}" for i in list(positions)[:n]]


class ExtractError(SibevalError):
    """A raw extract file does not meet DATA_CONTRACT.md.

    The message names the file, the column, how many rows/persons and examples.
    """

    def __init__(self, file, problem, column=None, n=None, examples=None, fix=None):
        self.file, self.problem, self.column, self.n = str(file), problem, column, n
        self.fix = fix
        self.examples = list(examples or [])[:3]
        parts = [f"{self.file}"]
        if column is not None:
            parts.append(f"column '{column}'")
        msg = ": ".join([", ".join(parts), problem])
        if n is not None:
            msg += f" ({plain(n)} row(s)/person(s))"
        if self.examples:
            msg += "; e.g. " + ", ".join(plain(e) for e in self.examples)
        if fix:
            msg += f". Fix: {fix}"
        super().__init__(msg)
