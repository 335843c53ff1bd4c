"""Validate an extract once and write it as typed, column-pruned Parquet (rule normalise_extract).

Settings: the code table; the extract (raw folder, column renames)
Inputs: the raw register files of the extract's folder
Outputs: results/extracts/interim/<extract>/: one .parquet per register but eIndkomst, blocks/ (bef, vnds, udda, lpr
    by block of persons, for build_candidates), eindkomst_blocks/ (eIndkomst by block
    of persons, for build_panel), summary.csv, checksums.csv
Run alone (after its inputs exist): python workflow/scripts/normalise_extract.py extract=<name>
"""
import logging
from pathlib import Path

from sibeval.adapters import context, run, standalone
from sibeval.extract.normalise import normalise


def main(smk):
    ctx = context(smk)
    summary = normalise(ctx.extract, ctx.codes, Path(smk.output.summary).parent, workers=smk.threads)
    logging.getLogger("sibeval").info("extract %s valid: %d summary rows", ctx.extract.path, len(summary))


if "snakemake" not in globals():      # run alone: python workflow/scripts/<rule>.py cohort=<name>
    snakemake = standalone(__file__)
run(snakemake, main)
