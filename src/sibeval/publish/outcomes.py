"""The outcome tables: effects, placebo, subgroups, Table 1 and the tables read from the
same counts (diagnostics, the status distribution's test, the sensitivity analysis)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sibeval.inference.multiplicity import holm
from sibeval.outcomes.status import HEADLINES, OUTCOMES, STATUSES
from sibeval.publish.cells import GROUPS, MAIN, as_number, marker, outcome, subgroup
from sibeval.publish.family import (
    SHARE_STEPS,
    Context,
    Family,
    bound_by_sets,
    on_step,
    share_bounds,
    step_fitting,
)
from sibeval.publish.ledger import REFINED, derivable

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
PERSONS = ("persons_participants", "persons_controls", "w_min", "w_max", "controls_in_sets")   # never published
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


# the method text of a row compared from its published numbers (a group's count hidden)
COARSE_METHOD = ("; {group} count hidden: its share printed to {step:g}, and the CI and exact tests computed "
                 "from the published shares with {n:g} as its effective size ({basis}{rho})")
COARSE_BASIS = {"control": "the participants x the smallest set; controls lost after matching are not subtracted",
                "participant": "the smallest count the published tables allow"}
COARSE_RHO = ", times {rho:g}, the least effective share that sets of {lo:g} to {hi:g} controls allow"


@dataclass(frozen=True)
class Coarse:
    """How a group whose size is hidden (complementary, at least min_cell) is published in one
    family of rows: its shares to `step`, its comparisons computed with `n_eff`, from what a
    reader can compute (`n_lo`: for controls the participants x the published smallest set,
    for participants the smallest count the published tables allow; `rho`: the least Kish
    ratio that the published smallest and largest set allow)."""

    step: float
    n_lo: float
    rho: float = 1.0
    sets: tuple = ("", "")

    @property
    def n_eff(self) -> float:
        return round(self.n_lo * self.rho, 1)


def least_kish_ratio(smallest, largest) -> float:
    """The least n_eff / n of weights between 1/largest and 1/smallest (Kantorovich: 4ab/(a+b)^2);
    1 without both sizes."""
    if smallest is None or largest is None or not smallest or not largest:
        return 1.0
    a, b = 1.0 / float(largest), 1.0 / float(smallest)
    return 4 * a * b / (a + b) ** 2


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
        self._set_bounds(ctx)
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
            # hiding a group's size costs: the analysed participants most (the headline n), a
            # control count least (its shares are still printed, to a coarser step)
            cost = {(True, "participant"): 3, (True, "control"): 2, (False, "participant"): 1, (False, "control"): 0}
            whole = fam in (MAIN, "placebo")        # the placebo compares the same persons
            nkey = ctx.add(outcome(fam, g, "N"), N, N, group=g, keep=cost[(whole, g)])
            for o in e.index:
                x, persons = float(e.at[o, xc]), int(e.at[o, pc])
                keep = 2 if (keep_headline and o not in STATUSES) else (1 if fam == MAIN else 0)
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

    def _set_bounds(self, ctx: Context) -> None:
        """Each family's controls lost after matching (died before the outcome month): the
        analysed participants' sets hold between smallest x n and largest x n controls (the
        match summary prints both), so a family's analysed controls bound how many it lost.
        Registered as a count of persons, with the subgroup levels adding up to the whole."""
        lo, hi = _set_range(ctx.t.get("match_summary"))
        if lo is None or hi is None:
            return
        lost = {}
        for fam, rows in self._rows(ctx.t):
            if "controls_in_sets" not in rows or fam == "placebo":
                continue
            n_p, n_c = outcome(fam, "participant", "N"), outcome(fam, "control", "N")
            in_sets = float(rows["controls_in_sets"].iloc[0])
            if not lo * ctx.value(n_p) - 1e-6 <= in_sets <= hi * ctx.value(n_p) + 1e-6:
                continue
            d = in_sets - ctx.value(n_c)
            lost[fam] = ctx.led.add(f"{n_c}:lost_after_matching", d, int(round(d)), shown=False)
            bound_by_sets(ctx, {n_c: 1.0, lost[fam]: 1.0}, n_p, lo, hi,
                          (f"{fam}: the sets hold at least the smallest set's controls each",
                           f"{fam}: the sets hold at most the largest set's controls each"))
        for var in (ctx.t["subgroups"]["subgroup"].unique() if len(ctx.t["subgroups"]) else []):
            levels = [f for f in lost if f.startswith(subgroup(var, ""))]
            if MAIN in lost and levels:
                ctx.sum_if_holds(lost[MAIN], [lost[f] for f in levels], f"controls lost: subgroups of {var} add up")

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

    def _rows(self, t: dict):
        """(family, its effects-shaped rows) of every family of outcome rows."""
        yield MAIN, t["effects"]
        if len(t["placebo"]):
            yield "placebo", t["placebo"]
        if len(t["subgroups"]):
            for (var, lv), rows in t["subgroups"].groupby(["subgroup", "level"], sort=True):
                yield subgroup(var, lv), rows

    def refine(self, ctx: Context, hidden: dict) -> None:
        """A group whose size is hidden as a complement (at least min_cell persons) keeps its
        shares, printed to the step at which every size the reader cannot rule out fits them,
        with their counts hidden; each printed share bounds its count.

        The counts beside every hidden size are marked unpublished *before* the smallest size
        a reader can derive is worked out: that number is printed (the effective size of the
        comparison), so it must come from published numbers alone."""
        self.coarse = {}
        q = ctx.led.quantities
        sets = _set_range(ctx.t.get("match_summary"))
        coarse = [(fam, rows, g) for fam, rows in self._rows(ctx.t) for g in GROUP_COLS
                  if hidden.get(outcome(fam, g, "N")) == "complementary"]
        for fam, rows in self._rows(ctx.t):
            for g in GROUP_COLS:
                hid_n = hidden.get(outcome(fam, g, "N")) == "complementary"
                for o in rows["outcome"]:
                    if outcome(fam, g, o) not in hidden:
                        q[outcome(fam, g, o)].shown = not hid_n
        for fam, rows, g in coarse:
            n = outcome(fam, g, "N")
            # the size the comparison uses must come from published numbers alone: for controls
            # the family's participants x the smallest set (their lost controls are hidden), for
            # participants the smallest count the other published numbers allow
            n_p = outcome(fam, "participant", "N")
            if g == "control" and n_p not in hidden and sets[0]:
                size = ctx.value(n_p) * float(sets[0])
            else:
                size = derivable(ctx.led, hidden, n)[0]
            step = step_fitting(size, SHARE_STEPS)
            for o in rows["outcome"]:
                if outcome(fam, g, o) not in hidden:
                    share_bounds(ctx, outcome(fam, g, o), n, step, f"{REFINED}{fam}: share of {o} ({g})")
            # controls are weighted by their sets: the published smallest and largest set
            # bound how unequal (a number from the data would tell which sets lost whom)
            rho = least_kish_ratio(*sets) if g == "control" else 1.0
            self.coarse[(fam, g)] = Coarse(step, size, rho, sets)

    # -- rendering ------------------------------------------------------------------------
    def render(self, ctx: Context, hidden: dict) -> dict[str, pd.DataFrame]:
        t, k = ctx.t, ctx.k
        coarse = getattr(self, "coarse", {})
        out = {"effects": effects_rows(t["effects"], lambda r: MAIN, hidden, k, coarse)}
        hidden_outcomes = set(out["effects"].loc[out["effects"]["suppressed"].astype(bool), "outcome"])
        out["subgroups"] = effects_rows(t["subgroups"], _subgroup_of, hidden, k, coarse) if len(t["subgroups"]) \
            else t["subgroups"]
        out["placebo"] = effects_rows(t["placebo"], lambda r: "placebo", hidden, k, coarse) if len(t["placebo"]) \
            else t["placebo"]
        out["table1"] = _table1(t["table1"], hidden, k, coarse)
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
        main_coarse = any((MAIN, g) in coarse for g in GROUPS)
        eff = {r["outcome"]: r for _, r in out["effects"].iterrows()} if main_coarse else {}
        if main_coarse:
            # the power over a hidden group size, from the published numbers (a hidden
            # participants' share only leaves out the observed difference and what it needs)
            for i, r in dg.iterrows():
                e = eff.get(r["outcome"])
                if e is None or e["share_controls"] == "":
                    continue
                e = e.copy()
                e["share_participants"] = e["share_participants"] if e["share_participants"] != "" else 0.0
                pub = _published_comparison(e, MAIN, coarse)
                d = _comparisons().design_diagnostics(pub, float(r["power"]), float(r["alpha"]))
                dg.at[i, "share_controls"] = pub.share_controls
                dg.at[i, "minimum_detectable_difference"] = d.minimum_detectable_difference
                if not hide[i]:
                    dg.at[i, "observed_difference"] = pub.estimate
                    dg.at[i, "participants_needed"] = d.participants_needed
        out["diagnostics"] = dg
        sd = _with_n_markers(t["status_distribution"], n_markers)
        if main_coarse or any(outcome(MAIN, g, s) in hidden for g in GROUPS for s in STATUSES):
            for c in ("statistic", "p_value", "p_asymptotic"):
                sd[c] = ""              # the chi-square statistic would give the hidden cells back
        out["status_distribution"] = sd
        if "sensitivity" in t:
            s = t["sensitivity"].astype(object).copy()
            hid = s["outcome"].isin(hidden_outcomes)
            for c in s.columns:
                if c != "outcome":
                    s.loc[hid, c] = ""
            if main_coarse:
                # the ratio and its E-values from the published comparison; the Rosenbaum bound
                # reads each matched set's controls, so it is left out
                from sibeval.inference.sensitivity import e_value, e_value_ci

                for i, r in s[~hid].iterrows():
                    e = eff[r["outcome"]]
                    rr, lo, hi = (float(e[c]) if e[c] != "" else np.nan
                                  for c in ("risk_ratio", "rr_ci_low", "rr_ci_high"))
                    values = {"risk_ratio": rr, "rr_ci_low": lo, "rr_ci_high": hi, "e_value": e_value(rr),
                              "e_value_ci": e_value_ci(rr, lo, hi), "p_rosenbaum": "", "gamma_critical": ""}
                    for c, v in values.items():
                        if c in s:
                            s.at[i, c] = v
            out["sensitivity"] = s
        return out


def _set_range(ms) -> tuple:
    """The smallest and largest matched set as the match summary prints them (None if not)."""
    if ms is None:
        return (None, None)
    s = ms.set_index("sample")["control"]
    return tuple(as_number(s.get(f"controls_per_participant_{e}")) for e in ("min", "max"))


def _with_n_markers(df: pd.DataFrame, markers: dict) -> pd.DataFrame:
    """A copy with each group size column replaced by its marker where the size is hidden."""
    out = df.astype(object).copy()
    for col, m in markers.items():
        if m and col in out:
            out[col] = m
    return out


def _published_comparison(row, fam: str, coarse: dict):
    """The comparison of one published effects row from its published numbers: a group's share
    as printed (four decimals, or its coarse step) with its published effective size, or, where
    its size is hidden, the effective size a reader can compute (Coarse.n_eff)."""
    args = []
    for g, (_, sc) in GROUP_COLS.items():
        c = coarse.get((fam, g))
        eff = "n_eff_participants" if g == "participant" else "n_eff_controls"
        args += [float(row[sc]), c.n_eff if c else float(np.floor(float(row[eff]) + 0.5))]
    return _comparisons().compare_published(row["outcome"], *args, row["primary_test"], float(row["alpha"]))


def _comparisons():
    """sibeval.inference.comparisons, imported when first needed: the QC tables' jobs publish
    without it (scipy.special and scipy.optimize, about 0.5 s of imports a process)."""
    from sibeval.inference import comparisons as module
    return module


def effects_rows(df: pd.DataFrame, fam_of, hidden: dict, k: int, coarse: dict | None = None) -> pd.DataFrame:
    """An effects-shaped table with each hidden count as its marker, its share and every
    number computed from the row's counts blanked, and Holm families with a hidden member
    without their adjusted p-values. A group whose size is hidden as a complement (`coarse`)
    keeps its share at its step, and the row's comparison is computed from the published
    numbers (see _published_comparison)."""
    coarse = coarse or {}
    out = df.astype(object).copy()
    hidden_row, coarse_row = [], []
    for i, r in df.iterrows():
        fam = fam_of(r)
        any_hidden = False
        for g, (xc, sc) in GROUP_COLS.items():
            m = marker(hidden, outcome(fam, g, r["outcome"]), k)
            nm = marker(hidden, outcome(fam, g, "N"), k)
            c = coarse.get((fam, g))
            if nm:
                out.at[i, "n_participants" if g == "participant" else "n_controls"] = nm
                # an effective size is at most the count and equals it with equal weights
                eff_col = "n_eff_participants" if g == "participant" else "n_eff_controls"
                if eff_col in out:
                    out.at[i, eff_col] = nm
            if m or (nm and c is None):
                any_hidden = True
                out.at[i, xc] = m or "x"
                out.at[i, sc] = ""
            elif c is not None:
                out.at[i, xc] = "x"
                out.at[i, sc] = on_step(r[sc], c.step)
        is_coarse = not any_hidden and any((fam, g) in coarse for g in GROUPS)
        if any_hidden:
            for c in ROW_DERIVED:
                if c in out:
                    out.at[i, c] = ""
        elif is_coarse:
            pub = _published_comparison(out.loc[i], fam, coarse)
            for c in [c for c in ROW_DERIVED if c in out]:
                v = getattr(pub, c, np.nan)
                out.at[i, c] = "" if isinstance(v, float) and v != v else v
            out.at[i, "estimate"] = round(pub.share_participants - pub.share_controls, 10)
            out.at[i, "primary_test"] = pub.primary_test
            if "p_adjusted" in out:
                out.at[i, "p_adjusted"] = pub.p_value
            for g in GROUPS:
                c = coarse.get((fam, g))
                if c:
                    rho = COARSE_RHO.format(rho=round(c.rho, 4), lo=c.sets[0], hi=c.sets[1]) if c.rho < 1 else ""
                    out.at[i, "method"] = str(r["method"]) + COARSE_METHOD.format(
                        group=g, step=c.step, n=c.n_eff, basis=COARSE_BASIS[g], rho=rho)
        hidden_row.append(any_hidden)
        coarse_row.append(is_coarse)
    out["suppressed"] = hidden_row
    fam = out["adjustment"].astype(str).str.startswith("holm") if "adjustment" in out else pd.Series(False, out.index)
    keys = df.apply(fam_of, axis=1)
    for key in keys[fam & out["suppressed"].astype(bool)].unique():
        rows = fam & (keys == key)
        for c in FAMILY_COLS:
            if c in out:
                out.loc[rows, c] = ""
    _holm_again(out, fam & pd.Series(coarse_row, out.index) & ~out["suppressed"].astype(bool), keys)
    return out.drop(columns=[c for c in PERSONS if c in out])


def _holm_again(out: pd.DataFrame, coarse_holm: pd.Series, keys: pd.Series) -> None:
    """Holm families whose p-values were computed from published numbers: adjusted again
    from those p-values, with `significant` from the adjusted ones."""
    for key in keys[coarse_holm].unique():
        rows = (keys == key) & out["adjustment"].astype(str).str.startswith("holm")
        p = pd.to_numeric(out.loc[rows, "p_value"], errors="coerce")
        if p.isna().any():
            continue
        adj = holm(p.to_numpy(float))
        out.loc[rows, "p_adjusted"] = adj
        out.loc[rows, "significant"] = [bool(a < float(al)) for a, al in zip(adj, out.loc[rows, "alpha"])]


def _table1(t1: pd.DataFrame, hidden: dict, k: int, coarse: dict | None = None) -> pd.DataFrame:
    coarse = coarse or {}
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
            c = coarse.get((MAIN, g))
            row[f"n_{g}"] = m or ("x" if c else round(float(r["weighted_n"]), 1) if g == "control" else int(r["n"]))
            # with the group's n hidden, a count beside its share would give the n back: the
            # share alone, to its step, where the n is a complement; nothing where it is small
            row[f"share_{g}"] = "" if m or (mn and not c) else on_step(r["share"], c.step) if c \
                else round(float(r["share"]), 6)
            row[f"total_{g}"] = mn or int(r["total"])
            row[f"suppressed_{g}"] = bool(m)
        rows.append(row)
    return pd.DataFrame(rows)
