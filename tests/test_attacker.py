"""The project's attacker (tests/attacker.py) against hand-built releases: with the protection
on it cannot narrow a hidden count beyond its marker, and the ledger's audit says the same;
with the protection switched off (the precision of the main before #22) it can."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from attacker import excluded_between_set_bounds, sizes_fitting_differences, sizes_fitting_means
from sibeval.publish.boundary import protect_refined
from sibeval.publish.cells import outcome
from sibeval.publish.family import Context
from sibeval.publish.ledger import derivable
from sibeval.publish.matching import Matching

K = 5
ANALYSED, MATCHED, RATIO, POOL = 62, 65, 5, 11099
LOST = "flow:outcome_observed:excluded"


def _kolding_like(seed: int, covariates: int = 10) -> dict:
    """65 matched participants in sets of exactly 5 controls, 62 of them analysed: the 3
    without an outcome are a small cell, so the matched count is hidden ('x'), and the balance
    table's means over the 65 must not give it back."""
    rng = np.random.default_rng(seed)
    rows_c = MATCHED * RATIO
    names = [f"cov{i}" for i in range(covariates)]
    kt = rng.integers(8, MATCHED - 8, covariates)
    kc = rng.integers(40, rows_c - 40, covariates)
    kp = rng.integers(1000, POOL - 1000, covariates)
    cov = pd.DataFrame([{"covariate": c, "group": g, "n_total": n, "n_with": k, "persons_with": k,
                         "persons_without": n - k}
                        for i, c in enumerate(names)
                        for g, n, k in (("participants", MATCHED, kt[i]), ("pool", POOL, kp[i]),
                                        ("matched_controls", rows_c, kc[i]))])
    ages = rng.integers(25, 64, MATCHED)
    pt, pc, pp = kt / MATCHED, kc / rows_c, kp / POOL
    sd = np.sqrt(pt * (1 - pt) * MATCHED / (MATCHED - 1))
    bal = pd.DataFrame({"covariate": names, "type": "binary", "mean_treated_before": pt, "mean_control_before": pp,
                        "diff_raw_before": pt - pp, "smd_before": (pt - pp) / sd, "variance_ratio_before": np.nan,
                        "ecdf_max_before": abs(pt - pp), "mean_treated_after": pt, "mean_control_after": pc,
                        "diff_raw_after": pt - pc, "smd_after": (pt - pc) / sd, "variance_ratio_after": np.nan,
                        "ecdf_max_after": abs(pt - pc), "balanced": abs((pt - pc) / sd) < 0.1})
    age = {"covariate": "age", "type": "continuous", "mean_treated_before": ages.mean(), "mean_control_before": 44.5,
           "diff_raw_before": ages.mean() - 44.5, "smd_before": 0.2, "variance_ratio_before": 0.9,
           "ecdf_max_before": 0.12, "mean_treated_after": ages.mean(), "mean_control_after": ages.mean() - 0.03,
           "diff_raw_after": 0.03, "smd_after": 0.003, "variance_ratio_after": 1.05, "ecdf_max_after": 0.04,
           "balanced": True}
    bal = pd.concat([pd.DataFrame([age]), bal], ignore_index=True)
    ms = pd.DataFrame({"sample": ["all", "matched_ess", "matched", "unmatched", "controls_per_participant_min",
                                  "controls_per_participant_max", "distinct_control_persons", "covariates_imbalanced"],
                       "control": [POOL, rows_c, rows_c, POOL - rows_c, RATIO, RATIO, 299, 0],
                       "treated": [MATCHED, MATCHED, MATCHED, 0, None, None, None, None]})
    return {"match_summary": ms, "covariate_counts": cov, "balance": bal,
            "overlap": pd.DataFrame({"group": ["participants"] * 2 + ["matched_controls"] * 2 + ["eligible_pool"] * 2,
                                     "bin_lo": [0, 0.5] * 3, "bin_hi": [0.5, 1] * 3,
                                     "n": [30, 35, 150, 175, 5000, 6099], "persons": [30, 35, 140, 160, 900, 1300]}),
            "design": pd.DataFrame({"setting": ["method", "ratio"], "value": ["nearest", str(RATIO)]}),
            "set_sizes": pd.DataFrame({"size": [RATIO], "sets": [MATCHED]}), "ages": ages}


