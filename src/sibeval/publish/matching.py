"""The matching tables: the match summary, the covariate counts behind balance and the
participants' profile, and the propensity-score overlap."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sibeval.publish.cells import MAIN, as_number, key, marker, outcome
from sibeval.publish.family import SHARE_STEPS as STEPS
from sibeval.publish.family import Context, Family, bound_by_sets, on_step, share_bounds
from sibeval.publish.ledger import REFINED, derivable

SIZES = {"all": "all_rows", "matched": "matched_rows", "unmatched": "unmatched_rows"}
# means over a group give its size away through their denominators (k/65): two decimals
DIGITS = {
    **{f"mean_{g}_{w}": 2 for g in ("treated", "control") for w in ("before", "after")},
    **{f"{c}_{w}": 3 for c in ("diff_raw", "smd", "variance_ratio", "ecdf_max") for w in ("before", "after")},
    "participants": 2,
    "eligible_pool": 2,
    "matched_controls": 2,
    "smd_before": 3,
    "smd_after": 3,
}

# the covariate counts' groups and the match summary count that is their size
GROUP_SIZE = {"participants": ("treated", "matched_rows"), "pool": ("control", "all_rows"),
              "matched_controls": ("control", "matched_rows")}
# the balance means of each group, and the sides (before/after) whose statistics use them
GROUP_MEANS = {"participants": ("mean_treated_after", "mean_treated_before"), "pool": ("mean_control_before",),
               "matched_controls": ("mean_control_after",)}
GROUP_SIDES = {"participants": ("before", "after"), "pool": ("before",), "matched_controls": ("after",)}
# the balance column that is each group's count over its size (the treated 'before' mean is over
# all participants, which equals this one or is not a share of these counts)
GROUP_SHARE = {"participants": "mean_treated_after", "pool": "mean_control_before",
               "matched_controls": "mean_control_after"}


def match_key(group: str, what: str) -> str:
    """A count of the match summary: group treated/control, what all_rows/matched_rows/..."""
    return key("match", group, what)


class Matching(Family):
    name = "matching"
    inputs = ("match_summary", "covariate_counts", "balance", "overlap", "design", "set_sizes")
    tables = ("match_summary", "matched_sets", "design", "balance", "profile", "overlap")
    rounding = {"balance": DIGITS, "profile": DIGITS}
    columns = {
        "match_summary": ("sample", "control", "treated"), "design": ("setting", "value"),
        "set_sizes": ("size", "sets"),  # published as matched_sets (controls, participants)
        "covariate_counts": ("covariate", "group", "n_total", "n_with", "persons_with", "persons_without"),
        "overlap": ("group", "bin_lo", "bin_hi", "n", "persons"),
        "balance": ("covariate", "type", "balanced", *(f"{c}_{w}" for w in ("before", "after") for c in (
            "mean_treated", "mean_control", "diff_raw", "smd", "variance_ratio", "ecdf_max"))),
    }
    # render reads the analysed participants (a count the outcome tables register) and the
    # subgroup variables: a few matched but not analysed would be described by their difference
    requires = ("outcomes",)

    def register(self, ctx: Context) -> None:
        ctx.led.table = "match_summary"
        self._summary(ctx, ctx.t["match_summary"], ctx.t["covariate_counts"])
        self._set_sizes(ctx, ctx.t["set_sizes"], ctx.t["match_summary"], ctx.t["design"])
        ctx.led.table = "overlap"
        self._overlap(ctx, ctx.t["overlap"])

    @staticmethod
    def _summary(ctx: Context, ms: pd.DataFrame, cov: pd.DataFrame) -> None:
        s = ms.set_index("sample")
        for g in ("treated", "control"):
            keys = {}
            for label, name in SIZES.items():
                if label in s.index and pd.notna(s.at[label, g]):
                    v = float(s.at[label, g])
                    keys[name] = ctx.add(match_key(g, name), v, int(v), keep=0 if name == "unmatched_rows" else 1)
            if len(keys) == 3:
                ctx.led.sums(
                    keys["all_rows"],
                    [keys["matched_rows"], keys["unmatched_rows"]],
                    f"match summary: all = matched + unmatched ({g})",
                )
        if "distinct_control_persons" in s.index:
            v = int(s.at["distinct_control_persons", "control"])
            ctx.add(match_key("control", "persons"), v, v)
            if not ctx.replace:
                ctx.sum_if_holds(
                    match_key("control", "persons"),
                    [match_key("control", "matched_rows")],
                    "each matched control person is matched once",
                )
        for r in cov.itertuples():
            # a group's size is printed as the match summary's count (related in refine, where
            # it is hidden: only then do the means tie the two together)
            n = ctx.add(key("cov", r.group, "N"), r.n_total, int(r.n_total), shown=False)
            # a matched control counted once per participant he is matched to: a count of rows
            # over fewer persons; its marker ("<5": fewer than 5 persons) allows up to that many
            # rows per person, or the attacker's problem would exclude the truth
            x = ctx.add(key("cov", r.group, r.covariate), r.n_with, int(r.persons_with), keep=0,
                        unit=_rows_per_person(r.n_with, r.persons_with))
            c = ctx.add(
                key("cov", r.group, "not", r.covariate), r.n_total - r.n_with, int(r.persons_without), shown=False,
                unit=_rows_per_person(r.n_total - r.n_with, r.persons_without),
            )
            ctx.led.sums(n, [x, c], f"covariate {r.covariate}: with + without = n ({r.group})")

    @staticmethod
    def _set_sizes(ctx: Context, sizes: pd.DataFrame, ms: pd.DataFrame, design: pd.DataFrame) -> None:
        """The matched sets by number of controls: unpublished counts of participants that a
        reader bounds with the match summary (sets add up to the matched participants, their
        controls to the matched control rows), the design's ratio (no set is larger) and the
        smallest and largest set when they are shown (no set outside them, one at each)."""
        have = dict(zip(sizes["size"].astype(int), sizes["sets"].astype(int)))
        d = dict(zip(design["setting"], design["value"].astype(str)))
        ratio = int(float(d.get("ratio", max(have, default=1)))) if d.get("method", "nearest") == "nearest" else 0
        top = max([ratio, *have])
        if not top:
            return
        s = ms.set_index("sample")["control"]
        lo, hi = (as_number(s.get(f"controls_per_participant_{e}")) for e in ("min", "max"))
        known_zero = {z for z in range(1, top + 1) if (lo is not None and z < lo) or (hi is not None and z > hi)}
        cells = {}
        for z in range(1, top + 1):
            v = have.get(z, 0)
            # the structure of the match, published on purpose (table matched_sets), not a
            # property of persons: not protected itself, but hidden ("x") where it would give a
            # hidden count back
            cells[z] = ctx.add(key("sets", z), v, v, keep=0, public=z in known_zero,
                               at_least=1.0 if z in (lo, hi) else 0.0, sensitive=False)
        ctx.sum_if_holds(match_key("treated", "matched_rows"), list(cells.values()),
                         "the matched sets are the matched participants")
        rows = match_key("control", "matched_rows")
        q = ctx.led.quantities
        if not ctx.replace and rows in q and abs(q[rows].value - sum(z * have.get(z, 0) for z in cells)) < 1e-6:
            ctx.led.relate({rows: 1.0, **{c: -float(z) for z, c in cells.items()}},
                           "the matched control rows are the sets' sizes added up")
        # the flow counts each control once per set it is in: the sets' sizes added up
        flow_rows = key("flow", "controls_matched")
        if flow_rows in q and abs(q[flow_rows].value - sum(z * have.get(z, 0) for z in cells)) < 1e-6:
            ctx.led.relate({flow_rows: 1.0, **{c: -float(z) for z, c in cells.items()}},
                           "the flow's matched controls are the sets' sizes added up")
        # the analysed participants' sets hold between smallest x n and largest x n controls:
        # with equal sets (lo = hi) the controls before their own exclusions (deaths) are known,
        # and the analysed controls then tell how many were excluded
        sets_of_analysed, n_p = key("flow", "controls_participant_observed"), outcome(MAIN, "participant", "N")
        if sets_of_analysed in q and n_p in q:
            small, large = lo if lo is not None else 1.0, hi if hi is not None else float(top)
            v, n = q[sets_of_analysed].value, q[n_p].value
            if small * n - 1e-6 <= v <= large * n + 1e-6:
                bound_by_sets(ctx, {sets_of_analysed: 1.0}, n_p, small, large,
                              ("the analysed participants' sets hold at least the smallest set's controls each",
                               "the analysed participants' sets hold at most the largest set's controls each"))

    def refine(self, ctx: Context, hidden: dict) -> None:
        """The step of each group's means (coarser where its size is hidden), and what each
        printed share of a binary covariate says of its count: k/n within half a step.

        Over a hidden size the counts are marked unpublished first, and the step is the first
        at which the smallest size a reader can derive *with the means printed to that step*
        fits every size (step x size >= 1): the step is itself printed, so it must rest on
        published numbers alone."""
        self.steps = {}
        unsized = {g for g, size in GROUP_SIZE.items()
                   if match_key(*size) in hidden and key("cov", g, "N") in ctx.led.quantities}
        cov = ctx.t["covariate_counts"]
        for r in cov.itertuples():
            k_key = key("cov", r.group, r.covariate)
            if k_key not in hidden:
                ctx.led.quantities[k_key].shown = r.group not in unsized
        printed, _ = self._balance(ctx, hidden)          # which means are printed at all
        raw = ctx.t["balance"]

        def bound_means(g: str, step: float) -> None:
            col = GROUP_SHARE[g]
            for r in cov[cov["group"] == g].itertuples():
                k_key, n_key = key("cov", g, r.covariate), key("cov", g, "N")
                row = raw[(raw["covariate"] == r.covariate) & (raw["type"] == "binary")]
                shown = printed[(printed["covariate"] == r.covariate) & (printed["type"] == "binary")]
                if k_key in hidden or not len(row) or not len(shown) or as_number(shown[col].iloc[0]) is None:
                    continue
                k_val, n_val = ctx.value(k_key), ctx.value(n_key)
                if n_val and abs(k_val / n_val - float(row[col].iloc[0])) < 1e-6:     # the mean is this share
                    share_bounds(ctx, k_key, n_key, step, f"{REFINED}{col} {r.covariate}")

        for g in sorted(unsized):
            n_key, cov_n = match_key(*GROUP_SIZE[g]), key("cov", g, "N")
            if abs(ctx.value(n_key) - ctx.value(cov_n)) < 1e-6:
                ctx.led.bound({n_key: 1.0, cov_n: -1.0}, 0.0, 0.0, f"{REFINED}covariate counts: n = {g}")
            for step in STEPS:
                mark = len(ctx.led.bounds)
                bound_means(g, step)
                if step * derivable(ctx.led, hidden, n_key)[0] >= 1 or step == STEPS[-1]:
                    self.steps[g] = step
                    break
                del ctx.led.bounds[mark:]
        for g in GROUP_SHARE:
            if g not in unsized:
                bound_means(g, STEPS[0])

    def _balance(self, ctx: Context, hidden: dict):
        t = ctx.t
        sub_vars = set(t["subgroups"]["subgroup"]) if "subgroups" in t and len(t["subgroups"]) else set()
        steps = getattr(self, "steps", {})
        return _balance_profile(t["balance"], t["covariate_counts"], t["match_summary"], hidden, ctx.k,
                                ctx.value(outcome(MAIN, "participant", "N")), sub_vars, steps)

    def _overlap(self, ctx: Context, fine: pd.DataFrame) -> None:
        """Merged propensity-score bins add up to the match summary's counts."""
        self.overlap = overlap_bins(fine, ctx.k)
        totals = {
            "participants": match_key("treated", "matched_rows"),
            "matched_controls": match_key("control", "matched_rows"),
            "eligible_pool": match_key("control", "all_rows"),
        }
        for g, rows in self.overlap.groupby("group", sort=False):
            # pool bins count (person, index month) rows: one person may stand for several
            has = rows[rows.persons > 0]
            mult = float(np.ceil((has.n / has.persons).max())) if len(has) else 1.0
            kw = {"unit": (1.0, mult)} if mult > 1 else {}
            keys = [ctx.add(key("ovl", g, i), r.n, r.persons, keep=0, **kw) for i, r in enumerate(rows.itertuples())]
            ctx.sum_if_holds(totals.get(g, ""), keys, f"overlap bins add up ({g})")

    def render(self, ctx: Context, hidden: dict) -> dict[str, pd.DataFrame]:
        t, k = ctx.t, ctx.k
        # the design record holds settings, no counts
        out = {"match_summary": _match_summary(t["match_summary"], hidden, k), "design": t["design"],
               "matched_sets": _matched_sets(ctx, hidden)}
        out["balance"], out["profile"] = self._balance(ctx, hidden)
        ov = self.overlap.astype(object).copy()
        for g, rows in self.overlap.groupby("group", sort=False):
            for i, idx in enumerate(rows.index):
                ov.at[idx, "n"] = marker(hidden, key("ovl", g, i), k) or int(rows.at[idx, "n"])
        out["overlap"] = ov.drop(columns="persons")
        return out


