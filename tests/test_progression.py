"""Progression on small hand-built questionnaire sets."""

import numpy as np
import pandas as pd
import pytest

from conftest import questionnaire_rows
from sibeval.extract.contract import BIP_ITEMS
from sibeval.progression import analysis as pg


def _part(n):
    return pd.DataFrame({"pnr": [f"p{i}" for i in range(n)], "kommune": [657] * (n // 2) + [791] * (n - n // 2),
                         "start_dato": pd.Timestamp("2020-01-06")})


def test_exact_shares_tie_only_item_and_wilson():
    rows = []
    for i, (s, e) in enumerate([(2, 3), (2, 4), (3, 3), (4, 2)]):
        rows += [questionnaire_rows(f"p{i}", "start", bip_motivation=s),
                 questionnaire_rows(f"p{i}", "slut", bip_motivation=e)]
    wide, flow = pg.pairs(pd.DataFrame(rows), _part(4))
    it = pg.item_changes(wide, ["bip_motivation", "bip_arbejdsevne"], {"bip_motivation": 0.75}, by=None, unsure_max=2)
    m = it.set_index("item").loc["bip_motivation"]
    assert (m.n_up, m.n_same, m.n_down) == (2, 1, 1) and m.share_up == 0.5
    assert m.p_vs_target == pytest.approx(0.2617, abs=1e-4)     # binom.test(2, 4, 0.75)
    tie = it.set_index("item").loc["bip_arbejdsevne"]           # everyone unchanged
    assert tie.share_same == 1.0 and tie.share_up == 0.0 and np.isnan(tie.share_of_down_started_unsure)
    assert m.share_of_down_started_unsure == 0.0               # the decliner started at 4


def test_item_nobody_answered_and_one_missing_who5_item():
    rows = []
    for i in range(3):
        rows += [questionnaire_rows(f"p{i}", "start", bip_jobsoegning=None),
                 questionnaire_rows(f"p{i}", "slut", bip_jobsoegning=None,
                                    who5_3=None if i == 0 else 4)]
    q = pd.DataFrame(rows)
    wide, flow = pg.pairs(q, _part(3), mode="any")
    it = pg.item_changes(wide, BIP_ITEMS, by=None).set_index("item")
    assert it.loc["bip_jobsoegning", "n"] == 0 and np.isnan(it.loc["bip_jobsoegning", "share_up"])
    sc = pg.who5_scores(wide).set_index("pnr")
    assert np.isnan(sc.loc["p0", "score_end"]) and sc.loc["p1", "score_end"] == (3 * 4 + 4) * 4
    s = pg.who5_summary(sc.reset_index(), by=None).iloc[0]
    assert s.n == 2
    complete, flow2 = pg.pairs(q, _part(3), mode="complete")
    assert len(complete) == 0 and flow2.iloc[-1]["reason"] == "incomplete items"


def test_who5_scores_bands_and_paired_tests():
    rows = []
    for i, (s, e) in enumerate([(1, 3), (2, 3), (2, 2), (3, 4), (4, 5)]):
        rows += [questionnaire_rows(f"p{i}", "start", who=s), questionnaire_rows(f"p{i}", "slut", who=e)]
    wide, _ = pg.pairs(pd.DataFrame(rows), _part(5))
    sc = pg.who5_scores(wide)
    assert sc["score_start"].tolist() == [20, 40, 40, 60, 80]
    s = pg.who5_summary(sc, by=None).iloc[0]
    assert s.mean_start == 48 and s.mean_end == 68
    assert s.n_improved_meaningfully == 4
    b = pg.band_transitions(sc)
    assert b.loc["0-35", ">50"] == 1 and b.loc["36-50", "36-50"] == 1 and b.values.sum() == 5
