"""The release manifest (rule release): every file that may leave the research environment.

Settings: none
Inputs: each cohort's published/ and qc/ tables, report (note, workbook, figures),
  economics (when enabled), disclosure audit; results/index.html
Outputs: results/release.csv (file, kind, bytes, sha256), for the output checker
Run alone (after its inputs exist): python workflow/scripts/release.py
"""
import logging

from sibeval.adapters import run, standalone, write_text
from sibeval.report.release import manifest

log = logging.getLogger("sibeval")


def main(smk):
    m = manifest(list(smk.input))
    write_text(m.to_csv(), smk.output[0])
    log.info("release manifest: %d files, %.1f MB", len(m.rows), m.bytes / 1e6)


if "snakemake" not in globals():      # run alone: python workflow/scripts/<rule>.py cohort=<name>
    snakemake = standalone(__file__)
run(snakemake, main)
