"""Analysis tables built from person-level results (exact; `sibeval.publish.boundary` suppresses)."""

from __future__ import annotations

import pandas as pd

from sibeval.outcomes.status import PARTICIPANT_UNOBSERVED, analysed_sample


def _reasons(step: str, why: pd.Series, pnr: pd.Series) -> list[dict]:
    """Rows and distinct persons per reason (a control reused in several matched sets is
    one person)."""
    w = why[why != ""]
    persons = pnr[w.index].groupby(w).nunique()
    return [{"step": step, "reason": k, "n": int(v), "persons": int(persons[k])}
            for k, v in sorted(w.value_counts().items())]


def flow_counts(flow_participants: pd.DataFrame, status: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The flow from referral to analysis (step, n, excluded, persons) and the reason of
    every exclusion (step, reason, n, persons), exact; the publish step decides what can be
    shown. `n` counts rows (a control reused in several matched sets once per set, as the
    effects count it), `persons` distinct persons.

    The last participant and control steps count exactly the persons (rows) that
    `outcomes.analysed_sample` analyses, so they equal Table 1's and the effects' n."""
    why = analysed_sample(status)["reason"]
    pnr = status["pnr"]
    steps = [{**r, "persons": r["n"]} for r in flow_participants[["step", "n", "excluded"]].to_dict("records")]
    reasons = [{"step": r["step"], "reason": r["reason"], "n": int(r["excluded"]), "persons": int(r["excluded"])}
               for r in flow_participants.to_dict("records") if r["excluded"]]
    part = status["role"] == "participant"
    own = status["excluded"].fillna("")
    last = steps[-1]["n"]
    n_obs = int((part & (own == "")).sum())
    steps.append({"step": "outcome_observed", "n": n_obs, "excluded": last - n_obs, "persons": n_obs})
    reasons += _reasons("outcome_observed", own[part], pnr)
    matched = int((part & (why == "")).sum())
    steps.append({"step": "matched", "n": matched, "excluded": n_obs - matched, "persons": matched})
    reasons += _reasons("matched", why[part & (own == "")], pnr)
    ctrl = status["role"] == "control"

    def control_step(step, mask, before):
        n = int(mask.sum())
        steps.append({"step": step, "n": n, "excluded": before - n, "persons": int(pnr[mask].nunique())})
        return n
    n_c = control_step("controls_matched", ctrl, int(ctrl.sum()))
    has_participant = ctrl & (why != PARTICIPANT_UNOBSERVED)
    if int(has_participant.sum()) < n_c:
        # a visible step only where it excludes someone, so the demo flows keep their shape
        n_c = control_step("controls_participant_observed", has_participant, n_c)
        reasons += _reasons("controls_participant_observed", why[ctrl & ~has_participant], pnr)
    control_step("controls_outcome_observed", ctrl & (why == ""), n_c)
    reasons += _reasons("controls_outcome_observed", why[has_participant], pnr)
    return pd.DataFrame(steps), pd.DataFrame(reasons, columns=["step", "reason", "n", "persons"])
