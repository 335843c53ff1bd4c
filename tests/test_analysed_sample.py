"""One analysed sample: who is analysed is decided once (outcomes.analysed_sample) and the
flow, Table 1 and the weights all count the same persons; pathologies of real deliveries
that the demo extracts never had, each in a small test."""

import numpy as np
import pandas as pd
import pytest

from sibeval.errors import InconsistentTables
from sibeval.outcomes.flow import flow_counts
from sibeval.outcomes.status import (
    NO_CONTROL_IN_CALIPER,
    NO_CONTROL_OBSERVED,
    PARTICIPANT_UNOBSERVED,
    add_headlines,
    analysed_sample,
    table1,
)

DIED = "died before the outcome month ended"
PAST = "outcome month after the extract's coverage"


def status_frame():
    """Four matched sets: (1) observed participant, 3 controls of which 1 died; (2) a
    participant who died after matching, 2 observed controls; (3) a participant without
    controls; (4) an observed participant whose 2 controls lie past the coverage."""
    rows = [("p1", "participant", 1, ""), ("c1", "control", 1, ""), ("c2", "control", 1, ""),
            ("c3", "control", 1, DIED),
            ("p2", "participant", 2, DIED), ("c4", "control", 2, ""), ("c5", "control", 2, ""),
            ("p3", "participant", np.nan, ""),
            ("p4", "participant", 4, ""), ("c6", "control", 4, PAST), ("c7", "control", 4, PAST)]
    df = pd.DataFrame(rows, columns=["pnr", "role", "subclass", "excluded"])
    df["status"] = np.where(df["excluded"] == "", "temporary_benefit", None)
    df.loc[df.pnr == "c1", "status"] = "self_supporting_wage"
    return add_headlines(df)


def test_reasons_and_weights_of_each_person():
    s = analysed_sample(status_frame()).set_index(status_frame()["pnr"])
    assert s.loc["p1", "reason"] == "" and s.loc["p1", "weight"] == 1
    assert s.loc["p2", "reason"] == DIED
    assert s.loc[["c4", "c5"], "reason"].eq(PARTICIPANT_UNOBSERVED).all()
    assert s.loc["p3", "reason"] == NO_CONTROL_IN_CALIPER
    assert s.loc["p4", "reason"] == NO_CONTROL_OBSERVED
    assert s.loc[["c6", "c7"], "reason"].eq(PAST).all()
    assert s.loc["c3", "reason"] == DIED
    assert (s["weight"] > 0).sum() == 3            # p1, c1, c2
    assert s.loc[["c1", "c2"], "weight"].sum() == pytest.approx(2.0)


def test_flow_table1_and_weights_count_the_same_controls():
    """A matched participant who loses the outcome month takes its controls out of the
    analysis; the flow says so in its own step (on the old main the flow still counted
    them: 4 controls with an observed status against 2 analysed)."""
    df = status_frame()
    df["weight"] = analysed_sample(df)["weight"]
    flow = pd.DataFrame({"step": ["referred"], "n": [4], "excluded": [0], "reason": [""]})
    steps, reasons = flow_counts(flow, df)
    n = steps.set_index("step")["n"]
    t1 = table1(df, by="role", weight="weight")
    assert n["controls_matched"] == 7
    assert n["controls_participant_observed"] == 5
    assert n["controls_outcome_observed"] == 2 == t1.loc[t1.role == "control", "total"].iloc[0]
    assert n["matched"] == 1 == t1.loc[t1.role == "participant", "total"].iloc[0]
    r = reasons.set_index(["step", "reason"])["n"]
    assert r[("controls_participant_observed", PARTICIPANT_UNOBSERVED)] == 2
    assert r[("controls_outcome_observed", DIED)] == 1
    assert r[("controls_outcome_observed", PAST)] == 2
    assert r[("matched", NO_CONTROL_IN_CALIPER)] == 1
    assert r[("matched", NO_CONTROL_OBSERVED)] == 1
    assert r[("outcome_observed", DIED)] == 1


def test_without_such_persons_the_flow_keeps_its_shape():
    df = status_frame()
    df = df[df.subclass == 1].copy()
    df["weight"] = analysed_sample(df)["weight"]
    steps, _ = flow_counts(pd.DataFrame({"step": ["referred"], "n": [1], "excluded": [0], "reason": [""]}), df)
    assert "controls_participant_observed" not in set(steps.step)


