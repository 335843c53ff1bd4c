"""Significance tests of participant vs control shares (rule effects).

Settings: cohort: effects, covariates, follow_up_months, trajectory, outcomes; the code table
Inputs: interim/status_month.parquet, interim/matched.parquet, interim/panel_analysed.parquet (classify_outcomes)
Outputs: interim/tables/effects.csv, status_distribution.csv, hours_wage.csv, subgroups.csv, placebo.csv,
  diagnostics.csv, sensitivity.csv, trajectory.csv, decay.csv (exact; the publish rule suppresses them)
Run alone (after its inputs exist): python workflow/scripts/effects.py cohort=<name>
"""
import logging

import pandas as pd

from sibeval.adapters import context, run, standalone, write_csv
from sibeval.extract.panel_io import read_panel
from sibeval.inference.comparisons import results_frame
from sibeval.inference.effects import (
    diagnostics,
    distribution,
    hours_and_wage,
    outcome_effects,
    placebo,
    sensitivity_table,
    subgroup_effects,
    with_covariates,
    with_persons,
)
from sibeval.outcomes.definitions import lasting_definitions
from sibeval.outcomes.names import HEADLINE_ORDER, HEADLINES, OUTCOMES
from sibeval.outcomes.trajectory import TRAJECTORY_COLUMNS, Decay, trajectory_tables

log = logging.getLogger("sibeval")


def main(smk):
    ctx = context(smk)
    c = ctx.cohort
    e = c["effects"]
    status = pd.read_parquet(smk.input.status)
    matched = pd.read_parquet(smk.input.matched)
    adjusted, covs = with_covariates(status, matched, c["covariates"])
    lasting = tuple(d.name for d in lasting_definitions(c["outcomes"]))
    res = outcome_effects(adjusted, e["primary_test"], e["alpha"], OUTCOMES + lasting, covariates=covs)
    for r in res[len(OUTCOMES) - 2:]:
        log.info("%s: %.1f%% vs %.1f%% (diff %.1f, %s p=%.4f; adjusted for covariates %.1f, p=%.4f)",
                 r.outcome, 100 * r.share_participants, 100 * r.share_controls, 100 * r.estimate,
                 r.primary_test, r.p_value, 100 * r.adjusted_estimate, r.p_adjusted_regression)
    write_csv(with_persons(results_frame(res), status), smk.output.effects)
    write_csv(sensitivity_table(status, res, e["alpha"], tuple(HEADLINES) + lasting), smk.output.sensitivity)
    write_csv(distribution(status, e["monte_carlo_reps"], e["seed"]), smk.output.distribution)
    write_csv(hours_and_wage(status, e["alpha"]), smk.output.hours_wage)
    absent = [v for v in e["subgroups"] if v not in matched.columns]
    if absent:
        log.warning("subgroup variable(s) %s are not among this cohort's covariates and are left out; "
                    "add them to covariates: in the cohort file to report them", ", ".join(absent))
    write_csv(subgroup_effects(status, matched, e["subgroups"], e["primary_test"], e["alpha"]), smk.output.subgroups)
    panel = read_panel(smk.input.panel, pnr=status["pnr"].unique())   # the analysed persons' rows
    write_csv(placebo(status, panel, ctx.codes, e["placebo_months_before"], e["primary_test"], e["alpha"]),
              smk.output.placebo)
    write_csv(diagnostics(res, e["power"], e["alpha"]), smk.output.diagnostics)
    # does the effect last? the headline outcomes month by month (issue 25)
    traj, decay = pd.DataFrame(columns=list(TRAJECTORY_COLUMNS)), pd.DataFrame(columns=list(Decay.__dataclass_fields__))
    if c["trajectory"]["enabled"]:
        traj, decay, lines = trajectory_tables(status, panel, ctx.codes, c["follow_up_months"], c["trajectory"],
                                               HEADLINE_ORDER)
        for line in lines:
            log.info(line)
    write_csv(traj, smk.output.trajectory)
    write_csv(decay, smk.output.decay)


if "snakemake" not in globals():      # run alone: python workflow/scripts/<rule>.py cohort=<name>
    snakemake = standalone(__file__)
run(snakemake, main)
