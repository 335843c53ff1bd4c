"""Outcome trajectories (issue 25): shares month by month on the matched sets, a cluster
bootstrap, the decay of the effect, checked against data with a known truth."""
import numpy as np
import pandas as pd
import pytest

from sibeval.outcomes import trajectory as tr


def synthetic(seed: int, sets: int = 120, controls: int = 3, effect: float = 0.18, decay: float = 0.5,
              before: int = 24, after: int = 24, censor: bool = True) -> pd.DataFrame:
    """A monthly frame as `monthly_status` gives it, with a known effect: participants and their
    matched controls share an employability (so the curves overlap before the start); after the
    end the participants' chance is the controls' plus effect x (1 - decay)^((m - 2)/12) from
    month 2 (0 before: in the programme). A person's months are correlated (a person effect);
    with `censor` a third of the sets end their data between months 12 and 24."""
    rng = np.random.default_rng(seed)
    months = np.r_[np.arange(-before, 0), np.arange(0, after + 1)]
    anchor = np.r_[np.full(before, tr.START), np.full(after + 1, tr.END)]
    rows = []
    for s in range(sets):
        u = rng.normal(0, 1)
        last = rng.integers(min(12, after), after + 1) if censor and rng.random() < 1 / 3 else after
        for j in range(controls + 1):
            role = "participant" if j == 0 else "control"
            v = u + rng.normal(0, 0.7)                                   # the person's own employability
            base = 0.17 / (1 + np.exp(-(v - 0.2))) * 2
            lift = np.where((anchor == tr.END) & (months >= 2), effect * (1 - decay) ** ((months - 2) / 12), 0.0)
            p = np.clip(base + (lift if j == 0 else 0.0), 0, 1)
            y = (rng.random(len(months)) < p).astype(float)
            obs = ~((anchor == tr.END) & (months > last))
            rows.append(pd.DataFrame({"row": len(rows), "pnr": f"{s}-{j}", "role": role, "subclass": s,
                                      "weight": 1.0, "anchor": anchor, "month": months, "observed": obs,
                                      "ordinary_employment": np.where(obs, y, np.nan)}))
    return pd.concat(rows, ignore_index=True)


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
    # one matched set, every participant and control in it the same: every draw is the estimate
    same = m[m.subclass == 0].assign(ordinary_employment=1.0)
    one = tr.trajectory(same, "ordinary_employment", draws=10)
    finite = np.isfinite(one.draws)
    assert finite.any() and np.allclose(one.draws[finite], 0.0)


def test_the_decay_is_recovered_within_its_interval_across_seeds():
    """The truth (an effect that halves in 12 months) inside the 95 % interval in at least 90 %
    of 40 seeds, and the estimate unbiased to a few points (the bench measures 50 seeds of the
    whole workflow)."""
    hits, est = 0, []
    for seed in range(40):
        t = tr.trajectory(synthetic(100 + seed), "ordinary_employment", draws=200, seed=seed)
        d = tr.fit_decay(t)
        hits += d.ci_low <= 0.5 <= d.ci_high
        est.append(d.decay)
    assert hits >= 36, hits
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
