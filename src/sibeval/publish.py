"""The publication boundary: the analysis tables of one cohort (in `interim/`, exact) become
the published tables, the only thing the note, the workbook, the figures and the index read.

Every count the published tables show, or that follows from them, goes into one
`disclosure_audit.Ledger` with the relations an attacker can use; `protect()` chooses the
hidden cells for all tables jointly and proves them safe, and `render()` writes each table
with its hidden counts as "<k" (small) or "x" (complementary) and every number derived
from a hidden count blanked.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .catalogue import slug
from .disclosure_audit import Ledger, Protection, protect
from .errors import SibevalError
from .formatting import as_number
from .outcomes import HEADLINES, OUTCOMES, STATUSES
from .workbook import FORMULA_START

GROUPS = ("participant", "control")
# numbers of an effects row that are computed from both groups' counts
ROW_DERIVED = ("estimate", "ci_low", "ci_high", "risk_ratio", "rr_ci_low", "rr_ci_high",
               "regression_estimate", "regression_se", "p_boschloo", "p_fisher", "p_regression",
               "p_value", "significant", "p_adjusted", "p_z_pooled", "adjusted_estimate",
               "adjusted_se", "adjusted_ci_low", "adjusted_ci_high", "p_adjusted_regression")
GROUP_COLS = {"participant": ("x_participants", "share_participants"),
              "control": ("x_controls", "share_controls")}


def flow_shape(steps: pd.DataFrame, public: dict, k: int, cols=("n",)) -> list[str]:
    """The steps a published flow keeps. A small exclusion (1 to k - 1 persons, in any of
    `cols`) between two kept steps is merged into the next step's by leaving out the step
    after it (for the last step, the one before it), unless both ends are already public;
    zero exclusions are kept."""
    kept = list(steps.step)
    n = {c: dict(zip(steps.step, steps[c])) for c in cols}
    changed = True
    while changed:
        changed = False
        for a, b in zip(kept, kept[1:]):
            if not any(1 <= n[c][a] - n[c][b] < k for c in cols) or (a in public and b in public):
                continue
            drop = b if b != kept[-1] and b not in public else (a if a not in public else None)
            if drop is not None:
                kept.remove(drop)
                changed = True
                break
    return kept


class Tables:
    """The ledger of one cohort and the key of every published cell."""

    def __init__(self, t: dict[str, pd.DataFrame], disclosure: dict, replace: bool):
        self.t = t
        self.k = int(disclosure["min_cell"])
        self.public = {str(s): int(v) for s, v in (disclosure.get("public_counts") or {}).items()}
        self.replace = replace
        self.led = Ledger(self.k, bool(disclosure.get("zeros_sensitive", False)))
        w = pd.concat([t[n][["w_min", "w_max"]] for n in ("effects", "subgroups", "placebo")
                       if "w_min" in t[n]], ignore_index=True)
        self.unit = (float(w["w_min"].min()), float(w["w_max"].max()))
        self.integer_controls = bool(np.allclose(w.to_numpy(), 1.0))
        self.led.table = "effects"
        self._outcomes("main", t["effects"], keep_headline=True)
        if len(t["placebo"]):
            self.led.table = "placebo"
            self._outcomes("placebo", t["placebo"])
        self.led.table = "subgroups"
        self._subgroups(t["subgroups"])
        self.led.table = "table1"
        self._table1(t["table1"])
        self.led.table = "flow"
        self._flow(t["flow"], t["flow_reasons"])
        self.led.table = "match_summary"
        self._match(t["match_summary"], t["covariate_counts"])
        self.led.table = "overlap"
        self._overlap(t["overlap"])
        self.led.table = "hours_wage"
        self._hours(t["hours_wage"])
        if "progression_items" in t:
            self.led.table = "progression"
            self._progression(t)

    # -- registration -------------------------------------------------------------------------
    def _add(self, key, value, persons=None, group="participant", **kw):
        """A count; weighted (not a whole number) for controls with unequal weights."""
        if (group == "control" and not self.integer_controls) or abs(float(value) - round(float(value))) > 1e-6:
            kw.setdefault("unit", self.unit)
            kw.setdefault("integer", False)
        return self.led.add(key, value, persons, **kw)

    def _outcomes(self, fam: str, eff: pd.DataFrame, keep_headline=False):
        """x and n of each outcome per group, the complements, statuses summing to n and
        headlines summing their statuses."""
        e = eff.set_index("outcome")
        for g, (xc, _) in GROUP_COLS.items():
            pc = "persons_participants" if g == "participant" else "persons_controls"
            nc = "n_participants" if g == "participant" else "n_controls"
            N = int(e[nc].iloc[0])
            nkey = self._add(f"out:{fam}:{g}:N", N, N, group=g, keep=2 if fam == "main" else 0)
            for o in e.index:
                x, persons = float(e.at[o, xc]), int(e.at[o, pc])
                keep = 2 if (keep_headline and o in HEADLINES) else (1 if fam == "main" else 0)
                xk = self._add(f"out:{fam}:{g}:{o}", x, persons, group=g, keep=keep)
                ck = self._add(f"out:{fam}:{g}:not:{o}", N - x, N - persons, group=g, shown=False)
                self.led.sums(nkey, [xk, ck], f"{fam}: {o} + not {o} = n ({g})")
            statuses = [f"out:{fam}:{g}:{s}" for s in STATUSES if s in e.index]
            if len(statuses) == len(STATUSES):
                self.led.sums(nkey, statuses, f"{fam}: statuses sum to n ({g})")
            for h, members in HEADLINES.items():
                if h in e.index and all(m in e.index for m in members):
                    self.led.sums(f"out:{fam}:{g}:{h}", [f"out:{fam}:{g}:{m}" for m in members],
                                  f"{fam}: {h} = sum of its statuses ({g})")

    def _subgroups(self, sg: pd.DataFrame):
        if not len(sg):
            return
        for var, by_var in sg.groupby("subgroup", sort=True):
            fams = []
            for lv, rows in by_var.groupby("level", sort=True):
                fam = f"sub:{var}:{lv:g}" if isinstance(lv, float) else f"sub:{var}:{lv}"
                self._outcomes(fam, rows)
                fams.append(fam)
            for g in GROUP_COLS:
                self._sum_if_holds(f"out:main:{g}:N", [f"out:{f}:{g}:N" for f in fams],
                                   f"subgroups of {var} add up to n ({g})")
                for o in by_var["outcome"].unique():
                    self._sum_if_holds(f"out:main:{g}:{o}", [f"out:{f}:{g}:{o}" for f in fams],
                                       f"subgroups of {var} add up for {o} ({g})")

    def _sum_if_holds(self, total, parts, rule):
        q = self.led.quantities
        if total in q and all(p in q for p in parts) and \
                abs(q[total].value - sum(q[p].value for p in parts)) < 1e-6 * max(1.0, q[total].value):
            self.led.sums(total, parts, rule)

    def _table1(self, t1: pd.DataFrame):
        for r in t1.itertuples():
            g = r.role
            x = float(r.n) if g == "participant" else float(r.weighted_n)
            self._add(f"out:main:{g}:{r.outcome}", x, int(r.persons), group=g)

    def step_key(self, step: str) -> str:
        keys = {"matched": "out:main:participant:N", "controls_outcome_observed": "out:main:control:N"}
        if not self.replace:
            # without replacement each matched control row is one pair; with replacement the
            # flow counts a reused control once per set, the match summary once
            keys["controls_matched"] = "match:control:matched_rows"
        return keys.get(step, f"flow:{step}")

    def _check_public(self, flow: pd.DataFrame):
        for s, v in self.public.items():
            got = flow.loc[flow.step == s, "n"]
            if got.empty:
                raise SibevalError(f"disclosure.public_counts names the step '{s}', which the flow does not "
                                   f"have; allowed: {', '.join(flow.step)}")
            if int(got.iloc[0]) != v:
                raise SibevalError(f"disclosure.public_counts gives {s} = {v}, but the extract gives "
                                   f"{int(got.iloc[0])}; fix the cohort file or the extract")

    def _flow(self, flow: pd.DataFrame, reasons: pd.DataFrame):
        self._check_public(flow)
        self.flows = {}
        for g, part in flow.groupby(flow.step.str.startswith("controls"), sort=True):
            steps = part.reset_index(drop=True)
            self.flows["controls" if g else "participants"] = self._register_flow(
                steps, reasons, self.step_key, self.public)

    def _register_flow(self, steps: pd.DataFrame, reasons: pd.DataFrame, key_of, public: dict):
        """Every step and exclusion as quantities; the published shape keeps a step only
        where no small exclusion lies between it and the kept step before (see flow_shape)."""
        kept = flow_shape(steps, public, self.k)
        n = dict(zip(steps.step, steps.n))
        persons = dict(zip(steps.step, steps["persons"] if "persons" in steps else steps.n))
        for s in steps.step:
            first = s == steps.step.iloc[0] and key_of(s).startswith("flow:")    # e.g. referred
            self._add(key_of(s), n[s], int(persons[s]), public=s in public, shown=s in kept,
                      keep=2 if first or s == steps.step.iloc[-1] else 1)
        for a, b in zip(steps.step, steps.step[1:]):
            e = self._add(f"{key_of(b)}:excluded", n[a] - n[b], shown=False,
                          public=a in public and b in public)
            self.led.sums(key_of(a), [key_of(b), e], f"flow: {a} = {b} + excluded")
        shape = []
        if "outcome_observed" in n and steps.step.tolist().index("outcome_observed") > 0:
            # the participants who entered matching are the step before the outcome month
            before = steps.step.iloc[steps.step.tolist().index("outcome_observed") - 1]
            self._add("match:treated:all_rows", n[before], int(n[before]), keep=1, shown=False)
            self.led.sums(key_of(before), ["match:treated:all_rows"], "the participants matched are those analysed")
        for a, b in zip(kept, kept[1:]):
            between = list(steps.step[(steps.step.tolist().index(a) + 1):(steps.step.tolist().index(b) + 1)])
            e = self._add(f"{key_of(b)}:excluded_since:{a}", n[a] - n[b], keep=0,
                          public=a in public and b in public)
            self.led.sums(key_of(a), [key_of(b), e], f"flow: {a} = {b} + excluded")
            rs = reasons[reasons.step.isin(between) & (reasons.n > 0)]
            parts = []
            if len(rs) > 1:
                # each reason's count only when none of them is small; else the reasons alone
                shown = not any(0 < x < self.k for x in rs.n)
                parts = [self._add(f"{e}:reason:{slug(x.reason)}", x.n, int(getattr(x, "persons", x.n)),
                                   keep=0, shown=shown)
                         for x in rs.itertuples()]
                self.led.sums(e, parts, f"flow: reasons between {a} and {b} add up")
            shape.append((b, e, list(zip(rs.reason, parts)) if parts else list(zip(rs.reason, [None] * len(rs)))))
        # a first shown step that is not the flow's first (its exclusions were small and
        # merged into it) names their reasons, without a count
        before = list(steps.step[1:(steps.step.tolist().index(kept[0]) + 1)])
        first = reasons[reasons.step.isin(before) & (reasons.n > 0)]
        return [(kept[0], None, [(r, None) for r in first.reason])] + shape

    def _match(self, ms: pd.DataFrame, cov: pd.DataFrame):
        s = ms.set_index("sample")
        rows = {"All": "all_rows", "Matched": "matched_rows", "Unmatched": "unmatched_rows"}
        for g, col in (("treated", "treated"), ("control", "control")):
            keys = {}
            for label, name in rows.items():
                if label in s.index and pd.notna(s.at[label, col]):
                    v = float(s.at[label, col])
                    keys[name] = self._add(f"match:{g}:{name}", v, int(v), keep=0 if name == "unmatched_rows" else 1)
            if len(keys) == 3:
                self.led.sums(keys["all_rows"], [keys["matched_rows"], keys["unmatched_rows"]],
                              f"match summary: all = matched + unmatched ({g})")
        if "Distinct control persons" in s.index:
            v = int(s.at["Distinct control persons", "control"])
            self._add("match:control:persons", v, v)
            if not self.replace:
                self._sum_if_holds("match:control:persons", ["match:control:matched_rows"],
                                   "each matched control person is matched once")
        for r in cov.itertuples():
            n = self._add(f"cov:{r.group}:N", r.n_total, int(r.n_total), keep=1)
            x = self._add(f"cov:{r.group}:{r.covariate}", r.n_with, int(r.persons_with), keep=0)
            c = self._add(f"cov:{r.group}:not:{r.covariate}", r.n_total - r.n_with,
                          int(r.persons_without), shown=False)
            self.led.sums(n, [x, c], f"covariate {r.covariate}: with + without = n ({r.group})")

    def _overlap(self, fine: pd.DataFrame):
        """Merged propensity-score bins add up to the match summary's counts."""
        self.overlap = overlap_bins(fine, self.k)
        totals = {"participants": "match:treated:matched_rows", "matched_controls": "match:control:matched_rows",
                  "eligible_pool": "match:control:all_rows"}
        for g, rows in self.overlap.groupby("group", sort=False):
            # pool bins count (person, index month) rows: one person may stand for several
            has = rows[rows.persons > 0]
            mult = float(np.ceil((has.n / has.persons).max())) if len(has) else 1.0
            kw = {"unit": (1.0, mult)} if mult > 1 else {}
            keys = [self._add(f"ovl:{g}:{i}", r.n, r.persons, keep=0, **kw) for i, r in enumerate(rows.itertuples())]
            self._sum_if_holds(totals.get(g, ""), keys, f"overlap bins add up ({g})")

    def _hours(self, hw: pd.DataFrame):
        for r in hw.itertuples():
            self._add("out:main:participant:ordinary_employment", r.n_participants)
            self._add("hours:control:persons", r.n_controls, int(r.n_controls), keep=0)

    def _progression(self, t):
        pf = t["progression_flow"]
        reasons = pf.loc[pf.index > 0, ["step", "reason", "excluded"]].rename(columns={"excluded": "n"})
        started = "flow:started" in self.led.quantities and self.led.quantities["flow:started"].value == pf.n.iloc[0]

        def key_of(step):
            return "flow:started" if step == "started" and started else f"pflow:{step}"
        self.flows["progression"] = self._register_flow(pf, reasons, key_of, {})
        self.flow_keys = {"progression": key_of}
        it = t["progression_items"]
        groups = [g for g in it["group"].astype(str).unique() if g != "all"]
        # an item's municipality rows are published only when none of their counts is small
        # (one withheld row would follow from "all" minus the others)
        by_kommune = it[it["group"].astype(str) != "all"]
        cells = by_kommune[["n_up", "n_same", "n_down"]]
        small = by_kommune.assign(s=((cells > 0) & (cells < self.k)).any(axis=1)).groupby("item")["s"].any()
        self.withheld_items = set(small[small].index)
        for r in it.itertuples():
            shown = str(r.group) == "all" or r.item not in self.withheld_items
            n = self._add(f"prog:{r.group}:{r.item}:n", r.n, int(r.n), keep=1, shown=shown)
            parts = [self._add(f"prog:{r.group}:{r.item}:{d}", getattr(r, f"n_{d}"), keep=0 if r.group != "all" else 2,
                               shown=shown) for d in ("up", "same", "down")]
            self.led.sums(n, parts, f"{r.item}: up + same + down = n ({r.group})")
            if pd.notna(r.n_down_started_unsure):
                # a breakdown of "down" is shown only when neither of its parts is small
                split = (r.n_down_started_unsure, r.n_down - r.n_down_started_unsure)
                u = self._add(f"prog:{r.group}:{r.item}:down_unsure", r.n_down_started_unsure, keep=0,
                              shown=shown and not any(0 < v < self.k for v in split))
                rest = self._add(f"prog:{r.group}:{r.item}:down_sure", r.n_down - r.n_down_started_unsure,
                                 shown=False)
                self.led.sums(parts[2], [u, rest], f"{r.item}: down = started unsure + other ({r.group})")
        last = self.flow_keys["progression"](pf.step.iloc[-1])
        for r in it[it["group"].astype(str) == "all"].itertuples():
            if r.n == self.led.quantities[last].value:     # complete pairs answer every item
                self.led.sums(last, [f"prog:all:{r.item}:n"], "every complete pair answers every item")
        for item in it["item"].unique():
            for d in ("n", "up", "same", "down"):
                self._sum_if_holds(f"prog:all:{item}:{d}", [f"prog:{g}:{item}:{d}" for g in groups],
                                   f"{item}: municipalities add up to all ({d})")
        w5 = t["who5"]
        for r in w5.itertuples():
            self._add(f"who5:{r.group}:n", r.n, keep=1)
            if pd.notna(r.n_improved_meaningfully):
                a = self._add(f"who5:{r.group}:improved", r.n_improved_meaningfully, keep=0)
                b = self._add(f"who5:{r.group}:not_improved", r.n - r.n_improved_meaningfully, shown=False)
                self.led.sums(f"who5:{r.group}:n", [a, b], f"WHO-5: improved + not = n ({r.group})")
        if "who5:all:n" in self.led.quantities and self.led.quantities["who5:all:n"].value == \
                self.led.quantities[last].value:
            self.led.sums(last, ["who5:all:n"], "every complete pair has a WHO-5 score")
        wg = [str(g) for g in w5["group"] if str(g) != "all"]
        self._sum_if_holds("who5:all:n", [f"who5:{g}:n" for g in wg], "WHO-5: municipalities add up to all")
        b = t["who5_bands"].set_index("start_band")
        cells = {}
        for s in b.index:
            for e in b.columns:
                cells[(s, e)] = self._add(f"band:{s}:{e}", b.at[s, e], keep=0)
        for s in b.index:
            m = self._add(f"band:{s}:*", b.loc[s].sum(), shown=False)
            self.led.sums(m, [cells[(s, e)] for e in b.columns], f"WHO-5 bands: row {s}")
        for e in b.columns:
            m = self._add(f"band:*:{e}", b[e].sum(), shown=False)
            self.led.sums(m, [cells[(s, e)] for s in b.index], f"WHO-5 bands: column {e}")
        self._sum_if_holds("who5:all:n", list(cells.values()), "WHO-5 bands add up to n")

    # -- decision -----------------------------------------------------------------------------
    def protect(self) -> Protection:
        return protect(self.led)


