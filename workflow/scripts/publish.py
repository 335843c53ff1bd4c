"""The publication boundary of one cohort (rules publish and publish_qc_*): analysis tables in,
published tables and the disclosure audit out. Stops, writing nothing, if any small cell leaks.

Settings: cohort: disclosure, matching.replace (publish: also progression.enabled, trajectory.publish)
Inputs: the analysis tables of sibeval.publish.catalogue.ANALYSIS (interim/tables/) and the checksums
Outputs: publish: published/*.csv, disclosure/audit.csv and audit_summary.txt; publish_qc_<table>: qc/<table>.csv
Run alone (after its inputs exist): python workflow/scripts/publish.py cohort=<name>
  (a QC table: add rule=publish_qc_extract_summary or rule=publish_qc_eligibility_funnel)
"""
import logging

import pandas as pd

from sibeval.adapters import context, run, standalone, write_csv, write_text
from sibeval.publish.boundary import Boundary, audit_summary, csv_safe, tables_to_publish

log = logging.getLogger("sibeval")


def main(smk):
    ctx = context(smk)
    c = ctx.cohort
    tables = {name: pd.read_csv(path, keep_default_na=False, na_values=[""], dtype=str if name == "checksums" else None)
              for name, path in smk.input.items()}
    tb = Boundary(tables_to_publish(tables, c), c["disclosure"], c["matching"]["replace"])
    protection = tb.protect(threads=smk.threads)
    a = protection.audit
    log.info("disclosure: %d small cells, %d complementary cells, all protected: %s",
             int((a.rule == "primary").sum()), int((a.rule == "complementary").sum()), protection.safe)
    published = tb.publish(protection)
    for name in smk.output.keys():
        if name in ("audit", "summary"):
            continue
        write_csv(csv_safe(published[name]), getattr(smk.output, name))
    if "audit" in smk.output.keys():
        write_csv(a, smk.output.audit)
        write_text(audit_summary(protection, tb.k, tb.public), smk.output.summary)
    log.info("published %s", ", ".join(str(f) for f in smk.output))


if "snakemake" not in globals():      # run alone: python workflow/scripts/<rule>.py cohort=<name>
    snakemake = standalone(__file__)
run(snakemake, main)
