"""A family of published tables: the counts it registers in the cohort's ledger and the
tables it renders from the protection, side by side in one class.

The boundary (:mod:`sibeval.publish.boundary`) registers every family in a fixed order,
protects the ledger once for all of them, then asks each family for its tables.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sibeval.errors import UndeclaredColumns
from sibeval.publish.ledger import Ledger


@dataclass
class Context:
    """What the families of one cohort share: the exact analysis tables, the rule, the
    ledger, and the range of one control person's weight."""

    t: dict[str, pd.DataFrame]
    k: int
    public: dict[str, int]
    replace: bool
    led: Ledger
    unit: tuple[float, float] = (1.0, 1.0)
    integer_controls: bool = True

    @classmethod
    def of(cls, t: dict[str, pd.DataFrame], disclosure: dict, replace: bool) -> Context:
        k = int(disclosure["min_cell"])
        ctx = cls(t, k, {str(s): int(v) for s, v in (disclosure.get("public_counts") or {}).items()},
                  replace, Ledger(k, bool(disclosure.get("zeros_sensitive", False))))
        ws = [t[n][["w_min", "w_max"]] for n in ("effects", "subgroups", "placebo") if n in t and "w_min" in t[n]]
        w = pd.concat(ws, ignore_index=True) if ws else None
        if w is not None and len(w):
            ctx.unit = (float(w["w_min"].min()), float(w["w_max"].max()))
            ctx.integer_controls = bool(np.allclose(w.to_numpy(), 1.0))
        return ctx

    def add(self, key, value, persons=None, group="participant", **kw) -> str:
        """A count; weighted (not a whole number) for controls with unequal weights."""
        if (group == "control" and not self.integer_controls) or abs(float(value) - round(float(value))) > 1e-6:
            kw.setdefault("unit", self.unit)
            kw.setdefault("integer", False)
        return self.led.add(key, value, persons, **kw)

    def value(self, key: str) -> float:
        return self.led.quantities[key].value

    def sum_if_holds(self, total, parts, rule) -> None:
        """`total` = sum of `parts` as a relation, when all are registered and it holds."""
        q = self.led.quantities
        if total in q and all(p in q for p in parts) and \
                abs(q[total].value - sum(q[p].value for p in parts)) < 1e-6 * max(1.0, q[total].value):
            self.led.sums(total, parts, rule)


class Family:
    """One family of published tables.

    `inputs` are the analysis tables it reads (the family is left out when one is
    missing, e.g. progression without questionnaires), `tables` the published tables it
    renders, `rounding` the decimals of their columns (weighted statistics carry the
    matched sets' sizes in their decimals, means a group's size in their denominators)."""

    name: str = ""
    inputs: tuple[str, ...] = ()
    tables: tuple[str, ...] = ()
    rounding: dict[str, dict[str, int]] = {}
    p_values: dict[str, tuple[str, ...]] = {}    # published table -> its p-value columns (p_published)
    # every column of each input: how it is published is decided by the family's code, so a
    # new column must be declared here (and handled) before it can leave
    columns: dict[str, tuple[str, ...]] = {}
    requires: tuple[str, ...] = ()      # families whose counts this one reads (registered before it)

    @classmethod
    def applies(cls, t: dict) -> bool:
        return all(name in t for name in cls.inputs)

    def check(self, t: dict) -> None:
        for name in self.inputs:
            if name in t:
                check_columns(name, t[name], self.columns[name], type(self).__module__)

    def register(self, ctx: Context) -> None:
        """Every count the family's tables show or imply, with the relations between them."""

    def refine(self, ctx: Context, hidden: dict) -> None:
        """Relations that depend on the protection: a number published at a precision chosen
        from what is hidden (a share of a hidden n, coarser) adds its rounding interval here as
        `ctx.led.bound(...)`; the boundary audits again with them."""

    def render(self, ctx: Context, hidden: dict) -> dict[str, pd.DataFrame]:
        """The family's published tables; `hidden` maps a ledger key to "primary" or
        "complementary"."""
        raise NotImplementedError

    def published(self, ctx: Context, hidden: dict) -> dict[str, pd.DataFrame]:
        out = self.render(ctx, hidden)
        for name, digits in self.rounding.items():
            if name in out and len(out[name]):
                out[name] = coarsen(out[name], digits)
        for name, cols in self.p_values.items():
            for c in cols:
                if name in out and c in out[name]:
                    out[name][c] = out[name][c].map(p_published)
        return out


def check_columns(table: str, df: pd.DataFrame, declared, module: str) -> None:
    """Every column of an analysis table is declared by its family (how it is published);
    a new column without a declaration stops the boundary instead of leaving unchecked."""
    unknown = [c for c in df.columns if c not in set(declared)]
    if unknown:
        raise UndeclaredColumns(
            f"internal error: the analysis table '{table}' has column(s) {unknown} that {module} "
            "does not declare; declare each as a count, a number derived from the row's counts "
            "(hidden with them) or a number that does not depend on them")


def coarsen(df: pd.DataFrame, digits: dict) -> pd.DataFrame:
    """Round the named numeric columns (text markers stay)."""
    out = df.copy()
    for c, d in digits.items():
        if c in out:
            num = pd.to_numeric(out[c], errors="coerce")
            out[c] = out[c].where(num.isna(), num.round(d))
            if d == 0:
                out[c] = out[c].map(lambda v: int(v) if isinstance(v, float) and v == v else v)
    return out


# a share of a group whose size is hidden is printed to the first of these steps at which every
# size the reader cannot rule out still fits it (see step_fitting)
SHARE_STEPS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0)


def on_step(v: float, step: float) -> float:
    """`v` rounded to a multiple of `step` (as printed)."""
    return round(round(float(v) / step) * step, 10)


def share_bounds(ctx: Context, count: str, n: str, step: float, rule: str) -> None:
    """What a share count/n printed to `step` tells a reader: n(m - step/2) <= count <=
    n(m + step/2), m the printed share; nothing when the count is not that share of n."""
    c, size = ctx.value(count), ctx.value(n)
    if not size:
        return
    m, h = on_step(c / size, step), step / 2 + 1e-9
    ctx.led.bound({count: 1.0, n: -(m - h)}, 0.0, np.inf, rule)
    ctx.led.bound({count: 1.0, n: -(m + h)}, -np.inf, 0.0, rule)


def bound_by_sets(ctx: Context, held: dict[str, float], n_p: str, smallest: float, largest: float,
                  rules: tuple[str, str]) -> None:
    """What the matched sets' sizes say of the controls they hold (`held`, a sum of cells):
    smallest x n_p <= held <= largest x n_p, n_p the participants whose sets they are;
    `rules` names the lower and the upper bound."""
    ctx.led.bound({**held, n_p: -float(smallest)}, 0.0, np.inf, rules[0])
    ctx.led.bound({**held, n_p: -float(largest)}, -np.inf, 0.0, rules[1])


def step_fitting(lo: float, steps) -> float:
    """The first of `steps` at which a mean over a group of at least `lo` members (a count, or
    a sum of whole units) fits every such size: step * n >= 1; else the coarsest."""
    return next((s for s in steps if s * lo >= 1), steps[-1])


def p_published(v):
    """A p-value at the precision the note shows: three decimals, and two significant digits
    below 0.001 (shown as "< 0,001"). The note then rounds nothing again, and the decimals
    an exact test's p-value would carry (the effective sizes) stay inside."""
    x = pd.to_numeric(v, errors="coerce")
    if pd.isna(x) or x == 0:
        return x
    return round(float(x), 3) if x >= 0.001 else float(f"{x:.2g}")
