"""The person x month panel of an extract (rule build_panel).

Settings: the code table; the extract (normalised)
Inputs: the normalised dream, eindkomst_blocks (eIndkomst split by normalise_extract; its manifest's
    rows are checked against the summary's), vnds, dod and summary of results/extracts/interim/<extract>/
Outputs: results/extracts/interim/<extract>/panel.parquet
Run alone (after its inputs exist): python workflow/scripts/build_panel.py extract=<name>
"""
import logging
import time

from sibeval.adapters import atomic_path, context, keep_freed_memory, run, standalone
from sibeval.extract.panel_blocks import build_panel_file


def main(smk):
    ctx = context(smk)
    keep_freed_memory()         # the blocks allocate the same arrays again and again
    t0 = time.perf_counter()
    with atomic_path(smk.output[0]) as tmp:     # block by block of persons: bounded memory
        info = build_panel_file(ctx.extract.folder, ctx.codes, tmp, threads=smk.threads)
    logging.getLogger("sibeval").info("panel: %d persons x %d months in %d blocks, %.1f s", info["persons"],
                                      info["months"], info["blocks"], time.perf_counter() - t0)


if "snakemake" not in globals():      # run alone: python workflow/scripts/<rule>.py cohort=<name>
    snakemake = standalone(__file__)
run(snakemake, main)
