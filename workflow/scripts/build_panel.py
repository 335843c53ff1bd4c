"""Build the person x month panel (rule build_panel)."""
import logging
import time

from sibeval.adapters import context, run, write_parquet
from sibeval.panel import build_panel


def main(smk):
    ctx = context(smk)
    codes, ex = ctx.codes, ctx.extract
    t0 = time.perf_counter()
    panel = build_panel(ex.dream(codes), ex.eindkomst(), codes, ex.vnds(), ex.dod())
    logging.getLogger("sibeval").info("panel: %d persons x %d months in %.1f s",
                                      len(panel.pnr), len(panel.months), time.perf_counter() - t0)
    write_parquet(panel.to_frame(), smk.output[0])


run(snakemake, main)
