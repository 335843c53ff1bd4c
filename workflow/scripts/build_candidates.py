"""Participant flow, eligible control candidates and covariates (rule build_candidates).

Settings: cohort: participants_file, municipalities, eligibility, non_western_countries_exempt,
  birth_date_problems, disclosure.min_cell; the code table; the extract (normalised)
Inputs: the cohort's participant list; the normalised dream, bef, vnds, udda, lpr and summary; panel;
  the registers split by block (blocks/, written by normalise_extract)
Outputs: interim/candidates.parquet (person x index month, covariates), interim/participants.parquet,
  interim/flow_participants.csv, interim/tables/eligibility_funnel.csv (exact; published by publish)
Run alone (after its inputs exist): python workflow/scripts/build_candidates.py cohort=<name>
"""
import logging
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import pyarrow.compute as pc
import pyarrow.parquet as pq

from sibeval.adapters import context, run, standalone, write_csv, write_parquet, write_parquet_pieces
from sibeval.design.candidate_process import CandidateProcess
from sibeval.design.candidates import candidate_blocks, candidate_pieces, index_weeks_needed
from sibeval.design.cohort import participant_flow, require_publishable
from sibeval.design.month_stores import SpilledMonths
from sibeval.extract.normalise import retype
from sibeval.extract.panel_io import read_panel
from sibeval.extract.person_blocks import block_count, rows_of_persons
from sibeval.extract.timegrid import month_of_dates

log = logging.getLogger("sibeval")


def main(smk):
    ctx = context(smk)
    c, codes, ex = ctx.cohort, ctx.codes, ctx.extract
    files = {name: ex.file(name) for name in ("participants", "bef", "dream")}
    spill = Path(smk.output.candidates).parent / ".candidates.months"
    # two threads and more than one block of persons: half the blocks in a second process
    two = smk.threads > 1 and block_count(smk.input.blocks) > 1
    with CandidateProcess(f"{spill}.1") if two else nullcontext() as helper:
        analysed, referred, flow = participants(ctx, files)
        weeks = index_weeks_needed(analysed)
        if helper is not None:
            helper.reading(ex.folder, smk.input.panel, codes, weeks, smk.input.blocks)
        # the population a block of persons at a time (bounded memory at any population size)
        blocks = candidate_blocks(ex.folder, smk.input.panel, codes, weeks, smk.input.blocks,
                                  share=helper.share if two else (0, 1))
        # each block's control rows spilled by index month, then written month by month: millions
        # of control rows at national scale, never in memory at once
        store = SpilledMonths(spill)
        try:
            pieces, funnel = candidate_pieces(
                analysed, referred, read_panel(smk.input.panel, arrays=("dead",), pnr=analysed["pnr"]), blocks,
                codes, c["eligibility"], set(c["non_western_countries_exempt"]),
                municipalities=c["municipalities"] or sorted(analysed["kommune"].unique()),
                files=files, store=store, helper=helper,
            )
            write_parquet_pieces(pieces, smk.output.candidates)
        finally:
            store.close()
    t = pq.read_table(smk.output.candidates, columns=["pnr", "treated", "index_month"])
    control = pc.equal(t["treated"], 0)
    log.info("candidates: %d participants, %d control rows (%d persons) over %d index months%s",
             pc.sum(t["treated"]).as_py(), pc.sum(control).as_py(),
             pc.count_distinct(pc.filter(t["pnr"], control)).as_py(), pc.count_distinct(t["index_month"]).as_py(),
             " (half the blocks of persons in a second process)" if two else "")
    write_parquet(analysed, smk.output.participants)
    write_csv(flow, smk.output.flow)
    write_csv(funnel, smk.output.funnel)   # exact: the publish rule shapes and hides small counts


def participants(ctx, files):
    """The analysed participants, who may not be a control from when (`referred`), and the flow."""
    c, ex = ctx.cohort, ctx.extract
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
    return analysed, referred, flow


if "snakemake" not in globals():      # run alone: python workflow/scripts/<rule>.py cohort=<name>
    snakemake = standalone(__file__)
run(snakemake, main)
