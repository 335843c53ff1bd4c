"""The note's payment section: the payment model's tables from results/<cohort>/economics/."""

from __future__ import annotations

from sibeval.publish.cells import as_number
from sibeval.report.base import NoteBase, Table, is_true


class PaymentSection(NoteBase):
    """The payment model's section of the note."""

    def economics(self) -> dict | None:
        """The economics section (payment model) from the published economics tables."""
        acc = self.t.get("econ_account")
        if acc is None or not len(acc):
            return None
        cat, f = self.cat, self.f
        a = acc.set_index("item")["value"]
        b = self.t["econ_break_even"].set_index("item")["value"]
        inp = self.t["econ_inputs"].set_index("input")["value"]
        risk = self.t["econ_risk"].set_index("point")
        money = [
            k
            for k in (
                "effort_saving",
                "benefits_saving",
                "tax_gain",
                "other_saving",
                "municipal_saving",
                "provider_cost",
                "evaluator_cost",
                "surplus",
                "investor_share",
                "provider_margin",
                "payment",
                "municipality_account",
                "payment_per_employed",
            )
            if k in a.index
        ]
        rows = [[cat(f"economics.items.{k}"), f.num(a[k], 0)] for k in money]
        rows.append([cat("economics.items.investor_return"), f.pct(a["investor_return"], 1)])
        account = Table(
            "econ_account", cat("economics.account"), [cat("economics.item"), cat("economics.amount")], rows
        )
        be_rows = []
        for k in b.index:
            v = b[k]
            shown = (cat("economics.not_reached") if as_number(v) is None
                     else f.pp(v) if k.endswith("_effect") else f.pct(v, 1))
            be_rows.append([cat(f"economics.break_even_items.{k}"), shown])
        break_even = Table(
            "econ_break_even", cat("economics.break_even"), [cat("economics.item"), cat("economics.value")], be_rows
        )
        r_rows = [
            [
                cat(f"economics.points.{k}"),
                f.pp(risk.at[k, "effect"]),
                f.num(risk.at[k, "surplus"], 0),
                f.num(risk.at[k, "municipality_account"], 0),
                f.pct(risk.at[k, "investor_return"], 1),
            ]
            for k in ("ci_low", "estimate", "ci_high")
            if k in risk.index
        ]
        cf = self.t["econ_cash_flow"]
        positive = [
            int(as_number(y))
            for y, c in zip(cf["year"], cf["cumulative"])
            if as_number(c) is not None and as_number(c) >= 0
        ]
        probs = {
            "p_mun": f.pct(risk.at["p_municipality_negative", "probability"], 1),
            "p_inv": f.pct(risk.at["p_investor_loses", "probability"], 1),
        }
        note = (
            cat("economics.risk_note", years=positive[0], **probs)
            if positive
            else cat("economics.risk_note_never", **probs)
        )
        risk_t = Table(
            "econ_risk",
            cat("economics.risk"),
            [
                cat("economics.point"),
                self.col("effect"),
                self.col("surplus"),
                self.col("municipality_account"),
                self.col("investor_return"),
            ],
            r_rows,
            note,
        )
        intro = cat(
            "economics.intro",
            effect=f.pp(inp["effect"]),
            low=f.pp(inp.get("effect_ci_low")),
            high=f.pp(inp.get("effect_ci_high")),
            gross=f.pct(inp["gross_share"], 2),                 # the digits the payment is computed from
            price_year=str(int(as_number(inp.get("price_year", self.c.get("economics", {}).get("price_year"))))),
        )
        # the assumptions the kroner rest on, in the reader's words
        keys = ("horizon", "constant_years", "decay", "discount_rate", "effort_saving_share", "investor_share")
        intro += "" if not all(k in inp.index for k in keys) else " " + cat(
            "economics.assumptions",
            horizon=f.int(inp["horizon"]),
            constant=f.int(inp["constant_years"]),
            decay=f.pct(inp["decay"], 0),
            rate=f.pct(inp["discount_rate"], 1),
            saving=f.pct(inp["effort_saving_share"], 0),
        ) + " " + self._contract(inp, a)
        tables = [account, break_even, risk_t]
        if self._staged():                                   # a contract paid in stages
            stages = self.t["econ_stages"]
            rows = [[f.int(r["stage"]), f.int(r["months"]), f.pct(r["price_share"], 0), f.int(r["price"]),
                     f.pct(r["retention"], 0), f.int(r["expected_payment"])] for _, r in stages.iterrows()]
            head = [self.col(c) for c in ("stage", "months", "price_share", "price", "retention", "expected_payment")]
            retention = as_number(inp.get("job_retention"))
            retention = 1 - as_number(inp["decay"]) if retention is None else retention
            tables.append(Table("econ_stages", cat("economics.stages"), head, rows,
                                cat("economics.stages_note", retention=f.pct(retention, 0))))
        parties = self.t.get("econ_parties")
        if parties is not None and len(parties):
            tables.append(self._parties(parties, inp))
        prices = self.t.get("econ_subgroup_payments")
        if prices is not None and len(prices):
            tables.append(self._prices(prices, a))
        decays = self.t.get("econ_decay_comparison")
        if decays is not None and len(decays) > 1:
            tables.append(self._decays(decays))
        return {"title": cat("economics.title"), "intro": intro, "tables": tables}

    def _decays(self, d) -> Table:
        """The economics at the assumed and the measured decay, side by side."""
        cat, f = self.cat, self.f
        rows = []
        for _, r in d.iterrows():
            used = f" ({cat('economics.decay_used')})" if is_true(r["used"]) else ""
            rows.append([cat(f"values.decay_basis.{r['basis']}") + used, f.pct(r["decay"], 0),
                         f.pp(r["decay_sd"], 0), f.int(r["constant_years"]), f.num(r["municipality_account"], 0),
                         f.pct(r["investor_return"], 1), f.pct(r["p_municipality_negative"], 1),
                         f.pct(r["p_investor_loses"], 1), f.pct(r["municipality_decay"], 1)])
        head = [cat("sheet_headers.econ_decay_comparison.basis.0"), self.col("decay"), cat("economics.decay_sd_pp"),
                self.col("constant_years"), self.col("municipality_account"), self.col("investor_return"),
                self.col("p_municipality_negative"), self.col("p_investor_loses"), self.col("municipality_decay")]
        return Table("econ_decay_comparison", cat("economics.decay_comparison"), head, rows,
                     cat("economics.decay_comparison_note"))

    def _staged(self) -> bool:
        stages = self.t.get("econ_stages")
        return stages is not None and len(stages) > 1

    def _mode(self) -> str:
        return ((self.c.get("economics") or {}).get("contract") or {}).get("mode", "surplus_share")

    def _contract(self, inp, a) -> str:
        """The contract in the reader's words: who pays whom, what, and the optional terms."""
        cat, f, mode = self.cat, self.f, self._mode()
        stages, staged = self.t.get("econ_stages"), self._staged()
        # a staged contract's price at every stage (its later stages paid only for those still in work)
        price = stages["price"].map(as_number).sum() if staged else a["payment_per_employed"]
        text = cat(f"economics.contract.{mode}", share=f.pct(as_number(inp.get("investor_share")), 0),
                   price=f.int(price), rate=f.pct(as_number(inp.get("loan_rate", 0)), 1),
                   staged=cat("economics.contract.staged") if staged else "")
        if as_number(inp.get("evaluator_cost")):
            text += cat("economics.contract.evaluator", kr=f.int(inp["evaluator_cost"]))
        terms = []
        for k, show in (("cap_return", lambda v: f.pct(v, 0)), ("cap_payment", f.int),
                        ("floor_return", lambda v: f.pct(-v, 0))):
            v = as_number(inp.get(k))
            if v not in (None, 0) or (v == 0 and k != "cap_payment"):
                terms.append(cat(f"economics.contract.{k}", v=show(v)))
        if terms:
            text += cat("economics.contract.caps_terms", terms=", ".join(terms))
        if as_number(inp.get("co_financing")):
            key = "co_financing_loan" if mode == "loan" else "co_financing"
            text += cat(f"economics.contract.{key}", share=f.pct(inp["co_financing"], 0))
        return text

    def _prices(self, prices, a) -> Table:
        """Differentiated and selection-neutral prices by subgroup (economics/subgroup_payments.csv)."""
        cat, f = self.cat, self.f
        rows = []
        for _, r in prices.iterrows():
            lvl = cat("common.yes") if as_number(r["level"]) == 1 else cat("common.no")
            rows.append([f"{self.lb.covariate(r['subgroup'])}: {lvl}", f.int(r["n_participants"]),
                         f.pct(r["gross_share"], 1), f.int(r["payment_per_employed"]), f.int(r["provider_margin"]),
                         f.int(r["neutral_price"]), f.int(r["neutral_margin"])])
        head = [cat(f"payment_workbook.prices.{k}") for k in ("level", "participants", "gross_share", "price",
                                                               "margin", "neutral_price", "neutral_margin")]
        w = prices["participant_share"].map(as_number)
        paid = float((w * prices["payment_per_employed"].map(as_number) * prices["gross_share"].map(as_number)).sum())
        return Table("econ_prices", cat("payment_workbook.prices_head"), head, rows,
                     cat("payment_workbook.prices_note") + " "
                     + cat("economics.prices_paid", kr=f.int(paid), model=f.int(a["payment"])))

    def _parties(self, parties, inp) -> Table:
        """The three parties' risk from the one simulation (economics/parties.csv)."""
        cat, f = self.cat, self.f
        rows = []
        for _, r in parties.iterrows():
            share = r["party"].startswith("investor")
            show = (lambda v: f.pct(v, 1)) if share else f.int
            rows.append([cat.get(f"values.parties.{r['party']}", r["party"]),
                         *(show(r[c]) for c in ("mean", "p05", "p50", "p95")), f.pct(r["probability_loss"], 1)])
        capped = any(as_number(inp.get(k)) not in (None, 0) for k in ("cap_payment", "cap_return", "floor_return"))
        note = cat("economics.parties_note", n=f.int(inp.get("n_participants")) if as_number(inp.get("n_participants"))
                   is not None else "–", decay_sd=f.num(100 * as_number(inp.get("decay_sd", 0.05)), 0),
                   caps=cat("economics.caps") if capped else "",
                   retention=cat("economics.retention_sd", sd=f.num(100 * as_number(inp.get("job_retention_sd", 0.05)),
                                                                    0)) if self._staged() else "",
                   provider=cat("economics.provider_risk." + ("loan" if self._mode() == "loan" else "share"
                                if as_number(inp.get("co_financing")) else "none")))
        return Table("econ_parties", cat("economics.parties"),
                     [self.col("party"), self.col("mean"), self.col("p05"), self.col("p50"), self.col("p95"),
                      self.col("probability_loss")], rows, note)
