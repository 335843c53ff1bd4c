"""Analysis tables built from person-level results (exact; `sibeval.publish` suppresses)."""

from __future__ import annotations

import pandas as pd

from .outcomes import PARTICIPANT_UNOBSERVED, analysed_sample


def _reasons(step: str, why: pd.Series) -> list[dict]:
    return [{"step": step, "reason": k, "n": int(v)} for k, v in sorted(why[why != ""].value_counts().items())]


def flow_counts(flow_participants: pd.DataFrame, status: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The flow from referral to analysis (step, n, excluded) and the reason of every
    exclusion (step, reason, n), exact; the publish step decides what can be shown.

    The last participant and control steps count exactly the persons (rows) that
    `outcomes.analysed_sample` analyses, so they equal Table 1's and the effects' n."""
    why = analysed_sample(status)["reason"]
    steps = flow_participants[["step", "n", "excluded"]].to_dict("records")
    reasons = [{"step": r["step"], "reason": r["reason"], "n": int(r["excluded"])}
               for r in flow_participants.to_dict("records") if r["excluded"]]
    part = status["role"] == "participant"
    own = status["excluded"].fillna("")
    last = steps[-1]["n"]
    n_obs = int((part & (own == "")).sum())
    steps.append({"step": "outcome_observed", "n": n_obs, "excluded": last - n_obs})
    reasons += _reasons("outcome_observed", own[part])
    matched = int((part & (why == "")).sum())
    steps.append({"step": "matched", "n": matched, "excluded": n_obs - matched})
    reasons += _reasons("matched", why[part & (own == "")])
    ctrl = status["role"] == "control"
    n_c = int(ctrl.sum())
    steps.append({"step": "controls_matched", "n": n_c, "excluded": 0})
    n_pobs = int((ctrl & (why != PARTICIPANT_UNOBSERVED)).sum())
    if n_pobs < n_c:
        # a visible step only where it excludes someone, so the demo flows keep their shape
        steps.append({"step": "controls_participant_observed", "n": n_pobs, "excluded": n_c - n_pobs})
        reasons += _reasons("controls_participant_observed", why[ctrl & (why == PARTICIPANT_UNOBSERVED)])
    n_an = int((ctrl & (why == "")).sum())
    steps.append({"step": "controls_outcome_observed", "n": n_an, "excluded": steps[-1]["n"] - n_an})
    reasons += _reasons("controls_outcome_observed", why[ctrl & (why != PARTICIPANT_UNOBSERVED)])
    return pd.DataFrame(steps), pd.DataFrame(reasons, columns=["step", "reason", "n"])
