"""Validate the extract and write the QC summary (rule validate_extract)."""
import logging

from sibeval.adapters import run, write_csv
from sibeval.codes import CodeTable
from sibeval.disclosure import suppress_counts
from sibeval.registers import Extract, extract_summary


def main(smk):
    p = smk.params.run
    c = p["cohort"]
    extract = Extract(p["extract_dir"], c["columns"], c["participants_file"])
    summary = extract_summary(extract, CodeTable.from_config(p["dream_codes"]))
    logging.getLogger("sibeval").info("extract %s valid: %d summary rows", p["extract_dir"], len(summary))
    write_csv(suppress_counts(summary, c["disclosure"]["min_cell"]), smk.output[0])


run(snakemake, main)