def _marker(p: Protection, key: str, k: int) -> str | None:
    why = p.hidden.get(key)
    return None if why is None else (f"<{k}" if why == "primary" else "x")


FAMILY_COLS = ("p_adjusted", "significant")


def _effects_rows(df, fam_of, p: Protection, k: int) -> pd.DataFrame:
    out = df.astype(object).copy()
    hidden_row = []
    for i, r in df.iterrows():
        fam = fam_of(r)
        any_hidden = False
        for g, (xc, sc) in GROUP_COLS.items():
            m = _marker(p, f"out:{fam}:{g}:{r['outcome']}", k)
            nm = _marker(p, f"out:{fam}:{g}:N", k)
            if nm:
                out.at[i, "n_participants" if g == "participant" else "n_controls"] = nm
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
    # Holm-adjusted p-values rank a family's p-values: with a hidden member, every member's
    # adjusted p (and the flag it sets) would tell where the hidden one ranks
    fam = out["adjustment"].astype(str).str.startswith("holm") if "adjustment" in out else pd.Series(False, out.index)
    keys = df.apply(fam_of, axis=1)
    for key in keys[fam & out["suppressed"].astype(bool)].unique():
        rows = fam & (keys == key)
        for c in FAMILY_COLS:
            if c in out:
                out.loc[rows, c] = ""
    return out.drop(columns=[c for c in ("persons_participants", "persons_controls", "w_min", "w_max") if c in out])


