"""What the match says of itself: the match summary with coded rows and the design record
(the settings as applied: method, the covariates the Mahalanobis distance used, exact
matching, the balance threshold). The publish boundary and the report read these instead
of deciding again from the cohort file.
"""

from __future__ import annotations

import pandas as pd

from sibeval.design.matching import MatchResult

# MatchIt's sample labels (MatchResult.summary) -> the match summary's row codes
SIZE_ROWS = {"All": "all", "Matched (ESS)": "matched_ess", "Matched": "matched", "Unmatched": "unmatched"}
ROWS = (*SIZE_ROWS.values(), "controls_per_participant_min", "controls_per_participant_max",
        "distinct_control_persons", "covariates_imbalanced")


def match_summary(res: MatchResult, balance: pd.DataFrame, smd_threshold: float) -> pd.DataFrame:
    """Sample sizes (all, matched, effective, unmatched per group), the smallest and largest
    matched set, distinct control persons and the covariates missing the balance target.
    Rows about controls only leave the treated column empty."""
    s = res.summary()
    s["sample"] = s["sample"].map(SIZE_ROWS)
    md = res.matched_data()
    per_set = res.pairs[res.pairs.treated == 0].groupby("subclass").size()
    covs = balance[balance.covariate != "distance"]
    extra = pd.DataFrame([
        {"sample": "controls_per_participant_min", "control": int(per_set.min()), "treated": None},
        {"sample": "controls_per_participant_max", "control": int(per_set.max()), "treated": None},
        {"sample": "distinct_control_persons", "control": int(md.loc[md[res.treatment] == 0, "pnr"].nunique()),
         "treated": None},
        {"sample": "covariates_imbalanced", "control": int((covs["smd_after"].abs() >= smd_threshold).sum()),
         "treated": None},
    ])
    return pd.concat([s, extra], ignore_index=True)


def design_record(res: MatchResult, smd_threshold: float, exact_on: dict | None = None,
                  left_out: list[str] | tuple = ()) -> pd.DataFrame:
    """The match's settings as applied, one (setting, value) row each; lists are joined
    with ';'. `exact_on`: covariate -> value of those matched exactly because every
    participant has that value; `left_out`: covariates without data or variation."""
    exact_on = exact_on or {}
    rows = {
        "method": res.method or "none",
        "distance": res.distance,
        "estimand": res.estimand,
        "ratio": res.ratio,
        "replace": res.replace,
        "caliper_sd": "" if res.caliper_sd is None else res.caliper_sd,
        "m_order": res.m_order,
        "covariates": ";".join(res.covariates),
        "mahvars": ";".join(res.mahvars),
        "exact": ";".join(res.exact),
        "exact_constant": ";".join(f"{v}={value}" for v, value in exact_on.items()),
        "covariates_left_out": ";".join(left_out),
        "smd_threshold": smd_threshold,
    }
    return pd.DataFrame({"setting": list(rows), "value": [str(v) for v in rows.values()]})


def set_sizes(res: MatchResult) -> pd.DataFrame:
    """How many matched sets have each number of controls (size, sets): what the match summary's
    counts, smallest and largest set imply, so that the disclosure ledger can model it."""
    per_set = res.pairs[res.pairs.treated == 0].groupby("subclass").size()
    counts = per_set.value_counts().sort_index()
    return pd.DataFrame({"size": counts.index.astype(int), "sets": counts.to_numpy().astype(int)})
