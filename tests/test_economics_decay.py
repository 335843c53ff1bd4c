"""Issue 25, item 3: the payment model at the measured decay (published decay.csv), side by side
with the assumed one (economics.decay: measured; economics/decay_comparison.csv)."""
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sibeval.config import load_yaml, validate
from sibeval.economics import model as ec
from sibeval.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "workflow" / "schemas" / "cohort.schema.yaml"
Z95 = 1.959963984540054

# the published decay table as the publish rule writes it (the SIB demo's rows)
DECAY = pd.DataFrame({
    "outcome": ["ordinary_employment", "self_supporting_or_education"],
    "effect_first": [0.19, 0.20], "decay": [0.46, 0.71], "ci_low": [0.00, 0.44], "ci_high": [0.90, 0.94],
    "first": [2, 2], "last": [29, 29], "months": [28, 28], "last_complete": [18, 18],
    "method": ["effect(m) = effect(+2) x (1 - d)^((m - 2)/12)"] * 2})
EFFECTS = pd.DataFrame({"outcome": ["ordinary_employment"], "estimate": [0.1725], "ci_low": [0.0556],
                        "ci_high": [0.3078], "share_participants": [0.3455], "n_participants": [55],
                        "x_participants": [19], "alpha": [0.05]})
SETTINGS = {"outcome": "ordinary_employment", "provider_cost": 74165, "effort_cost": 50629,
            "effort_saving_share": 0.5, "saved_benefits": 60470, "extra_tax": 15118, "discount_rate": 0.035,
            "horizon": 9, "constant_years": 3, "decay": 0.15, "decay_sd": 0.05, "seed": 20221101,
            "subgroup": "employed_24m", "contract": {"investor_share": 0.5}}
MEASURED = dict(SETTINGS, decay="measured")


def test_the_measured_decay_is_read_from_the_published_table():
    m = ec.measured_decay(DECAY, "ordinary_employment")
    assert m["decay"] == 0.46 and m["constant_years"] == 0 and (m["first"], m["last"]) == (2, 29)
    assert m["decay_sd"] == pytest.approx(0.90 / (2 * Z95))           # the 95 % CI's standard error
    assert m["decay_sd"] == pytest.approx(ec.se_of_ci(0.0, 0.9, 0.05))
    other = ec.measured_decay(DECAY, "self_supporting_or_education")
    assert other["decay"] == 0.71 and other["decay_sd"] == pytest.approx(0.50 / (2 * Z95))
    # a wider CI (alpha 0.10 read as 90 %) implies a larger standard error
    assert ec.measured_decay(DECAY, "ordinary_employment", alpha=0.10)["decay_sd"] > m["decay_sd"]


@pytest.mark.parametrize("table, outcome", [
    (None, "ordinary_employment"),                                       # trajectory.publish off
    (DECAY.iloc[:0], "ordinary_employment"),                             # published empty
    (DECAY, "lasting_employment"),                                       # no row for the outcome
    (DECAY.assign(decay=np.nan), "ordinary_employment"),                 # too few months
    (DECAY.assign(ci_low=np.nan, ci_high=np.nan), "ordinary_employment"),
    (DECAY.assign(decay=1.0), "ordinary_employment"),                    # no effect left after a year
])
def test_no_measured_decay_is_none_or_a_clear_error(table, outcome):
    assert ec.measured_decay(table, outcome) is None
    with pytest.raises(ec.MeasuredDecayError) as e:
        ec.measured_decay(table, outcome, required=True)
    msg = str(e.value)
    assert isinstance(e.value, ValueError)
    assert msg.startswith("economics.decay: measured") and f"'{outcome}'" in msg
    assert "set economics.decay to a number" in msg


