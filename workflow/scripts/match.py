"""Propensity-score matching and balance (rule match).

Settings: cohort: matching, covariates
Inputs: interim/candidates.parquet
Outputs: interim/matched.parquet; interim/tables/balance.csv, match_summary.csv, design.csv, set_sizes.csv,
  covariate_counts.csv, overlap.csv (exact; the publish rule suppresses them)
Run alone (after its inputs exist): python workflow/scripts/match.py cohort=<name>
"""

import logging

import numpy as np
import pandas as pd

from sibeval.adapters import context, read_parquet, run, standalone, write_csv, write_parquet
from sibeval.design.balance import balance_before_after, covariate_counts, score_bins
from sibeval.design.matching import exact_on_constant, match, with_squares
from sibeval.design.summary import design_record, match_summary, set_sizes
from sibeval.errors import SibevalError, months, plain

log = logging.getLogger("sibeval")


def main(smk):
    ctx = context(smk)
    c = ctx.cohort
    m = c["matching"]
    cand = read_parquet(smk.input.candidates)
    covs = [v for v in c["covariates"] if cand[v].notna().all()]
    dropped = sorted(set(c["covariates"]) - set(covs))
    if dropped:
        log.warning("covariates without data in this extract, left out: %s", plain(dropped))
    same = [v for v in covs if cand[v].nunique() == 1]
    if same:
        log.warning("covariates with one value for every candidate (nothing to balance), left out: %s", plain(same))
        covs = [v for v in covs if v not in same]
    # a covariate with one value for every participant: the logit's limit is exact matching
    # on it (controls with another value would get a score of 0), said in the log
    cand, model_base, exact = exact_on_constant(cand, "treated", covs)
    cand = cand.reset_index(drop=True)
    for v, (value, _) in exact.items():
        log.warning(
            "covariate %s is %s for every participant: matching is exact on it (the eligible "
            "control rows with another value are left out) and it leaves the propensity model. "
            "To decide otherwise, drop %s from covariates: or restrict eligibility: in the "
            "cohort file",
            v,
            plain(value),
            v,
        )
    mahvars = model_base if m["mahvars"] == "covariates" else [v for v in m["mahvars"] if v in model_base]
    data, model_covs = with_squares(cand, model_base) if m["squares"] else (cand, model_base)
    once = m["controls_once_across_index_months"]
    if once:
        # a person referred later may be a control before their own start (risk sets): the unit
        # used once is the person as a control, apart from the same person as a participant
        # (whole numbers, not "participant:<pnr>" strings: a text per row of millions of candidates)
        person, persons = pd.factorize(data["pnr"].astype(str))
        data = data.assign(unit=np.where(data["treated"].to_numpy() == 0, person, person + len(persons)))
    res = match(
        data,
        "treated",
        model_covs,
        mahvars=mahvars,
        method=None if m["method"] == "none" else m["method"],
        distance="logit",
        ratio=m["ratio"],
        replace=m["replace"],
        caliper=m["caliper"],
        std_caliper=m["std_caliper"],
        exact=["index_month"],
        m_order=m["m_order"],
        unit_id="unit" if once else None,
    )
    un = res.unmatched_treated()
    if len(un):
        log.warning(
            "%d participant(s) found no control within the caliper (index months %s)",
            len(un),
            months(sorted(un["index_month"].unique())),
        )
    md = res.matched_data()
    if md["treated"].sum() == 0:
        raise SibevalError("match: no participant was matched; widen the caliper or check eligibility")
    bal = balance_before_after(res, m["smd_threshold"], covariates=covs)
    n_t = int((md.treated == 1).sum())
    n_c = int((md.treated == 0).sum())
    covs_bal = bal[bal.covariate != "distance"]
    off = covs_bal[covs_bal["smd_after"].abs() >= m["smd_threshold"]]
    for row in off.itertuples():
        log.warning(
            "covariate %s stays imbalanced after matching: SMD %.3f (threshold %.2f)",
            row.covariate,
            row.smd_after,
            m["smd_threshold"],
        )
    summ = match_summary(res, bal, m["smd_threshold"])
    log.info(
        "matched %d participants with %d controls (mahvars: %s); max |SMD| after %.3f",
        n_t,
        n_c,
        mahvars or "none",
        covs_bal["smd_after"].abs().max(),
    )
    keep = ["pnr", "index_month", "index_week", "treated", "ps", "distance", "weights", *covs]
    if len(res.pairs):
        matched = res.data.iloc[res.pairs["row"].to_numpy()][keep].reset_index(drop=True)
        matched["subclass"] = res.pairs["subclass"].to_numpy()
        # each control takes the dates of the participant of its matched set
        tp = matched[matched.treated == 1].set_index("subclass")["pnr"]
        matched["participant_pnr"] = matched["subclass"].map(tp)
    else:
        matched = md[keep].assign(subclass=pd.NA, participant_pnr=pd.NA)
    matched = matched.sort_values(
        ["subclass", "treated", "pnr"], ascending=[True, False, True], kind="stable"
    ).reset_index(drop=True)
    write_parquet(matched, smk.output.matched)
    write_csv(bal, smk.output.balance)
    write_csv(summ, smk.output.summary)
    write_csv(set_sizes(res), smk.output.set_sizes)
    write_csv(
        design_record(res, m["smd_threshold"], {v: value for v, (value, _) in exact.items()}, dropped + same),
        smk.output.design,
    )
    write_csv(covariate_counts(res.data, covs), smk.output.covariate_counts)
    write_csv(score_bins(res.data), smk.output.overlap)


if "snakemake" not in globals():  # run alone: python workflow/scripts/<rule>.py cohort=<name>
    snakemake = standalone(__file__)
run(snakemake, main)
