"""results/index.html over every cohort (rule index)."""
import os
from pathlib import Path

import pandas as pd

from sibeval.adapters import atomic_path, run
from sibeval.report import index_html


def main(smk):
    out = Path(smk.output[0])
    cohorts = []
    for (name, meta), eff, note, flow in zip(smk.params.cohorts.items(), smk.input.effects,
                                              smk.input.notes, smk.input.flows):
        e = pd.read_csv(eff, keep_default_na=False, na_values=[""]).set_index("outcome")
        f = pd.read_csv(flow).set_index("step")["n"]
        effects = {}
        for h in ("ordinary_employment", "self_supporting_or_education"):
            r = e.loc[h]
            effects[h] = {"suppressed": str(r["suppressed"]) == "True",
                          **{k: float(r[k]) for k in ("share_participants", "share_controls", "estimate",
                                                        "ci_low", "ci_high") if str(r["suppressed"]) != "True"},
                          "significant": str(r["significant"]) == "True"}
        cohorts.append({"name": name, "title": meta["title"], "follow_up": meta["follow_up"],
                        "note": os.path.relpath(note, out.parent), "effects": effects,
                        "n_participants": int(f.get("matched", f.iloc[-1]))})
    with atomic_path(out) as tmp:
        Path(tmp).write_text(index_html(cohorts), encoding="utf-8")


run(snakemake, main)