def test_the_errors_say_which_part_is_missing():
    effects = pd.concat([EFFECTS, EFFECTS.assign(outcome="lasting_employment")], ignore_index=True)

    def error(table, settings=MEASURED):
        with pytest.raises(ec.MeasuredDecayError) as e:
            ec.measured_inputs(settings, effects, decay_table=table)
        return str(e.value)

    msg = error(None)                                            # trajectory.publish off
    assert "written only with trajectory.publish: true" in msg and "or enable the trajectory's publication" in msg
    msg = error(DECAY, dict(MEASURED, outcome="lasting_employment"))
    assert "no row for outcome 'lasting_employment'" in msg
    assert "it measures: ordinary_employment, self_supporting_or_education" in msg
    assert "no row for outcome 'ordinary_employment'" in error(DECAY.iloc[1:])
    msg = error(DECAY.assign(ci_high=np.nan))
    assert "no measured decay or no confidence interval" in msg and "CI 0.0 to empty" in msg
    assert "decay empty" in error(DECAY.assign(decay=np.nan))
    # the cohort's assumed decay needs no decay table, and ignores a bad one
    assert ec.measured_inputs(SETTINGS, EFFECTS).decay == 0.15
    assert ec.measured_inputs(SETTINGS, EFFECTS, decay_table=DECAY.assign(decay=np.nan)).decay == 0.15


def test_decay_measured_in_the_settings_changes_the_inputs():
    assumed = ec.measured_inputs(SETTINGS, EFFECTS, decay_table=DECAY)
    assert (assumed.decay, assumed.decay_sd, assumed.constant_years) == (0.15, 0.05, 3)
    measured = ec.measured_inputs(MEASURED, EFFECTS, decay_table=DECAY)
    assert measured.decay == 0.46 and measured.constant_years == 0
    assert measured.decay_sd == pytest.approx(0.9 / (2 * Z95))
    assert replace(measured, decay=0.15, decay_sd=0.05, constant_years=3) == assumed   # nothing else moves
    src = ec.inputs_frame(measured, MEASURED).set_index("input")["source"]
    assert {src["decay"], src["decay_sd"], src["constant_years"]} == {"measured (decay.csv)"}
    assert src["horizon"] == "cohort file economics:"
    assert ec.inputs_frame(assumed, SETTINGS).set_index("input")["source"]["decay"] == "cohort file economics:"
    # the measured decay lowers the account (the demo: 46 % from the outcome month, not 15 % after 3 years)
    assert ec.account(measured).municipality_account < ec.account(assumed).municipality_account


def _comparison(settings, table):
    inp = ec.measured_inputs(settings, EFFECTS, decay_table=table)
    return inp, ec.decay_comparison(*ec.decay_bases(inp, settings, table), seed=settings["seed"],
                                    used="measured" if ec.uses_measured_decay(settings) else "assumed")


@pytest.mark.parametrize("settings", [SETTINGS, MEASURED])
def test_the_comparison_has_a_row_per_basis_from_the_models_own_figures(settings):
    inp, cmp = _comparison(settings, DECAY)
    assert list(cmp.columns) == list(ec.DECAY_COMPARISON)
    assert cmp["basis"].tolist() == ["assumed", "measured"]
    assert cmp["used"].tolist() == ([True, False] if settings is SETTINGS else [False, True])
    rows = cmp.set_index("basis")
    assert rows.loc["assumed", ["decay", "decay_sd", "constant_years"]].tolist() == [0.15, 0.05, 3]
    assert rows.loc["measured", "decay"] == 0.46 and rows.loc["measured", "constant_years"] == 0
    assert rows.loc["measured", "decay_sd"] == pytest.approx(0.9 / (2 * Z95))
    for _, r in rows.iterrows():
        world = replace(inp, decay=r["decay"], decay_sd=r["decay_sd"], constant_years=int(r["constant_years"]))
        acc = ec.account(world)
        p = ec.risk(world, ec.simulate(world, seed=settings["seed"])).set_index("point")["probability"]
        assert r["municipality_account"] == pytest.approx(acc.municipality_account)
        assert r["investor_return"] == pytest.approx(acc.investor_return)
        assert r["p_municipality_negative"] == pytest.approx(p["p_municipality_negative"])
        assert r["p_investor_loses"] == pytest.approx(p["p_investor_loses"])
        assert r["municipality_decay"] == pytest.approx(ec.break_even(world).municipality_decay)
    used = rows.loc[rows["used"]].iloc[0]
    assert used["municipality_account"] == pytest.approx(ec.account(inp).municipality_account)
    # the faster measured decay: a worse account, a likelier loss for both
    a, m = rows.loc["assumed"], rows.loc["measured"]
    assert m["municipality_account"] < a["municipality_account"] and m["investor_return"] < a["investor_return"]
    assert m["p_municipality_negative"] > a["p_municipality_negative"]
    assert m["p_investor_loses"] > a["p_investor_loses"]


