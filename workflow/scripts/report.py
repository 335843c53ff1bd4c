"""The effect note, the workbook and the figures folder from the published tables (rule report).

Settings: the whole cohort file, labels, config hash; the extract's folder (provenance)
Inputs: the published tables (and the economics tables when enabled)
Outputs: report/effect_note.html, report/tables.xlsx, report/figures/, report/summary.json
Run alone (after its inputs exist): python workflow/scripts/report.py cohort=<name>
"""
import json
import logging
from pathlib import Path

import pandas as pd

from sibeval import __version__
from sibeval.adapters import atomic_dir, atomic_path, context, run, standalone
from sibeval.report.base import Labels, cohort_labels, document_time, load_tables, provenance
from sibeval.report.catalogue import Catalogue
from sibeval.report.note import cohort_summary, render_note
from sibeval.report.workbook import write_workbook

log = logging.getLogger("sibeval")


def main(smk):
    ctx = context(smk)
    p, c = ctx.params, ctx.cohort
    tables = load_tables({k: v for k, v in smk.input.items() if k != "checksums"})
    prov = provenance(c, p, pd.read_csv(smk.input.checksums, dtype=str), __version__)

    with atomic_dir(smk.output.figures) as tmp_fig:
        doc = render_note(tables, c, p["labels"], prov, tmp_fig)
        labels = Labels(cohort_labels(p["labels"], c), ctx.lang)
        with atomic_path(smk.output.xlsx) as tmp:
            write_workbook(tmp, tables, prov, Catalogue(ctx.lang), c["title"], ctx.min_cell,
                           labels, document_time())
        with atomic_path(smk.output.summary) as tmp:
            Path(tmp).write_text(json.dumps(cohort_summary(tables, c, p["labels"]), indent=1, sort_keys=True),
                                 encoding="utf-8")
        with atomic_path(smk.output.html) as tmp:
            Path(tmp).write_text(doc, encoding="utf-8")
    log.info("report: %s (%d KiB)", smk.output.html, len(doc) // 1024)


if "snakemake" not in globals():      # run alone: python workflow/scripts/<rule>.py cohort=<name>
    snakemake = standalone(__file__)
run(snakemake, main)
