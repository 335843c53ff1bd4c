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

from dataclasses import dataclass

import pandas as pd

from sibeval.errors import ConfigError, SibevalError
from sibeval.extract.codes import CodeTable
from sibeval.extract.panel import Panel
from sibeval.extract.timegrid import month_label
from sibeval.outcomes.status import HEADLINES, OUTCOMES
from sibeval.outcomes.trajectory import monthly_status


@dataclass(frozen=True)
class LastingOutcome:
    """One lasting outcome: `status` (a status or headline) in at least `at_least` of the months
    `first`..`last` after the end month."""
    name: str
    status: str
    first: int
    last: int
    at_least: int

    @property
    def months(self) -> int:
        return self.last - self.first + 1

    @property
    def members(self) -> tuple:
        return HEADLINES.get(self.status, (self.status,))


def lasting_definitions(outcomes: dict | None, where: str = "cohort file") -> tuple[LastingOutcome, ...]:
    """The cohort file's `outcomes:` as LastingOutcome, checked (the error names the setting,
    the value and what is allowed)."""
    out = []
    for name, d in (outcomes or {}).items():
        at = f"{where}: outcomes.{name}"
        if name in OUTCOMES:
            raise ConfigError(f"{at}: the name '{name}' is a built-in outcome; choose another name")
        if d.get("status") not in OUTCOMES:
            raise ConfigError(f"{at}.status: '{d.get('status')}' is not a status or headline outcome; "
                              f"allowed: {', '.join(OUTCOMES)}")
        first, last = (int(m) for m in d["months"])
        if not 0 <= first <= last:
            raise ConfigError(f"{at}.months: [{first}, {last}] is not a window after the end month; "
                              "give [first, last] with 0 <= first <= last")
        if not 1 <= int(d["at_least"]) <= last - first + 1:
            raise ConfigError(f"{at}.at_least: {d['at_least']} is not between 1 and the window's "
                              f"{last - first + 1} months")
        out.append(LastingOutcome(name, d["status"], first, last, int(d["at_least"])))
    return tuple(out)


def check_publishable(cohort: dict, where: str = "cohort file") -> None:
    """A lasting outcome must not republish, or be tied by the disclosure ledger's blind spots to,
    cells published elsewhere: a window of the outcome month alone is Table 1's cell, and the
    published trajectory's monthly counts bound a lasting count (a L <= sum of the months'
    counts <= k L + (a - 1)(n - L)), relations the ledger does not hold yet."""
    lasting = lasting_definitions(cohort.get("outcomes"), where)
    if not lasting:
        return
    if (cohort.get("trajectory") or {}).get("publish"):
        raise ConfigError(f"{where}: outcomes ({', '.join(d.name for d in lasting)}) and trajectory.publish: true "
                          "cannot be combined yet: the months' published counts bound a lasting outcome's count, "
                          "which the disclosure control does not yet hold; set trajectory.publish: false or "
                          "remove outcomes")
    for d in lasting:
        if d.first == d.last == int(cohort.get("follow_up_months", -1)):
            raise ConfigError(f"{where}: outcomes.{d.name}.months: [{d.first}, {d.last}] is the outcome month "
                              "alone, which Table 1 publishes; give a window of several months")


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
