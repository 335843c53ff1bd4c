"""results/index.html over every cohort with results (rule index).

The cohorts of this run come from the rule's inputs; cohorts run earlier keep their row
(their summary.json on disk), as long as their cohort file still exists.

Settings: language, labels, cohort_dir
Inputs: report/summary.json of each cohort (and its notes in more languages, to link them)
Outputs: results/index.html
Run alone (after its inputs exist): python workflow/scripts/index.py
"""
import json
import os
from pathlib import Path

from sibeval.adapters import atomic_path, run, standalone
from sibeval.report.index_page import render_index


def main(smk):
    out = Path(smk.output[0])
    files = {Path(f).parts[-3]: Path(f) for f in smk.input.summaries}
    for f in sorted(out.parent.glob("*/report/summary.json")):
        name = f.parts[-3]
        if name not in files and (Path(smk.params.cohort_dir) / f"{name}.yaml").exists():
            files[name] = f
    summaries = [json.loads(f.read_text(encoding="utf-8")) for f in files.values()]
    links = {n: os.path.relpath(f.with_name("effect_note.html"), out.parent) for n, f in files.items()}
    more = {s["name"]: [(lang, os.path.relpath(files[s["name"]].with_name(f"effect_note.{lang}.html"), out.parent))
                        for lang in s.get("languages", [])] for s in summaries}
    with atomic_path(out) as tmp:
        Path(tmp).write_text(render_index(summaries, smk.params.language, smk.params.labels, links, more),
                             encoding="utf-8")


if "snakemake" not in globals():      # run alone: python workflow/scripts/<rule>.py cohort=<name>
    snakemake = standalone(__file__)
run(snakemake, main)
