"""The progression tables: the questionnaire flow, BIP and WHO-5 items up/same/down by
municipality, WHO-5 means and the start-by-end WHO-5 bands."""

from __future__ import annotations

import pandas as pd

from sibeval.progression.bands import BANDS
from sibeval.publish.cells import key, marker
from sibeval.publish.family import Context, Family
from sibeval.publish.flows import FLOW_COLUMNS, flow_rows, register_flow

DIRECTIONS = ("up", "same", "down")
WHO5_DIGITS = {c: 0 for c in ("mean_start", "mean_end", "mean_change", "ci_start_low", "ci_start_high",
                               "ci_end_low", "ci_end_high", "ci_change_low", "ci_change_high")}
WHO5_P = ("p_paired_t", "p_wilcoxon", "p_end_vs_population")
EMPTY = {n: pd.DataFrame(columns=cols) for n, cols in {
    "progression_flow": FLOW_COLUMNS, "progression_items": ["group", "item", "n"],
    "who5": ["group", "n"], "who5_bands": ["start_band"]}.items()}


def item_key(group, item, what) -> str:
    return key("prog", group, item, what)


class Progression(Family):
    name = "progression"
    inputs = ("progression_flow", "progression_items", "who5", "who5_bands")
    tables = inputs
    rounding = {"who5": WHO5_DIGITS}
    p_values = {"who5": WHO5_P}
    columns = {
        "progression_flow": ("step", "n", "reason", "excluded"),
        "progression_items": ("group", "item", "indicator", "n", *(f"n_{d}" for d in DIRECTIONS),
                              *(f"{c}" for d in DIRECTIONS for c in (f"share_{d}", f"ci_{d}_low", f"ci_{d}_high")),
                              "target", "p_vs_target", "target_reached", "n_down_started_unsure",
                              "share_of_down_started_unsure"),
        "who5": ("group", "n", "mean_start", "mean_end", "mean_change", "ci_start_low", "ci_start_high", "ci_end_low",
                 "ci_end_high", "ci_change_low", "ci_change_high", "p_paired_t", "p_wilcoxon", "wilcoxon_method",
                 "n_improved_meaningfully", "share_improved_meaningfully", "population_mean", "p_end_vs_population",
                 "significant_change"),
        "who5_bands": ("start_band", *BANDS),
    }

    def key_of(self, step: str) -> str:
        """The questionnaire flow's first step is the main flow's when they count the same."""
        return key("flow", "started") if step == "started" and self.started else key("pflow", step)

    def register(self, ctx: Context) -> None:
        ctx.led.table = "progression"
        t, k, led = ctx.t, ctx.k, ctx.led
        pf = t["progression_flow"]
        reasons = pf.loc[pf.index > 0, ["step", "reason", "excluded"]].rename(columns={"excluded": "n"})
        started = key("flow", "started")
        self.started = started in led.quantities and ctx.value(started) == pf.n.iloc[0]
        self.shape = register_flow(ctx, pf, reasons, self.key_of, {})
        it = t["progression_items"]
        groups = [g for g in it["group"].astype(str).unique() if g != "all"]
        # an item's municipality rows are published only when none of their counts is small
        # (one withheld row would follow from "all" minus the others)
        by_kommune = it[it["group"].astype(str) != "all"]
        cells = by_kommune[["n_up", "n_same", "n_down"]]
        small = by_kommune.assign(s=((cells > 0) & (cells < k)).any(axis=1)).groupby("item")["s"].any()
        self.withheld_items = set(small[small].index)
        for r in it.itertuples():
            shown = str(r.group) == "all" or r.item not in self.withheld_items
            n = ctx.add(item_key(r.group, r.item, "n"), r.n, int(r.n), keep=1, shown=shown)
            parts = [ctx.add(item_key(r.group, r.item, d), getattr(r, f"n_{d}"), keep=0 if r.group != "all" else 2,
                             shown=shown) for d in DIRECTIONS]
            led.sums(n, parts, f"{r.item}: up + same + down = n ({r.group})")
            if pd.notna(r.n_down_started_unsure):
                # a breakdown of "down" is shown only when neither of its parts is small
                split = (r.n_down_started_unsure, r.n_down - r.n_down_started_unsure)
                u = ctx.add(item_key(r.group, r.item, "down_unsure"), r.n_down_started_unsure, keep=0,
                            shown=shown and not any(0 < v < k for v in split))
                rest = ctx.add(item_key(r.group, r.item, "down_sure"), r.n_down - r.n_down_started_unsure,
                               shown=False)
                led.sums(parts[2], [u, rest], f"{r.item}: down = started unsure + other ({r.group})")
        last = self.key_of(pf.step.iloc[-1])
        for r in it[it["group"].astype(str) == "all"].itertuples():
            if r.n == ctx.value(last):     # complete pairs answer every item
                led.sums(last, [item_key("all", r.item, "n")], "every complete pair answers every item")
        for item in it["item"].unique():
            for d in ("n", *DIRECTIONS):
                ctx.sum_if_holds(item_key("all", item, d), [item_key(g, item, d) for g in groups],
                                 f"{item}: municipalities add up to all ({d})")
        self._who5(ctx, t["who5"], last)
        self._bands(ctx, t["who5_bands"])

    @staticmethod
    def _who5(ctx: Context, w5: pd.DataFrame, last: str) -> None:
        for r in w5.itertuples():
            ctx.add(key("who5", r.group, "n"), r.n, keep=1)
            if pd.notna(r.n_improved_meaningfully):
                a = ctx.add(key("who5", r.group, "improved"), r.n_improved_meaningfully, keep=0)
                b = ctx.add(key("who5", r.group, "not_improved"), r.n - r.n_improved_meaningfully, shown=False)
                ctx.led.sums(key("who5", r.group, "n"), [a, b], f"WHO-5: improved + not = n ({r.group})")
        total = key("who5", "all", "n")
        if total in ctx.led.quantities and ctx.value(total) == ctx.value(last):
            ctx.led.sums(last, [total], "every complete pair has a WHO-5 score")
        wg = [str(g) for g in w5["group"] if str(g) != "all"]
        ctx.sum_if_holds(total, [key("who5", g, "n") for g in wg], "WHO-5: municipalities add up to all")

    @staticmethod
    def _bands(ctx: Context, bands: pd.DataFrame) -> None:
        b = bands.set_index("start_band")
        cells = {}
        for s in b.index:
            for e in b.columns:
                cells[(s, e)] = ctx.add(key("band", s, e), b.at[s, e], keep=0)
        for s in b.index:
            m = ctx.add(key("band", s, "*"), b.loc[s].sum(), shown=False)
            ctx.led.sums(m, [cells[(s, e)] for e in b.columns], f"WHO-5 bands: row {s}")
        for e in b.columns:
            m = ctx.add(key("band", "*", e), b[e].sum(), shown=False)
            ctx.led.sums(m, [cells[(s, e)] for s in b.index], f"WHO-5 bands: column {e}")
        ctx.sum_if_holds(key("who5", "all", "n"), list(cells.values()), "WHO-5 bands add up to n")

    def render(self, ctx: Context, hidden: dict) -> dict[str, pd.DataFrame]:
        t, k, q = ctx.t, ctx.k, ctx.led.quantities
        out = {"progression_flow": flow_rows(ctx, self.shape, self.key_of, hidden)}
        it = t["progression_items"]
        o = it.astype(object).copy()
        o["suppressed"] = False
        for i, r in it.iterrows():
            for d in DIRECTIONS:
                m = marker(hidden, item_key(r["group"], r["item"], d), k)
                if m:
                    o.at[i, f"n_{d}"] = m
                    for c in (f"share_{d}", f"ci_{d}_low", f"ci_{d}_high"):
                        o.at[i, c] = ""
                    if d == "up":
                        o.at[i, "p_vs_target"] = ""
                        o.at[i, "target_reached"] = ""
                    o.at[i, "suppressed"] = True
            unsure = item_key(r["group"], r["item"], "down_unsure")
            mu = marker(hidden, unsure, k)
            if unsure in q and not q[unsure].shown:
                o.at[i, "n_down_started_unsure"] = ""
                o.at[i, "share_of_down_started_unsure"] = ""
            elif mu or marker(hidden, item_key(r["group"], r["item"], "down"), k):
                o.at[i, "n_down_started_unsure"] = mu or "x"
                o.at[i, "share_of_down_started_unsure"] = ""
            mn = marker(hidden, item_key(r["group"], r["item"], "n"), k)
            if mn:
                o.at[i, "n"] = mn
        keep_row = (o["group"].astype(str) == "all") | ~o["item"].isin(self.withheld_items)
        out["progression_items"] = o[keep_row].reset_index(drop=True)
        w5 = t["who5"].astype(object).copy()
        for i, r in t["who5"].iterrows():
            if r["n"] < k:                      # means of scores only on at least min_cell persons
                for c in w5.columns:
                    if c not in ("group", "n", "population_mean"):
                        w5.at[i, c] = ""
            m = marker(hidden, key("who5", r["group"], "improved"), k)
            if m:
                w5.at[i, "n_improved_meaningfully"] = m
                w5.at[i, "share_improved_meaningfully"] = ""
        out["who5"] = w5
        b = t["who5_bands"].set_index("start_band").astype(object)
        for s in b.index:
            for e in b.columns:
                m = marker(hidden, key("band", s, e), k)
                if m:
                    b.at[s, e] = m
        out["who5_bands"] = b.reset_index()
        return out
