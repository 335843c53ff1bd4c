"""The person x month panel of an extract (rule build_panel).

Settings: the code table; the extract (normalised)
Inputs: the normalised dream, eindkomst, vnds, dod and summary of results/extracts/interim/<extract>/
Outputs: results/extracts/interim/<extract>/panel.parquet
Run alone (after its inputs exist): python workflow/scripts/build_panel.py extract=<name>
"""
import logging
import time

from sibeval.adapters import atomic_path, context, run, standalone
from sibeval.extract.panel import build_panel
from sibeval.extract.panel_io import write_panel


def main(smk):
    ctx = context(smk)
    codes, ex = ctx.codes, ctx.extract
    t0 = time.perf_counter()
    panel = build_panel(ex.dream(codes), ex.eindkomst_chunks(), codes, ex.vnds(), ex.dod())
    logging.getLogger("sibeval").info("panel: %d persons x %d months in %.1f s",
                                      len(panel.pnr), len(panel.months), time.perf_counter() - t0)
    with atomic_path(smk.output[0]) as tmp:
        write_panel(panel, tmp)


if "snakemake" not in globals():      # run alone: python workflow/scripts/<rule>.py cohort=<name>
    snakemake = standalone(__file__)
run(snakemake, main)
