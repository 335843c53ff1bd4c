"""BRIDGE until publish rule: the profile and overlap tables for the report (rule report_bridge).

The publish rule (issue 11) replaces this with results/<cohort>/published/{profile,overlap}.csv.
"""
import pandas as pd

from sibeval.adapters import context, run, write_csv
from sibeval.tables import overlap_table, profile_table


def main(smk):
    ctx = context(smk)
    cand = pd.read_parquet(smk.input.candidates)
    matched = pd.read_parquet(smk.input.matched)
    balance = pd.read_csv(smk.input.balance)
    covs = [v for v in ctx.cohort["covariates"] if v in cand and cand[v].notna().all()]
    write_csv(profile_table(matched, cand, covs, ctx.min_cell, balance), smk.output.profile)
    write_csv(overlap_table(cand, matched, covs), smk.output.overlap)


run(snakemake, main)
