"""The note's tables: flow, profile, Table 1, effects, hours and wages, diagnostics, progression."""

from __future__ import annotations

import re

import pandas as pd

from sibeval.publish.cells import MEAN_DIGITS, as_number, is_suppressed, slug
from sibeval.report.base import NoteBase, Table, is_true

DASH = "–"      # not shown: computed from a hidden count (the table's note says so)


class NoteTables(NoteBase):
    """The tables of the note, each from one published table."""

    # ---------- tables ----------
    def col(self, code: str) -> str:
        return self.cat.get(f"columns.{code}.0", code)

    def flow_table(self, name="flow", title_key="note.flow") -> Table:
        fl = self.t[name]
        rows = []
        for _, r in fl.iterrows():
            public = " †" if is_true(r.get("public", False)) else ""
            rows.append(
                [
                    self.cat.get(f"flow_steps.{r['step']}", str(r["step"])),
                    self.f.int(r["n"]) + public,
                    self.f.int(r.get("excluded")),
                    self.reason(r.get("reason", "")),
                ]
            )
        return Table(
            name,
            self.cat(title_key),
            [self.col("step"), self.col("n"), self.col("excluded"), self.col("reason")],
            rows,
            self.with_marker_note(self.cat("note.flow_note", k=self.k), rows),
        )

    def with_marker_note(self, note: str, rows) -> str:
        """The note of a table, with what "<k" and "x" mean when a cell shows one."""
        if any(str(v).strip() in ("x", f"<{self.k}") for row in rows for v in row):
            return f"{note} {self.cat('note.suppressed_note', k=self.k)}".strip()
        return note

    def share_cell(self, share, count, n, digits: int) -> str:
        """A published share: to `digits` decimals, or to whole percent where its group's n is
        hidden (it is then printed to a coarser step); the count's marker where the share
        itself is hidden."""
        if as_number(share) is not None:
            return self.f.pct(share, self.share_digits(n, digits))
        if not is_suppressed(count):
            return self.f.pct(share, digits)
        # in a column of percentages "<5" reads as "under 5 %": a small count says "persons"
        m = str(count).strip()
        return self.cat("common.marker_persons", marker=m) if m.startswith("<") else m

    def coarse_note(self, df: pd.DataFrame, note: str) -> str:
        """A table with a share over a hidden n says how it was printed and compared."""
        if any(as_number(r.get(f"share_{g}")) is not None and is_suppressed(r.get(f"n_{g}"))
               for _, r in df.iterrows() for g in ("controls", "participants", "control", "participant")):
            return f"{note} {self.cat('note.coarse_shares')}".strip()
        return note

    def reason(self, text) -> str:
        """Translate an analysis reason ("a (3); b (<5)"); a lone reason drops its count,
        which the excluded column already shows."""
        if text is None or str(text) in ("", "nan"):
            return ""
        parts = [p.strip() for p in str(text).split(";") if p.strip()]
        out = []
        for p in parts:
            base, count = p, ""
            if p.endswith(")") and "(" in p:
                head, _, tail = p.rpartition("(")
                inner = tail[:-1]
                if re.fullmatch(r"\d+|<\d+|x", inner.strip()):
                    base, count = head.strip(), inner
            word = self.cat.get(f"reasons.{slug(base)}", base)
            out.append(
                f"{word} ({self.f.int(count) if count.isdigit() else count})" if count and len(parts) > 1 else word
            )
        return "; ".join(out)

    def profile_table(self) -> Table | None:
        pr = self.t.get("profile")
        if pr is None:
            return None
        rows = []
        for _, r in pr.iterrows():
            vals = [
                as_number(r[c])
                for c in ("participants", "eligible_pool", "matched_controls")
                if as_number(r[c]) is not None
            ]
            cont = r.get("type") == "continuous" and not all(0 <= v <= 1 for v in vals)
            # a hidden mean or SMD (it would describe a few persons) shows a dash, explained below
            show = (lambda v: self.f.num(v, 1) or DASH) if cont else (lambda v: self.f.pct(v, 0) or DASH)
            rows.append(
                [
                    self.lb.covariate(r["covariate"]),
                    show(r["participants"]),
                    show(r["eligible_pool"]),
                    show(r["matched_controls"]),
                    self.f.num(r.get("smd_before"), 3) or DASH,
                    self.f.num(r.get("smd_after"), 3) or DASH,
                ]
            )
        note = self.cat("note.profile_note")
        if any(DASH in row for row in rows):
            note = f"{note} {self.cat('note.dash_small')}"
        return Table(
            "profile",
            self.cat("note.profile"),
            [
                self.col("covariate"),
                self.cat("common.participants"),
                self.cat("common.pool"),
                self.cat("common.controls"),
                self.col("smd_before"),
                self.col("smd_after"),
            ],
            rows,
            note,
        )

    def table1(self) -> Table:
        t1 = self.t["table1"]
        ess = self.n_eff_controls()
        rows = [
            [
                self.lb.status(r["outcome"]),
                self.f.int(r["n_participant"]),
                self.share_cell(r["share_participant"], r["n_participant"], r["total_participant"], 0),
                self.share_cell(r["share_control"], r["n_control"], r["total_control"], 0),
            ]
            for _, r in t1.iterrows()
        ]
        n_c = self.n_controls()
        return Table(
            "table1",
            self.cat("note.table1", months=self.c["follow_up_months"]),
            [
                self.col("outcome"),
                f"{self.cat('common.participants')} (n)",
                f"{self.cat('common.participants')} (%)",
                f"{self.cat('common.controls')} (%)",
            ],
            rows,
            self.with_marker_note(self.coarse_note(t1, self.cat(
                "note.table1_note" if as_number(n_c) is not None else "note.table1_note_hidden",
                n_c=self.f.int(n_c), ess=self.f.num(ess, 0) if ess else "")), rows),
        )

    def effects_table(self, df, key, title, note="") -> Table:
        cols = [("share_participants", self.f.pct, 1), ("share_controls", self.f.pct, 1)]
        header = [self.col("outcome")]
        if "months_before_index" in df:
            header.append(self.col("months_before_index"))
        if "subgroup" in df:
            header = [self.col("subgroup")] + header
        header += [self.col(c) for c, _, _ in cols] + [f"{self.col('estimate')} (pp)", self.cat("common.ci95")]
        pcols = [c for c in ("p_boschloo", "p_fisher", "p_regression", "p_adjusted") if c in df]
        header += [self.col(c) for c in pcols] + [self.col("significant")]
        rows = []
        for _, r in df.iterrows():
            row = [self.lb.status(r["outcome"])]
            if "months_before_index" in df:
                row.append(self.f.int(r["months_before_index"]))
            if "subgroup" in df:
                lvl = self.cat("common.yes") if as_number(r["level"]) == 1 else self.cat("common.no")
                row = [f"{self.lb.covariate(r['subgroup'])}: {lvl}"] + row
            # a share whose count is hidden shows the count's marker; a number computed from a
            # hidden count (or, for Holm, from hidden rows) shows a dash, explained below
            row += [self.share_cell(r[c], r.get(x), r.get(n), d)
                    for (c, _, d), x, n in zip(cols, ("x_participants", "x_controls"),
                                               ("n_participants", "n_controls"))]
            lo, hi = self.f.pp(r["ci_low"]), self.f.pp(r["ci_high"])
            row += [self.f.pp(r["estimate"]) or DASH, f"{lo} {self.cat('common.to')} {hi}" if lo and hi else DASH]
            # a regression p without a hidden count is undefined (a group with one outcome for all);
            # over a hidden count (computed from the published shares) there is none: a dash
            coarse = is_suppressed(r.get("n_controls")) or is_suppressed(r.get("n_participants"))
            undefined = self.cat("note.undefined") if not is_true(r.get("suppressed")) and not coarse else DASH
            # a pre-specified outcome is not Holm-adjusted: its p is not repeated under "p (Holm)"
            holm = str(r.get("adjustment", "holm")).startswith("holm")
            row += [self.f.p(r[c]) if c != "p_adjusted" or holm else self.cat("note.not_adjusted")
                    for c in pcols]
            row[-len(pcols):] = [v or (undefined if c == "p_regression" else DASH)
                                 for v, c in zip(row[-len(pcols):], pcols)]
            row.append(
                DASH
                if str(r["significant"]) in ("", "nan")
                else self.cat("common.yes" if is_true(r["significant"]) else "common.no")
            )
            rows.append(row)
        if any(DASH in row for row in rows):
            note = f"{note} {self.cat('note.dash_hidden')}".strip()
        if any(self.cat("note.undefined") in row for row in rows):
            note = f"{note} {self.cat('note.regression_undefined')}".strip()
        return Table(key, title, header, rows, self.with_marker_note(self.coarse_note(df, note), rows))

    def hours_wage(self) -> Table:
        hw = self.t["hours_wage"]
        rows = [
            [
                self.cat.get(f"variables.{r['variable']}", r["variable"]),
                self.f.int(r["n_participants"]),
                self.f.num(r["mean_participants"], MEAN_DIGITS.get(r["variable"], 1)),
                self.f.int(r["n_controls"]),
                self.f.num(r["mean_controls"], MEAN_DIGITS.get(r["variable"], 1)),
                self.f.p(r["p_welch"]),
                self.f.p(r["p_mannwhitney"]),
            ]
            for _, r in hw.iterrows()
        ]
        return Table(
            "hours_wage",
            self.cat("note.hours_wage"),
            [
                self.col("variable"),
                self.col("n_participants"),
                self.col("mean_participants"),
                self.col("n_controls"),
                self.col("mean_controls"),
                self.col("p_welch"),
                self.col("p_mannwhitney"),
            ],
            rows,
        )

    def diagnostics(self) -> Table:
        dg = self.t["diagnostics"]
        rows = []
        for _, r in dg.iterrows():
            # a row whose difference is hidden (its status has a hidden count) shows dashes
            hidden = as_number(r["observed_difference"]) is None
            cells = [self.f.pp(r["minimum_detectable_difference"]), self.f.pp(r["observed_difference"]),
                     self.f.int(r["participants_needed"])]
            if not hidden and not cells[2]:         # no positive difference: no n can be "needed"
                cells[2] = self.cat("note.not_applicable")
            rows.append([self.lb.status(r["outcome"]), *[(c or DASH) if hidden else c for c in cells],
                         self.warnings(r.get("warnings", ""))])
        return Table(
            "diagnostics",
            self.cat("note.diagnostics"),
            [
                self.col("outcome"),
                f"{self.col('minimum_detectable_difference')} (pp)",
                f"{self.col('observed_difference')} (pp)",
                self.col("participants_needed"),
                self.col("warnings"),
            ],
            rows,
            self.cat("note.dash_hidden") if any(DASH in row for row in rows) else "",
        )

    def warnings(self, text) -> str:
        if text is None or str(text) in ("", "nan"):
            return ""
        return "; ".join(self.cat.get(f"warnings.{slug(w)}", w) for w in str(text).split("; "))

    def generic(self, key, title) -> Table | None:
        """A published table the note does not know in detail (e.g. sensitivity): labelled
        headers, locale-formatted numbers."""
        df = self.t.get(key)
        if df is None or not len(df):
            return None
        # decimals by column, not by value: a ratio of 2.00 is shown as 2,00 beside 1,33
        nums = {c: [as_number(v) for v in df[c] if as_number(v) is not None and not isinstance(v, bool)]
                for c in df.columns}
        digits = {c: 0 if all(float(x).is_integer() for x in xs) else 2 for c, xs in nums.items()}
        rows = []
        for _, r in df.iterrows():
            row = []
            for c in df.columns:
                v = r[c]
                if c == "outcome":
                    row.append(self.lb.status(v))
                elif c.startswith("p_") or c == "p_value":
                    row.append(self.f.p(v) or DASH)
                elif c.startswith(("share", "estimate", "ci_")):
                    row.append(self.f.pp(v) if c.startswith(("estimate", "ci_")) else self.f.pct(v, 1))
                elif as_number(v) is not None and not isinstance(v, bool):
                    row.append(self.f.num(v, digits[c]))
                elif str(v) in ("True", "False"):
                    row.append(self.cat("common.yes" if is_true(v) else "common.no"))
                else:
                    # a number left out (computed from a hidden count) is a dash, as elsewhere
                    row.append(DASH if str(v) in ("nan", "") else str(v))
            rows.append(row)
        note = ""
        if key == "sensitivity" and "gamma_critical" in df and df["gamma_critical"].isna().any():
            note = self.cat("note.rosenbaum_hidden")
        keep = [
            i
            for i, c in enumerate(df.columns)
            if c not in ("method", "adjustment", "primary_test", "alpha", "suppressed")
        ]
        return Table(key, title, [self.col(df.columns[i]) for i in keep], [[r[i] for i in keep] for r in rows],
                     note)

    def _reached(self, r) -> str:
        v = str(r.get("target_reached", ""))
        return self.cat("common.yes") if v == "True" else self.cat("common.no") if v == "False" else DASH

    def _down_unsure(self, r) -> str:
        """The share of those who went down who started unsure: 'not applicable' where nobody
        went down; its marker, or a dash, where the breakdown is withheld (one part is small)."""
        if as_number(r["share_of_down_started_unsure"]) is not None:
            return self.f.pct(r["share_of_down_started_unsure"])
        if is_suppressed(r.get("n_down_started_unsure")):
            return str(r["n_down_started_unsure"])
        return self.cat("note.not_applicable") if as_number(r["n_down"]) == 0 else DASH

    def _dash_note(self, note: str, rows) -> str:
        return f"{note} {self.cat('note.dash_small')}".strip() if any(DASH in row for row in rows) else note

    def progression_tables(self) -> list[Table]:
        out = []
        if "progression_flow" in self.t:
            out.append(self.flow_table("progression_flow", "note.progression_flow"))
        it = self.t.get("progression_items")
        if it is not None:
            ia = it[it["group"].astype(str) == "all"]
            rows = [
                [
                    self.lb.item(r["item"]) + (" *" if is_true(r["indicator"]) else ""),
                    self.f.int(r["n"]),
                    *(self.share_cell(r[f"share_{d}"], r[f"n_{d}"], r["n"], 0) for d in ("up", "same", "down")),
                    self.f.pct(r["target"]),
                    self.f.p(r["p_vs_target"]) or DASH,
                    # the p tests the share against the target: "< 0,001" with the target missed
                    # is a clear miss, so the verdict stands beside it
                    self._reached(r),
                    self._down_unsure(r),
                ]
                for _, r in ia.iterrows()
            ]
            out.append(
                Table(
                    "progression_items",
                    self.cat("note.progression_items"),
                    [
                        self.col("item"),
                        self.col("n"),
                        self.col("share_up"),
                        self.col("share_same"),
                        self.col("share_down"),
                        self.col("target"),
                        self.col("p_vs_target"),
                        self.col("target_reached"),
                        self.col("share_of_down_started_unsure"),
                    ],
                    rows,
                    self.with_marker_note(self._dash_note(self.cat("note.progression_items_note"), rows), rows),
                )
            )
        w5 = self.t.get("who5")
        if w5 is not None:
            rows = [
                [
                    self.lb.group(r["group"]),
                    self.f.int(r["n"]),
                    self.f.num(r["mean_start"], 0),
                    self.f.num(r["mean_end"], 0),
                    f"{self.f.num(r['mean_change'], 1)} ({self.f.num(r['ci_change_low'], 1)} "
                    f"{self.cat('common.to')} {self.f.num(r['ci_change_high'], 1)})",
                    self.f.p(r["p_paired_t"]),
                    self.f.p(r["p_wilcoxon"]),
                    self.f.pct(r["share_improved_meaningfully"]),
                ]
                for _, r in w5.iterrows()
            ]
            out.append(
                Table(
                    "who5",
                    self.cat("note.who5"),
                    [
                        self.col("group"),
                        self.col("n"),
                        self.col("mean_start"),
                        self.col("mean_end"),
                        f"{self.col('mean_change')} ({self.cat('common.ci95')})",
                        self.col("p_paired_t"),
                        self.col("p_wilcoxon"),
                        self.col("share_improved_meaningfully"),
                    ],
                    rows,
                )
            )
        b = self.t.get("who5_bands")
        if b is not None:
            rows = [[str(r.iloc[0])] + [self.f.int(v) for v in r.iloc[1:]] for _, r in b.iterrows()]
            out.append(
                Table(
                    "who5_bands", self.cat("note.who5_bands"), [self.col("start_band"), *map(str, b.columns[1:])], rows
                )
            )
        return out
