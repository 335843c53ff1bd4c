"""The effect note in one more language, effect_note.<lang>.html (rule note_in_language).

Settings: the whole cohort file, labels, config hash; the extract's folder (provenance)
Inputs: the published tables (and the economics tables when enabled); in the cohort's own
        language, report/effect_note.html (own_language), which is the note: it is copied
Outputs: report/effect_note.<lang>.html (figures embedded; drawn in a temporary folder)
Run alone (after its inputs exist): python workflow/scripts/note_in_language.py cohort=<name> lang=en
"""
import logging
import shutil
import tempfile
from pathlib import Path

from sibeval import __version__
from sibeval.adapters import atomic_path, context, run, standalone

log = logging.getLogger("sibeval")


def main(smk):
    lang = smk.wildcards.lang
    if "own_language" in smk.input.keys():       # the report rendered this very note
        with atomic_path(smk.output[0]) as tmp:
            shutil.copyfile(smk.input.own_language, tmp)
        log.info("note (%s): %s, the report's note", lang, smk.output[0])
        return
    # imported here: the copy above needs none of it (matplotlib, scipy and pandas: 0.8 s)
    import pandas as pd

    from sibeval.report.base import load_tables, provenance
    from sibeval.report.note import render_note

    ctx = context(smk)
    p = ctx.params
    c = ctx.cohort | {"language": lang}
    tables = load_tables({k: v for k, v in smk.input.items() if k not in ("checksums", "own_language")})
    prov = provenance(c, p, pd.read_csv(smk.input.checksums, dtype=str), __version__)
    with tempfile.TemporaryDirectory() as figures:
        doc = render_note(tables, c, p["labels"], prov, Path(figures), formats=("png",))   # SVG unused
    with atomic_path(smk.output[0]) as tmp:
        Path(tmp).write_text(doc, encoding="utf-8")
    log.info("note (%s): %s (%d KiB)", lang, smk.output[0], len(doc) // 1024)


if "snakemake" not in globals():      # run alone: python workflow/scripts/<rule>.py cohort=<name>
    snakemake = standalone(__file__)
run(snakemake, main)
