"""The whole workflow on extracts it was not tuned to (sibeval.demo.scenarios): each run
publishes, or stops with the one message its scenario must give; the audit passes; counts
shown in two places agree; every analysed person's status equals a slow re-implementation
of the data contract; no person identifier leaves interim/. bench/scenarios.py runs fifty
seeds and measures how often the headline CI covers the generator's true effect."""

import pandas as pd
import pytest

from scenario_checks import check_run, run_scenario
from sibeval.demo.scenarios import PATHOLOGIES, Scenario, generate, random_scenario

# Every pathology is on in at least one of these; each runs in 10-30 s.
FIXED = {
    "lost_outcome_months": Scenario(seed=11, pathologies=frozenset({
        "die_after_match", "emigrate_after_match", "outcome_past_coverage", "questionnaires",
        "extra_municipalities"})),
    "csv_bom_int_codes": Scenario(seed=12, fmt="csv", pathologies=frozenset({
        "int_codes", "no_eindkomst", "odd_title", "never_started", "start_questionnaire_only", "replace"})),
    "stata_small_municipality_ties": Scenario(seed=13, fmt="stata", persons=2500, participants=40,
                                              pathologies=frozenset({
                                                  "small_municipality", "binary_covariates", "tight_caliper"})),
    "latin1_few_controls_one_status": Scenario(seed=14, fmt="csv_latin1", persons=2000, participants=70,
                                               pathologies=frozenset({"few_controls", "all_one_status"})),
    "constant_covariate_exact": Scenario(seed=15, participants=20, pathologies=frozenset({"constant_covariate"})),
}


def test_the_fixed_scenarios_switch_on_every_pathology():
    assert set().union(*(s.pathologies for s in FIXED.values())) == set(PATHOLOGIES)


def test_generator_is_deterministic_and_its_truth_is_in_the_files():
    """Same seed, same frames; a participant the programme moved into work is, by the
    contract's rules read off the files, self-supporting with a wage in the outcome month,
    and one who could not be moved was in ordinary employment, not resident or dead."""
    from scenario_checks import slow_status

    sc = FIXED["lost_outcome_months"]
    a, b = generate(sc), generate(sc)
    assert a["files"]["dream"].equals(b["files"]["dream"])
    assert a["truth"].equals(b["truth"])
    part = a["files"]["participants"].set_index("pnr")
    truth = a["truth"].set_index("pnr")
    switched = truth.index[truth["switched"] == 1]
    assert 0 < len(switched) < len(truth)
    for pnr in list(switched) + list(truth.index[truth["could_switch"] == 0][:10]):
        end = pd.Timestamp(part.at[pnr, "slut_dato"])
        m = end.year * 12 + end.month - 1 + 2
        st = slow_status(a["files"], pnr, m // 12, m % 12 + 1)
        if truth.at[pnr, "switched"]:
            assert st == "self_supporting_wage"
        elif m < a["last_month"] + 1:
            assert st in (None, "not_resident", "self_supporting_wage", "wage_with_benefit")


@pytest.mark.workflow
@pytest.mark.parametrize("name", list(FIXED))
def test_workflow_on_scenario(name, tmp_path):
    sc = FIXED[name]
    res = check_run(sc, run_scenario(sc, tmp_path / "wd"), status_sample=120)
    assert res["failures"] == [], res
    assert res["publish"] == ("stop (expected)" if sc.expected_stop() else "yes")


@pytest.mark.workflow
@pytest.mark.parametrize("seed", [104, 107])
def test_workflow_on_random_scenario(seed, tmp_path):
    sc = random_scenario(seed)
    res = check_run(sc, run_scenario(sc, tmp_path / "wd"), status_sample=120)
    assert res["failures"] == [], res


def test_cli_writes_an_extract_and_its_cohort_file(tmp_path, capsys):
    import yaml

    from sibeval.cli import main

    out, cohort = tmp_path / "try1", tmp_path / "try1.yaml"
    assert main(["scenario", "--out", str(out), "--seed", "7", "--persons", "2000", "--participants", "20",
                 "--pathology", "die_after_match", "--format", "csv", "--cohort-file", str(cohort)]) == 0
    assert {p.name for p in out.iterdir()} >= {"dream.csv", "bef.csv", "eindkomst.csv", "participants.csv"}
    assert (out / "dream.csv").read_bytes()[:3] == b"\xef\xbb\xbf"            # UTF-8 with BOM
    c = yaml.safe_load(cohort.read_text())
    assert c["extract"] == "try1" and c["municipalities"]
    assert main(["scenario", "--out", str(tmp_path / "x"), "--pathology", "nope"]) == 2
    assert "nope is not known" in capsys.readouterr().err
    assert main(["scenario", "--out", str(out)]) == 2                          # not over an extract