def _release(t: dict):
    """Register the matching family with the analysed count and the small difference, protect
    (with the precision's refinements) and publish."""
    ctx = Context.of(t, {"min_cell": K}, False)
    fam = Matching()
    n = ctx.led.add(outcome("main", "participant", "N"), ANALYSED, public=True)     # the headline n, always shown
    fam.register(ctx)
    lost = ctx.led.add(LOST, MATCHED - ANALYSED, shown=False)
    ctx.led.sums("match:treated:matched_rows", [n, lost], "matched = analysed + without outcome")
    p = protect_refined(ctx, [fam])
    return ctx, fam, p, fam.published(ctx, p.hidden)


def _numbers(col: pd.Series) -> list[float]:
    return [float(v) for v in pd.to_numeric(col, errors="coerce").dropna()]


# what the markers allow: 'x' for the matched participants, '<5' for the 3 (1 to 4) below 62 + x
CANDIDATES = list(range(ANALYSED + 1, ANALYSED + K))


@pytest.mark.parametrize("seed", range(3))
def test_balance_means_over_a_hidden_group_leave_every_size_the_markers_allow(seed):
    t = _kolding_like(seed)
    ctx, fam, p, out = _release(t)
    assert p.hidden["match:treated:matched_rows"] and p.audit["protected"].all()
    b = out["balance"]
    binary = b[b["type"] == "binary"]
    step = fam.steps["participants"]
    means = [(m, step) for m in _numbers(binary["mean_treated_after"])]
    assert len(means) == 10                                    # the table still describes everyone
    assert sizes_fitting_means(means, CANDIDATES) == CANDIDATES
    age = float(b.loc[b.covariate == "age", "mean_treated_after"].iloc[0])
    assert sizes_fitting_means([(age, step)], CANDIDATES) == CANDIDATES       # whole years
    # the printed differences are the printed means' differences: nothing more
    for w in ("before", "after"):
        shown = binary[pd.to_numeric(binary[f"diff_raw_{w}"], errors="coerce").notna()]
        diff = pd.to_numeric(shown[f"mean_treated_{w}"]) - pd.to_numeric(shown[f"mean_control_{w}"])
        assert np.allclose(pd.to_numeric(shown[f"diff_raw_{w}"]), diff, atol=1e-9)
    assert set(b["variance_ratio_after"]) == {""} and set(b["ecdf_max_after"]) == {""}
    # the ledger agrees: the small difference is still anywhere from 1 to 4
    lo, hi = derivable(ctx.led, p.hidden, LOST)
    assert lo <= 1 and hi >= K - 1


@pytest.mark.parametrize("seed", range(3))
def test_without_the_coarser_means_the_balance_table_gives_the_hidden_size_back(seed, monkeypatch):
    """The precision of the main before #22: means to 0.01 and differences to 0.001 over the
    hidden 65 (the refinement switched off): the attacker finds 65."""
    monkeypatch.setattr(Matching, "refine", lambda self, ctx, hidden: setattr(self, "steps", {}))
    t = _kolding_like(seed)
    _, _, p, out = _release(t)
    b = out["balance"]
    binary = b[b["type"] == "binary"]
    assert p.hidden["match:treated:matched_rows"]
    means = [(m, 0.01) for m in _numbers(binary["mean_treated_after"])]
    rows = [(float(r.mean_treated_after), float(r.mean_control_after), float(r.diff_raw_after), 0.01, 0.01, 0.001)
            for r in binary.itertuples() if r.diff_raw_after != ""]
    found = sorted(set(sizes_fitting_means(means, CANDIDATES)) & set(sizes_fitting_differences(rows, CANDIDATES,
                                                                                                RATIO)))
    assert found == [MATCHED]


# -- way 4: means of amounts over a hidden n ----------------------------------------------------
def _hours(hidden: bool):
    from sibeval.publish.hours import HoursWage

    hours = np.array([120, 98, 143, 77, 101, 130, 88, 96])          # whole hours, n = 8
    d = hours.mean() - 97.43
    hw = pd.DataFrame({"variable": ["timer"], "n_participants": [len(hours)], "n_controls": [40],
                       "mean_participants": [hours.mean()], "mean_controls": [97.43], "estimate": [d],
                       "ci_low": [d - 12.0], "ci_high": [d + 12.0],
                       "p_welch": [0.2], "p_mannwhitney": [0.3], "p_value": [0.2], "significant": [False]})
    ctx = Context.of({"hours_wage": hw}, {"min_cell": K}, False)
    fam = HoursWage()
    fam.register(ctx)
    cells = {outcome("main", "participant", "ordinary_employment"): "complementary"} if hidden else {}
    return fam.published(ctx, cells)["hours_wage"].iloc[0]