@pytest.mark.parametrize("table", [None, DECAY.iloc[:0], DECAY.assign(decay=np.nan)])
def test_without_a_measured_decay_the_comparison_has_the_assumed_row_only(table):
    _, cmp = _comparison(SETTINGS, table)
    assert cmp["basis"].tolist() == ["assumed"] and cmp["used"].tolist() == [True]
    assert list(cmp.columns) == list(ec.DECAY_COMPARISON)


def test_a_faster_measured_decay_gives_a_lower_municipality_account():
    """Property: whatever the other inputs (an effect that saves, the investor's share below 1, no
    cap), the municipality's account falls as the measured decay rises (a growth counts as none)."""
    rng = np.random.default_rng(25)
    for _ in range(40):
        gross = rng.uniform(0.2, 0.6)
        settings = dict(MEASURED, provider_cost=rng.uniform(2e4, 1.5e5), effort_cost=rng.uniform(0, 1e5),
                        effort_saving_share=rng.uniform(0, 1), saved_benefits=rng.uniform(1e4, 1e5),
                        extra_tax=rng.uniform(0, 3e4), discount_rate=rng.uniform(0, 0.06),
                        horizon=int(rng.integers(2, 30)), contract={"investor_share": rng.uniform(0, 0.95)})
        effects = EFFECTS.assign(estimate=rng.uniform(0.02, gross), share_participants=gross)
        decays = np.sort(rng.uniform(-0.3, 0.98, 4))
        accounts = []
        for d in decays:
            table = DECAY.assign(decay=round(d, 4), ci_low=round(d, 4) - 0.1, ci_high=round(d, 4) + 0.1)
            inp = ec.measured_inputs(settings, effects, decay_table=table)
            accounts.append(ec.account(inp).municipality_account)
        # a measured growth (a negative decay) is not extrapolated: it counts as no decay
        flat = np.maximum(decays, 0.0)
        steps = np.diff(accounts)
        assert np.all(steps[np.diff(flat) > 0] < 0) and np.allclose(steps[np.diff(flat) == 0], 0), (decays, accounts)


def test_the_schema_takes_a_number_or_measured():
    schema = load_yaml(SCHEMA)

    def economics(**kw):
        return validate({"title": "x", "extract": "demo", "economics": kw}, schema, "c.yaml")["economics"]

    assert economics()["decay"] == 0.15 == ec.ASSUMED_DECAY          # the default is the catalogue's
    assert economics(decay="measured")["decay"] == "measured"
    assert economics(decay=0.3)["decay"] == 0.3
    for bad in ("fast", 1.0, -0.1):
        with pytest.raises(ConfigError, match="economics.decay"):
            economics(decay=bad)


def test_the_new_columns_have_a_display_kind():
    for c in ("decay", "decay_sd", "investor_return", "p_municipality_negative", "p_investor_loses",
              "municipality_decay"):
        assert ec.kind(c, "decay_comparison") == "share", c
    assert ec.kind("constant_years", "decay_comparison") == "years"
    assert ec.kind("municipality_account", "decay_comparison") is None          # kroner


def test_the_cli_says_measured_needs_the_workflow(tmp_path, capsys):
    import yaml

    from sibeval.cli import main
    cfg = tmp_path / "plan.yaml"
    cfg.write_text(yaml.safe_dump({"economics": {**{k: v for k, v in MEASURED.items() if k != "contract"}}}))
    base = ["payment", "--effect", "0.17", "--gross-share", "0.35", "--config", str(cfg),
            "--out", str(tmp_path / "p.xlsx")]
    assert main(base) == 2
    assert "economics.decay: measured" in capsys.readouterr().err
    assert main([*base, "--decay", "0.46", "--constant-years", "0"]) == 0