# weighted statistics carry the matched sets' sizes in their decimals: published coarser
ROUNDING = {"n_eff_participants": 0, "n_eff_controls": 0, "x_controls": 1, "share_controls": 4,
            "share_control": 4, "n_control": 1, "share_participants": 4, "share_participant": 4,
            **{c: 4 for c in ("estimate", "ci_low", "ci_high", "risk_ratio", "rr_ci_low", "rr_ci_high",
                              "regression_estimate", "regression_se", "adjusted_estimate", "adjusted_se",
                              "adjusted_ci_low", "adjusted_ci_high", "observed_difference",
                              "minimum_detectable_difference")}}
# means over a group give its size away through their denominators (k/65): two decimals
BALANCE_ROUNDING = {**{f"mean_{g}_{w}": 2 for g in ("treated", "control") for w in ("before", "after")},
                    **{f"{c}_{w}": 3 for c in ("diff_raw", "smd", "variance_ratio", "ecdf_max")
                       for w in ("before", "after")},
                    "participants": 2, "eligible_pool": 2, "matched_controls": 2,
                    "smd_before": 3, "smd_after": 3}
WHO5_ROUNDING = {"mean_start": 0, "mean_end": 0, "mean_change": 0, "ci_start_low": 0, "ci_start_high": 0,
                 "ci_end_low": 0, "ci_end_high": 0, "ci_change_low": 0, "ci_change_high": 0}


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


