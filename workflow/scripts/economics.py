"""The payment model from the published effects tables (rule economics).

Settings: economics: the cohort file's economics section
Inputs: published/effects.csv, published/subgroups.csv, published/decay.csv (when trajectory.publish:
        the measured decay, for decay: measured and the decay comparison)
Outputs: economics/*.csv (decay_comparison.csv: the model at the assumed and at the measured decay;
         the live workbook: rule payment_workbook; the tornado chart: rule report, in the
         cohort's language)
Run alone (after its inputs exist): python workflow/scripts/economics.py cohort=<name>
"""
import logging

import pandas as pd

from sibeval.adapters import economics_inputs, run, standalone, write_csv
from sibeval.economics import model as ec

log = logging.getLogger("sibeval")


def main(smk):
    settings = smk.params.economics
    subgroups = pd.read_csv(smk.input.subgroups)
    inp, effects, decay = economics_inputs(smk)
    for w in ec.warnings(inp):
        log.warning("%s: %s", smk.input.effects, w)
    acc = ec.account(inp)
    log.info("effect %.3f, gross share %.3f: saving %.0f, surplus %.0f, payment %.0f per participant",
             inp.effect, inp.gross_share, acc.municipal_saving, acc.surplus, acc.payment)
    out = smk.output
    write_csv(ec.inputs_frame(inp, settings), out.inputs)
    write_csv(acc.to_frame(), out.account)
    write_csv(ec.break_even(inp).to_frame(), out.break_even)
    write_csv(ec.cash_flow(inp), out.cash_flow)
    seed = settings.get("seed", 20221101)
    sim = ec.simulate(inp, seed=seed)                                  # every risk figure reads it
    write_csv(ec.risk(inp, sim), out.risk)
    write_csv(ec.parties(sim), out.parties)
    write_csv(ec.stage_payments(inp), out.stages)
    write_csv(ec.sensitivity(inp), out.sensitivity)
    write_csv(ec.subgroup_payments(inp, settings, subgroups), out.subgroups)
    write_csv(ec.settlement(inp, settings, effects), out.settlement)
    comparison = ec.decay_comparison(*ec.decay_bases(inp, settings, decay), seed=seed,
                                     used=ec.MEASURED if ec.uses_measured_decay(settings) else "assumed")
    write_csv(comparison, out.decay_comparison)
    for r in comparison.itertuples():
        log.info("decay %s%s: %.2f (sd %.2f, %d flat years): municipality %.0f kr, P(negative) %.2f",
                 r.basis, " (used)" if r.used else "", r.decay, r.decay_sd, r.constant_years,
                 r.municipality_account, r.p_municipality_negative)


if "snakemake" not in globals():      # run alone: python workflow/scripts/<rule>.py cohort=<name>
    snakemake = standalone(__file__)
run(snakemake, main)
