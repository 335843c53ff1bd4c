"""The note's sentences: headlines, reading aids, sensitivity, balance, method and caveats."""

from __future__ import annotations

import html

import pandas as pd

from sibeval.outcomes.names import HEADLINE_ORDER, STATUSES
from sibeval.publish.cells import as_number
from sibeval.report.base import NoteBase, is_true


class Sentences(NoteBase):
    """The sentences of the note, each from the published tables."""

    # ---------- headline ----------
    def headlines(self) -> list[str]:
        out = []
        for h in HEADLINE_ORDER + self.lasting:
            if h not in self.eff.index:
                continue
            r = self.eff.loc[h]
            label = html.escape(self.lb.status(h))
            if is_true(r.get("suppressed")) or as_number(r["estimate"]) is None:
                out.append(self.cat("note.headline_suppressed", label=label, k=self.k))
                continue
            sig = self.cat(
                "note.significant" if is_true(r["significant"]) else "note.not_significant", alpha=self.alpha_text()
            )
            out.append(
                self.cat(
                    "note.headline_sentence" if h in HEADLINE_ORDER else "note.lasting_sentence",
                    label=label,
                    # to one decimal, as the effects table (whole shares read as 35 - 17 = 18
                    # beside "ca. 17 flere"); whole percent where the group's size is hidden
                    p1=self.f.pct(r["share_participants"], self.share_digits(r["n_participants"])),
                    p2=self.f.pct(r["share_controls"], self.share_digits(r["n_controls"])),
                    months=self.c["follow_up_months"],
                    diff=self.per_hundred(r["estimate"]),
                    lo=self.f.pp(r["ci_low"], 0),
                    hi=self.f.pp(r["ci_high"], 0),
                    sig=sig,
                    test=self.test_name(),
                    p=self.f.p_eq(r["p_value"]),
                )
            )
        return out

    def per_hundred(self, estimate) -> str:
        """The difference as persons per 100 typical participants, more or fewer."""
        n = self.f.pp(estimate, 0)                       # rounded as every other number of the note
        if n == "0":
            return self.cat("note.diff_none")
        return self.cat("note.diff_fewer" if n.startswith("−") else "note.diff_more", n=n.lstrip("−"))

    def legend(self) -> str:
        return self.cat(
            "note.legend", n=self.f.int(self.n_participants()), months=self.c["follow_up_months"], test=self.test_name()
        )

    # ---------- reading aids ----------
    def reading_aids(self) -> list[str]:
        aids = []
        statuses = [o for o in self.eff.index if o in STATUSES]
        for o, r in self.eff.iterrows():
            if is_true(r.get("suppressed")) or as_number(r["estimate"]) is None:
                continue
            lo, hi, p = as_number(r["ci_low"]), as_number(r["ci_high"]), as_number(r["p_value"])
            padj = as_number(r.get("p_adjusted"))
            sig = is_true(r["significant"])
            label = self.lb.status(o)
            excludes0 = lo is not None and hi is not None and (lo > 0 or hi < 0)
            if p is not None and padj is not None and p < self.alpha <= padj and not sig:
                aids.append(
                    self.cat(
                        "note.aid_holm",
                        label=label,
                        p_raw=self.f.p_eq(p),
                        alpha=self.f.num(self.alpha, 2),
                        m=len(statuses),
                        p_adj=self.f.p_eq(padj),
                    )
                )
            elif excludes0 and not sig and p is not None and p >= self.alpha:
                aids.append(
                    self.cat(
                        "note.aid_ci_vs_test",
                        label=label,
                        lo=self.f.pp(lo),
                        hi=self.f.pp(hi),
                        test=self.test_name(),
                        p=self.f.p_eq(p),
                    )
                )
            elif sig and not excludes0 and lo is not None:
                aids.append(
                    self.cat(
                        "note.aid_test_vs_ci",
                        label=label,
                        lo=self.f.pp(lo),
                        hi=self.f.pp(hi),
                        test=self.test_name(),
                        p=self.f.p_eq(p),
                    )
                )
        aids += self.sensitivity_sentences()
        dg = self.t["diagnostics"].set_index("outcome")
        for h in HEADLINE_ORDER:
            if h not in self.eff.index or h not in dg.index:
                continue
            r = self.eff.loc[h]
            mdd, obs = as_number(dg.loc[h, "minimum_detectable_difference"]), as_number(r["estimate"])
            if is_true(r["significant"]) or mdd is None or obs is None:
                continue
            aids.append(
                self.cat(
                    "note.aid_mdd",
                    label=self.lb.status(h),
                    n=self.f.int(self.n_participants()),
                    n_c=self.n_controls_text(),
                    mdd=self.f.pp(mdd, 0),
                    obs=self.f.pp(obs),
                )
            )
        return aids

    def sensitivity_sentences(self) -> list[str]:
        """One plain sentence per headline: its E-value and Rosenbaum bound."""
        sens = self.t.get("sensitivity")
        if sens is None or not len(sens):
            return []
        out = []
        sens = sens.set_index("outcome")
        for h in HEADLINE_ORDER:
            if h not in sens.index or is_true(sens.loc[h].get("suppressed")):
                continue
            r = sens.loc[h]
            e, e_ci, rr = as_number(r["e_value"]), as_number(r["e_value_ci"]), as_number(r["risk_ratio"])
            if e is None or e_ci is None or rr is None:
                continue
            text = self.cat(
                "note.aid_evalue",
                label=self.lb.status(h),
                e=self.f.num(e, 2),
                e_ci=self.f.num(e_ci, 2),
                rr=self.f.num(rr, 2),
            )
            g = as_number(r.get("gamma_critical"))
            if g is not None and g > 1:
                text += " " + self.cat("note.aid_gamma", gamma=self.f.num(g, 2))
            elif g is not None:
                text += " " + self.cat("note.aid_gamma_ns")
            out.append(text)
        return out

    def smd_threshold(self) -> float:
        return float(self.design["smd_threshold"])

    def mahvars(self) -> list[str]:
        """The covariates the Mahalanobis distance used, as the match records them."""
        return [v for v in self.design["mahvars"].split(";") if v]

    def balance_check(self) -> tuple[list[str], str]:
        """Covariates missing the balance target after matching, and the sentence to show."""
        thr = self.smd_threshold()
        b = self.t["balance"]
        b = b[b["covariate"] != "distance"]
        smd = b["smd_after"].map(as_number).abs()
        missed = [self.lb.covariate(c) for c, v in zip(b["covariate"], smd) if v is not None and v >= thr]
        if missed:
            return missed, self.cat("note.balance_warning", threshold=self.f.num(thr, 2), covariates=", ".join(missed))
        hidden = [self.lb.covariate(c) for c, v in zip(b["covariate"], smd) if v is None or pd.isna(v)]
        if hidden:      # "all covariates" would claim what the reader cannot see
            return [], self.cat("note.balance_ok_hidden", threshold=self.f.num(thr, 2),
                                max_smd=self.f.num(smd.max(), 3), covariates=", ".join(hidden))
        return [], self.cat("note.balance_ok", threshold=self.f.num(thr, 2), max_smd=self.f.num(smd.max(), 3))

    # ---------- method ----------
    def method(self) -> list[str]:
        c, f, cat = self.c, self.f, self.cat
        paras = []
        qc = self.t.get("extract_summary")
        if qc is not None and len(qc):
            q = qc.set_index(["file", "item"])["value"]
            get = lambda fi, it: q.get((fi, it), "")  # noqa: E731
            paras.append(
                cat(
                    "method.extract",
                    first_week=get("dream", "first_week"),
                    last_week=get("dream", "last_week"),
                    persons=f.int(get("dream", "persons")),
                    first_month=get("eindkomst", "first_month"),
                    last_month=get("eindkomst", "last_month"),
                )
            )
        el = c["eligibility"]
        sexes = sorted(el["sex"])
        sex = cat(f"method.sex_{sexes[0]}") if len(sexes) == 1 else cat("method.sex_both")
        origin = cat(f"method.origin_{str(el['non_western']).lower() if el['non_western'] is not None else 'null'}")
        benefits = self._join([self.lb.get("benefit_groups", b) for b in el["benefit_groups"]])
        paras.append(
            cat(
                "method.eligibility",
                sex=sex,
                origin=origin,
                age_min=el["age_min"],
                age_max=el["age_max"],
                benefits=benefits,
                no_wage=cat("method.no_wage") if el.get("no_employment_in_index_month", True) else "",
            )
        )
        m = c["matching"]
        text = [cat("method.model")]
        if m.get("squares"):
            text.append(cat("method.squares"))
        if m["method"] == "nearest":
            cal = f.num(m["caliper"], 2).rstrip("0").rstrip(",.") if m.get("caliper") else None
            text.append(
                cat(
                    "method.nearest",
                    ratio=m["ratio"],
                    replace=cat(
                        "method.replace_true"
                        if m["replace"]
                        else "method.replace_false"
                        if m.get("controls_once_across_index_months")
                        else "method.replace_per_month"
                    ),
                    caliper=cal if cal else cat("method.no_caliper"),
                    order=cat(f"method.order_{m['m_order']}"),
                )
            )
            shown = [v for v in self.t["balance"]["covariate"] if v != "distance"]
            mah = [v for v in self.mahvars() if v in shown]
            if mah:
                text.append(cat("method.mahvars", covariates=self._join([self.lb.covariate(v) for v in mah], "and")))
        else:
            text.append(cat(f"method.{m['method']}"))
        ms = self.t["match_summary"].set_index("sample")
        lo = ms.loc["controls_per_participant_min", "control"] if "controls_per_participant_min" in ms.index else ""
        hi = ms.loc["controls_per_participant_max", "control"] if "controls_per_participant_max" in ms.index else ""
        text.append(
            cat(
                "method.matched_equal" if str(lo) == str(hi) else "method.matched",
                n=f.int(self.n_participants()),
                n_c=self.n_controls_text(),
                min=f.int(lo),
                max=f.int(hi),
            )
        )
        distinct = ms.loc["distinct_control_persons", "control"] if "distinct_control_persons" in ms.index else None
        if as_number(distinct) is not None and as_number(distinct) != as_number(ms.loc["matched", "control"]):
            text.append(cat("method.distinct", n=f.int(distinct)))
        paras.append(" ".join(text))
        dist = self.t.get("status_distribution")
        dist_p = f.p(dist["p_value"].iloc[0]) if dist is not None and len(dist) else ""
        # a hidden status cell blanks the test of the whole distribution (its statistic would
        # give the cell back): the sentence then says so in its own words
        dist_text = cat("method.dist_hidden") if not dist_p or dist_p == "." else \
            cat("method.dist_shown", p=dist_p if dist_p.startswith("<") else f"= {dist_p}")
        paras.append(
            cat("method.outcome", months=c["follow_up_months"], dates=cat(f"method.dates_{c['control_dates']}"))
            + " "
            + cat("method.tests", test=self.test_name(), alpha=f.num(self.alpha, 2), dist=dist_text)
            + ("" if not self.lasting else " " + cat("note.effects_note_lasting"))
        )
        return paras

    def covariates(self) -> list[str]:
        return [self.lb.covariate(v) for v in self.t["balance"]["covariate"] if v != "distance"]

    def _join(self, items, word="or"):
        items = list(items)
        if len(items) <= 1:
            return "".join(items)
        return ", ".join(items[:-1]) + f" {self.cat('common.' + word)} " + items[-1]

    def caveats(self) -> list[str]:
        traj = self.t.get("trajectory")
        keys = ["design", "one_month_trajectory" if traj is not None and len(traj) else "one_month", "small"]
        if "progression_items" in self.t:
            keys.append("progression")
        return [self.cat(f"caveats.{k}") for k in keys]