def _significant(v, digits=2):
    v = pd.to_numeric(v, errors="coerce")
    return v if pd.isna(v) or v == 0 else float(f"{v:.{digits}g}")


def render(tb: Tables, p: Protection) -> dict[str, pd.DataFrame]:
    """The published tables: same columns as the analysis tables, hidden cells as markers."""
    out = _render(tb, p)
    for name in ("effects", "subgroups", "placebo", "diagnostics", "table1"):
        if name in out and len(out[name]):
            out[name] = coarsen(out[name], ROUNDING)
    for name in ("balance", "profile"):
        out[name] = coarsen(out[name], BALANCE_ROUNDING)
    ms = out["match_summary"].copy()
    ess = ms["sample"] == "Matched (ESS)"
    ms.loc[ess, "control"] = ms.loc[ess, "control"].map(lambda v: round(float(v)) if as_number(v) is not None else v)
    matched = ms["sample"] == "Matched"
    if as_number(ms.loc[matched, "treated"].iloc[0]) is None:     # the participants' ESS is their count
        ms.loc[ess, "treated"] = ms.loc[matched, "treated"].iloc[0]
    out["match_summary"] = ms
    if "who5" in out:
        w = coarsen(out["who5"], WHO5_ROUNDING)
        for c in ("p_paired_t", "p_wilcoxon", "p_end_vs_population"):
            if c in w:
                w[c] = w[c].map(_significant)
        out["who5"] = w
    return out


