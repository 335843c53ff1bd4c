"""Status in the outcome month for participants and matched controls (rule classify_outcomes)."""
import logging

import pandas as pd

from sibeval.adapters import context, run, write_csv, write_parquet
from sibeval.outcomes import analysis_persons, classify_outcomes, set_weights, table1
from sibeval.panel_io import read_panel
from sibeval.tables import flow_table, table1_display

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
    status = classify_outcomes(persons, panel, codes, c["beyond_coverage"])
    status["weight"] = set_weights(status)
    for role, g in status.groupby("role"):
        log.info("%s: %d classified, excluded: %s", role, int(g.status.notna().sum()),
                 g.loc[g.excluded != "", "excluded"].value_counts().to_dict())
    write_parquet(status, smk.output.status)
    t1 = table1(status.assign(w=status["weight"].where(status["role"] == "control", 1.0)),
                by="role", weight="w")
    write_csv(table1_display(t1, c["disclosure"]["min_cell"]), smk.output.table1)
    write_csv(flow_table(pd.read_csv(smk.input.flow), status, c["disclosure"]["min_cell"]), smk.output.flow)


run(snakemake, main)
