"""The note's figures (PNG and SVG for pasting, embedded in the note), from the published tables."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sibeval.outcomes.names import HEADLINE_ORDER
from sibeval.plotting import save as write_figure
from sibeval.publish.cells import as_number, is_suppressed
from sibeval.report.base import Figure
from sibeval.report.persistence import PersistenceSection


class NoteFigures(PersistenceSection):
    def overlap_totals(self) -> dict:
        """Each overlap group's published total (the match summary's rows), None where hidden."""
        ms = self.t.get("match_summary")
        if ms is None:
            return {}
        s = ms.set_index("sample")
        cell = {"participants": ("matched", "treated"), "matched_controls": ("matched", "control"),
                "eligible_pool": ("all", "control")}
        return {g: as_number(s.at[r, c]) if r in s.index else None for g, (r, c) in cell.items()}

    """The figures of the note."""

    # ---------- figures ----------
    def figures(self, out_dir, formats=("png", "svg")) -> dict[str, Figure]:
        """Draw every figure of the note from the published tables into `out_dir` (PNG + SVG,
        or the `formats` given: the note embeds the PNG)."""
        from sibeval.report import figures as fg

        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        cat, f, lb = self.cat, self.f, self.lb
        figs = {}

        def save(key, fig, caption, footnote=""):
            write_figure(fig, out_dir / key, formats)
            figs[key] = Figure(key, caption, str(out_dir / f"{key}.png"), footnote)

        t1 = self.t["table1"]
        t1 = t1[~t1["outcome"].isin(HEADLINE_ORDER)]
        bars = pd.DataFrame(
            {
                "outcome": t1["outcome"],
                "p": [as_number(s) for s in t1["share_participant"]],
                "c": [as_number(s) for s in t1["share_control"]],
            }
        )
        hidden = [lb.status(o) for o, a, b in zip(bars["outcome"], bars["p"], bars["c"]) if a is None or b is None]
        marks = {
            (o, g): cat("figures.suppressed_bar", marker=str(m).strip())
            for g, col in (("p", "n_participant"), ("c", "n_control"))
            for o, m, s in zip(t1["outcome"], t1[col], t1[col.replace("n_", "share_")])
            if is_suppressed(m) and as_number(s) is None
        }
        save(
            "table1_shares",
            fg.share_bars(
                bars,
                ["p", "c"],
                [cat("common.participants"), cat("common.controls")],
                {o: lb.status(o) for o in bars["outcome"]},
                cat("figures.table1_title"),
                cat("figures.share_axis"),
                fmt=f,
                suppressed_label=marks,
            ),
            cat("figures.table1_title"),
            cat("figures.suppressed_footnote", k=self.k, items=", ".join(hidden)) if hidden else "",
        )
        eff = self.t["effects"]
        hidden = [lb.status(o) for o, e in zip(eff["outcome"], eff["estimate"]) if as_number(e) is None]
        # a hidden difference is named with the marker of the count that hides it ("x" is 5 or more)
        eff_marks = {r["outcome"]: cat("figures.suppressed_bar", marker=self.hiding_marker(r))
                     for _, r in eff.iterrows() if as_number(r["estimate"]) is None}
        save(
            "effects",
            fg.effect_plot(
                eff,
                {o: lb.status(o) for o in eff["outcome"]},
                cat("figures.effects_title"),
                cat("figures.pp_axis"),
                fmt=f,
                suppressed_label=eff_marks,
            ),
            cat("figures.effects_title"),
            cat("figures.suppressed_footnote", k=self.k, items=", ".join(hidden)) if hidden else "",
        )
        bal = self.t["balance"]
        save(
            "love_plot",
            fg.love_plot(
                bal,
                {c: lb.covariate(c) for c in bal["covariate"]},
                self.smd_threshold(),
                cat("figures.love_title"),
                cat("figures.before"),
                cat("figures.after"),
                cat("figures.love_axis"),
                fmt=f,
                hidden_label=cat("figures.hidden_point"),
            ),
            cat("figures.love_title"),
        )
        ov = self.t.get("overlap")
        if ov is not None and len(ov):
            totals = self.overlap_totals()
            groups = {g: lb.group(g) for g in ov["group"].unique()}
            notes = []
            for g, rows in ov.groupby("group", sort=False):
                hidden_bins = int(sum(is_suppressed(v) for v in rows["n"]))
                if hidden_bins:
                    key = "figures.overlap_hidden" if totals.get(g) else "figures.overlap_hidden_total"
                    notes.append(cat(key, group=groups[g], bins=f.int(hidden_bins)))
            save(
                "overlap",
                fg.overlap_bins(
                    ov,
                    groups,
                    cat("figures.overlap_title"),
                    cat("figures.overlap_axis"),
                    cat("figures.overlap_share"),
                    fmt=f,
                    totals=totals,
                ),
                cat("figures.overlap_title"),
                " ".join(notes),
            )
        it = self.t.get("progression_items")
        if it is not None:
            allg = it[it["group"].astype(str) == "all"]
            legend = (cat("figures.down"), cat("figures.same"), cat("figures.up"))
            items = {i: lb.item(i) for i in allg["item"]}
            for key, prefix, title in (
                ("bip_items", "bip", "figures.bip_title"),
                ("who5_items", "who5", "figures.who5_items_title"),
            ):
                sub = allg[allg["item"].str.startswith(prefix)]
                gone = {r["item"]: cat("figures.suppressed_bar", marker=self.hiding_marker(r))
                        for _, r in sub.iterrows()
                        if any(as_number(r[f"share_{k}"]) is None for k in ("down", "same", "up"))}
                hidden = [lb.item(i) for i in gone]
                save(
                    key,
                    fg.diverging_bars(sub, items, cat(title), legend, "%", fmt=f, hidden_label=gone),
                    cat(title),
                    cat("figures.suppressed_footnote", k=self.k, items=", ".join(hidden)) if hidden else "",
                )
        w5 = self.t.get("who5")
        if w5 is not None:
            save(
                "who5_means",
                fg.means_plot(
                    w5.assign(group=w5["group"].map(lb.group)),
                    cat("figures.who5_means_title"),
                    cat("figures.start"),
                    cat("figures.end"),
                    cat("figures.who5_score"),
                    reference=as_number(w5["population_mean"].iloc[0]) if "population_mean" in w5 else None,
                    reference_label=cat("figures.population_mean"),
                    fmt=f,
                ),
                cat("figures.who5_means_title"),
            )
        b = self.t.get("who5_bands")
        if b is not None:
            m = b.set_index(b.columns[0])
            save(
                "who5_bands",
                fg.heatmap(m, cat("figures.who5_bands_title"), cat("figures.end"), cat("figures.start")),
                cat("figures.who5_bands_title"),
            )
        sens = self.t.get("econ_sensitivity")
        if sens is not None and len(sens):
            from sibeval.economics.figures import tornado

            base = as_number(self.t["econ_account"].set_index("item")["value"]["municipality_account"])
            save(
                "tornado",
                tornado(
                    sens.assign(**{c: pd.to_numeric(sens[c]) for c in sens.columns if c != "parameter"}),
                    base,
                    {p: cat.get(f"economics.parameters.{p}", p) for p in sens["parameter"]},
                    xlabel=cat("economics.tornado_axis"),
                    title=cat("economics.tornado_title"),
                    low_label=cat("economics.low"),
                    high_label=cat("economics.high"),
                    fmt=f,
                    no_effect_label=cat("economics.tornado_no_effect"),
                ),
                cat("economics.tornado_caption"),
            )
        self.trajectory_figures(save)
        return figs