def _render(tb: Tables, p: Protection) -> dict[str, pd.DataFrame]:
    t, k = tb.t, tb.k
    out = {}
    eff = _effects_rows(t["effects"], lambda r: "main", p, k)
    out["effects"] = eff
    hidden_outcomes = set(eff.loc[eff["suppressed"].astype(bool), "outcome"])
    if len(t["subgroups"]):
        out["subgroups"] = _effects_rows(
            t["subgroups"], lambda r: f"sub:{r['subgroup']}:{r['level']:g}" if isinstance(r["level"], float)
            else f"sub:{r['subgroup']}:{r['level']}", p, k)
    else:
        out["subgroups"] = t["subgroups"]
    out["placebo"] = _effects_rows(t["placebo"], lambda r: "placebo", p, k) if len(t["placebo"]) else t["placebo"]
    out["table1"] = _table1(t["table1"], p, k)
    dg = t["diagnostics"].astype(object).copy()
    hide = dg["outcome"].isin(hidden_outcomes)
    for c in ("observed_difference", "participants_needed", "warnings"):
        dg.loc[hide, c] = ""
    ctrl_hidden = dg["outcome"].map(lambda o: f"out:main:control:{o}" in p.hidden)
    for c in ("share_controls", "minimum_detectable_difference"):
        dg.loc[ctrl_hidden, c] = ""
    dg["suppressed"] = hide
    out["diagnostics"] = dg
    sd = t["status_distribution"].astype(object).copy()
    if any(f"out:main:{g}:{s}" in p.hidden for g in GROUPS for s in STATUSES):
        for c in ("statistic", "p_value", "p_asymptotic"):
            sd[c] = ""              # the chi-square statistic would give the hidden cells back
    out["status_distribution"] = sd
    out["hours_wage"] = _hours(t["hours_wage"], p, k)
    out["flow"] = pd.concat([_flow_rows(tb, tb.flows[g], tb.step_key, p) for g in ("participants", "controls")],
                            ignore_index=True)
    out["match_summary"] = _match_summary(t["match_summary"], p, k)
    sub_vars = set(t["subgroups"]["subgroup"]) if len(t["subgroups"]) else set()
    out["balance"], out["profile"] = _balance_profile(t["balance"], t["covariate_counts"], t["match_summary"], p, k,
                                                      tb.led.quantities["out:main:participant:N"].value, sub_vars)
    ov = tb.overlap.astype(object).copy()
    for g, rows in tb.overlap.groupby("group", sort=False):
        for i, idx in enumerate(rows.index):
            ov.at[idx, "n"] = _marker(p, f"ovl:{g}:{i}", k) or int(rows.at[idx, "n"])
    out["overlap"] = ov.drop(columns="persons")
    es = t["extract_summary"]
    # the participants' and questionnaires' counts belong to the flows, which publish them safely
    numeric = pd.to_numeric(es["value"], errors="coerce").notna()
    out["extract_summary"] = es[~(es["file"].isin(["participants", "questionnaires"]) & numeric)].reset_index(drop=True)
    out["checksums"] = t["checksums"]            # the raw files' sha256 (provenance)
    if "sensitivity" in t:
        s = t["sensitivity"].astype(object).copy()
        hid = s["outcome"].isin(hidden_outcomes)
        for c in s.columns:
            if c != "outcome":
                s.loc[hid, c] = ""
        out["sensitivity"] = s
    if "progression_items" in t:
        out |= _progression(tb, t, p, k)
    return out


