"""Lasting outcomes (issue 25): in a status in at least k of a window of months after the end.

A cohort file defines them, e.g. Kolding's lasting job:

    outcomes:
      lasting_employment: {status: ordinary_employment, months: [1, 6], at_least: 5}

is 1 for an analysed person in ordinary employment in at least 5 of the 6 months from the
first to the sixth month after the end month, else 0. They are computed per person and tested
like the headline outcomes (same tests, intervals and sensitivity analysis), on the same
analysed sample: a lasting outcome never changes who is compared. A month after the person's
death counts as not in the status; a window past the extract's coverage for any analysed person
stops the run (counting those months as not in the status would lower both groups' shares by
an amount the data cannot show).
"""

from __future__ import annotations

import pandas as pd

from sibeval.errors import ConfigError, SibevalError
from sibeval.extract.codes import CodeTable
from sibeval.extract.panel import Panel
from sibeval.extract.timegrid import month_label
from sibeval.outcomes.definitions import LastingOutcome
from sibeval.outcomes.trajectory import monthly_status


def lasting_outcomes(status: pd.DataFrame, panel: Panel, codes: CodeTable,
                     definitions: tuple[LastingOutcome, ...]) -> pd.DataFrame:
    """One 0/1 column per lasting outcome for the analysed rows of `status` (weight > 0; NaN for
    the rest), aligned to `status`' index."""
    out = pd.DataFrame(index=status.index, columns=[d.name for d in definitions], dtype=float)
    analysed = status.index[status["weight"] > 0]
    if not definitions or not len(analysed):
        return out
    last = max(d.last for d in definitions)
    m = monthly_status(status, panel, codes, before=0, after=last)
    m = m[m["anchor"] == "end"]
    for d in definitions:
        if d.name in status.columns:
            raise ConfigError(f"outcomes.{d.name}: the name is a column of the outcome data; choose another name")
        w = m[m["month"].between(d.first, d.last)]
        past = w[~w["observed"]]
        if len(past):
            rows = past["row"].unique()
            roles = status.loc[analysed[rows], "role"].value_counts()
            last_covered = month_label(panel.months[panel.covered][-1]) if panel.covered.any() else "none"
            raise SibevalError(
                f"outcomes.{d.name}: months {d.first}-{d.last} after the end month lie past the extract's "
                f"last covered month {last_covered} for {roles.get('participant', 0)} participant(s) and "
                f"{roles.get('control', 0)} control row(s); shorten months in the cohort file or deliver "
                "a newer extract")
        hits = w["status"].isin(d.members).groupby(w["row"]).sum()
        out.loc[analysed, d.name] = (hits.reindex(range(len(analysed)), fill_value=0).to_numpy() >= d.at_least) \
            .astype(float)
    return out
