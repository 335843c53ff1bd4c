"""Golden tests of the person-month panel and the Table 1 classification on tiny
hand-built extracts (written here, not generated). Each fails if its rule changes."""

import pandas as pd
import pytest

from conftest import dream_frame
from sibeval.extract.panel import build_panel
from sibeval.extract.readers import DreamData
from sibeval.extract.timegrid import month_index
from sibeval.outcomes.status import classify_outcomes, table1

JAN20 = int(month_index(2020, 1))


def _dream(rows, codes):
    """DreamData from {pnr: {(year, week): code}} over ISO years 2019-2021."""
    df = dream_frame(rows)
    weeks = [(int("20" + c[2:4]), int(c[4:])) for c in df.columns[1:]]
    ids, _ = codes.lookup([None] + [v for c in df.columns[1:] for v in df[c]])
    g = ids[1:].reshape(len(weeks), len(df)).T
    return DreamData(df["pnr"].to_numpy(object), tuple(weeks), g, {}, {})


def _weeks_of(year, month):
    """ISO weeks whose Thursday falls in the month."""
    days = pd.date_range(f"{year}-{month:02d}-01", periods=31, freq="D")
    return [tuple(d.isocalendar()[:2]) for d in days if d.month == month and d.day_of_week == 3]


def _month(code, year=2020, month=3, weeks=None):
    return {w: code for w in (weeks or _weeks_of(year, month))}


def classify(rows, codes, wages=(), vnds=None, dod=None, month=(2020, 3)):
    ek = pd.DataFrame(list(wages), columns=["pnr", "maaned", "loen", "timer"]) if wages else \
        pd.DataFrame({"pnr": [], "maaned": [], "loen": [], "timer": []})
    panel = build_panel(_dream(rows, codes), ek, codes, vnds, dod)
    persons = pd.DataFrame({"pnr": list(rows), "outcome_month": int(month_index(*month)), "role": "p"})
    return classify_outcomes(persons, panel, codes).set_index("pnr")


def test_each_of_the_eight_statuses(codes):
    rows = {"sw": {}, "su": {}, "wb": _month("132"), "ed": _month("651"), "fx": _month("521"),
            "tb": _month("132"), "pb": _month("781"), "nr": _month("998")}
    wages = [("sw", "2020-03", 20000.0, 150.0), ("wb", "2020-03", 3000.0, 20.0), ("fx", "2020-03", 9000.0, 60.0)]
    r = classify(rows, codes, wages)
    assert r["status"].to_dict() == {
        "sw": "self_supporting_wage", "su": "self_supporting_unknown", "wb": "wage_with_benefit",
        "ed": "education", "fx": "flexjob_or_ledighedsydelse", "tb": "temporary_benefit",
        "pb": "permanent_benefit", "nr": "not_resident"}
    t = table1(r.reset_index(), by="role").set_index("outcome")
    assert t.loc["self_supporting_or_education", "n"] == 3     # sw + su + ed
    assert t.loc["ordinary_employment", "n"] == 2               # sw + wb (not the flex job wage)


@pytest.mark.parametrize("code,expected", [
    ("651", "education"),                  # wage + education -> education
    ("231", "temporary_benefit"),          # wage + subsidised job: the wage is not ordinary
    ("781", "permanent_benefit"),          # pension + wage -> permanent
    ("511", "flexjob_or_ledighedsydelse"),
])
def test_precedence_conflicts_with_a_wage(codes, code, expected):
    r = classify({"a": _month(code)}, codes, [("a", "2020-03", 5000.0, 30.0)])
    assert r.loc["a", "status"] == expected


def test_emigrated_then_returned_before_the_outcome_month_is_resident(codes):
    vnds = pd.DataFrame({"pnr": ["a", "a"], "haend_dato": pd.to_datetime(["2019-05-01", "2020-02-10"]),
                         "indud_kode": ["U", "I"]})
    r = classify({"a": _month("132")}, codes, vnds=vnds)
    assert r.loc["a", "status"] == "temporary_benefit"


def test_return_after_the_outcome_month_ends_is_not_resident(codes):
    vnds = pd.DataFrame({"pnr": ["a", "a"], "haend_dato": pd.to_datetime(["2020-01-05", "2020-04-02"]),
                         "indud_kode": ["U", "I"]})
    r = classify({"a": _month("132")}, codes, vnds=vnds)
    assert r.loc["a", "status"] == "not_resident"


