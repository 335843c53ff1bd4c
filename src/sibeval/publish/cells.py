"""What a published cell is (a number, the marker of a hidden count, or text) and the
ledger key of every count behind the published tables.

Keys are built here only, so that the family that registers a count and the family (or
table) that shows it name it the same way: ``key("out", "main", "participant", "N")`` is
``"out:main:participant:N"``; a float part is written with ``:g`` (subgroup levels).
"""

from __future__ import annotations

import math
import re

# text a spreadsheet would run as a formula when it starts with one of these
FORMULA_START = ("=", "+", "-", "@")
MAIN = "main"
GROUPS = ("participant", "control")


def key(*parts) -> str:
    """The ledger key of a count: its parts joined by ':'."""
    return ":".join(f"{p:g}" if isinstance(p, float) else str(p) for p in parts)


def outcome(fam: str, group: str, what: str, complement: bool = False) -> str:
    """A count of an outcome (or `N`, the group's size) in an outcome family
    (`main`, `placebo`, `sub:<variable>:<level>`); `complement`: those without it."""
    return key("out", fam, group, "not", what) if complement else key("out", fam, group, what)


def subgroup(variable: str, level) -> str:
    """The outcome family of one subgroup level."""
    return key("sub", variable, level)


def slug(text: str) -> str:
    """Machine key of an English analysis phrase, e.g. a flow reason."""
    return re.sub(r"[^a-z0-9]+", "_", str(text).lower()).strip("_")


def marker(hidden: dict, cell: str, k: int) -> str | None:
    """How a hidden count is shown: "<k" (a small count) or "x" (hidden to protect one)."""
    why = hidden.get(cell)
    return None if why is None else (f"<{k}" if why == "primary" else "x")


def as_number(value) -> float | None:
    """The value as a float, or None when it is blank or text (suppressed)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return None if isinstance(value, float) and math.isnan(value) else float(value)
    try:
        x = float(str(value).strip())
    except ValueError:
        return None
    return None if math.isnan(x) else x


def is_suppressed(value) -> bool:
    """A non-blank, non-numeric text in a numeric column: a suppression marker."""
    if value is None or isinstance(value, (bool, int, float)):
        return False
    s = str(value).strip()
    return s not in ("", "nan", "True", "False") and as_number(s) is None


# means of amounts at the precision a reader uses: at full precision a mean times n must lie on
# the amounts' grid (0.1 hour, 0.01 kr), which pins a hidden n
MEAN_DIGITS = {"timer": 1, "loen": 0}
