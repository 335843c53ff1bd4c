"""The live payment workbook from the published effects (rule payment_workbook).

Settings: economics: the cohort file's economics section; the cohort's language and title
Inputs: published/effects.csv (the measured effect), economics/account.csv (run after the model),
        economics/subgroup_payments.csv (the prices by subgroup), published/decay.csv (when
        trajectory.publish: the measured decay, for decay: measured)
Outputs: economics/payment_model.xlsx
Run alone (after its inputs exist): python workflow/scripts/payment_workbook.py cohort=<name>
"""
import inspect

import pandas as pd

from sibeval.adapters import atomic_path, run, standalone
from sibeval.economics import model as ec
from sibeval.errors import SibevalError
from sibeval.report.base import Labels
from sibeval.report.payment_workbook import build

# the workbook's inputs the evaluation measures (build's default)
MEASURED = inspect.signature(build).parameters["measured"].default


def main(smk):
    settings = smk.params.economics
    effects = pd.read_csv(smk.input.effects)
    decay = pd.read_csv(smk.input.decay) if "decay" in smk.input.keys() else None
    try:
        inp = ec.measured_inputs(settings, effects, decay_table=decay)
    except ec.MeasuredDecayError as exc:
        raise SibevalError(f"{smk.input.get('decay', smk.params.cohort_file)}: {exc}") from None
    except ValueError as exc:
        raise SibevalError(f"{smk.input.effects}: {exc}") from None
    # the decay and its flat years are measured too with decay: measured
    measured = MEASURED + (("decay", "constant_years") if ec.uses_measured_decay(settings) else ())
    with atomic_path(smk.output[0]) as tmp:
        build(inp, measured=measured, title=smk.params.title, lang=smk.params.language,
              price_year=settings.get("price_year"), prices=pd.read_csv(smk.input.prices),
              labels=Labels(smk.params.labels, smk.params.language).covariate).save(tmp)


if "snakemake" not in globals():      # run alone: python workflow/scripts/<rule>.py cohort=<name>
    snakemake = standalone(__file__)
run(snakemake, main)
