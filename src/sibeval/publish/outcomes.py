"""The outcome tables: effects, placebo, subgroups, Table 1 and the tables read from the
same counts (diagnostics, the status distribution's test, the sensitivity analysis)."""

from __future__ import annotations

import pandas as pd

from sibeval.outcomes.status import HEADLINES, OUTCOMES, STATUSES
from sibeval.publish.cells import GROUPS, MAIN, marker, outcome, subgroup
from sibeval.publish.family import Context, Family

# per group: the count and share columns of an effects row
GROUP_COLS = {"participant": ("x_participants", "share_participants"),
              "control": ("x_controls", "share_controls")}
# numbers of an effects row that are computed from both groups' counts
ROW_DERIVED = ("estimate", "ci_low", "ci_high", "risk_ratio", "rr_ci_low", "rr_ci_high",
               "regression_estimate", "regression_se", "p_boschloo", "p_fisher", "p_regression",
               "p_value", "significant", "p_adjusted", "p_z_pooled", "adjusted_estimate",
               "adjusted_se", "adjusted_ci_low", "adjusted_ci_high", "p_adjusted_regression")
# the rest of an effects-shaped table: row keys, and numbers that do not depend on the
# row's counts (the design, the method, the matched sets' effective sizes)
ROW_KEYS = ("outcome", "subgroup", "level", "months_before_index")
CONSTANT = ("primary_test", "alpha", "method", "adjustment", "adjusted_for", "n_eff_participants", "n_eff_controls")
PERSONS = ("persons_participants", "persons_controls", "w_min", "w_max")   # used, never published
EFFECTS_COLUMNS = (*ROW_KEYS, "n_participants", "n_controls", *(c for cols in GROUP_COLS.values() for c in cols),
                   *ROW_DERIVED, *CONSTANT, *PERSONS)
# diagnostics: counts, what the controls' share gives, what both shares give, constants
DIAGNOSTICS_COLUMNS = ("outcome", "n_participants", "n_controls", "share_controls", "minimum_detectable_difference",
                       "observed_difference", "participants_needed", "warnings", "power", "alpha")
SENSITIVITY_COLUMNS = ("outcome", "risk_ratio", "rr_ci_low", "rr_ci_high", "e_value", "e_value_ci", "p_rosenbaum",
                       "gamma_critical", "matched_sets", "alpha", "method")
# p-values at the precision the note shows (see family.p_published)
P_COLUMNS = ("p_boschloo", "p_fisher", "p_regression", "p_value", "p_adjusted", "p_z_pooled", "p_adjusted_regression")
# Holm-adjusted p-values rank a family's p-values: with a hidden member, every member's
# adjusted p (and the flag it sets) would tell where the hidden one ranks
FAMILY_COLS = ("p_adjusted", "significant")
# weighted statistics carry the matched sets' sizes in their decimals: published coarser
DIGITS = {"n_eff_participants": 0, "n_eff_controls": 0, "x_controls": 1, "share_controls": 4,
          "share_control": 4, "n_control": 1, "share_participants": 4, "share_participant": 4,
          **{c: 4 for c in ("estimate", "ci_low", "ci_high", "risk_ratio", "rr_ci_low", "rr_ci_high",
                            "regression_estimate", "regression_se", "adjusted_estimate", "adjusted_se",
                            "adjusted_ci_low", "adjusted_ci_high", "observed_difference",
                            "minimum_detectable_difference")}}


def _subgroup_of(row) -> str:
    return subgroup(row["subgroup"], row["level"])


