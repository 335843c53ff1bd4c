"""Outcome trajectories (issue 25): shares month by month on the matched sets, a cluster
bootstrap, the decay of the effect, checked against data with a known truth."""
import numpy as np
import pytest

from sibeval.demo.trajectories import synthetic
from sibeval.outcomes import trajectory as tr


def test_shares_and_counts_are_the_weighted_means_of_the_observed():
    m = synthetic(1, sets=30)
    t = tr.trajectory(m, "ordinary_employment", draws=50).table.set_index(["anchor", "month"])
    one = m[(m.anchor == tr.END) & (m.month == 20) & m.observed]
    p, c = one[one.role == "participant"], one[one.role == "control"]
    assert t.loc[(tr.END, 20), "share_participants"] == pytest.approx(p["ordinary_employment"].mean())
    assert t.loc[(tr.END, 20), "share_controls"] == pytest.approx(c["ordinary_employment"].mean())
    assert t.loc[(tr.END, 20), "n_participants"] == len(p) < 30                    # censored persons are out
    assert list(t.index[:2]) == [(tr.START, -24), (tr.START, -23)] and t.index[-1] == (tr.END, 24)
    lo, hi = t["ci_low"], t["ci_high"]
    assert ((t["band_low"] <= lo + 1e-12) & (t["band_high"] >= hi - 1e-12)).mean() > 0.95   # the band is wider


def test_the_bootstrap_is_seeded_and_resamples_whole_matched_sets():
    m = synthetic(2, sets=20)
    a = tr.trajectory(m, "ordinary_employment", draws=40, seed=7)
    b = tr.trajectory(m, "ordinary_employment", draws=40, seed=7)
    assert a.table.equals(b.table) and np.array_equal(a.draws, b.draws, equal_nan=True)
    # every participant and control the same: every draw is the estimate
    same = m[m.subclass.isin([0, 1])].assign(ordinary_employment=1.0)
    two = tr.trajectory(same, "ordinary_employment", draws=10)
    finite = np.isfinite(two.draws)
    assert finite.any() and np.allclose(two.draws[finite], 0.0)
    # one matched set: resampling it cannot show any uncertainty, so none is claimed
    one = tr.trajectory(m[m.subclass == 0], "ordinary_employment", draws=10)
    assert np.isnan(one.draws).all() and one.table["ci_low"].isna().all()


def test_the_decay_is_recovered_within_its_interval_across_seeds():
    """The truth (an effect that halves in 12 months) inside the 95 % interval in at least 90 %
    of 30 seeds of 80 matched sets, and the estimate's median near it (bench/trajectory_decay.py
    measures 50 seeds at 60, 120 and 250 sets)."""
    hits, est = 0, []
    for seed in range(30):
        t = tr.trajectory(synthetic(100 + seed, sets=80), "ordinary_employment", draws=150, seed=seed)
        d = tr.fit_decay(t, last=tr.last_complete(t, 2))            # as the workflow fits it
        hits += d.ci_low <= 0.5 <= d.ci_high
        est.append(d.decay)
    assert hits >= 27, hits
    assert np.nanmedian(est) == pytest.approx(0.5, abs=0.08)


def test_the_pre_period_check_and_the_persistence_table():
    t = tr.trajectory(synthetic(3), "ordinary_employment", draws=200)
    assert tr.pre_period_overlaps(t)
    p = tr.persistence(t)
    assert list(p["month"]) == [2, 6, 12, 18, 24]
    assert p.loc[0, "estimate"] > p.loc[4, "estimate"]
    # a participant curve shifted before the start fails the check
    m = synthetic(3)
    pre = (m.anchor == tr.START) & (m.role == "participant")
    m.loc[pre, "ordinary_employment"] = 1.0
    assert not tr.pre_period_overlaps(tr.trajectory(m, "ordinary_employment", draws=200))


def test_too_few_months_give_no_decay_rather_than_a_number():
    t = tr.trajectory(synthetic(4, after=3), "ordinary_employment", draws=50)
    d = tr.fit_decay(t)
    assert np.isnan(d.decay) and "too few months" in d.method


def test_the_last_complete_month_is_where_the_first_set_leaves_the_data():
    t = tr.trajectory(synthetic(5, sets=30), "ordinary_employment", draws=20)
    last = tr.last_complete(t, 2)
    after = t.table[t.table["anchor"] == tr.END].set_index("month")
    assert (after.loc[2:last, "n_participants"] == 30).all() and after.loc[last + 1, "n_participants"] < 30
    assert 12 <= last < 24
