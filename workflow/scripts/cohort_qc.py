"""The cohort's QC summary of its extract (rule cohort_qc).

Settings: cohort: participants_file, progression.questionnaire_file; the extract
Inputs: the cohort's participant list and questionnaires; the normalised summary and bef
Outputs: interim/tables/extract_summary.csv (exact; the publish rule writes qc/ with small counts hidden)
Run alone (after its inputs exist): python workflow/scripts/cohort_qc.py cohort=<name>
"""
import logging

from sibeval.adapters import context, run, standalone, write_csv
from sibeval.extract.person_blocks import rows_of_persons
from sibeval.extract.qc import cohort_summary


def main(smk):
    ctx = context(smk)
    ex = ctx.extract
    part = ex.participants()
    in_bef = rows_of_persons(ex.folder / "bef.parquet", part["pnr"], columns=["pnr"])["pnr"]   # theirs only
    summary = cohort_summary(ex.summary(), part, ex.questionnaires(part), in_bef)
    logging.getLogger("sibeval").info("extract %s: %d summary rows", ex.path, len(summary))
    write_csv(summary, smk.output[0])   # exact: the publish rule hides small counts


if "snakemake" not in globals():      # run alone: python workflow/scripts/<rule>.py cohort=<name>
    snakemake = standalone(__file__)
run(snakemake, main)
