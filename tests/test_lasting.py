"""Lasting outcomes (issue 25): a status in at least k of a window of months after the end,
per person, checked against the month-by-month status on generated panels."""
import numpy as np
import pandas as pd
import pytest

from sibeval.errors import ConfigError, SibevalError
from sibeval.extract.panel import Panel
from sibeval.outcomes.definitions import check_publishable, lasting_definitions
from sibeval.outcomes.lasting import lasting_outcomes
from sibeval.outcomes.status import classify_outcomes

KOLDING = {"lasting_employment": {"status": "ordinary_employment", "months": [1, 6], "at_least": 5}}


def _world(seed: int, persons: int = 60, months: int = 48, cover: int | None = None):
    """A panel of persons drifting between benefit and self-supporting jobs, some dying, and
    their status frame (end months spread over the first half, all analysed)."""
    from sibeval.config import load_yaml
    from sibeval.extract.codes import CodeTable

    codes = CodeTable.from_config(load_yaml("config/dream_codes.yaml"))
    rng = np.random.default_rng(seed)
    temp, none = codes.gids("temporary_groups")[0], codes.gids("none_groups")[0]
    job = np.zeros((persons, months), bool)
    state = rng.random(persons) < 0.3
    for m in range(months):                                   # a job lasts: a sticky two-state chain
        state = np.where(state, rng.random(persons) < 0.8, rng.random(persons) < 0.15)
        job[:, m] = state
    ordinary = job & (rng.random((persons, months)) < 0.9)
    dead = np.zeros((persons, months), bool)
    for p in rng.choice(persons, persons // 10, replace=False):
        dead[p, rng.integers(10, months):] = True
    first = 2019 * 12
    covered = np.ones(months, bool)
    if cover is not None:
        covered[cover:] = False
    panel = Panel(pnr=np.array([f"p{i}" for i in range(persons)]), months=np.arange(first, first + months),
                  covered=covered, group=np.where(job, none, temp).astype(np.int8), loen=ordinary * 20000.0,
                  timer=ordinary * 120.0, ordinary=ordinary, resident=np.ones((persons, months), bool), dead=dead,
                  groups=codes.groups)
    end = first + rng.integers(0, months // 2, persons)
    status = pd.DataFrame({"pnr": panel.pnr, "role": np.where(np.arange(persons) % 4 == 0, "participant", "control"),
                           "subclass": np.arange(persons) // 4, "index_month": end - 6,
                           "slut_dato": [pd.Timestamp(year=int(e // 12), month=int(e % 12) + 1, day=15) for e in end],
                           "weight": 1.0})
    return panel, codes, status, end


def test_definitions_are_checked_with_the_setting_the_value_and_what_is_allowed():
    assert lasting_definitions(KOLDING)[0].members == ("self_supporting_wage", "wage_with_benefit")
    bad = [({"ordinary_employment": KOLDING["lasting_employment"]}, "built-in outcome"),
           ({"x": {**KOLDING["lasting_employment"], "status": "employed"}}, "'employed' is not a status"),
           ({"x": {**KOLDING["lasting_employment"], "months": [6, 1]}}, "x.months: [6, 1]"),
           ({"x": {**KOLDING["lasting_employment"], "at_least": 7}}, "not between 1 and the window's 6")]
    for cfg, text in bad:
        with pytest.raises(ConfigError, match=text.replace("[", r"\[").replace("]", r"\]")):
            lasting_definitions(cfg, "kolding.yaml")


@pytest.mark.parametrize("seed", range(8))
def test_a_lasting_outcome_counts_the_months_in_its_status(seed):
    """Against the outcome-month classification month by month: the count of months in the
    status, a death counting as not in it; one month of one is that month's status."""
    panel, codes, status, end = _world(seed)
    defs = lasting_definitions({"last": {"status": "ordinary_employment", "months": [1, 6], "at_least": 4},
                                "month3": {"status": "temporary_benefit", "months": [3, 3], "at_least": 1}})
    got = lasting_outcomes(status, panel, codes, defs)
    months = []
    for k in range(1, 7):
        s = classify_outcomes(status.assign(outcome_month=end + k), panel, codes)
        months.append(s["ordinary_employment"].fillna(0).to_numpy())       # dead: not in employment
        if k == 3:
            third = s
    assert np.array_equal(got["last"].to_numpy(), (np.sum(months, axis=0) >= 4).astype(float))
    alive = third["excluded"] == ""
    assert np.array_equal(got.loc[alive, "month3"], third.loc[alive, "temporary_benefit"])
    assert 0 < got["last"].mean() < 1                                  # both ways in every world


def test_only_the_analysed_rows_get_a_value():
    panel, codes, status, _ = _world(1)
    status.loc[status.index % 5 == 0, "weight"] = 0.0
    got = lasting_outcomes(status, panel, codes, lasting_definitions(KOLDING))
    assert got.loc[status.weight == 0, "lasting_employment"].isna().all()
    assert got.loc[status.weight > 0, "lasting_employment"].notna().all()


def test_a_window_past_the_extract_stops_with_who_and_how_to_fix():
    panel, codes, status, _ = _world(2, cover=24)
    with pytest.raises(SibevalError, match=r"outcomes.lasting_employment: months 1-6 .* last covered month "
                                           r"2020-12 for \d+ participant\(s\) and \d+ control row\(s\); shorten"):
        lasting_outcomes(status, panel, codes, lasting_definitions(KOLDING))


def test_a_lasting_outcome_may_not_republish_or_be_bounded_by_published_cells():
    cohort = {"outcomes": KOLDING, "follow_up_months": 6, "trajectory": {"publish": False}}
    check_publishable(cohort)
    with pytest.raises(ConfigError, match="cannot be combined yet"):
        check_publishable(cohort | {"trajectory": {"publish": True}})
    one = {"x": {"status": "self_supporting_wage", "months": [6, 6], "at_least": 1}}
    with pytest.raises(ConfigError, match=r"outcomes.x.months: \[6, 6\] is the outcome month alone"):
        check_publishable(cohort | {"outcomes": one})
    check_publishable(cohort | {"outcomes": {"x": {**one["x"], "months": [5, 5]}}})
