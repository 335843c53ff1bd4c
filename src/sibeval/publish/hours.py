"""Hours and wages of those in ordinary employment, participants against their controls."""

from __future__ import annotations

import pandas as pd

from sibeval.publish.cells import MAIN, MEAN_DIGITS, as_number, key, marker, outcome
from sibeval.publish.family import Context, Family, step_fitting
from sibeval.publish.ledger import derivable

DERIVED = ("estimate", "ci_low", "ci_high", "p_welch", "p_mannwhitney", "p_value", "significant")
CONTROL_PERSONS = key("hours", "control", "persons")
# over a group whose n is hidden, the step at which a mean of whole hours (or kroner) fits every
# n the reader cannot rule out (step * n >= 1)
HIDDEN_N_STEPS = (0.1, 0.2, 0.5, 1.0)
AMOUNTS = ("mean_participants", "mean_controls", "estimate", "ci_low", "ci_high")
COLUMNS = ("variable", "n_participants", "n_controls", "mean_participants", "mean_controls", *DERIVED, "method")


class HoursWage(Family):
    name = "hours"
    inputs = ("hours_wage",)
    tables = ("hours_wage",)
    columns = {"hours_wage": COLUMNS}
    p_values = {"hours_wage": ("p_welch", "p_mannwhitney", "p_value")}

    def register(self, ctx: Context) -> None:
        ctx.led.table = "hours_wage"
        for r in ctx.t["hours_wage"].itertuples():
            ctx.add(outcome(MAIN, "participant", "ordinary_employment"), r.n_participants)
            ctx.add(CONTROL_PERSONS, r.n_controls, int(r.n_controls), keep=0)

    def render(self, ctx: Context, hidden: dict) -> dict[str, pd.DataFrame]:
        hw, k = ctx.t["hours_wage"], ctx.k
        out = hw.astype(object).copy()
        for i, r in hw.iterrows():
            mp = marker(hidden, outcome(MAIN, "participant", "ordinary_employment"), k)
            mc = marker(hidden, CONTROL_PERSONS, k)
            if mp:
                out.at[i, "n_participants"] = mp
            if mc:
                out.at[i, "n_controls"] = mc
            # a mean of amounts is published only when at least min_cell persons are behind it
            few = {"participants": r["n_participants"] < k, "controls": r["n_controls"] < k}
            for g, is_few in few.items():
                if is_few:
                    out.at[i, f"mean_{g}"] = ""
            if any(few.values()):
                for c in DERIVED:
                    out.at[i, c] = ""
            digits = MEAN_DIGITS.get(r["variable"], 1)
            for c in AMOUNTS:
                if as_number(out.at[i, c]) is not None:
                    out.at[i, c] = round(float(out.at[i, c]), digits)
            coarse = False
            for g, cell in (("participants", outcome(MAIN, "participant", "ordinary_employment")),
                            ("controls", CONTROL_PERSONS)):
                m = as_number(out.at[i, f"mean_{g}"])
                if cell in hidden and m is not None:
                    lo = derivable(ctx.led, hidden, cell)[0]
                    step = max(step_fitting(lo, HIDDEN_N_STEPS), 10.0 ** -digits)
                    out.at[i, f"mean_{g}"] = round(round(m / step) * step, 6)
                    coarse = True
            est = as_number(out.at[i, "estimate"])
            if coarse and est is not None:
                # the difference and its interval around the printed means' difference (the
                # exact one would give the coarse mean back)
                d = round(float(out.at[i, "mean_participants"]) - float(out.at[i, "mean_controls"]), 6)
                half = (float(out.at[i, "ci_high"]) - float(out.at[i, "ci_low"])) / 2
                out.at[i, "estimate"] = d
                out.at[i, "ci_low"], out.at[i, "ci_high"] = round(d - half, digits), round(d + half, digits)
        return {"hours_wage": out}