def _matched_sets(ctx: Context, hidden: dict) -> pd.DataFrame:
    """Matched participants by their number of controls (sizes with none left out): the
    design's structure, published so that the ESS and the smallest set carry nothing more; a
    size whose count would give a hidden count back is "x"."""
    rows = []
    for k_, q in ctx.led.quantities.items():
        if k_.startswith("sets:") and q.value > 0:
            rows.append({"controls_in_set": int(k_.split(":")[1]), "sets": "x" if k_ in hidden else int(q.value)})
    return pd.DataFrame(rows, columns=["controls_in_set", "sets"]).sort_values("controls_in_set", ignore_index=True)


def _match_summary(ms: pd.DataFrame, hidden: dict, k: int) -> pd.DataFrame:
    out = ms.astype(object).copy()
    # the smallest and largest set are printed as they are: the ledger knows them (_set_sizes)
    sets_hidden = any(c.startswith("sets:") for c in hidden)
    for i, r in ms.iterrows():
        for g in ("treated", "control"):
            cell = (
                match_key("control", "persons")
                if g == "control" and r["sample"] == "distinct_control_persons"
                else None
            )
            cell = cell or (match_key(g, SIZES[r["sample"]]) if r["sample"] in SIZES else None)
            m = marker(hidden, cell, k) if cell else None
            if m:
                out.at[i, g] = m
    # the effective sample size of weighted controls, in whole persons; an ESS is at most its
    # count and equals it when the sets are equal, so it is hidden with the count (the
    # participants' ESS is their count)
    ess = out["sample"] == "matched_ess"
    out.loc[ess, "control"] = out.loc[ess, "control"].map(lambda v: round(float(v)) if as_number(v) is not None else v)
    if sets_hidden:         # the controls' ESS follows from the sets' sizes
        out.loc[ess, "control"] = "x"
    matched = out["sample"] == "matched"
    for g in ("treated", "control"):
        if as_number(out.loc[matched, g].iloc[0]) is None:
            out.loc[ess, g] = out.loc[matched, g].iloc[0]
    # counts as whole numbers (a column holding a marker is read back as floats)
    for g in ("treated", "control"):
        out[g] = out[g].map(lambda v: int(v) if isinstance(v, float) and v == v and v.is_integer() else v)
    return out


