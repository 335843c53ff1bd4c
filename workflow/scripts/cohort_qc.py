"""The cohort's QC summary of its extract (rule cohort_qc)."""
import logging

from sibeval.adapters import context, run, write_csv
from sibeval.extract.qc import cohort_summary


def main(smk):
    ctx = context(smk)
    ex = ctx.extract
    part = ex.participants()
    summary = cohort_summary(ex.summary(), part, ex.questionnaires(part), ex.bef(columns=["pnr"])["pnr"])
    logging.getLogger("sibeval").info("extract %s: %d summary rows", ex.path, len(summary))
    write_csv(summary, smk.output[0])   # exact: the publish rule hides small counts


run(snakemake, main)
