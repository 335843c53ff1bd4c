"""Validate the extract and write the QC summary (rule validate_extract)."""
import logging

from sibeval.adapters import context, run, write_csv
from sibeval.disclosure import suppress_counts
from sibeval.registers import extract_summary


def main(smk):
    ctx = context(smk)
    summary = extract_summary(ctx.extract, ctx.codes)
    logging.getLogger("sibeval").info("extract %s valid: %d summary rows", ctx.extract.path, len(summary))
    write_csv(suppress_counts(summary, ctx.min_cell), smk.output[0])


run(snakemake, main)
