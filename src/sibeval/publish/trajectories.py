"""The trajectory and decay tables (issue 25): the headline outcomes month by month, in the
ledger with the same persons as Table 1.

The published months are those in which every analysed person is observed (a death is an
outcome there, not a gap): from the pre-period to the last month before the extract's end
censors anyone. Each month's counts are a family of its own over Table 1's sizes (a count and
its complement add up to the same n), and the outcome month's are Table 1's own cells. Publishing
months in which some persons are past the data would publish sizes whose differences are the
persons censored between months: small counts that tie every month to the next (measured: the
attacker's problems of a matched cohort with hidden control sizes then take HiGHS minutes each).
The decay is fitted on the same months (the analysis); it is a rate, published rounded.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sibeval.outcomes.trajectory import END, START, TRAJECTORY_COLUMNS, Decay
from sibeval.publish.cells import GROUPS, MAIN, key, marker, outcome
from sibeval.publish.family import Context, Family

# what the published table shows: the participants' observed persons and the controls'
# weighted number observed (as the effects table's n_controls), the shares and the effect
PUBLISHED = ("outcome", "anchor", "month", "n_participants", "n_controls", "share_participants", "share_controls",
             "estimate", "ci_low", "ci_high", "band_low", "band_high", "method")
DECAY_PUBLISHED = ("outcome", "effect_first", "decay", "ci_low", "ci_high", "first", "last", "months",
                   "last_complete", "method")
# the published tables when the cohort does not publish its trajectory (trajectory.publish off)
EMPTY_TRAJECTORY = {"trajectory": pd.DataFrame(columns=list(PUBLISHED)),
                    "decay": pd.DataFrame(columns=list(DECAY_PUBLISHED))}
DERIVED = ("estimate", "ci_low", "ci_high", "band_low", "band_high")
SIZE = {"participant": ("weight_participants", "n_participants"), "control": ("weight_controls", "n_controls")}
COUNT = {"participant": ("x_participants", "persons_x_participants"),
         "control": ("x_controls", "persons_x_controls")}
SHARE = {"participant": "share_participants", "control": "share_controls"}
DECAY_COLUMNS = tuple(Decay.__dataclass_fields__)


PLACEBO = "placebo"          # the placebo family's name (publish.outcomes)


def family_of(anchor: str, month) -> str:
    """The outcome family of one month of the trajectory."""
    return key("traj", anchor, int(month))


class Trajectories(Family):
    name = "trajectories"
    inputs = ("trajectory", "decay")
    tables = ("trajectory", "decay")
    requires = ("outcomes",)
    columns = {"trajectory": TRAJECTORY_COLUMNS, "decay": DECAY_COLUMNS}
    rounding = {"trajectory": {"n_controls": 1, **{c: 4 for c in ("share_participants", "share_controls", *DERIVED)}},
                "decay": {"effect_first": 2, "decay": 2, "ci_low": 2, "ci_high": 2}}

    @staticmethod
    def complete(t: pd.DataFrame) -> pd.DataFrame:
        """The rows of the months in which every analysed person is observed: the outcome month's
        sizes, each anchor's months up to the first that falls short of them."""
        om = t[t["outcome_month"].astype(bool)]
        if om.empty:
            return t.iloc[0:0]
        full = np.ones(len(t), bool)
        for g in GROUPS:
            w, n = SIZE[g]
            full &= (np.abs(t[w].to_numpy(float) - float(om[w].iloc[0])) < 1e-9) & (t[n] == om[n].iloc[0]).to_numpy()
        keep = pd.Series(False, index=t.index)
        for _, rows in t.assign(_full=full).groupby(["outcome", "anchor"], sort=False):
            # the pre-period counts back from the start, the months after the end forward from it
            order = rows.sort_values("month", ascending=rows["anchor"].iloc[0] != START)
            keep[order.index[order["_full"].cumprod().astype(bool)]] = True
        return t[keep]

    @classmethod
    def _months(cls, ctx: Context):
        """(anchor, month, family, rows) of the published months in the table's order: the outcome
        month is Table 1's family, the placebo's month (the same persons, the same month before the
        start) the placebo's."""
        placebo = ctx.t.get("placebo")
        before = int(placebo["months_before_index"].iloc[0]) if placebo is not None and len(placebo) else None
        for (anchor, month), rows in cls.complete(ctx.t["trajectory"]).groupby(["anchor", "month"], sort=False):
            if bool(rows["outcome_month"].iloc[0]):
                fam = MAIN
            elif anchor == START and before is not None and int(month) == -before:
                fam = PLACEBO
            else:
                fam = family_of(anchor, month)
            yield anchor, month, fam, rows

    def register(self, ctx: Context) -> None:
        ctx.led.table = "trajectory"
        for _anchor, _month, fam, rows in self._months(ctx):
            for g in GROUPS:
                size, persons = (rows[c].iloc[0] for c in SIZE[g])
                # every published month has Table 1's persons: its size is Table 1's (or the
                # placebo's, the same persons; add() checks)
                nkey = ctx.add(outcome(PLACEBO if fam == PLACEBO else MAIN, g, "N"), float(size), int(persons),
                               group=g)
                for _, r in rows.iterrows():
                    x, px = float(r[COUNT[g][0]]), int(r[COUNT[g][1]])
                    # the outcome month's count is Table 1's cell, the placebo month's the placebo's:
                    # add() stops if they disagree
                    xk = ctx.add(outcome(fam, g, r["outcome"]), x, px, group=g, keep=0)
                    if fam not in (MAIN, PLACEBO):
                        ck = ctx.add(outcome(fam, g, r["outcome"], complement=True), float(size) - x,
                                     int(persons) - px, group=g, shown=False)
                        ctx.led.sums(nkey, [xk, ck], f"{fam}: {r['outcome']} + not = n ({g})")

    def render(self, ctx: Context, hidden: dict) -> dict[str, pd.DataFrame]:
        out = []
        for _, _, fam, rows in self._months(ctx):
            for _, r in rows.iterrows():
                row = {c: r[c] for c in PUBLISHED}
                row["n_controls"] = r["weight_controls"]
                shown = True
                for g in GROUPS:
                    n_mark = marker(hidden, outcome(PLACEBO if fam == PLACEBO else MAIN, g, "N"), ctx.k)
                    x_mark = marker(hidden, outcome(fam, g, r["outcome"]), ctx.k)
                    if n_mark:
                        row[SIZE[g][1]] = n_mark
                    if x_mark or n_mark:              # a share of a hidden count or size would give it away
                        row[SHARE[g]] = x_mark or "x"
                        shown = False
                if not shown:
                    row.update({c: "–" for c in DERIVED})
                out.append(row)
        return {"trajectory": pd.DataFrame(out, columns=list(PUBLISHED)), "decay": self._decay(ctx, hidden)}

    def _decay(self, ctx: Context, hidden: dict) -> pd.DataFrame:
        """The decay per outcome, with the last month every analysed person is observed in; its
        fitted effect at the outcome month is left out where Table 1's cells of the outcome are
        hidden (it is close to their difference)."""
        d = ctx.t["decay"].copy()
        ends = self.complete(ctx.t["trajectory"])
        ends = ends[ends["anchor"] == END].groupby("outcome")["month"].max()
        d["last_complete"] = d["outcome"].map(ends)
        for i, r in d.iterrows():
            if any(outcome(MAIN, g, r["outcome"]) in hidden or outcome(MAIN, g, "N") in hidden for g in GROUPS):
                d.at[i, "effect_first"] = np.nan
        return d[list(DECAY_PUBLISHED)]
