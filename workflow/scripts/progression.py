"""Progression analysis of the BIP and WHO-5 questionnaires (rule progression).

Settings: cohort: participants_file, progression, municipalities; item labels; the extract
Inputs: the cohort's participant list and questionnaires (validated first by cohort_qc)
Outputs: interim/tables/progression_flow.csv, progression_items.csv, who5.csv, who5_bands.csv (exact)
Run alone (after its inputs exist): python workflow/scripts/progression.py cohort=<name>
"""
import logging

from sibeval.adapters import context, run, standalone, write_csv
from sibeval.errors import ExtractError
from sibeval.extract.contract import BIP_ITEMS, WHO5_ITEMS
from sibeval.progression import analysis as pg

log = logging.getLogger("sibeval")


def main(smk):
    ctx = context(smk)
    p, c, ex = ctx.params, ctx.cohort, ctx.extract
    pc = c["progression"]
    listed = ex.participants()
    part = listed[listed["kommune"].isin(c["municipalities"])] if c["municipalities"] else listed
    # rows of other municipalities' participants belong to other cohorts: left out, not refused
    q = ex.questionnaires(listed, cohort=part)
    if q is None:
        raise ExtractError(f"{p['extract_dir']}/{pc['questionnaire_file']}", "no questionnaire file",
                           fix="deliver it, or set progression.enabled: false in the cohort file")
    wide, flow = pg.pairs(q, part, pc["pairs"])
    targets = {i: pc["bip_target"] for i in BIP_ITEMS} | {i: pc["who5_target"] for i in WHO5_ITEMS}
    indicators = [i for i, v in p["labels"]["items"].items() if v.get("indicator")]
    items = pg.item_changes(wide, BIP_ITEMS + WHO5_ITEMS, targets, "kommune", indicators, pc["unsure_max"])
    scores = pg.who5_scores(wide)
    who5 = pg.who5_summary(scores, pc["population_mean_who5"], pc["who5_meaningful_change"])
    bands = pg.band_transitions(scores)
    log.info("progression: %d pairs; WHO-5 %s", len(wide),
             who5[["group", "n", "mean_start", "mean_end", "p_paired_t"]].round(3).to_dict("records"))
    # exact tables: the publish rule suppresses them
    write_csv(flow, smk.output.flow)
    write_csv(items, smk.output.item_table)
    write_csv(who5, smk.output.who5)
    write_csv(bands.reset_index(names="start_band"), smk.output.bands)


if "snakemake" not in globals():      # run alone: python workflow/scripts/<rule>.py cohort=<name>
    snakemake = standalone(__file__)
run(snakemake, main)
