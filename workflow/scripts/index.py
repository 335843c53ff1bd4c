"""results/index.html over every cohort with results (rule index).

The cohorts of this run come from the rule's inputs; cohorts run earlier keep their row
(their summary.json on disk), as long as their cohort file still exists.
"""
import json
import os
from pathlib import Path

from sibeval.adapters import atomic_path, run
from sibeval.report.note import render_index


def main(smk):
    out = Path(smk.output[0])
    files = {Path(f).parts[-3]: Path(f) for f in smk.input.summaries}
    for f in sorted(out.parent.glob("*/report/summary.json")):
        name = f.parts[-3]
        if name not in files and (Path(smk.params.cohort_dir) / f"{name}.yaml").exists():
            files[name] = f
    summaries = [json.loads(f.read_text(encoding="utf-8")) for f in files.values()]
    links = {n: os.path.relpath(f.with_name("effect_note.html"), out.parent) for n, f in files.items()}
    with atomic_path(out) as tmp:
        Path(tmp).write_text(render_index(summaries, smk.params.language, smk.params.labels, links),
                             encoding="utf-8")


run(snakemake, main)
