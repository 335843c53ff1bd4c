"""The publication boundary: the analysis tables of one cohort (in `interim/`, exact) become
the published tables, the only thing the note, the workbook, the figures and the index read.

Each family of tables (:mod:`sibeval.publish.outcomes`, `flows`, `matching`, `hours`,
`progression`, `provenance`, `qc`) declares the columns of its analysis tables, registers
every count its tables show, or that follows from them, in one `ledger.Ledger` with the
relations an attacker can use; `protect()` chooses the hidden cells for all tables jointly
and proves them safe, and `publish()` asks each family for its tables, with hidden counts as
"<k" (small) or "x" (complementary), every number derived from a hidden count blanked, and
the family's rounding.
"""

from __future__ import annotations

import pandas as pd

from sibeval.errors import InconsistentTables, SibevalError
from sibeval.publish.cells import FORMULA_START, as_number
from sibeval.publish.family import Context
from sibeval.publish.flows import Flows
from sibeval.publish.hours import HoursWage
from sibeval.publish.ledger import REFINED, Protection, audit, protect, search, solver_threads
from sibeval.publish.matching import Matching
from sibeval.publish.outcomes import OutcomeTables
from sibeval.publish.progression import EMPTY, Progression
from sibeval.publish.provenance import Provenance
from sibeval.publish.qc import Qc
from sibeval.publish.trajectories import EMPTY_TRAJECTORY, Trajectories

# registration order is the ledger's order, which fixes the order of the repairs
FAMILIES = (OutcomeTables, Flows, Matching, HoursWage, Progression, Trajectories, Provenance, Qc)


class Boundary:
    """The ledger of one cohort, built by every family that applies to its tables."""

    def __init__(self, t: dict[str, pd.DataFrame], disclosure: dict, replace: bool):
        self.ctx = Context.of(t, disclosure, replace)
        self.families = [F() for F in FAMILIES if F.applies(t)]
        done = set()
        for f in self.families:
            missing = set(f.requires) - done
            if missing:
                raise InconsistentTables(f"internal error: the {f.name} tables need the {', '.join(sorted(missing))} "
                                         "tables registered before them; check FAMILIES and the analysis tables")
            done.add(f.name)
            f.check(t)
        for f in self.families:
            f.register(self.ctx)

    @property
    def led(self):
        return self.ctx.led

    @property
    def k(self) -> int:
        return self.ctx.k

    @property
    def public(self) -> dict:
        return self.ctx.public

    def protect(self, threads: int = 1) -> Protection:
        """The protection of every table, its attacker's problems solved on `threads` threads
        (the same cells hidden and the same audit with any number, unless a problem runs into
        the solver's time limit, `ledger.MIP_SECONDS` of wall time)."""
        with solver_threads(threads):
            return protect_refined(self.ctx, self.families)

    def publish(self, p: Protection) -> dict[str, pd.DataFrame]:
        """The published tables: same columns as the analysis tables, hidden cells as markers;
        a family left out (no questionnaires) gives its tables empty."""
        out = dict(EMPTY) | EMPTY_TRAJECTORY
        for f in self.families:
            out |= f.published(self.ctx, p.hidden)
        return out


def tables_to_publish(tables: dict[str, pd.DataFrame], cohort: dict) -> dict[str, pd.DataFrame]:
    """The analysis tables the boundary publishes from: the trajectory and its decay only when
    the cohort's trajectory.publish is on (they are computed with the analysis either way)."""
    out = dict(tables)
    if not (cohort.get("trajectory") or {}).get("publish", False):          # the schema's default
        out.pop("trajectory", None)
        out.pop("decay", None)
    return out


def protect_refined(ctx: Context, families, rounds: int = 4) -> Protection:
    """Search the cells to hide (`ledger.search`), then let each family add the relations its
    published precision implies under that pattern (`Family.refine`) and audit it with them;
    while that audit finds a leak, search again with them. Refinements are redone for each
    search."""
    led = ctx.led
    if not led.quantities:              # nothing counted (e.g. a QC table alone)
        return protect(led)
    hidden = search(led)                # audited below, with the refinements
    for _ in range(rounds):
        led.bounds = [b for b in led.bounds if not b[3].startswith(REFINED)]
        for f in families:
            f.refine(ctx, hidden)
        a = audit(led, hidden)
        if bool(a.loc[a.rule == "primary", "protected"].all()):
            return Protection(hidden, a)
        hidden = search(led)
    raise SibevalError("disclosure: the published precision keeps revealing small cells after "
                       f"{rounds} rounds of protection; nothing was published")


def csv_safe(df: pd.DataFrame) -> pd.DataFrame:
    """Text that a spreadsheet would run as a formula (=, +, -, @ first) gets a leading
    apostrophe; numbers are left alone."""
    out = df.copy()
    for c in out.columns:
        if out[c].dtype == object or pd.api.types.is_string_dtype(out[c]):
            out[c] = out[c].map(lambda v: f"'{v}" if isinstance(v, str) and v.startswith(FORMULA_START)
                                and as_number(v) is None else v)
    return out


def audit_summary(p: Protection, k: int, public: dict) -> str:
    """A short account for an output checker."""
    a = p.audit
    prim = a[a.rule == "primary"]
    lines = [f"Disclosure audit (min_cell = {k})", "",
             f"Small cells (1 to {k - 1} persons, shown as '<{k}' or only implied): {len(prim)}",
             f"Complementary cells hidden to protect them (shown as 'x'): {int((a.rule == 'complementary').sum())}",
             f"Every small cell protected: {'yes' if p.safe else 'NO'}", "",
             "For each small cell the attacker's tightest interval, derived by integer linear programming",
             "from every published number and the relations between them, is in audit.csv;",
             f"a cell is protected when that interval still covers 1 to {k - 1}."]
    if public:
        lines += ["", "Counts published as already public: " + ", ".join(f"{s} = {v}" for s, v in public.items())]
    return "\n".join(lines) + "\n"
