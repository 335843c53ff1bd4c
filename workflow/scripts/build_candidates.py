"""Participant flow, eligible candidates and covariates (rule build_candidates)."""
import logging

from sibeval.adapters import context, run, write_csv, write_parquet
from sibeval.cohort import build_candidates, index_weeks_needed, participant_flow, week_lookup
from sibeval.panel_io import read_panel

log = logging.getLogger("sibeval")


def main(smk):
    ctx = context(smk)
    c, codes, ex = ctx.cohort, ctx.codes, ctx.extract
    part_all = ex.participants()
    bef = ex.bef()
    analysed, flow = participant_flow(part_all, bef, c["municipalities"])
    panel = read_panel(smk.input.panel, arrays=("group", "ordinary", "resident", "dead"))
    dream = ex.dream(codes, weeks=index_weeks_needed(analysed))
    cand = build_candidates(
        analysed, set(part_all["pnr"]), panel, bef, codes, c["eligibility"],
        set(c["non_western_countries_exempt"]), ex.vnds(), ex.udda(), ex.lpr(),
        week_lookup(dream), municipalities=c["municipalities"] or sorted(analysed["kommune"].unique()),
    )
    log.info("candidates: %d participants, %d control rows (%d persons) over %d index months",
             int(cand.treated.sum()), int((cand.treated == 0).sum()),
             cand.loc[cand.treated == 0, "pnr"].nunique(), cand.index_month.nunique())
    write_parquet(cand, smk.output.candidates)
    write_parquet(analysed, smk.output.participants)
    write_csv(flow, smk.output.flow)


run(snakemake, main)
