"""A cohort file's lasting outcomes (`outcomes:`, issue 25) as definitions, checked: what the
workflow's start-up reads without loading the analysis (sibeval.outcomes.lasting computes them)."""

from __future__ import annotations

from dataclasses import dataclass

from sibeval.errors import ConfigError
from sibeval.outcomes.names import HEADLINES, OUTCOMES


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
