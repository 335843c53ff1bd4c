"""Status in the outcome month for participants and matched controls (rule classify_outcomes).

Settings: cohort: follow_up_months, outcomes, control_dates, beyond_coverage, disclosure.min_cell; the code table
Inputs: panel, interim/matched.parquet, interim/participants.parquet, interim/flow_participants.csv
Outputs: interim/status_month.parquet, interim/panel_analysed.parquet (the analysed persons' panel rows, for
  effects), interim/tables/table1.csv, flow.csv, flow_reasons.csv (exact)
Run alone (after its inputs exist): python workflow/scripts/classify_outcomes.py cohort=<name>
"""
import logging

import pandas as pd

from sibeval.adapters import atomic_path, context, run, standalone, write_csv, write_parquet
from sibeval.design.cohort import require_publishable
from sibeval.extract.panel_io import read_panel, write_panel
from sibeval.outcomes.definitions import lasting_definitions
from sibeval.outcomes.flow import flow_counts
from sibeval.outcomes.lasting import lasting_outcomes
from sibeval.outcomes.status import analysed_sample, analysis_persons, classify_outcomes, table1

log = logging.getLogger("sibeval")


def main(smk):
    ctx = context(smk)
    c, codes = ctx.cohort, ctx.codes
    participants = pd.read_parquet(smk.input.participants)
    matched = pd.read_parquet(smk.input.matched)
    persons = analysis_persons(participants, matched, c["follow_up_months"], c["control_dates"])
    # only the analysed persons' months
    panel = read_panel(smk.input.panel, arrays=("group", "loen", "timer", "ordinary", "resident", "dead"),
                       pnr=persons["pnr"].unique())
    with atomic_path(smk.output.panel) as tmp:     # as read, for effects
        write_panel(panel, tmp)
    status = classify_outcomes(persons, panel, codes, c["beyond_coverage"])
    sample = analysed_sample(status)   # the one decision every table reads
    status["not_analysed"], status["weight"] = sample["reason"], sample["weight"]
    lasting = lasting_definitions(c["outcomes"])
    if lasting:
        status = status.join(lasting_outcomes(status, panel, ctx.codes, lasting))
        for d in lasting:
            log.info("%s: %s in at least %d of months %d-%d after the end month", d.name, d.status, d.at_least,
                     d.first, d.last)
    part = status[status.role == "participant"]
    require_publishable(int((part.weight > 0).sum()), ctx.min_cell,
                        "have an observed outcome and matched controls")
    for role, g in status.groupby("role"):
        excl = g.loc[g.not_analysed != "", "not_analysed"].value_counts()
        log.info("%s: %d classified, not analysed: %s", role, int(g.status.notna().sum()),
                 "; ".join(f"{k} ({v})" for k, v in excl.items()) or "none")
    write_parquet(status, smk.output.status)
    # Table 1 rests on the compared persons only: an unmatched participant (weight 0) is out,
    # so its n equals the effects table's. Exact counts: the publish step suppresses.
    t1 = table1(status, by="role", weight="weight")
    analysed = status[status.weight > 0]
    t1["persons"] = [int(analysed.loc[(analysed.role == r) & (analysed[o] == 1), "pnr"].nunique())
                     for r, o in zip(t1.role, t1.outcome)]
    write_csv(t1, smk.output.table1)
    steps, reasons = flow_counts(pd.read_csv(smk.input.flow), status)
    write_csv(steps, smk.output.flow)
    write_csv(reasons, smk.output.flow_reasons)


if "snakemake" not in globals():      # run alone: python workflow/scripts/<rule>.py cohort=<name>
    snakemake = standalone(__file__)
run(snakemake, main)