def _table1(t1: pd.DataFrame, p: Protection, k: int) -> pd.DataFrame:
    rows = []
    for o in OUTCOMES:
        row = {"outcome": o}
        for g in GROUPS:
            sub = t1[(t1.outcome == o) & (t1.role == g)]
            if sub.empty:
                row.update({f"n_{g}": "", f"share_{g}": "", f"total_{g}": "", f"suppressed_{g}": False})
                continue
            r = sub.iloc[0]
            m = _marker(p, f"out:main:{g}:{o}", k)
            row[f"n_{g}"] = m or (round(float(r["weighted_n"]), 1) if g == "control" else int(r["n"]))
            row[f"share_{g}"] = "" if m else round(float(r["share"]), 6)
            row[f"total_{g}"] = _marker(p, f"out:main:{g}:N", k) or int(r["total"])
            row[f"suppressed_{g}"] = bool(m)
        rows.append(row)
    return pd.DataFrame(rows)


def _hours(hw: pd.DataFrame, p: Protection, k: int) -> pd.DataFrame:
    out = hw.astype(object).copy()
    for i, r in hw.iterrows():
        mp = _marker(p, "out:main:participant:ordinary_employment", k)
        mc = _marker(p, "hours:control:persons", k)
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
            for c in ("estimate", "ci_low", "ci_high", "p_welch", "p_mannwhitney", "p_value", "significant"):
                out.at[i, c] = ""
    return out


