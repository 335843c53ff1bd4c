"""The note's 'Does the effect last?' section (issue 25): every number from the published
trajectory and decay tables, hidden months as gaps, the pre-period check and the decay's limits."""
import re

import numpy as np
import pandas as pd
import pytest

from sibeval.outcomes.trajectory import DECAY_GRID
from sibeval.publish.trajectories import DECAY_PUBLISHED, PUBLISHED
from sibeval.report.figures import trajectory_plot
from sibeval.report.note import NoteBuilder
from test_report import LABELS, _cohort, _tables


def _published(seed: int, hide=(), pre_shift=0.0, last=14):
    """A published trajectory table (months -6..-1 and 0..last) with random shares, some months'
    participant counts hidden as the boundary writes them."""
    rng = np.random.default_rng(seed)
    rows = []
    for o in ("ordinary_employment", "self_supporting_or_education"):
        for anchor, months in (("start", range(-6, 0)), ("end", range(0, last + 1))):
            for m in months:
                p, c = rng.uniform(0.05, 0.5), rng.uniform(0.05, 0.3)
                p = c + rng.uniform(-0.05, 0.05) + pre_shift if anchor == "start" else p   # matched: alike before
                e = p - c
                r = {"outcome": o, "anchor": anchor, "month": m, "n_participants": 40, "n_controls": 160.0,
                     "share_participants": round(p, 4), "share_controls": round(c, 4), "estimate": round(e, 4),
                     "ci_low": round(e - 0.1, 4), "ci_high": round(e + 0.1, 4), "band_low": round(e - 0.15, 4),
                     "band_high": round(e + 0.15, 4), "method": "m"}
                if (anchor, m) in hide:
                    r.update(share_participants="<5", estimate="–", ci_low="–", ci_high="–", band_low="–",
                             band_high="–")
                rows.append(r)
    return pd.DataFrame(rows, columns=list(PUBLISHED))


def _decay(lo=0.05, d=0.2, hi=0.6):
    return pd.DataFrame([{"outcome": "ordinary_employment", "effect_first": 0.15, "decay": d, "ci_low": lo,
                          "ci_high": hi, "first": 6, "last": 14, "months": 9, "last_complete": 14, "method": "m"}],
                        columns=list(DECAY_PUBLISHED))


def _builder(t, d, lang="en", econ=None):
    c = _cohort(lang) | {"economics": econ or {"enabled": True, "outcome": "ordinary_employment", "decay": 0.15,
                                                 "constant_years": 2}}
    return NoteBuilder(_tables() | {"trajectory": t, "decay": d}, c, LABELS)


@pytest.mark.parametrize("seed", range(5))
def test_every_number_of_the_persistence_table_is_its_published_month(seed):
    t = _published(seed, hide={("end", 12)})
    sec = _builder(t, _decay()).persistence_section()
    by = t.set_index(["outcome", "anchor", "month"])
    label = {LABELS["status"][o]["en"]: o for o in ("ordinary_employment", "self_supporting_or_education")}
    shown = 0
    for row in sec.rows:
        r = by.loc[(label[row[0]], "end", int(row[1].lstrip("+")))]
        if r["estimate"] == "–":
            assert row[2] == "<5" and row[4] == "–" and row[5] == "–"
            continue
        shown_numbers = [row[2].removesuffix(" %"), row[3].removesuffix(" %"), row[4], *row[5].split(" to ")]
        source = [r[c] for c in ("share_participants", "share_controls", "estimate", "ci_low", "ci_high")]
        for text, value in zip(shown_numbers, source):
            assert abs(float(text.replace("−", "-")) - 100 * float(value)) <= 0.05 + 1e-9, (text, value)
        shown += 1
    assert shown == 4 and [r[1] for r in sec.rows] == ["+2", "+6", "+12"] * 2
    # months past the last published one are named, not left out silently
    assert "+18, +24" in sec.note and "not shown" in sec.note


def test_the_decay_sentence_and_the_assumption_beside_it():
    text = _builder(_published(1), _decay()).persistence_section().intro
    assert "falls by about 20 % a year" in text and "95 % CI 5 % to 60 %" in text and "+6 to +14" in text
    assert "unchanged effect for 2 years and then 15 % less a year" in text
    edge = _builder(_published(1), _decay(lo=float(DECAY_GRID[0]), hi=0.999)).persistence_section().intro
    assert "−50 % or lower to 99 %" in edge
    measured = _builder(_published(1), _decay(), econ={"enabled": True, "outcome": "ordinary_employment",
                                                         "decay": "measured"}).persistence_section().intro
    assert "uses the measured decay" in measured


def test_the_pre_period_check_reads_the_published_band():
    ok = _builder(_published(2), _decay()).persistence_section().intro
    assert ok.count("overlap") == 2 and "differ" not in ok
    shifted = _builder(_published(2, pre_shift=0.5), _decay()).persistence_section().intro
    assert re.search(r"curves for Ordinary employment differ", shifted)


def test_the_figure_breaks_its_lines_at_hidden_months_and_the_programme():
    t = _published(3, hide={("end", 4)})
    t = t[t["outcome"] == "ordinary_employment"]
    labels = dict.fromkeys(("participants", "controls", "difference", "pointwise", "band", "programme",
                            "share_axis", "diff_axis", "month_axis", "outcome_month", "title"), "x")
    fig = trajectory_plot(t, labels, outcome_month=6)
    top = [line for line in fig.axes[0].lines if len(line.get_xdata()) > 2][0]      # the participants'
    x, y = top.get_xdata(), top.get_ydata()
    gap = 4
    assert np.isnan(y[list(x).index(4 + gap)])                    # the hidden month: no point
    assert all(np.isnan(y[list(x).index(v)]) for v in range(0, gap))   # the programme: no line across
    shown = t[(t["anchor"] == "end") & (t["month"] == 7)]["share_participants"].iloc[0]
    assert y[list(x).index(7 + gap)] == pytest.approx(100 * float(shown))


def test_a_pre_period_month_whose_own_interval_excludes_zero_is_named():
    t = _published(2, hide={("start", -1), ("start", -2)})
    pre = (t["outcome"] == "self_supporting_or_education") & (t["anchor"] == "start") & t["month"].isin([-6, -5])
    t.loc[pre, ["estimate", "ci_low", "ci_high", "band_low", "band_high"]] = [0.12, 0.03, 0.21, -0.02, 0.26]
    text = _builder(t, _decay()).persistence_section().intro
    assert "excludes zero in month −6 to −5: the participants were above the controls" in text
    assert "month −2 to −1 is not shown: the number rests on a hidden count (fewer than 5" in text
    grows = _builder(t, _decay(lo=-0.4, d=-0.25, hi=-0.1)).persistence_section().intro
    assert "grows by about 25 % a year as measured (95 % CI 10 % to 40 %)" in grows
