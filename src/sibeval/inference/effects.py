"""The effect analysis of a matched cohort: every comparison the report shows, computed
from person-level outcome data (statistics first; suppression is applied afterwards)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sibeval.extract.codes import CodeTable
from sibeval.extract.panel import Panel
from sibeval.inference.comparisons import (
    adjust_family,
    compare_means,
    compare_shares,
    design_diagnostics,
    results_frame,
    status_distribution_test,
)
from sibeval.inference.sensitivity import Sensitivity, e_value, e_value_ci, sensitivity
from sibeval.outcomes.status import HEADLINES, OUTCOMES, STATUSES, classify_outcomes, set_weights


def _clusters(df):
    sub = df["subclass"].fillna(-1).to_numpy()
    if df.loc[df.role == "control", "pnr"].duplicated().any():   # controls reused
        return np.column_stack([sub, pd.factorize(df["pnr"])[0]])
    return sub


def with_covariates(status: pd.DataFrame, matched: pd.DataFrame, covariates) -> tuple[pd.DataFrame, list]:
    """The status frame with the matching covariates of each person's matched-set row, and
    the covariates that have a value for every matched person (those the match used)."""
    names = [c for c in covariates if c in matched and matched[c].notna().all()]
    cov = matched[["pnr", "subclass", *names]].copy()
    cov["subclass"] = cov["subclass"].astype(float)
    out = status.drop(columns=[c for c in names if c in status]).assign(
        _sub=status["subclass"].astype(float))
    out = out.merge(cov.rename(columns={"subclass": "_sub"}), on=["pnr", "_sub"], how="left",
                    validate="many_to_one").drop(columns="_sub")
    out.index = status.index
    return out, names


def outcome_effects(df: pd.DataFrame, primary_test: str, alpha: float, outcomes=OUTCOMES, covariates=()):
    """One ProportionComparison per outcome among analysed persons with weight > 0.

    The headline outcomes are pre-specified; the eight statuses are one exploratory
    family whose p-values are Holm-adjusted for the `significant` flag. With `covariates`
    (columns of `df`, see with_covariates) each comparison also carries the
    covariate-adjusted regression estimate."""
    d = df[df["weight"] > 0]
    t = (d["role"] == "participant").to_numpy()
    cl = _clusters(d)
    cov = d[list(covariates)].to_numpy(dtype=float) if len(covariates) else None
    res = [compare_shares(o, d[o].to_numpy(), t, d["weight"].to_numpy(), cl, primary_test, alpha,
                          cov, tuple(covariates))
           for o in outcomes]
    return adjust_family(res, STATUSES, alpha)


def with_persons(frame: pd.DataFrame, df: pd.DataFrame) -> pd.DataFrame:
    """Add what disclosure control needs beside the effects: the distinct persons with each
    outcome per group and the range of one control person's weight on the scale of
    `x_controls` (weights scaled to sum to the number of analysed control rows)."""
    d = df[df["weight"] > 0]
    t = d["role"] == "participant"
    out = frame.copy()
    out["persons_participants"] = [int(d.loc[t & (d[o] == 1), "pnr"].nunique()) for o in out["outcome"]]
    out["persons_controls"] = [int(d.loc[~t & (d[o] == 1), "pnr"].nunique()) for o in out["outcome"]]
    # the controls matched to the analysed participants, before their own exclusions (death):
    # with sets of known size a reader bounds it by the participants' count (see the ledger)
    sets = df.loc[(df["role"] == "participant") & (df["weight"] > 0), "subclass"]
    out["controls_in_sets"] = int(((df["role"] == "control") & df["subclass"].isin(sets)).sum())
    c = d.loc[~t, ["pnr", "weight"]]
    if len(c):
        scale = len(c) / c["weight"].sum()
        # one person's share of a weighted count: from its smallest row weight to the sum of
        # its rows' weights (a control reused in several matched sets has several rows)
        out["w_min"] = float(c["weight"].min() * scale)
        out["w_max"] = float(c.groupby("pnr")["weight"].sum().max() * scale)
    else:
        out["w_min"], out["w_max"] = 1.0, 1.0
    return out


def hours_and_wage(df: pd.DataFrame, alpha: float) -> pd.DataFrame:
    """Mean hours and wage among those in ordinary employment in the outcome month."""
    d = df[(df["weight"] > 0) & (df["ordinary_employment"] == 1)]
    t = d["role"] == "participant"
    return results_frame([compare_means(v, d.loc[t, v], d.loc[~t, v], alpha) for v in ("timer", "loen")])


def subgroup_effects(df: pd.DataFrame, matched: pd.DataFrame, variables, primary_test, alpha):
    """Effects within subgroups defined by the participant's value (whole matched sets)."""
    rows = []
    part = matched[matched["treated"] == 1].set_index("subclass")
    for var in variables:
        if var not in part:
            continue
        level = df["subclass"].map(part[var])
        for lv in sorted(level.dropna().unique()):
            sub = df[level == lv].copy()
            sub["weight"] = set_weights(sub)
            if (sub.loc[sub.role == "participant", "weight"] > 0).sum() == 0:
                continue
            f = with_persons(results_frame(outcome_effects(
                sub, primary_test, alpha, ("ordinary_employment", "self_supporting_or_education"))), sub)
            f.insert(0, "level", lv)
            f.insert(0, "subgroup", var)
            rows.append(f)
    # no subgroup: a table with its key columns and no rows (readers get an empty table)
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=["subgroup", "level", "outcome"])


def placebo(df: pd.DataFrame, panel: Panel, codes: CodeTable, months_before: int,
            primary_test: str, alpha: float) -> pd.DataFrame:
    """The same comparison in a month before the programme, which should show no effect."""
    d = df[df["weight"] > 0][["pnr", "role", "subclass", "index_month", "weight"]].copy()
    d["outcome_month"] = d["index_month"].astype(int) - months_before
    st = classify_outcomes(d.drop(columns=["weight"]), panel, codes, "exclude")
    st["weight"] = set_weights(st)
    res = outcome_effects(st, primary_test, alpha, OUTCOMES)
    f = with_persons(results_frame(res), st)
    f.insert(0, "months_before_index", months_before)
    return f


def diagnostics(results, power, alpha) -> pd.DataFrame:
    return results_frame([design_diagnostics(r, power, alpha) for r in results])


def distribution(df, reps, seed) -> pd.DataFrame:
    d = df[df["weight"] > 0]
    return status_distribution_test(d["status"], d["role"] == "participant", reps, seed).to_frame()


def sensitivity_table(df: pd.DataFrame, results, alpha: float, outcomes=tuple(HEADLINES)) -> pd.DataFrame:
    """E-values and Rosenbaum bounds of the headline outcomes (analysed persons of whole
    matched sets; without matched sets, e.g. weighting, the Rosenbaum columns stay empty)."""
    d = df[df["weight"] > 0]
    t = (d["role"] == "participant").to_numpy()
    rows = []
    for r in results:
        if r.outcome not in outcomes:
            continue
        if d["subclass"].notna().all():
            s = sensitivity(r.outcome, d[r.outcome], t, d["subclass"], r.risk_ratio, r.rr_ci_low,
                            r.rr_ci_high, alpha)
        else:
            s = Sensitivity(r.outcome, r.risk_ratio, r.rr_ci_low, r.rr_ci_high, e_value(r.risk_ratio),
                            e_value_ci(r.risk_ratio, r.rr_ci_low, r.rr_ci_high), np.nan, np.nan, 0, alpha)
        rows.append(s.to_frame())
    return pd.concat(rows, ignore_index=True)
