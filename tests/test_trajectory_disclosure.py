"""The trajectory's monthly counts in the disclosure ledger (issue 25): linked to Table 1 at the
outcome month and to each other by the persons censored between months, so a small number
censored is protected; without complementary suppression the audit catches the leak."""
import pandas as pd
import pytest

from sibeval.errors import InconsistentTables
from sibeval.outcomes.trajectory import TRAJECTORY_COLUMNS
from sibeval.publish.cells import MAIN, outcome
from sibeval.publish.family import Context
from sibeval.publish.ledger import Ledger, audit, protect
from sibeval.publish.trajectories import Trajectories


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
    ctx = Context({"trajectory": t}, 5, {}, False, Ledger(5))
    first = t.iloc[0]
    for g, n, x in (("participant", first.weight_participants, first.x_participants),
                    ("control", first.weight_controls, first.x_controls)):   # Table 1's cells
        ctx.add(outcome(MAIN, g, "N"), n, int(n), group=g)
        ctx.add(outcome(MAIN, g, "ordinary_employment"), x, int(x), group=g)
    Trajectories().register(ctx)
    return ctx


def test_two_participants_censored_between_months_are_protected_only_by_complementary_cells():
    ctx = _ledger(_table())
    censored = [k for k in ctx.led.quantities if ":censored:" in k and ":participant:" in k]
    assert len(censored) == 1 and ctx.led.quantities[censored[0]].value == 2
    primary_only = {k: "primary" for k, q in ctx.led.quantities.items() if q.shown and ctx.led.small(q)}
    leak = audit(ctx.led, primary_only).set_index("cell")
    assert not leak.loc[censored[0], "protected"]          # 40 - 38 read off the published sizes
    assert leak.loc[censored[0], "derivable_low"] == leak.loc[censored[0], "derivable_high"] == 2
    p = protect(ctx.led)
    assert p.safe and any(v == "complementary" for v in p.hidden.values())
    out = Trajectories().render(ctx, p.hidden)["trajectory"]
    hidden_rows = out[out["n_participants"] == "x"]
    assert len(hidden_rows) == 1 and (hidden_rows[["estimate", "ci_low", "band_high"]] == "–").all(axis=None)
    assert hidden_rows["share_participants"].iloc[0] == "x"


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