def test_emigration_code_without_vnds_and_vnds_without_code(codes):
    vnds = pd.DataFrame({"pnr": ["v"], "haend_dato": pd.to_datetime(["2020-03-20"]), "indud_kode": ["U"]})
    r = classify({"code": _month("998"), "v": {}}, codes, [("v", "2020-03", 1000.0, 5.0)], vnds=vnds)
    assert r["status"].to_dict() == {"code": "not_resident", "v": "not_resident"}


def test_month_with_five_weeks_majority(codes):
    jan = _weeks_of(2020, 1)
    assert len(jan) == 5
    rows = {"a": {w: "132" for w in jan[:3]}, "b": {w: "132" for w in jan[:2]}}
    r = classify(rows, codes, month=(2020, 1))
    assert r["status"].to_dict() == {"a": "temporary_benefit", "b": "self_supporting_unknown"}


def test_iso_week_53_belongs_to_december(codes):
    dec = _weeks_of(2020, 12)
    assert (2020, 53) in dec
    rows = {"a": {w: "651" for w in dec if w in ((2020, 52), (2020, 53))} | {dec[0]: "132"}}
    r = classify(rows, codes, month=(2020, 12))
    assert r.loc["a", "status"] == "education"


def test_week_spanning_two_months_goes_to_the_month_of_its_thursday(codes):
    # 2020-W05 runs Mon 27 Jan - Sun 2 Feb; its Thursday is 30 Jan
    rows = {"a": {(2020, 5): "132", (2020, 6): "132"}}
    jan = classify(rows, codes, month=(2020, 1))
    feb = classify(rows, codes, month=(2020, 2))
    assert jan.loc["a", "group"] == "none" and feb.loc["a", "group"] == "none"
    rows = {"a": {(2020, 4): "132", (2020, 5): "132", (2020, 3): "132"}}
    assert classify(rows, codes, month=(2020, 1)).loc["a", "group"] == "kontanthjaelp"


def test_tie_between_groups_goes_to_the_earlier_precedence(codes):
    feb = _weeks_of(2020, 2)
    assert len(feb) == 4
    rows = {"edu": {feb[0]: "132", feb[1]: "132", feb[2]: "651", feb[3]: "651"},
            "none": {feb[0]: "132", feb[1]: "132"}}
    r = classify(rows, codes, month=(2020, 2))
    assert r.loc["edu", "status"] == "education"
    # benefit vs empty tie: temporary benefit comes before none in the list
    assert r.loc["none", "status"] == "temporary_benefit"


def test_several_employers_are_summed(codes):
    r = classify({"a": {}}, codes, [("a", "2020-03", 3000.0, 10.0), ("a", "2020-03", 2000.5, 5.0)])
    assert r.loc["a", "loen"] == 5000.5 and r.loc["a", "timer"] == 15.0
    assert r.loc["a", "status"] == "self_supporting_wage"


def test_wage_of_exactly_zero_is_not_employment(codes):
    r = classify({"a": {}}, codes, [("a", "2020-03", 0.0, 0.0)])
    assert r.loc["a", "status"] == "self_supporting_unknown"


def test_missing_eindkomst_rows_mean_no_wage(codes):
    r = classify({"a": _month("132"), "b": {}}, codes, [("a", "2020-02", 9000.0, 50.0)])
    assert r["status"].to_dict() == {"a": "temporary_benefit", "b": "self_supporting_unknown"}


def test_death_before_outcome_month_end_excludes(codes):
    dod = pd.DataFrame({"pnr": ["a"], "doddato": pd.to_datetime(["2020-03-15"])})
    r = classify({"a": _month("132"), "b": _month("132")}, codes, dod=dod)
    assert r.loc["a", "excluded"] == "died before the outcome month ended"
    assert pd.isna(r.loc["a", "status"]) and r.loc["b", "excluded"] == ""


def test_outcome_month_after_coverage_is_excluded_or_an_error(codes):
    from sibeval.errors import SibevalError
    r = classify({"a": {}}, codes, month=(2022, 3))
    assert r.loc["a", "excluded"] == "outcome month after the extract's coverage"
    panel = build_panel(_dream({"a": {}}, codes), pd.DataFrame(columns=["pnr", "maaned", "loen", "timer"]), codes)
    with pytest.raises(SibevalError, match="after the extract's last covered month"):
        classify_outcomes(pd.DataFrame({"pnr": ["a"], "outcome_month": [int(month_index(2022, 3))]}),
                          panel, codes, beyond_coverage="error")
