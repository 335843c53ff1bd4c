"""The effect note and its figures, built from the published tables only (the cohort index:
:mod:`sibeval.report.index_page`).

`sibeval.report.base.load_tables` reads the published CSVs; everything else takes DataFrames.
The note's parts are one module each (sentences, note_tables, note_figures, payment); this
module assembles them. Wording comes from the catalogue (:mod:`sibeval.report.catalogue`),
numbers from one formatter (:mod:`sibeval.report.formatting`), human labels from
config/labels.yaml, layout from the Jinja2 templates in ``sibeval/report/templates``.
"""

from __future__ import annotations

from sibeval import __version__
from sibeval.outcomes.names import HEADLINE_ORDER
from sibeval.publish.cells import as_number
from sibeval.report.base import Table, environment, is_true
from sibeval.report.note_figures import NoteFigures
from sibeval.report.note_tables import NoteTables
from sibeval.report.payment import PaymentSection
from sibeval.report.sentences import Sentences


class NoteBuilder(Sentences, NoteTables, NoteFigures, PaymentSection):
    """Turns the published tables of one cohort into the note's context and figures: the
    sentences, tables, figures and payment section (one module each), assembled here."""

    # ---------- assemble ----------
    def context(self, figures: dict, provenance: dict) -> dict:
        cat = self.cat
        fig = figures.get
        sections = []
        flow = self.flow_table()
        sections.append(flow)
        prof = self.profile_table()
        missed, balance_text = self.balance_check()
        if prof is not None:
            prof.figures = [x for x in (fig("love_plot"), fig("overlap")) if x]
            sections.append(prof)
        else:
            sections.append(
                Table("profile", cat("note.profile"), [], [], "", [x for x in (fig("love_plot"), fig("overlap")) if x])
            )
        t1 = self.table1()
        t1.figures = [x for x in (fig("table1_shares"),) if x]
        sections.append(t1)
        eff_note = cat("note.effects_note") + (" " + cat("note.effects_note_lasting") if self.lasting else "")
        eff = self.effects_table(self.t["effects"], "effects", cat("note.effects"), eff_note)
        eff.figures = [x for x in (fig("effects"),) if x]
        sections.append(eff)
        sections.append(self.hours_wage())
        sg = self.t.get("subgroups")
        if sg is not None and len(sg):
            sections.append(self.effects_table(sg, "subgroups", cat("note.subgroups")))
        pl = self.t.get("placebo")
        if pl is not None and len(pl):
            months = int(as_number(pl["months_before_index"].iloc[0]))
            sections.append(
                self.effects_table(pl, "placebo", cat("note.placebo"), cat("note.placebo_note", months=months))
            )
        sens = self.generic("sensitivity", cat("note.sensitivity"))
        if sens is not None:
            sections.append(sens)
        sections.append(self.diagnostics())
        persistence = self.persistence_section()
        if persistence is not None:
            persistence.figures = [fig(f"trajectory_{o}") for o in self.trajectory_outcomes() if fig(f"trajectory_{o}")]
            sections.append(persistence)
        prog = self.progression_tables()
        if prog:
            prog[0].figures = []
            prog[-1].figures = [fig(k) for k in ("bip_items", "who5_items", "who5_means", "who5_bands") if fig(k)]
        econ = self.economics()
        if econ:
            econ["tables"][-1].figures = [x for x in (fig("tornado"),) if x]
        figno = 0
        for s in sections + prog + (econ["tables"] if econ else []):
            for x in s.figures:
                figno += 1
                x.number = figno
        return {
            "lang": self.lang,
            "cat": cat,
            "title": self.c["title"],
            "version": __version__,
            "provenance": provenance,
            "provenance_rows": cat.provenance_rows(dict(sorted(provenance.items()))),
            "headlines": self.headlines(),
            "legend": self.legend(),
            "aids": self.reading_aids(),
            "balance_missed": missed,
            "balance_text": balance_text,
            "method": self.method(),
            "covariates": self.covariates(),
            "sections": sections,
            "progression": prog,
            "economics": econ,
            "caveats": self.caveats(),
            "k": self.k,
            "n_participants": self.f.int(self.n_participants()),
        }


def render_note(tables: dict, cohort: dict, labels: dict, provenance: dict, fig_dir,
                formats=("png", "svg")) -> str:
    """The effect note (one self-contained HTML file); figures are drawn into `fig_dir` (PNG
    and SVG, or the `formats` given; the note embeds the PNG)."""
    b = NoteBuilder(tables, cohort, labels)
    figs = b.figures(fig_dir, formats)
    return environment().get_template("note.html.j2").render(**b.context(figs, provenance))


def cohort_summary(tables: dict, cohort: dict, labels: dict) -> dict:
    """One row of results/index.html (numbers only; wording is added when rendering)."""
    b = NoteBuilder(tables, cohort, labels)
    heads = {}
    for h in HEADLINE_ORDER:
        if h not in b.eff.index:
            continue
        r = b.eff.loc[h]
        hidden = is_true(r.get("suppressed")) or as_number(r["estimate"]) is None
        heads[h] = (
            None
            if hidden
            else {k: as_number(r[k]) for k in ("share_participants", "share_controls", "estimate", "ci_low", "ci_high")}
            | {"significant": is_true(r["significant"])}
            # shares to one decimal (as the note), whole percent where the group's size is hidden
            | {f"digits_{g}": b.share_digits(r[f"n_{g}"]) for g in ("participants", "controls")}
        )
    return {
        "name": cohort["name"],
        "title": cohort["title"],
        "follow_up": cohort["follow_up_months"],
        "n_participants": b.n_participants(),
        "effects": heads,
        "languages": list(cohort.get("languages") or []),
    }
