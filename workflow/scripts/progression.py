"""Progression analysis of the BIP and WHO-5 questionnaires (rule progression)."""
import logging

import pandas as pd

from sibeval import figures
from sibeval import progression as pg
from sibeval.adapters import context, run, write_csv
from sibeval.catalogue import Catalogue
from sibeval.disclosure import small_counts, suppress_long_counts, suppress_matrix
from sibeval.errors import ExtractError
from sibeval.formatting import Formatter
from sibeval.registers import BIP_ITEMS, WHO5_ITEMS
from sibeval.report import Labels

log = logging.getLogger("sibeval")


def main(smk):
    ctx = context(smk)
    p, c, lang, k, ex = ctx.params, ctx.cohort, ctx.lang, ctx.min_cell, ctx.extract
    pc = c["progression"]
    labels = {i: v[lang] for i, v in p["labels"]["items"].items()}
    part = ex.participants()
    if c["municipalities"]:
        part = part[part["kommune"].isin(c["municipalities"])]
    q = ex.questionnaires(part)
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
    write_csv(flow.assign(excluded=small_counts(flow["excluded"], k)), smk.output.flow)
    shown = suppress_long_counts(items, ("n_up", "n_same", "n_down"), k)
    write_csv(shown, smk.output.item_table)
    write_csv(who5, smk.output.who5)
    shown_bands = suppress_matrix(bands, k)
    write_csv(shown_bands.reset_index(names="start_band"), smk.output.bands)
    cat, fmt, lb = Catalogue(lang), Formatter(lang), Labels(p["labels"], lang)
    legend = (cat("figures.down"), cat("figures.same"), cat("figures.up"))
    # figures from the suppressed table: a hidden share is not drawn
    allg = shown[shown["group"] == "all"].copy()
    for col in ("share_up", "share_same", "share_down"):
        allg[col] = pd.to_numeric(allg[col], errors="coerce")
    figures.save(figures.diverging_bars(allg[allg.item.isin(BIP_ITEMS)], labels, cat("figures.bip_title"), legend,
                                        fmt=fmt), smk.output.fig_bip[:-4])
    figures.save(figures.diverging_bars(allg[allg.item.isin(WHO5_ITEMS)], labels, cat("figures.who5_items_title"),
                                        legend, fmt=fmt), smk.output.fig_who5_items[:-4])
    figures.save(figures.means_plot(who5.assign(group=who5["group"].map(lb.group)),
                                    cat("figures.who5_means_title"), cat("figures.start"), cat("figures.end"),
                                    cat("figures.who5_score"), reference=pc["population_mean_who5"],
                                    reference_label=cat("figures.population_mean"), fmt=fmt),
                 smk.output.fig_who5[:-4])
    figures.save(figures.heatmap(shown_bands, cat("figures.who5_bands_title"), cat("figures.end"),
                                 cat("figures.start")), smk.output.fig_bands[:-4])

run(snakemake, main)