def _lost(ms: pd.DataFrame) -> float:
    """Participants left unmatched (all minus matched)."""
    s = ms.set_index("sample")
    return float(s.at["all", "treated"]) - float(s.at["matched", "treated"])


def _coarse(b: pd.DataFrame, bal: pd.DataFrame, steps: dict) -> pd.DataFrame:
    """Means of a group whose size is hidden to their group's step; the differences and SMDs
    that use them computed from the printed means (so they add nothing to them), the SMD
    of a continuous covariate (its SD is not printed) to two decimals, and the variance
    ratio and eCDF (which count persons at each value) left out."""
    if not steps:
        return b
    for g, s in steps.items():
        for col in GROUP_MEANS[g]:
            b[col] = b[col].map(lambda v, s=s: on_step(v, s) if as_number(v) is not None else v)
    for g in set(GROUP_MEANS) - set(steps):       # the other group's means as printed (two decimals)
        for col in GROUP_MEANS[g]:
            b[col] = b[col].map(lambda v: round(float(v), 2) if as_number(v) is not None else v)
    sides = {w for g in steps for w in GROUP_SIDES[g]}
    binary = bal["type"] == "binary"
    for w in sides:
        mt, mc = (pd.to_numeric(b[f"mean_{g}_{w}"], errors="coerce") for g in ("treated", "control"))
        shown = mt.notna() & mc.notna()
        diff = (mt - mc).round(10)
        b[f"diff_raw_{w}"] = b[f"diff_raw_{w}"].where(~shown, diff)
        pt = pd.to_numeric(b["mean_treated_before"], errors="coerce").fillna(mt)
        sd = np.sqrt((pt * (1 - pt)).where(binary & pt.between(0, 1)))
        smd = (diff / sd.where(sd > 0)).round(3)
        true_smd = pd.to_numeric(bal[f"smd_{w}"], errors="coerce").round(2)
        b[f"smd_{w}"] = np.where(~shown, b[f"smd_{w}"], np.where(binary, smd, true_smd))
        b[f"smd_{w}"] = b[f"smd_{w}"].map(lambda v: "" if isinstance(v, float) and v != v else v)
        for c in (f"variance_ratio_{w}", f"ecdf_max_{w}"):
            b[c] = ""
    return b