def test_a_control_reused_in_two_sets_counts_once_per_set_and_once_as_a_person():
    """Matching with replacement: one control person in two matched sets. The flow and
    the weights count rows (as the effects' n_controls), the flow's persons count people,
    and Table 1's weighted counts are on the same row scale as the effects'."""
    rows = [("p1", "participant", 1, ""), ("c1", "control", 1, ""), ("c2", "control", 1, ""),
            ("p2", "participant", 2, ""), ("c1", "control", 2, ""), ("c3", "control", 2, DIED)]
    df = pd.DataFrame(rows, columns=["pnr", "role", "subclass", "excluded"])
    df["status"] = np.where(df["excluded"] == "", "temporary_benefit", None)
    df.loc[df.pnr == "c2", "status"] = "self_supporting_wage"
    df = add_headlines(df)
    df["weight"] = analysed_sample(df)["weight"]
    c = df[df.role == "control"]
    assert c["weight"].tolist() == pytest.approx([0.75, 0.75, 1.5, 0.0])   # 1/2, 1/2, 1/1 scaled to 3 rows
    steps, reasons = flow_counts(pd.DataFrame({"step": ["referred"], "n": [2], "excluded": [0], "reason": [""]}), df)
    s = steps.set_index("step")
    assert (s.at["controls_matched", "n"], s.at["controls_matched", "persons"]) == (4, 3)
    assert (s.at["controls_outcome_observed", "n"], s.at["controls_outcome_observed", "persons"]) == (3, 2)
    t1 = table1(df, by="role", weight="weight").set_index(["role", "outcome"])
    assert t1.at[("control", "self_supporting_wage"), "weighted_n"] == pytest.approx(0.75)
    assert t1.at[("control", "self_supporting_wage"), "share"] == pytest.approx(0.25)
    # disclosure control's range of one person's weight: c1 stands for 0.75 + 1.5
    from sibeval.inference.effects import with_persons
    w = with_persons(pd.DataFrame({"outcome": ["temporary_benefit"]}), df)
    assert (w.at[0, "w_min"], w.at[0, "w_max"]) == pytest.approx((0.75, 2.25))


def test_a_disagreement_between_tables_is_an_internal_error_naming_both():
    from sibeval.publish.ledger import Ledger

    led = Ledger(5)
    led.table = "effects"
    led.add("out:main:control:N", 468)
    led.table = "flow"
    with pytest.raises(InconsistentTables, match=r"'out:main:control:N'.*'effects' gives 468.*'flow' gives 476"):
        led.add("out:main:control:N", 476)


# ------------------------------------------------------------------ deliveries
def test_questionnaires_of_other_municipalities_are_left_out_not_refused(tmp_path):
    from conftest import questionnaire_rows, write_extract
    from sibeval.errors import ExtractError
    from sibeval.extract.readers import Extract

    q = pd.DataFrame([questionnaire_rows("A", "start"), questionnaire_rows("B", "start")])
    ex = Extract(write_extract(tmp_path / "ex", questionnaires=q))
    listed = ex.participants()
    cohort = listed[listed["kommune"] == 657]
    got = ex.questionnaires(listed, cohort=cohort)
    assert list(got["pnr"]) == ["A"]
    q2 = pd.concat([q, pd.DataFrame([questionnaire_rows("Z", "start")])])
    ex2 = Extract(write_extract(tmp_path / "ex2", questionnaires=q2))
    with pytest.raises(ExtractError, match="not in the participant list"):
        ex2.questionnaires(ex2.participants(), cohort=cohort)


def test_latin1_participant_list_is_read(tmp_path):
    from conftest import write_extract
    from sibeval.extract.readers import Extract

    folder = write_extract(tmp_path / "ex")
    p = pd.read_csv(folder / "participants.csv", sep=";", dtype=str, keep_default_na=False)
    p["bemaerkning"] = "særlig indsats – Æbeltoft"
    (folder / "participants.csv").write_bytes(p.to_csv(index=False, sep=",").encode("cp1252"))
    got = Extract(folder).participants()
    assert list(got["pnr"]) == ["A", "B"]
    assert str(got.loc[0, "start_dato"])[:10] == "2020-01-06"


def test_stata_upper_case_and_integer_codes(tmp_path):
    from conftest import write_extract
    from sibeval.demo.scenarios import Scenario, generate, write_files
    from sibeval.extract.readers import Extract

    g = generate(Scenario(seed=3, persons=400, participants=15, pathologies=frozenset({"int_codes"})))
    assert str(g["files"]["dream"].dtypes.iloc[1]) == "Int64"
    write_files(g["files"], tmp_path / "dta", "stata")
    assert (tmp_path / "dta" / "dream.dta").exists()
    ex = Extract(tmp_path / "dta")
    assert ex.participants()["pnr"].tolist() == g["files"]["participants"]["pnr"].tolist()
    d = ex.dream_weeks()
    assert len(d) > 100
    del write_extract
