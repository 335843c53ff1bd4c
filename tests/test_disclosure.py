"""Small-cell suppression: primary, complementary, with headline sums, 2-way tables."""

import pandas as pd

from sibeval.disclosure import suppress_long_counts, suppression_mask, suppression_mask_2d
from sibeval.outcomes import HEADLINES, STATUSES
from sibeval.tables import table1_display


def test_primary_and_complementary_in_a_column():
    c = pd.DataFrame({"g": [10, 3, 40, 0]}, index=list("abcd"))
    m = suppression_mask(c, 5)["g"]
    assert m.tolist() == [True, True, False, False]     # 3 hidden, then the smallest other


def test_headline_sums_steer_the_complementary_cell():
    # the SIB participants: 10, 5, 9, 0, 0, 27, 0, 4
    n = dict(zip(STATUSES, [10, 5, 9, 0, 0, 27, 0, 4]))
    c = pd.DataFrame({"participant": n})
    m = suppression_mask(c, 5, relations=list(HEADLINES.values()))["participant"]
    assert m["not_resident"] and m["temporary_benefit"]       # in no headline sum
    assert not m[["self_supporting_wage", "self_supporting_unknown", "wage_with_benefit"]].any()


def test_no_published_sum_has_exactly_one_hidden_cell():
    n = dict(zip(STATUSES, [10, 5, 9, 0, 0, 27, 0, 4]))
    m = suppression_mask(pd.DataFrame({"p": n}), 5, relations=list(HEADLINES.values()))["p"]
    for rel in [STATUSES, *HEADLINES.values()]:
        assert sum(m[r] for r in rel) != 1


def test_table1_display_never_shows_a_small_count_or_its_share():
    rows = []
    for o, k in zip(STATUSES, [10, 5, 9, 0, 0, 27, 0, 4]):
        rows.append({"role": "participant", "outcome": o, "n": k, "weighted_n": k, "total": 55, "share": k / 55})
        rows.append({"role": "control", "outcome": o, "n": 50, "weighted_n": 50.0, "total": 400, "share": 0.125})
    for h, members in HEADLINES.items():
        k = sum(dict(zip(STATUSES, [10, 5, 9, 0, 0, 27, 0, 4]))[m] for m in members)
        rows.append({"role": "participant", "outcome": h, "n": k, "weighted_n": k, "total": 55, "share": k / 55})
        rows.append({"role": "control", "outcome": h, "n": 100, "weighted_n": 100.0, "total": 400, "share": 0.25})
    d = table1_display(pd.DataFrame(rows), 5).set_index("outcome")
    assert d.loc["not_resident", "n_participant"] == "<5" and d.loc["not_resident", "share_participant"] == ""
    assert d.loc["temporary_benefit", "n_participant"] == "x"
    assert d.loc["self_supporting_wage", "n_participant"] == 10


def test_partition_rows_and_two_way_tables():
    t = pd.DataFrame({"item": ["a"], "n_up": [29], "n_same": [11], "n_down": [4],
                      "share_up": [29 / 44], "share_same": [0.25], "share_down": [4 / 44]})
    s = suppress_long_counts(t, ("n_up", "n_same", "n_down"), 5).iloc[0]
    assert s.n_down == "<5" and s.share_down == "" and s.n_same == "x" and s.share_up == 29 / 44
    m = suppression_mask_2d(pd.DataFrame([[2, 0, 2], [1, 13, 7], [0, 0, 19]]), 5)
    for axis in (0, 1):
        assert not (m.sum(axis=axis) == 1).any()


def test_effects_rows_with_a_small_cell_hide_shares_differences_and_p_values():
    import numpy as np

    from sibeval.inference import compare_shares
    from sibeval.tables import suppress_effects
    y = np.r_[np.ones(4), np.zeros(51), np.ones(8), np.zeros(492)]
    t = np.r_[np.ones(55), np.zeros(500)]
    r = compare_shares("not_resident", y, t, np.ones(555), np.arange(555)).to_frame()
    s = suppress_effects(r, 5).iloc[0]
    assert s.suppressed
    for col in ("share_participants", "estimate", "ci_low", "p_boschloo", "p_fisher", "p_value", "significant"):
        assert s[col] == "", col
    assert s.n_participants == 55          # group sizes stay