def _flow_rows(tb: Tables, shape, key_of, p: Protection) -> pd.DataFrame:
    """step, n, excluded (since the step before), reason, public; a reason's own count is
    shown only when several reasons share an exclusion."""
    k, q = tb.k, tb.led.quantities
    rows = []
    for step, ek, reasons in shape:
        key = key_of(step)
        parts = [f"{r} ({_marker(p, rk, k) or int(q[rk].value)})" if rk and q[rk].shown else str(r)
                 for r, rk in reasons]
        rows.append({"step": step, "n": _marker(p, key, k) or int(q[key].value),
                     # a flow's first shown step has nothing before it to be excluded from
                     "excluded": (_marker(p, ek, k) or int(q[ek].value)) if ek else "",
                     "reason": "; ".join(parts), "public": bool(q[key].public)})
    return pd.DataFrame(rows, columns=["step", "n", "excluded", "reason", "public"])


def _match_summary(ms: pd.DataFrame, p: Protection, k: int) -> pd.DataFrame:
    out = ms.astype(object).copy()
    for i, r in ms.iterrows():                 # the smallest matched set is a count of persons
        if str(r["sample"]).startswith("Controls per matched participant") and 0 < float(r["control"]) < k:
            out.at[i, "control"] = f"<{k}"
    names = {"All": "all_rows", "Matched": "matched_rows", "Unmatched": "unmatched_rows"}
    for i, r in ms.iterrows():
        for g in ("treated", "control"):
            key = {"Distinct control persons": "match:control:persons"}.get(r["sample"]) if g == "control" else None
            key = key or (f"match:{g}:{names[r['sample']]}" if r["sample"] in names else None)
            m = _marker(p, key, k) if key else None
            if m:
                out.at[i, g] = m
    return out


def _balance_profile(bal, cov, ms, p: Protection, k: int, analysed: float, subgroup_vars=()):
    """Balance and the participant profile; a binary covariate's mean (and every SMD, ratio
    and eCDF that uses it) is hidden where its count is hidden."""
    b = bal.astype(object).copy()
    # matched controls' means track the participants' (exactly so under exact matching)
    grp_cols = {"participants": [c for c in b.columns if "treated" in c] + ["mean_control_after"],
                "pool": ["mean_control_before"], "matched_controls": ["mean_control_after"]}
    side = {"participants": ("before", "after"), "pool": ("before",), "matched_controls": ("after",)}
    hidden = {}
    for r in cov.itertuples():
        if f"cov:{r.group}:{r.covariate}" in p.hidden or f"cov:{r.group}:not:{r.covariate}" in p.hidden \
                or r.covariate in hidden.get(r.group, set()):
            hidden.setdefault(r.group, set()).add(r.covariate)
    s = ms.set_index("sample")
    lost = float(s.at["All", "treated"]) - float(s.at["Matched", "treated"])
    if 0 < lost < k:
        # a few unmatched participants: before minus after would describe them one by one
        for c in ("mean_treated_before", "diff_raw_before", "smd_before", "variance_ratio_before", "ecdf_max_before"):
            b[c] = ""
    if 0 < float(s.at["Matched", "treated"]) - analysed < k:
        # a few matched participants without an outcome: the balance (matched) minus the
        # subgroup tables (analysed) would describe them
        hidden.setdefault("participants", set()).update(subgroup_vars)
    for g, covs in hidden.items():
        rows = b["covariate"].isin(covs)
        for c in grp_cols[g]:
            b.loc[rows, c] = ""
        for when in side[g]:
            for c in (f"diff_raw_{when}", f"smd_{when}", f"variance_ratio_{when}", f"ecdf_max_{when}",
                      "balanced" if when == "after" else None):
                if c and c in b:
                    b.loc[rows, c] = ""
    prof = pd.DataFrame({
        "covariate": bal["covariate"], "type": bal["type"],
        "participants": b["mean_treated_after"], "eligible_pool": b["mean_control_before"],
        "matched_controls": b["mean_control_after"],
        "n_participants": _marker(p, "match:treated:matched_rows", k) or s.at["Matched", "treated"],
        "n_pool_rows": _marker(p, "match:control:all_rows", k) or s.at["All", "control"],
        "n_matched_controls": _marker(p, "match:control:matched_rows", k) or s.at["Matched", "control"],
        "smd_before": b["smd_before"], "smd_after": b["smd_after"]})
    prof = prof[prof["covariate"] != "distance"].reset_index(drop=True)
    return b, prof


