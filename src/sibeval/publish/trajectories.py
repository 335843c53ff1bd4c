"""The trajectory table (issue 25): the headline outcomes month by month, in the ledger with
the same persons as Table 1.

Every month's counts are registered like an outcome family's (the observed size, each
outcome's count and its complement); the outcome month's are Table 1's own cells. Two
neighbouring months of one anchor are linked by the persons censored between them (past the
data, or dead): N(m) = N(m + 1) + censored(m). A reader who sees both sizes knows how many were
censored, so a small number censored is a small cell the protection must hide, with the
sizes, as it hides any other (tests/test_trajectory_disclosure.py).
"""

from __future__ import annotations

import pandas as pd

from sibeval.outcomes.trajectory import TRAJECTORY_COLUMNS
from sibeval.publish.cells import GROUPS, MAIN, key, marker, outcome
from sibeval.publish.family import Context, Family

# what the published table shows: the participants' observed persons and the controls'
# weighted number observed (as the effects table's n_controls), the shares and the effect
PUBLISHED = ("outcome", "anchor", "month", "n_participants", "n_controls", "share_participants", "share_controls",
             "estimate", "ci_low", "ci_high", "band_low", "band_high", "method")
# the published table when the cohort does not publish its trajectory (trajectory.publish off)
EMPTY_TRAJECTORY = {"trajectory": pd.DataFrame(columns=list(PUBLISHED))}
DERIVED = ("estimate", "ci_low", "ci_high", "band_low", "band_high")
SIZE = {"participant": ("weight_participants", "n_participants"), "control": ("weight_controls", "n_controls")}
COUNT = {"participant": ("x_participants", "persons_x_participants"),
         "control": ("x_controls", "persons_x_controls")}
SHARE = {"participant": "share_participants", "control": "share_controls"}


def family_of(anchor: str, month) -> str:
    """The outcome family of one month of the trajectory."""
    return key("traj", anchor, int(month))


class Trajectories(Family):
    name = "trajectories"
    inputs = ("trajectory",)
    tables = ("trajectory",)
    requires = ("outcomes",)
    columns = {"trajectory": TRAJECTORY_COLUMNS}
    rounding = {"trajectory": {"n_controls": 1, **{c: 4 for c in ("share_participants", "share_controls", *DERIVED)}}}

    @staticmethod
    def _months(t: pd.DataFrame):
        """(anchor, month, family, rows) in the table's order."""
        for (anchor, month), rows in t.groupby(["anchor", "month"], sort=False):
            fam = MAIN if bool(rows["outcome_month"].iloc[0]) else family_of(anchor, month)
            yield anchor, month, fam, rows

    def register(self, ctx: Context) -> None:
        t = ctx.t["trajectory"]
        ctx.led.table = "trajectory"
        previous = {}
        for anchor, _month, fam, rows in self._months(t):
            for g in GROUPS:
                size, persons = (rows[c].iloc[0] for c in SIZE[g])
                nkey = ctx.add(outcome(fam, g, "N"), float(size), int(persons), group=g,
                               keep=0 if fam != MAIN else 3)
                for _, r in rows.iterrows():
                    x, px = float(r[COUNT[g][0]]), int(r[COUNT[g][1]])
                    # the outcome month's count is Table 1's cell: add() stops if they disagree
                    xk = ctx.add(outcome(fam, g, r["outcome"]), x, px, group=g, keep=0)
                    if fam != MAIN:
                        ck = ctx.add(outcome(fam, g, r["outcome"], complement=True), float(size) - x,
                                     int(persons) - px, group=g, shown=False)
                        ctx.led.sums(nkey, [xk, ck], f"{fam}: {r['outcome']} + not = n ({g})")
                before = previous.get((anchor, g))
                if before is not None:
                    self._link(ctx, before, (nkey, float(size), int(persons)), g)
                previous[(anchor, g)] = (nkey, float(size), int(persons))

    @staticmethod
    def _link(ctx: Context, before, after, g: str) -> None:
        """Two neighbouring months: the persons censored (or entering) between them."""
        (k0, n0, p0), (k1, n1, p1) = before, after
        if abs(n0 - n1) < 1e-9:
            ctx.led.relate({k0: 1.0, k1: -1.0}, f"trajectory: the same persons observed ({g})")
            return
        big, small, pb, ps = (k0, k1, p0, p1) if n0 > n1 else (k1, k0, p1, p0)
        d = ctx.add(key(big, "censored", small), abs(n0 - n1), max(pb - ps, 0), group=g, shown=False)
        ctx.led.sums(big, [small, d], f"trajectory: observed = observed next month + censored between ({g})")

    def render(self, ctx: Context, hidden: dict) -> dict[str, pd.DataFrame]:
        t = ctx.t["trajectory"]
        out = []
        for _, _, fam, rows in self._months(t):
            for _, r in rows.iterrows():
                row = {c: r[c] for c in PUBLISHED}
                row["n_controls"] = r["weight_controls"]
                shown = True
                for g in GROUPS:
                    n_mark = marker(hidden, outcome(fam, g, "N"), ctx.k)
                    x_mark = marker(hidden, outcome(fam, g, r["outcome"]), ctx.k)
                    if n_mark:
                        row[SIZE[g][1]] = n_mark
                    if x_mark or n_mark:              # a share of a hidden count or size would give it away
                        row[SHARE[g]] = x_mark or "x"
                        shown = False
                if not shown:
                    row.update({c: "–" for c in DERIVED})
                out.append(row)
        return {"trajectory": pd.DataFrame(out, columns=list(PUBLISHED))}
