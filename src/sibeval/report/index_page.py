"""results/index.html: one row per cohort with its headline effects, from the cohorts'
summaries (a module of its own: the index needs none of the note's figures)."""

from __future__ import annotations

from sibeval import __version__
from sibeval.outcomes.names import HEADLINE_ORDER
from sibeval.report.base import Labels, environment, run_date
from sibeval.report.catalogue import Catalogue
from sibeval.report.formatting import Formatter


def render_index(summaries: list[dict], lang: str, labels: dict, note_links: dict,
                 language_links: dict | None = None) -> str:
    """results/index.html over the cohorts' summaries, in `lang`; `language_links`: cohort ->
    [(language, link)] of its notes in more languages."""
    cat, f, lb = Catalogue(lang), Formatter(lang), Labels(labels, lang)
    rows = []
    for s in summaries:
        cells = []
        for h in HEADLINE_ORDER:
            e = s["effects"].get(h)
            if not e:
                cells.append(None)
                continue
            cells.append(
                {
                    "shares": f"{f.pct(e['share_participants'], e.get('digits_participants', 0))} vs "
                              f"{f.pct(e['share_controls'], e.get('digits_controls', 0))}",
                    "diff": f"{f.pp(e['estimate'], 0, signed=True)} pp "
                    f"({f.pp(e['ci_low'], 0)} {cat('common.to')} {f.pp(e['ci_high'], 0)})",
                    "sig": cat("index.significant" if e["significant"] else "index.not_significant"),
                }
            )
        rows.append(
            {
                "title": s["title"],
                "name": s["name"],
                "link": note_links[s["name"]],
                "languages": [(cat(f"index.language_names.{code}"), href)
                              for code, href in (language_links or {}).get(s["name"], [])],
                "n": f.int(s["n_participants"]),
                "follow_up": cat("index.follow_up", months=s["follow_up"]),
                "cells": cells,
            }
        )
    months = sorted({s["follow_up"] for s in summaries})
    months_text = cat("index.follow_up", months=months[0]) if len(months) == 1 else cat("index.varies")
    return (
        environment()
        .get_template("index.html.j2")
        .render(
            lang=lang,
            cat=cat,
            rows=rows,
            heads=[lb.status(h) for h in HEADLINE_ORDER],
            legend=cat("index.legend", months_text=months_text),
            version=__version__,
            date=run_date(),
        )
    )
