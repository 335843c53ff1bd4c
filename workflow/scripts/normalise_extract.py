"""Validate an extract once and write it as typed, column-pruned Parquet (rule normalise_extract)."""
import logging
from pathlib import Path

from sibeval.adapters import context, run
from sibeval.extract.normalise import normalise


def main(smk):
    ctx = context(smk)
    summary = normalise(ctx.extract, ctx.codes, Path(smk.output.summary).parent)
    logging.getLogger("sibeval").info("extract %s valid: %d summary rows", ctx.extract.path, len(summary))


run(snakemake, main)
