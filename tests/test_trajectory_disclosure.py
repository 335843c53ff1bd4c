"""The trajectory's monthly counts in the disclosure ledger (issue 25): the months everyone is
observed in, over Table 1's sizes, the outcome month Table 1's own cells; without complementary
suppression the audit catches a leak through a month's counts."""
import pandas as pd
import pytest

from sibeval.errors import InconsistentTables
from sibeval.outcomes.trajectory import TRAJECTORY_COLUMNS
from sibeval.publish.cells import MAIN, outcome
from sibeval.publish.family import Context
from sibeval.publish.ledger import Ledger, audit, protect
from sibeval.publish.trajectories import DECAY_COLUMNS, Trajectories


def _table(n_part=(40, 40, 38), n_ctrl=(120.0, 120.0, 114.0), x_part=(14, 12, 11), x_ctrl=(30.0, 30.0, 29.0)):
    rows = []
    for i, m in enumerate((2, 3, 4)):
        rows.append({"outcome": "ordinary_employment", "anchor": "end", "month": m, "outcome_month": m == 2,
                     "n_participants": n_part[i], "n_controls": int(n_ctrl[i] // 1), "weight_participants": n_part[i],
                     "weight_controls": n_ctrl[i], "x_participants": x_part[i], "x_controls": x_ctrl[i],
                     "persons_x_participants": x_part[i], "persons_x_controls": int(x_ctrl[i]),
                     "share_participants": x_part[i] / n_part[i], "share_controls": x_ctrl[i] / n_ctrl[i],
                     "estimate": x_part[i] / n_part[i] - x_ctrl[i] / n_ctrl[i], "ci_low": -0.1, "ci_high": 0.3,
                     "band_low": -0.2, "band_high": 0.4, "method": "m"})
    return pd.DataFrame(rows, columns=list(TRAJECTORY_COLUMNS))


def _ledger(t: pd.DataFrame) -> Context:
    ctx = Context({"trajectory": t, "decay": pd.DataFrame(columns=list(DECAY_COLUMNS))}, 5, {}, False, Ledger(5))
    first = t.iloc[0]
    for g, n, x in (("participant", first.weight_participants, first.x_participants),
                    ("control", first.weight_controls, first.x_controls)):   # Table 1's cells
        ctx.add(outcome(MAIN, g, "N"), n, int(n), group=g)
        ctx.add(outcome(MAIN, g, "ordinary_employment"), x, int(x), group=g)
    Trajectories().register(ctx)
    return ctx


def test_only_the_months_everyone_is_observed_in_are_published():
    """Month +4 has lost two participants past the extract's end: publishing its size would
    publish the 2 (40 - 38), so the table stops at +3; the pre-period stops where it falls short."""
    t = _table()
    pre = t.iloc[[0, 0, 0]].reset_index(drop=True).assign(anchor="start", month=[-1, -2, -3], outcome_month=False)
    pre.loc[pre.index[2], "weight_participants"] = 39                         # before the extract began
    t = pd.concat([pre, t], ignore_index=True)
    assert list(zip(*Trajectories.complete(t)[["anchor", "month"]].T.to_numpy())) == [
        ("start", -1), ("start", -2), ("end", 2), ("end", 3)]
    ctx = _ledger(t)
    assert not [k for k in ctx.led.quantities if "censored" in k or ":end:4:" in k or ":start:-3:" in k]
    p = protect(ctx.led)
    out = Trajectories().render(ctx, p.hidden)["trajectory"]
    assert list(out["month"]) == [-1, -2, 2, 3] and set(out["n_participants"]) == {40}


def test_a_month_almost_everyone_is_employed_in_leaks_without_complementary_suppression():
    """38 of 40 participants employed in month +3: the 2 who are not are read off the size and
    the count, so the count must be hidden too; the audit catches it when only the small cells
    are hidden."""
    ctx = _ledger(_table(x_part=(14, 38, 11)))
    small = [k for k, q in ctx.led.quantities.items() if ctx.led.small(q) and ":traj:end:3:participant" in k]
    assert len(small) == 1 and ctx.led.quantities[small[0]].value == 2 and not ctx.led.quantities[small[0]].shown
    primary_only = {k: "primary" for k, q in ctx.led.quantities.items() if q.shown and ctx.led.small(q)}
    leak = audit(ctx.led, primary_only).set_index("cell")
    assert not leak.loc[small[0], "protected"]
    assert leak.loc[small[0], "derivable_low"] == leak.loc[small[0], "derivable_high"] == 2
    p = protect(ctx.led)
    assert p.safe and any(v == "complementary" for v in p.hidden.values())
    out = Trajectories().render(ctx, p.hidden)["trajectory"].set_index("month")
    assert out.loc[3, "share_participants"] == "x" and (out.loc[3, ["estimate", "ci_low", "band_high"]] == "–").all()


def test_the_outcome_month_is_table_1s_cells_and_must_agree_with_them():
    ctx = _ledger(_table())
    keys = [k for k in ctx.led.quantities if k.startswith("out:traj:end:2:")]
    assert keys == []                                       # month +2 is the main family's cells
    bad = _table(x_part=(13, 12, 11))                      # month +2 counts 13, Table 1 says 14
    ctx = Context({"trajectory": bad}, 5, {}, False, Ledger(5))
    ctx.add(outcome(MAIN, "participant", "N"), 40, 40)
    ctx.add(outcome(MAIN, "participant", "ordinary_employment"), 14, 14)
    with pytest.raises(InconsistentTables, match="disagree on cell 'out:main:participant:ordinary_employment'"):
        Trajectories().register(ctx)


def test_a_small_count_in_a_month_is_hidden_with_its_share():
    ctx = _ledger(_table(x_part=(14, 3, 11)))
    p = protect(ctx.led)
    out = Trajectories().render(ctx, p.hidden)["trajectory"].set_index("month")
    assert out.loc[3, "share_participants"] == "<5" and out.loc[3, "estimate"] == "–"
    assert p.safe


def test_the_placebo_month_is_the_placebo_tables_cells():
    """The placebo compares the same persons 12 months before the start: the trajectory's month
    -12 must be the placebo's cells (else a count the placebo hides is printed here)."""
    t = _table()
    pre = t.iloc[[0]].reset_index(drop=True).assign(anchor="start", month=-12, outcome_month=False,
                                                    x_participants=3, persons_x_participants=3)
    t = pd.concat([pre, t], ignore_index=True)
    placebo = pd.DataFrame({"months_before_index": [12]})

    def ctx_with(x_placebo):
        ctx = Context({"trajectory": t, "decay": pd.DataFrame(columns=list(DECAY_COLUMNS)), "placebo": placebo},
                      5, {}, False, Ledger(5))
        for g, n, x in (("participant", 40, 14), ("control", 120.0, 30.0)):
            ctx.add(outcome(MAIN, g, "N"), n, int(n), group=g)
            ctx.add(outcome(MAIN, g, "ordinary_employment"), x, int(x), group=g)
            ctx.add(outcome("placebo", g, "N"), n, int(n), group=g)
        ctx.add(outcome("placebo", "participant", "ordinary_employment"), x_placebo, x_placebo, group="participant")
        ctx.add(outcome("placebo", "control", "ordinary_employment"), 30.0, 30, group="control")
        return ctx

    ctx = ctx_with(3)
    Trajectories().register(ctx)
    assert not [k for k in ctx.led.quantities if ":traj:start:-12:" in k]
    p = protect(ctx.led)
    out = Trajectories().render(ctx, p.hidden)["trajectory"].set_index("month")
    assert out.loc[-12, "share_participants"] == "<5"                      # hidden as the placebo hides it
    with pytest.raises(InconsistentTables, match="placebo:participant:ordinary_employment"):
        Trajectories().register(ctx_with(4))
