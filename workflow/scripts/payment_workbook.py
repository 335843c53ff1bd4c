"""The live payment workbook from the published effects (rule payment_workbook).

Settings: economics: the cohort file's economics section; the cohort's language and title
Inputs: published/effects.csv (the measured effect), economics/account.csv (run after the model),
        economics/subgroup_payments.csv (the prices by subgroup), published/decay.csv (when
        trajectory.publish: the measured decay, for decay: measured)
Outputs: economics/payment_model.xlsx
Run alone (after its inputs exist): python workflow/scripts/payment_workbook.py cohort=<name>
"""
import pandas as pd

from sibeval.adapters import atomic_path, economics_inputs, run, standalone
from sibeval.economics import model as ec
from sibeval.report.base import Labels
from sibeval.report.payment_workbook import MEASURED_INPUTS, build


def main(smk):
    settings = smk.params.economics
    inp, _, _ = economics_inputs(smk)
    # the decay and its flat years are measured too with decay: measured
    measured = MEASURED_INPUTS + (("decay", "constant_years") if ec.uses_measured_decay(settings) else ())
    with atomic_path(smk.output[0]) as tmp:
        build(inp, measured=measured, title=smk.params.title, lang=smk.params.language,
              price_year=settings.get("price_year"), prices=pd.read_csv(smk.input.prices),
              labels=Labels(smk.params.labels, smk.params.language).covariate).save(tmp)


if "snakemake" not in globals():      # run alone: python workflow/scripts/<rule>.py cohort=<name>
    snakemake = standalone(__file__)
run(snakemake, main)
