"""Participant flow, eligible control candidates and covariates (rule build_candidates).

Settings: cohort: participants_file, municipalities, eligibility, non_western_countries_exempt,
  birth_date_problems, disclosure.min_cell; the code table; the extract (normalised)
Inputs: the cohort's participant list; the normalised dream, bef, vnds, udda, lpr and summary; panel;
  the registers split by block (rule split_registers)
Outputs: interim/candidates.parquet (person x index month, covariates), interim/participants.parquet,
  interim/flow_participants.csv, interim/tables/eligibility_funnel.csv (exact; published by publish)
Run alone (after its inputs exist): python workflow/scripts/build_candidates.py cohort=<name>
"""
import logging
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pyarrow.compute as pc
import pyarrow.parquet as pq

from sibeval.adapters import SpilledMonths, context, run, standalone, write_csv, write_parquet, write_parquet_pieces
from sibeval.design.candidates import candidate_pieces, index_weeks_needed, week_lookup
from sibeval.design.cohort import participant_flow, require_publishable
from sibeval.extract.normalise import retype
from sibeval.extract.panel_io import read_panel
from sibeval.extract.person_blocks import person_blocks, rows_of_persons
from sibeval.extract.timegrid import month_of_dates

log = logging.getLogger("sibeval")


def main(smk):
    ctx = context(smk)
    c, codes, ex = ctx.cohort, ctx.codes, ctx.extract
    files = {name: ex.file(name) for name in ("participants", "bef", "dream")}
    part_all = ex.participants()
    bef = rows_of_persons(ex.folder / "bef.parquet", part_all["pnr"])    # index: row in bef
    analysed, flow = participant_flow(part_all, retype(bef, "bef"), c["municipalities"],
                                      c["birth_date_problems"], files)
    log.info("participant flow: %s", "; ".join(f"{r.step} {r.n}" for r in flow.itertuples()))
    require_publishable(len(analysed), ctx.min_cell, "can be analysed (started, found in bef, ended)")
    if len(analysed) < 30:
        log.warning("only %d participants can be analysed: estimates will be imprecise and counts "
                    "below %d are suppressed in every table", len(analysed), ctx.min_cell)
    if c["eligibility"]["referred_later_as_controls"]:
        # risk sets: a person is a candidate control until the month of their referral
        ref = np.where(part_all["visitation_dato"].notna(), month_of_dates(part_all["visitation_dato"]),
                       month_of_dates(part_all["start_dato"]))
        referred = {p: (float(m) if m >= 0 else -np.inf) for p, m in zip(part_all["pnr"], ref)}
    else:
        referred = set(part_all["pnr"])
    # the population a block of persons at a time (bounded memory at any population size)
    blocks = (SimpleNamespace(panel=b.panel, snapshot=b.snapshot, vnds=b.vnds, udda=b.udda, lpr=b.lpr,
                              week_groups=week_lookup(b.dream))
              for b in person_blocks(ex.folder, smk.input.panel, codes, index_weeks_needed(analysed),
                                     smk.input.blocks))
    # each block's control rows spilled by index month, then written month by month: millions
    # of control rows at national scale, never in memory at once
    store = SpilledMonths(Path(smk.output.candidates).parent / ".candidates.months")
    try:
        pieces, funnel = candidate_pieces(
            analysed, referred, read_panel(smk.input.panel, arrays=("dead",), pnr=analysed["pnr"]), blocks,
            codes, c["eligibility"], set(c["non_western_countries_exempt"]),
            municipalities=c["municipalities"] or sorted(analysed["kommune"].unique()), files=files, store=store,
        )
        write_parquet_pieces(pieces, smk.output.candidates)
    finally:
        store.close()
    t = pq.read_table(smk.output.candidates, columns=["pnr", "treated", "index_month"])
    control = pc.equal(t["treated"], 0)
    log.info("candidates: %d participants, %d control rows (%d persons) over %d index months",
             pc.sum(t["treated"]).as_py(), pc.sum(control).as_py(),
             pc.count_distinct(pc.filter(t["pnr"], control)).as_py(), pc.count_distinct(t["index_month"]).as_py())
    write_parquet(analysed, smk.output.participants)
    write_csv(flow, smk.output.flow)
    write_csv(funnel, smk.output.funnel)   # exact: the publish rule shapes and hides small counts


if "snakemake" not in globals():      # run alone: python workflow/scripts/<rule>.py cohort=<name>
    snakemake = standalone(__file__)
run(snakemake, main)