def test_a_mean_of_whole_hours_over_a_hidden_n_fits_every_n_the_marker_allows():
    row = _hours(hidden=True)
    assert row["n_participants"] == "x"
    candidates = list(range(K, 3 * K))                               # 'x': at least 5
    m = float(row["mean_participants"])
    assert sizes_fitting_means([(m, 0.2)], candidates) == candidates
    # the difference is the printed means' difference (it would give the exact mean back)
    assert float(row["estimate"]) == pytest.approx(m - float(row["mean_controls"]))


def test_without_the_coarser_step_a_mean_of_whole_hours_gives_the_hidden_n_back(monkeypatch):
    """The mean as exact as before #22 (the coarser step switched off): 106.625 hours is 853 / 8."""
    from sibeval.publish import hours

    monkeypatch.setattr(hours, "HIDDEN_N_STEPS", (1e-6,))
    monkeypatch.setattr(hours, "MEAN_DIGITS", {"timer": 6})
    row = _hours(hidden=True)
    assert row["n_participants"] == "x"
    assert sizes_fitting_means([(float(row["mean_participants"]), 1e-6)], range(K, 3 * K)) == [8]


DIED = "out:main:control:N:excluded"


def _dead_controls():
    """Kolding's control flow: the 62 analysed participants' sets of exactly 5 hold 310 control
    rows, 2 of them died before the outcome month ('<5', named as the step's reason), 308 are
    analysed. Registered with the matching family, protected and audited."""
    t = _kolding_like(0)
    ctx = Context.of(t, {"min_cell": K}, False)
    fam = Matching()
    n = ctx.led.add(outcome("main", "participant", "N"), ANALYSED, public=True)
    nc = ctx.led.add(outcome("main", "control", "N"), ANALYSED * RATIO - 2, keep=2)
    sets_of = ctx.led.add("flow:controls_participant_observed", ANALYSED * RATIO, shown=False)
    died = ctx.led.add(DIED, 2, shown=False, at_least=1.0)
    ctx.led.sums(sets_of, [nc, died], "flow: controls_participant_observed = controls_outcome_observed + excluded")
    fam.register(ctx)
    lost = ctx.led.add(LOST, MATCHED - ANALYSED, shown=False)
    ctx.led.sums("match:treated:matched_rows", [n, lost], "matched = analysed + without outcome")
    return ctx, protect_refined(ctx, [fam])


def test_equal_sets_do_not_give_the_dead_controls_back():
    """With min = max = 5 shown, 5 x 62 - 308 = 2: the analysed controls' count is hidden, and
    the audit and the attacker agree that the dead controls could be anything from 1 to 4."""
    ctx, p = _dead_controls()
    nc = outcome("main", "control", "N")
    lo, hi = derivable(ctx.led, p.hidden, DIED)
    assert lo <= 1 and hi >= K - 1, (lo, hi)
    assert nc in p.hidden
    # what the attacker would find if that count were printed
    assert excluded_between_set_bounds(ANALYSED, RATIO, RATIO, int(ctx.value(nc))) == (2, 2)


def test_without_the_set_bounds_the_audit_misses_the_dead_controls(monkeypatch):
    """The relation switched off (the main before this fix): the control count is printed and
    the audit calls the dead controls protected, while the attacker finds exactly 2."""
    from sibeval.publish.ledger import Ledger

    bound = Ledger.bound
    monkeypatch.setattr(Ledger, "bound", lambda self, terms, lo, hi, rule: None
                        if "analysed participants' sets" in rule else bound(self, terms, lo, hi, rule))
    ctx, p = _dead_controls()
    nc = outcome("main", "control", "N")
    assert nc not in p.hidden and p.safe
    lo, hi = derivable(ctx.led, p.hidden, DIED)
    assert hi - lo > 2
    assert excluded_between_set_bounds(ANALYSED, RATIO, RATIO, int(ctx.value(nc))) == (2, 2)