class OutcomeTables(Family):
    name = "outcomes"
    inputs = ("effects", "placebo", "subgroups", "table1", "diagnostics", "status_distribution", "sensitivity")
    tables = ("effects", "placebo", "subgroups", "table1", "diagnostics", "status_distribution", "sensitivity")
    rounding = {**{name: DIGITS for name in ("effects", "subgroups", "placebo", "diagnostics", "table1")},
                # ratios and E-values at the precision a reader uses: unrounded, a risk ratio and
                # its CI give the controls' effective size (and the matched sets) away
                "sensitivity": {c: 2 for c in ("risk_ratio", "rr_ci_low", "rr_ci_high", "e_value", "e_value_ci",
                                               "gamma_critical")}}
    p_values = {"effects": P_COLUMNS, "subgroups": P_COLUMNS, "placebo": P_COLUMNS, "sensitivity": ("p_rosenbaum",)}
    columns = {"effects": EFFECTS_COLUMNS, "placebo": EFFECTS_COLUMNS, "subgroups": EFFECTS_COLUMNS,
               "diagnostics": DIAGNOSTICS_COLUMNS, "sensitivity": SENSITIVITY_COLUMNS,
               "table1": ("role", "outcome", "n", "weighted_n", "total", "share", "persons"),
               "status_distribution": ("statistic", "df", "p_value", "p_asymptotic", "reps", "seed", "n_participants",
                                       "n_controls", "method")}

    @classmethod
    def applies(cls, t: dict) -> bool:
        return all(n in t for n in cls.inputs if n != "sensitivity")

    # -- registration ---------------------------------------------------------------------
    def register(self, ctx: Context) -> None:
        t = ctx.t
        ctx.led.table = "effects"
        self._outcomes(ctx, MAIN, t["effects"], keep_headline=True)
        if len(t["placebo"]):
            ctx.led.table = "placebo"
            self._outcomes(ctx, "placebo", t["placebo"])
            for g in GROUPS:       # the placebo compares the analysed persons earlier: the same n
                ctx.sum_if_holds(outcome(MAIN, g, "N"), [outcome("placebo", g, "N")], f"placebo n = n ({g})")
        ctx.led.table = "subgroups"
        self._subgroups(ctx, t["subgroups"])
        ctx.led.table = "table1"
        for r in t["table1"].itertuples():
            g = r.role
            x = float(r.n) if g == "participant" else float(r.weighted_n)
            ctx.add(outcome(MAIN, g, r.outcome), x, int(r.persons), group=g)

    @staticmethod
    def _outcomes(ctx: Context, fam: str, eff: pd.DataFrame, keep_headline=False) -> None:
        """x and n of each outcome per group, the complements, statuses summing to n and
        headlines summing their statuses."""
        e = eff.set_index("outcome")
        for g, (xc, _) in GROUP_COLS.items():
            pc = "persons_participants" if g == "participant" else "persons_controls"
            nc = "n_participants" if g == "participant" else "n_controls"
            N = int(e[nc].iloc[0])
            nkey = ctx.add(outcome(fam, g, "N"), N, N, group=g, keep=2 if fam == MAIN else 0)
            for o in e.index:
                x, persons = float(e.at[o, xc]), int(e.at[o, pc])
                keep = 2 if (keep_headline and o in HEADLINES) else (1 if fam == MAIN else 0)
                xk = ctx.add(outcome(fam, g, o), x, persons, group=g, keep=keep)
                ck = ctx.add(outcome(fam, g, o, complement=True), N - x, N - persons, group=g, shown=False)
                ctx.led.sums(nkey, [xk, ck], f"{fam}: {o} + not {o} = n ({g})")
            statuses = [outcome(fam, g, s) for s in STATUSES if s in e.index]
            if len(statuses) == len(STATUSES):
                ctx.led.sums(nkey, statuses, f"{fam}: statuses sum to n ({g})")
            for h, members in HEADLINES.items():
                if h in e.index and all(m in e.index for m in members):
                    ctx.led.sums(outcome(fam, g, h), [outcome(fam, g, m) for m in members],
                                 f"{fam}: {h} = sum of its statuses ({g})")

    def _subgroups(self, ctx: Context, sg: pd.DataFrame) -> None:
        if not len(sg):
            return
        for var, by_var in sg.groupby("subgroup", sort=True):
            fams = []
            for lv, rows in by_var.groupby("level", sort=True):
                fam = subgroup(var, lv)
                self._outcomes(ctx, fam, rows)
                fams.append(fam)
            for g in GROUPS:
                ctx.sum_if_holds(outcome(MAIN, g, "N"), [outcome(f, g, "N") for f in fams],
                                 f"subgroups of {var} add up to n ({g})")
                for o in by_var["outcome"].unique():
                    ctx.sum_if_holds(outcome(MAIN, g, o), [outcome(f, g, o) for f in fams],
                                     f"subgroups of {var} add up for {o} ({g})")

    # -- rendering ------------------------------------------------------------------------
    def render(self, ctx: Context, hidden: dict) -> dict[str, pd.DataFrame]:
        t, k = ctx.t, ctx.k
        out = {"effects": effects_rows(t["effects"], lambda r: MAIN, hidden, k)}
        hidden_outcomes = set(out["effects"].loc[out["effects"]["suppressed"].astype(bool), "outcome"])
        out["subgroups"] = effects_rows(t["subgroups"], _subgroup_of, hidden, k) if len(t["subgroups"]) \
            else t["subgroups"]
        out["placebo"] = effects_rows(t["placebo"], lambda r: "placebo", hidden, k) if len(t["placebo"]) \
            else t["placebo"]
        out["table1"] = _table1(t["table1"], hidden, k)
        n_markers = {col: marker(hidden, outcome(MAIN, g, "N"), k)
                     for g, col in (("participant", "n_participants"), ("control", "n_controls"))}
        dg = _with_n_markers(t["diagnostics"], n_markers)
        hide = dg["outcome"].isin(hidden_outcomes)
        for c in ("observed_difference", "participants_needed", "warnings"):
            dg.loc[hide, c] = ""
        ctrl_hidden = dg["outcome"].map(lambda o: outcome(MAIN, "control", o) in hidden)
        for c in ("share_controls", "minimum_detectable_difference"):
            dg.loc[ctrl_hidden, c] = ""
        dg["suppressed"] = hide
        out["diagnostics"] = dg
        sd = _with_n_markers(t["status_distribution"], n_markers)
        if any(outcome(MAIN, g, s) in hidden for g in GROUPS for s in STATUSES):
            for c in ("statistic", "p_value", "p_asymptotic"):
                sd[c] = ""              # the chi-square statistic would give the hidden cells back
        out["status_distribution"] = sd
        if "sensitivity" in t:
            s = t["sensitivity"].astype(object).copy()
            hid = s["outcome"].isin(hidden_outcomes)
            for c in s.columns:
                if c != "outcome":
                    s.loc[hid, c] = ""
            out["sensitivity"] = s
        return out