def overlap_bins(fine: pd.DataFrame, k: int) -> pd.DataFrame:
    """Fine propensity-score bins merged left to right until, in every group, a bin holds
    no one or at least min_cell persons (a last short bin joins the bins before it until
    it is not short). A pool
    person in several bins is counted in each, so the test uses each bin's own persons."""
    groups = list(dict.fromkeys(fine["group"]))
    persons = "persons" if "persons" in fine else "n"
    wide = fine.pivot_table(index=["bin_lo", "bin_hi"], columns="group", values=["n", persons],
                            aggfunc="sum").fillna(0).sort_index()
    merged, acc, lo = [], None, None

    def ok(v):
        p = v[persons]
        return bool(((p == 0) | (p >= k)).all())
    for (b_lo, b_hi), v in wide.iterrows():
        acc = v.copy() if acc is None else acc + v
        lo = b_lo if lo is None else lo
        if ok(acc):
            merged.append([lo, b_hi, acc])
            acc, lo = None, None
    if acc is not None:
        if merged:
            merged[-1][1] = wide.index[-1][1]
            merged[-1][2] = merged[-1][2] + acc
        else:
            merged.append([lo, wide.index[-1][1], acc])
    # a short last bin joined to an empty one is still short: keep joining backwards
    while len(merged) > 1 and not ok(merged[-1][2]):
        b_lo, b_hi, v = merged.pop()
        merged[-1][1] = b_hi
        merged[-1][2] = merged[-1][2] + v
    return pd.DataFrame([{"group": g, "bin_lo": round(float(a), 6), "bin_hi": round(float(b), 6),
                          "n": int(v[("n", g)]), "persons": int(v[(persons, g)])}
                         for g in groups for a, b, v in merged])


def _progression(tb: Tables, t, p: Protection, k: int) -> dict:
    out = {}
    out["progression_flow"] = _flow_rows(tb, tb.flows["progression"], tb.flow_keys["progression"], p)
    it = t["progression_items"]
    o = it.astype(object).copy()
    o["suppressed"] = False
    for i, r in it.iterrows():
        base = f"prog:{r['group']}:{r['item']}"
        for d in ("up", "same", "down"):
            m = _marker(p, f"{base}:{d}", k)
            if m:
                o.at[i, f"n_{d}"] = m
                for c in (f"share_{d}", f"ci_{d}_low", f"ci_{d}_high"):
                    o.at[i, c] = ""
                if d == "up":
                    o.at[i, "p_vs_target"] = ""
                    o.at[i, "target_reached"] = ""
                o.at[i, "suppressed"] = True
        mu = _marker(p, f"{base}:down_unsure", k)
        if not tb.led.quantities[f"{base}:down_unsure"].shown if f"{base}:down_unsure" in tb.led.quantities else False:
            o.at[i, "n_down_started_unsure"] = ""
            o.at[i, "share_of_down_started_unsure"] = ""
        elif mu or _marker(p, f"{base}:down", k):
            o.at[i, "n_down_started_unsure"] = mu or "x"
            o.at[i, "share_of_down_started_unsure"] = ""
        if _marker(p, f"{base}:n", k):
            o.at[i, "n"] = _marker(p, f"{base}:n", k)
    keep_row = (o["group"].astype(str) == "all") | ~o["item"].isin(tb.withheld_items)
    out["progression_items"] = o[keep_row].reset_index(drop=True)
    w5 = t["who5"].astype(object).copy()
    for i, r in t["who5"].iterrows():
        if r["n"] < k:                      # means of scores only on at least min_cell persons
            for c in w5.columns:
                if c not in ("group", "n", "population_mean"):
                    w5.at[i, c] = ""
        m = _marker(p, f"who5:{r['group']}:improved", k)
        if m:
            w5.at[i, "n_improved_meaningfully"] = m
            w5.at[i, "share_improved_meaningfully"] = ""
    out["who5"] = w5
    b = t["who5_bands"].set_index("start_band").astype(object)
    for s in b.index:
        for e in b.columns:
            m = _marker(p, f"band:{s}:{e}", k)
            if m:
                b.at[s, e] = m
    out["who5_bands"] = b.reset_index()
    return out


EMPTY_PROGRESSION = {n: pd.DataFrame(columns=cols) for n, cols in {
    "progression_flow": ["step", "n", "excluded", "reason", "public"],
    "progression_items": ["group", "item", "n"], "who5": ["group", "n"], "who5_bands": ["start_band"]}.items()}
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
