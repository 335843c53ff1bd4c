"""Does the effect last? The note's trajectory section (issue 25), from the published trajectory
and decay tables: a figure per headline outcome, the effect at fixed months after the end, the
measured decay beside the payment model's assumption, and the pre-period check."""

from __future__ import annotations

import html

import pandas as pd

from sibeval.outcomes.names import HEADLINE_ORDER
from sibeval.outcomes.trajectory import DECAY_GRID
from sibeval.publish.cells import as_number
from sibeval.report.base import NoteBase, Table
from sibeval.report.note_tables import DASH

PERSISTENCE_MONTHS = (2, 6, 12, 18, 24)


class PersistenceSection(NoteBase):
    def _trajectory(self) -> pd.DataFrame | None:
        t = self.t.get("trajectory")
        return t if t is not None and len(t) else None

    def trajectory_outcomes(self) -> list[str]:
        t = self._trajectory()
        return [] if t is None else [h for h in HEADLINE_ORDER if h in set(t["outcome"])]

    def trajectory_figures(self, save) -> None:
        """One figure per headline outcome of the published trajectory (`save(key, fig, caption,
        footnote)` as in NoteFigures.figures)."""
        from sibeval.report import figures as fg

        t = self._trajectory()
        cat = self.cat
        for o in self.trajectory_outcomes():
            rows = t[t["outcome"] == o]
            label = self.lb.status(o)
            hidden = int((rows["estimate"].astype(str) == DASH).sum())
            labels = {k: cat(f"persistence.{k}") for k in (
                "participants", "controls", "difference", "pointwise", "band", "programme", "share_axis",
                "diff_axis", "month_axis")}
            labels["outcome_month"] = cat("persistence.outcome_month", months=self.c["follow_up_months"])
            labels["title"] = label
            save(f"trajectory_{o}",
                 fg.trajectory_plot(rows, labels, outcome_month=int(self.c["follow_up_months"]), fmt=self.f),
                 cat("persistence.figure_caption", label=label),
                 cat("persistence.figure_hidden", n=self.f.int(hidden), k=self.k) if hidden else "")

    def persistence_section(self) -> Table | None:
        """The effect at +2, +6, +12, +18 and +24 months after the end where every analysed person
        is observed, with the decay and the pre-period check as the section's text."""
        t = self._trajectory()
        if t is None:
            return None
        cat, f = self.cat, self.f
        after = t[t["anchor"] == "end"].assign(m=lambda d: pd.to_numeric(d["month"]))
        header = [self.col("outcome"), cat("persistence.month"), self.col("share_participants"),
                  self.col("share_controls"), f"{self.col('estimate')} (pp)", cat("common.ci95")]
        rows, missing = [], []
        for o in self.trajectory_outcomes():
            for m in PERSISTENCE_MONTHS:
                r = after[(after["outcome"] == o) & (after["m"] == m)]
                if r.empty:
                    missing.append(m)
                    continue
                r = r.iloc[0]
                lo, hi = (f.pp(r[c], 1) if as_number(r[c]) is not None else "" for c in ("ci_low", "ci_high"))
                rows.append([self.lb.status(o), f"+{m}",
                             f.pct(r["share_participants"], 1) or self.hiding_marker(r),
                             f.pct(r["share_controls"], 1) or self.hiding_marker(r),
                             f.pp(r["estimate"], 1) if as_number(r["estimate"]) is not None else DASH,
                             f"{lo} {cat('common.to')} {hi}" if lo and hi else DASH])
        last = int(after["m"].max()) if len(after) else 0
        intro = [cat("persistence.intro", last=f.int(last), before=f.int(-int(pd.to_numeric(
            t.loc[t["anchor"] == "start", "month"]).min())) if (t["anchor"] == "start").any() else "0")]
        intro += self.decay_sentences()
        intro += self.pre_period_sentences()
        note = cat("persistence.table_note")
        if missing:
            note += " " + cat("persistence.not_observed", months=", ".join(f"+{m}" for m in sorted(set(missing))))
        return Table("persistence", cat("persistence.title"), header, rows, note, intro=" ".join(intro))

    def decay_sentences(self) -> list[str]:
        d = self.t.get("decay")
        if d is None or not len(d):
            return []
        cat, f = self.cat, self.f
        out = []
        econ = self.c.get("economics") or {}
        for o in self.trajectory_outcomes():
            r = d[d["outcome"] == o]
            if r.empty:
                continue
            r = r.iloc[0]
            est, lo, hi = (as_number(r[c]) for c in ("decay", "ci_low", "ci_high"))
            if est is None:
                out.append(cat("persistence.decay_none", label=html.escape(self.lb.status(o))))
                continue
            first, last = int(as_number(r["first"])), int(as_number(r["last"]))
            unsettled = lo is None or hi is None or lo <= 0 <= hi
            common = dict(label=html.escape(self.lb.status(o)), months=f.int(last - first + 1), first=f.int(first),
                          last=f.int(last))
            if not unsettled and hi < 0:            # a growing effect: its growth, not a negative fall
                out.append(cat("persistence.decay_grows", d=f.pct(-est, 0), lo=f.pct(-hi, 0),
                               hi=f.pct(-lo, 0) if lo > DECAY_GRID[0] + 0.005 else
                               cat("persistence.decay_grid_high", value=f.pct(-lo, 0)), **common))
            else:
                out.append(cat("persistence.decay_unsettled" if unsettled else "persistence.decay", d=f.pct(est, 0),
                               lo=self._decay_low(lo), hi=f.pct(min(hi, 0.99), 0) if hi is not None else DASH,
                               **common))
            if econ.get("enabled") and o == econ.get("outcome"):
                assumed = econ.get("decay")
                out.append(cat("persistence.decay_used_measured") if assumed == "measured" else
                           cat("persistence.decay_assumed", d=f.pct(float(assumed), 0),
                               years=f.int(econ.get("constant_years", 0))))
        return out

    def _decay_low(self, lo) -> str:
        """The interval's lower end; at the fit's grid edge (a growth of 50 % a year) it is a bound."""
        if lo is None:
            return DASH
        text = self.f.pct(lo, 0)
        return self.cat("persistence.decay_grid_low", value=text) if lo <= DECAY_GRID[0] + 0.005 else text

    def pre_period_sentences(self) -> list[str]:
        """Whether the simultaneous band, and each month's interval, cover no difference in every
        published month before the start (read from the published table), and which months are
        hidden."""
        t = self._trajectory()
        cat, f = self.cat, self.f
        out = []
        for o in self.trajectory_outcomes():
            pre = t[(t["outcome"] == o) & (t["anchor"] == "start")]
            month = pd.to_numeric(pre["month"])
            num = {c: pd.to_numeric(pre[c], errors="coerce") for c in ("band_low", "band_high", "ci_low", "ci_high",
                                                                        "estimate")}
            ok = num["band_low"].notna() & num["band_high"].notna()
            label = html.escape(self.lb.status(o))
            if ok.any():
                band_out = ok & ((num["band_low"] > 0) | (num["band_high"] < 0))
                point_out = ok & ((num["ci_low"] > 0) | (num["ci_high"] < 0))
                if band_out.any():
                    out.append(cat("persistence.pre_differs", label=label, months=self._months(month[band_out])))
                elif point_out.any():
                    side = "above" if num["estimate"][point_out].mean() > 0 else "below"
                    out.append(cat("persistence.pre_pointwise", label=label, months=self._months(month[point_out]),
                                   side=cat(f"persistence.{side}")))
                else:
                    out.append(cat("persistence.pre_overlaps", label=label))
            hidden = t[(t["outcome"] == o) & (t["estimate"].astype(str) == DASH)]
            if len(hidden):
                out.append(cat("persistence.hidden_months", label=label, k=f.int(self.k),
                               months=self._months(pd.to_numeric(hidden["month"]))))
        return out

    def _months(self, months) -> str:
        """Months as the reader counts them, runs joined: '−9 til −8, −6 til −5, +12'."""
        ms = sorted(int(m) for m in months)

        def signed(m):
            return self.f.int(m) if m < 0 else f"+{self.f.int(m)}"
        runs, start = [], ms[0]
        for a, b in zip(ms, ms[1:] + [None]):
            if b != a + 1:
                runs.append(signed(a) if start == a else f"{signed(start)} {self.cat('common.to')} {signed(a)}")
                start = b
        return ", ".join(runs)