def _with_n_markers(df: pd.DataFrame, markers: dict) -> pd.DataFrame:
    """A copy with each group size column replaced by its marker where the size is hidden."""
    out = df.astype(object).copy()
    for col, m in markers.items():
        if m and col in out:
            out[col] = m
    return out


def effects_rows(df: pd.DataFrame, fam_of, hidden: dict, k: int) -> pd.DataFrame:
    """An effects-shaped table with each hidden count as its marker, its share and every
    number computed from the row's counts blanked, and Holm families with a hidden member
    without their adjusted p-values."""
    out = df.astype(object).copy()
    hidden_row = []
    for i, r in df.iterrows():
        fam = fam_of(r)
        any_hidden = False
        for g, (xc, sc) in GROUP_COLS.items():
            m = marker(hidden, outcome(fam, g, r["outcome"]), k)
            nm = marker(hidden, outcome(fam, g, "N"), k)
            if nm:
                out.at[i, "n_participants" if g == "participant" else "n_controls"] = nm
                # an effective size is at most the count and equals it with equal weights
                eff_col = "n_eff_participants" if g == "participant" else "n_eff_controls"
                if eff_col in out:
                    out.at[i, eff_col] = nm
            if m or nm:
                any_hidden = True
                out.at[i, xc] = m or "x"
                out.at[i, sc] = ""
        if any_hidden:
            for c in ROW_DERIVED:
                if c in out:
                    out.at[i, c] = ""
        hidden_row.append(any_hidden)
    out["suppressed"] = hidden_row
    fam = out["adjustment"].astype(str).str.startswith("holm") if "adjustment" in out else pd.Series(False, out.index)
    keys = df.apply(fam_of, axis=1)
    for key in keys[fam & out["suppressed"].astype(bool)].unique():
        rows = fam & (keys == key)
        for c in FAMILY_COLS:
            if c in out:
                out.loc[rows, c] = ""
    return out.drop(columns=[c for c in ("persons_participants", "persons_controls", "w_min", "w_max") if c in out])


def _table1(t1: pd.DataFrame, hidden: dict, k: int) -> pd.DataFrame:
    rows = []
    for o in OUTCOMES:
        row = {"outcome": o}
        for g in GROUPS:
            sub = t1[(t1.outcome == o) & (t1.role == g)]
            if sub.empty:
                row.update({f"n_{g}": "", f"share_{g}": "", f"total_{g}": "", f"suppressed_{g}": False})
                continue
            r = sub.iloc[0]
            m = marker(hidden, outcome(MAIN, g, o), k)
            mn = marker(hidden, outcome(MAIN, g, "N"), k)
            row[f"n_{g}"] = m or (round(float(r["weighted_n"]), 1) if g == "control" else int(r["n"]))
            # with the group's n hidden, a count beside its share would give the n back
            row[f"share_{g}"] = "" if m or mn else round(float(r["share"]), 6)
            row[f"total_{g}"] = mn or int(r["total"])
            row[f"suppressed_{g}"] = bool(m)
        rows.append(row)
    return pd.DataFrame(rows)