def _balance_profile(bal, cov, ms, hidden: dict, k: int, analysed: float, subgroup_vars=(), steps=None):
    """Balance and the participant profile; a binary covariate's mean (and every SMD, ratio
    and eCDF that uses it) is hidden where its count is hidden, and a group's means are
    printed to its step (`steps`, coarser where its size is hidden)."""
    b = bal.astype(object).copy()
    # matched controls' means track the participants' (exactly so under exact matching)
    grp_cols = {
        "participants": [c for c in b.columns if "treated" in c] + ["mean_control_after"],
        "pool": ["mean_control_before"],
        "matched_controls": ["mean_control_after"],
    }
    side = {"participants": ("before", "after"), "pool": ("before",), "matched_controls": ("after",)}
    hid = {}
    for r in cov.itertuples():
        if (
            key("cov", r.group, r.covariate) in hidden
            or key("cov", r.group, "not", r.covariate) in hidden
            or r.covariate in hid.get(r.group, set())
        ):
            hid.setdefault(r.group, set()).add(r.covariate)
    s = ms.set_index("sample")
    lost = _lost(ms)
    if 0 < lost < k:
        # a few unmatched participants: before minus after would describe them one by one
        for c in ("mean_treated_before", "diff_raw_before", "smd_before", "variance_ratio_before", "ecdf_max_before"):
            b[c] = ""
    if 0 < float(s.at["matched", "treated"]) - analysed < k:
        # a few matched participants without an outcome: the balance (matched) minus the
        # subgroup tables (analysed) would describe them
        hid.setdefault("participants", set()).update(subgroup_vars)
    for g, covs in hid.items():
        rows = b["covariate"].isin(covs)
        for c in grp_cols[g]:
            b.loc[rows, c] = ""
        for when in side[g]:
            for c in (
                f"diff_raw_{when}",
                f"smd_{when}",
                f"variance_ratio_{when}",
                f"ecdf_max_{when}",
                "balanced" if when == "after" else None,
            ):
                if c and c in b:
                    b.loc[rows, c] = ""
    b = _coarse(b, bal, steps or {})
    prof = pd.DataFrame(
        {
            "covariate": bal["covariate"],
            "type": bal["type"],
            "participants": b["mean_treated_after"],
            "eligible_pool": b["mean_control_before"],
            "matched_controls": b["mean_control_after"],
            "n_participants": marker(hidden, match_key("treated", "matched_rows"), k) or s.at["matched", "treated"],
            "n_pool_rows": marker(hidden, match_key("control", "all_rows"), k) or s.at["all", "control"],
            "n_matched_controls": marker(hidden, match_key("control", "matched_rows"), k) or s.at["matched", "control"],
            "smd_before": b["smd_before"],
            "smd_after": b["smd_after"],
        }
    )
    prof = prof[prof["covariate"] != "distance"].reset_index(drop=True)
    return b, prof


def overlap_bins(fine: pd.DataFrame, k: int) -> pd.DataFrame:
    """Fine propensity-score bins merged left to right until, in every group, a bin holds
    no one or at least min_cell persons (a last short bin joins the bins before it until
    it is not short). A pool person in several bins is counted in each, so the test uses
    each bin's own persons."""
    groups = list(dict.fromkeys(fine["group"]))
    persons = "persons" if "persons" in fine else "n"
    wide = (
        fine.pivot_table(index=["bin_lo", "bin_hi"], columns="group", values=["n", persons], aggfunc="sum")
        .fillna(0)
        .sort_index()
    )
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
    return pd.DataFrame(
        [
            {
                "group": g,
                "bin_lo": round(float(a), 6),
                "bin_hi": round(float(b), 6),
                "n": int(v[("n", g)]),
                "persons": int(v[(persons, g)]),
            }
            for g in groups
            for a, b, v in merged
        ]
    )


def _rows_per_person(rows: float, persons: float) -> tuple[float, float]:
    """A count's unit: one row per person, or up to rows / persons where persons recur."""
    return (1.0, max(1.0, float(rows) / float(persons))) if persons else (1.0, 1.0)
