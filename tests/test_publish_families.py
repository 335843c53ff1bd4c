"""Each family of published tables on hand-built analysis tables: what it registers, what
it hides and how it renders; and the table catalogue against the families."""

from __future__ import annotations

import pandas as pd
import pytest

from sibeval.outcomes.status import HEADLINES, STATUSES
from sibeval.publish import catalogue
from sibeval.publish.boundary import FAMILIES, Boundary
from sibeval.publish.cells import outcome
from sibeval.publish.family import Context
from sibeval.publish.flows import Flows
from sibeval.publish.hours import HoursWage
from sibeval.publish.matching import Matching
from sibeval.publish.outcomes import OutcomeTables
from sibeval.publish.progression import Progression
from sibeval.publish.qc import Qc

K = 5


def _effects(part: dict, ctrl: dict, n_c_rows=None, fam_cols=None) -> pd.DataFrame:
    """An effects table from status counts per group (controls unweighted), headlines added."""
    counts = {g: dict(c) for g, c in (("p", part), ("c", ctrl))}
    for c in counts.values():
        for h, members in HEADLINES.items():
            c[h] = sum(c.get(m, 0) for m in members)
    n_p, n_c = sum(part.values()), sum(ctrl.values())
    rows = []
    for o in (*STATUSES, *HEADLINES):
        xp, xc = counts["p"].get(o, 0), counts["c"].get(o, 0)
        rows.append(
            {
                "outcome": o,
                "n_participants": n_p,
                "n_controls": n_c,
                "x_participants": xp,
                "x_controls": float(xc),
                "share_participants": xp / n_p,
                "share_controls": xc / n_c,
                "estimate": xp / n_p - xc / n_c,
                "ci_low": -0.5,
                "ci_high": 0.5,
                "p_value": 0.2,
                "p_adjusted": 0.4 if o in HEADLINES else "",
                "significant": False,
                "adjustment": "holm" if o in HEADLINES else "",
                "persons_participants": xp,
                "persons_controls": xc,
                "w_min": 1.0,
                "w_max": 1.0,
                **(fam_cols or {}),
            }
        )
    return pd.DataFrame(rows)


def _table1(eff: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for r in eff[eff.outcome.isin(STATUSES + tuple(HEADLINES))].itertuples():
        rows.append(
            {
                "role": "participant",
                "outcome": r.outcome,
                "n": r.x_participants,
                "weighted_n": r.x_participants,
                "total": r.n_participants,
                "share": r.share_participants,
                "persons": r.persons_participants,
            }
        )
        rows.append(
            {
                "role": "control",
                "outcome": r.outcome,
                "n": int(r.x_controls),
                "weighted_n": r.x_controls,
                "total": r.n_controls,
                "share": r.share_controls,
                "persons": r.persons_controls,
            }
        )
    return pd.DataFrame(rows)


PART = {
    "self_supporting_wage": 12,
    "wage_with_benefit": 8,
    "temporary_benefit": 30,
    "not_resident": 2,
    "permanent_benefit": 8,
}
CTRL = {
    "self_supporting_wage": 40,
    "wage_with_benefit": 30,
    "temporary_benefit": 200,
    "not_resident": 10,
    "permanent_benefit": 40,
}


def _outcome_tables(part=PART, ctrl=CTRL) -> dict:
    eff = _effects(part, ctrl)
    return {
        "effects": eff,
        "placebo": eff.iloc[0:0],
        "subgroups": pd.DataFrame(columns=["subgroup", "level"]),
        "table1": _table1(eff),
        "diagnostics": eff[["outcome"]].assign(
            share_controls=eff.share_controls,
            observed_difference=0.1,
            minimum_detectable_difference=0.2,
            participants_needed=80,
            warnings="",
        ),
        "status_distribution": pd.DataFrame({"statistic": [3.2], "p_value": [0.4], "p_asymptotic": [0.41]}),
        "sensitivity": eff[["outcome"]].assign(e_value=2.0),
    }


def _registered(family, tables: dict, replace=False):
    ctx = Context.of(tables, {"min_cell": K}, replace)
    fam = family()
    fam.check(tables)
    fam.register(ctx)
    return ctx, fam


# -- the catalogue ----------------------------------------------------------------------------
def test_every_published_table_is_rendered_by_the_family_the_catalogue_names():
    by_name = {f.name: f for f in FAMILIES}
    for t in catalogue.PUBLISHED:
        assert t.family in by_name, t
        assert t.name in by_name[t.family].tables, (t.name, t.family)
    listed = {(t.family, t.name) for t in catalogue.PUBLISHED}
    assert listed == {(f.name, n) for f in FAMILIES for n in f.tables}


def test_every_family_input_is_an_analysis_table_of_the_catalogue():
    inputs = {t.name for t in catalogue.ANALYSIS} | {"checksums"}
    for f in FAMILIES:
        assert set(f.inputs) <= inputs, (f.name, set(f.inputs) - inputs)


def test_catalogue_paths_and_switches():
    qc = next(t for t in catalogue.PUBLISHED if t.name == "qc_extract_summary")
    assert catalogue.path(qc, "c") == "results/c/qc/extract_summary.csv"
    prog = next(t for t in catalogue.PUBLISHED if t.name == "who5")
    assert not catalogue.enabled(prog, {"progression": {"enabled": False}})
    assert catalogue.enabled(prog, {"progression": {"enabled": True}})


# -- outcomes ---------------------------------------------------------------------------------
def test_outcomes_hide_a_small_status_and_everything_computed_from_it():
    t = _outcome_tables()
    b = Boundary.__new__(Boundary)
    b.ctx, fam = _registered(OutcomeTables, t)
    b.families = [fam]
    p = b.protect()
    assert p.hidden[outcome("main", "participant", "not_resident")] == "primary"
    assert p.safe
    out = b.publish(p)
    eff = out["effects"].set_index("outcome")
    assert eff.at["not_resident", "x_participants"] == "<5"
    assert eff.at["not_resident", "estimate"] == "" and eff.at["not_resident", "share_participants"] == ""
    assert bool(eff.at["not_resident", "suppressed"])
    # a status that protects it is hidden as "x", and the statuses cannot be summed back
    xs = [o for o in STATUSES if eff.at[o, "x_participants"] == "x"]
    assert xs, eff["x_participants"].to_dict()
    t1 = out["table1"].set_index("outcome")
    assert t1.at["not_resident", "n_participant"] == "<5" and t1.at["not_resident", "share_participant"] == ""
    # the chi-square statistic would give the hidden cells back
    assert out["status_distribution"].at[0, "statistic"] == ""
    assert out["sensitivity"].set_index("outcome").at["not_resident", "e_value"] == ""
    assert "persons_participants" not in out["effects"]


def test_outcomes_without_small_cells_publish_every_count_rounded():
    t = _outcome_tables({**PART, "not_resident": 6}, CTRL)
    ctx, fam = _registered(OutcomeTables, t)
    out = fam.published(ctx, {})
    eff = out["effects"].set_index("outcome")
    assert eff.at["not_resident", "x_participants"] == 6
    assert eff.at["temporary_benefit", "share_participants"] == round(30 / 64, 4)
    assert not eff["suppressed"].any()
    assert out["status_distribution"].at[0, "statistic"] == 3.2


def test_outcome_tables_that_disagree_on_a_cell_are_an_internal_error():
    from sibeval.errors import InconsistentTables

    t = _outcome_tables()
    t["table1"].loc[(t["table1"].role == "participant") & (t["table1"].outcome == "not_resident"), "n"] = 3
    with pytest.raises(
        InconsistentTables, match="'out:main:participant:not_resident'.*'effects' gives 2.*'table1' gives 3"
    ):
        _registered(OutcomeTables, t)


# -- flows ------------------------------------------------------------------------------------
def _flow_tables():
    flow = pd.DataFrame(
        {
            "step": ["referred", "started", "found_in_bef", "matched", "controls_matched", "controls_outcome_observed"],
            "n": [70, 67, 64, 60, 600, 590],
            "persons": [70, 67, 64, 60, 500, 492],
        }
    )
    reasons = pd.DataFrame(
        {
            "step": ["started", "found_in_bef", "matched", "controls_outcome_observed"],
            "reason": ["never started", "not in bef", "no control", "died"],
            "n": [3, 3, 4, 10],
            "persons": [3, 3, 4, 8],
        }
    )
    return {"flow": flow, "flow_reasons": reasons}


def test_a_flow_merges_small_exclusions_into_the_next_kept_step():
    t = _flow_tables()
    ctx, fam = _registered(Flows, t)
    ctx.led.add(outcome("main", "participant", "N"), 60)  # registered by the outcomes family
    out = fam.render(ctx, {})["flow"]
    # 3 never started and 3 not in bef (each small) and 4 without a control: the steps between
    # are left out, and the three reasons are named without their (small) counts
    assert out["step"].tolist() == ["referred", "matched", "controls_matched", "controls_outcome_observed"]
    matched = out.set_index("step").loc["matched"]
    assert matched["n"] == 60 and matched["excluded"] == 10
    assert matched["reason"] == "never started; not in bef; no control"
    died = out.set_index("step").loc["controls_outcome_observed"]
    assert died["excluded"] == 10 and died["reason"] == "died"


def test_a_public_count_that_the_extract_contradicts_stops_publication():
    from sibeval.errors import SibevalError

    t = _flow_tables()
    ctx = Context.of(t, {"min_cell": K, "public_counts": {"referred": 71}}, False)
    with pytest.raises(SibevalError, match="referred = 71, but the extract gives 70"):
        Flows().register(ctx)


# -- matching ---------------------------------------------------------------------------------
def _matching_tables(matched_treated=60, per_set_min=3):
    rows = 10 * (matched_treated - 1) + per_set_min      # one small set, the others of 10
    ms = pd.DataFrame(
        {
            "sample": [
                "all",
                "matched_ess",
                "matched",
                "unmatched",
                "controls_per_participant_min",
                "controls_per_participant_max",
                "distinct_control_persons",
                "covariates_imbalanced",
            ],
            "control": [5000, 431.37, rows, 5000 - rows, per_set_min, 10, 500, 0],
            "treated": [62, matched_treated, matched_treated, 62 - matched_treated, None, None, None, None],
        }
    )
    cov = pd.DataFrame(
        {
            "covariate": ["partner"] * 3,
            "group": ["participants", "pool", "matched_controls"],
            "n_total": [matched_treated, 5000, 600],
            "n_with": [3, 2000, 40],
            "persons_with": [3, 400, 38],
            "persons_without": [matched_treated - 3, 600, 462],
        }
    )
    bal = pd.DataFrame(
        {
            "covariate": ["distance", "partner"],
            "type": ["continuous", "binary"],
            **{
                c: [0.1234567, 0.05]
                for c in (
                    "mean_treated_before",
                    "mean_control_before",
                    "diff_raw_before",
                    "smd_before",
                    "variance_ratio_before",
                    "ecdf_max_before",
                    "mean_treated_after",
                    "mean_control_after",
                    "diff_raw_after",
                    "smd_after",
                    "variance_ratio_after",
                    "ecdf_max_after",
                )
            },
            "balanced": [True, True],
        }
    )
    ov = pd.DataFrame(
        {
            "group": ["participants"] * 2 + ["matched_controls"] * 2 + ["eligible_pool"] * 2,
            "bin_lo": [0, 0.5] * 3,
            "bin_hi": [0.5, 1] * 3,
            "n": [30, matched_treated - 30, 300, rows - 300, 4000, 1000],
            "persons": [30, matched_treated - 30, 250, 250, 900, 300],
        }
    )
    design = pd.DataFrame({"setting": ["method", "ratio", "mahvars"], "value": ["nearest", "10", "age"]})
    # the matched sets: one of per_set_min controls, the others of 10
    sizes = {per_set_min: 1, 10: matched_treated - 1}
    set_sizes = pd.DataFrame({"size": list(sizes), "sets": list(sizes.values())})
    return {"match_summary": ms, "covariate_counts": cov, "balance": bal, "overlap": ov, "design": design,
            "set_sizes": set_sizes}


def test_matching_hides_a_small_covariate_count_and_the_means_that_use_it():
    t = _matching_tables()
    ctx, fam = _registered(Matching, t)
    ctx.led.add(outcome("main", "participant", "N"), 60)
    from sibeval.publish.ledger import protect

    p = protect(ctx.led)
    assert p.hidden["cov:participants:partner"] == "primary"
    out = fam.published(ctx, p.hidden)
    bal = out["balance"].set_index("covariate")
    assert bal.at["partner", "mean_treated_after"] == "" and bal.at["partner", "smd_after"] == ""
    assert bal.at["distance", "mean_treated_after"] == 0.12  # means to two decimals
    ms = out["match_summary"].set_index("sample")
    # the smallest set (3 controls) is the design's structure, published on purpose with the
    # sets' counts, so that the ESS and the min/max rows carry nothing more
    assert ms.at["controls_per_participant_min", "control"] == 3
    sets = out["matched_sets"].set_index("controls_in_set")["sets"].to_dict()
    assert sets == {3: 1, 10: 59}
    assert ms.at["matched_ess", "control"] == 431  # ESS in whole persons
    assert out["design"].equals(t["design"])
    assert out["profile"]["n_participants"].iloc[0] == 60


def test_a_covariate_count_over_recurring_control_persons_keeps_its_truth_inside_the_marker():
    """Scenario 302 (bench/scenarios.py) did not publish: 5 matched-control rows with
    somatic_2y were 4 persons (a control matched at two index months), marked "<5", and the
    attacker's range for "<5" ([1, 4] rows) excluded the truth. A row count over recurring
    persons allows up to its rows per person."""
    from sibeval.publish.ledger import _bounds, protect

    t = _matching_tables()
    cov = t["covariate_counts"]
    row = cov["group"] == "matched_controls"
    cov.loc[row, ["n_with", "persons_with"]] = [5, 4]
    ctx, _ = _registered(Matching, t)
    ctx.led.add(outcome("main", "participant", "N"), 60)
    p = protect(ctx.led)
    q = ctx.led.quantities["cov:matched_controls:partner"]
    assert p.hidden[q.key] == "primary"
    lo, hi = _bounds(ctx.led, q, p.hidden)
    assert lo <= q.value == 5 <= hi


def test_matching_the_participants_ess_is_hidden_with_their_count():
    t = _matching_tables()
    ctx, fam = _registered(Matching, t)
    ctx.led.add(outcome("main", "participant", "N"), 60)
    out = fam.render(ctx, {"match:treated:matched_rows": "complementary"})
    ms = out["match_summary"].set_index("sample")
    assert ms.at["matched", "treated"] == "x" and ms.at["matched_ess", "treated"] == "x"


# -- hours and wages --------------------------------------------------------------------------
def test_hours_means_only_on_at_least_min_cell_persons():
    hw = pd.DataFrame(
        {
            "variable": ["timer"],
            "n_participants": [4],
            "n_controls": [40],
            "mean_participants": [80.0],
            "mean_controls": [70.0],
            "estimate": [10.0],
            "ci_low": [-5.0],
            "ci_high": [25.0],
            "p_welch": [0.2],
            "p_mannwhitney": [0.3],
            "p_value": [0.2],
            "significant": [False],
        }
    )
    ctx, fam = _registered(HoursWage, {"hours_wage": hw})
    assert ctx.led.quantities["out:main:participant:ordinary_employment"].value == 4
    out = fam.render(ctx, {"out:main:participant:ordinary_employment": "primary"})["hours_wage"]
    assert out.at[0, "n_participants"] == "<5" and out.at[0, "mean_participants"] == ""
    assert out.at[0, "estimate"] == "" and out.at[0, "mean_controls"] == 70.0


# -- progression ------------------------------------------------------------------------------
def test_progression_withholds_an_items_municipality_rows_with_a_small_count():
    pf = pd.DataFrame(
        {
            "step": ["started", "start_form", "complete_pairs"],
            "n": [50, 46, 40],
            "excluded": [0, 4, 6],
            "reason": ["", "no start form", "no end form"],
        }
    )
    items = pd.DataFrame(
        [
            {"group": g, "item": i, "n": n, "n_up": u, "n_same": s, "n_down": n - u - s, "n_down_started_unsure": None}
            for g, i, n, u, s in (
                ("all", "who5_1", 40, 20, 12),
                (657, "who5_1", 22, 12, 7),
                (791, "who5_1", 18, 8, 5),
                ("all", "who5_2", 40, 10, 18),
                (657, "who5_2", 22, 5, 10),
                (791, "who5_2", 18, 5, 8),
            )
        ]
    )
    w5 = pd.DataFrame(
        {"group": ["all"], "n": [40], "n_improved_meaningfully": [15], "mean_start": [44.4], "p_paired_t": [0.012345]}
    )
    bands = pd.DataFrame({"start_band": ["0-35", ">50"], "0-35": [10, 5], ">50": [8, 17]})
    t = {"progression_flow": pf, "progression_items": items, "who5": w5, "who5_bands": bands}
    ctx, fam = _registered(Progression, t)
    assert fam.withheld_items == {"who5_1"}  # 657 has 3 down
    out = fam.published(ctx, {})
    shown = out["progression_items"]
    assert set(shown.loc[shown.item == "who5_1", "group"].astype(str)) == {"all"}
    assert len(shown[shown.item == "who5_2"]) == 3
    assert out["who5"].at[0, "mean_start"] == 44 and out["who5"].at[0, "p_paired_t"] == 0.012
    flow = out["progression_flow"]
    assert flow["step"].tolist()[0] == "started" and "complete_pairs" in flow["step"].tolist()


# -- quality control --------------------------------------------------------------------------
def test_qc_tables_show_small_code_counts_as_markers_and_merge_small_funnel_steps():
    es = pd.DataFrame(
        {
            "file": ["dream", "dream", "dream"],
            "item": ["persons", "code:111", "unknown_code:999"],
            "value": [20000, 3, 12],
        }
    )
    funnel = pd.DataFrame(
        {
            "rule": ["population", "in_bef", "sex", "origin"],
            "condition": ["all", "bef row", "men", "non-Western"],
            "persons": [1000, 998, 500, 200],
            "rows": [9000, 8990, 4500, 1800],
        }
    )
    ctx = Context.of({"extract_summary": es, "eligibility_funnel": funnel}, {"min_cell": K}, False)
    out = Qc().render(ctx, {})
    v = out["qc_extract_summary"].set_index("item")["value"]
    assert v["code:111"] == "<5" and v["unknown_code:999"] == 12 and v["persons"] == 20000
    assert out["eligibility_funnel"]["rule"].tolist() == ["population", "sex", "origin"]
    few = funnel.assign(persons=[1000, 998, 500, 3], rows=[9000, 8990, 4500, 3])
    shown = Qc().render(Context.of({"eligibility_funnel": few}, {"min_cell": K}, False), {})["eligibility_funnel"]
    assert shown.set_index("rule").loc["origin", "persons"] == "<5"


def test_a_new_column_must_be_declared_before_it_can_be_published():
    from sibeval.errors import UndeclaredColumns
    t = _outcome_tables()
    t["effects"] = t["effects"].assign(odds_ratio=1.7)
    with pytest.raises(UndeclaredColumns, match=r"'effects' has column.*'odds_ratio'.*sibeval.publish.outcomes"):
        _registered(OutcomeTables, t)


def test_a_hidden_group_size_is_hidden_in_every_table_that_repeats_it():
    t = _outcome_tables()
    t["diagnostics"] = t["diagnostics"].assign(n_participants=60, n_controls=320)
    t["status_distribution"] = t["status_distribution"].assign(n_participants=60, n_controls=320)
    ctx, fam = _registered(OutcomeTables, t)
    out = fam.render(ctx, {outcome("main", "control", "N"): "complementary"})
    for name in ("effects", "diagnostics", "status_distribution"):
        assert set(out[name]["n_controls"]) == {"x"}, name
        assert set(out[name]["n_participants"]) == {60}, name


def test_the_placebo_counts_the_same_persons_so_its_n_is_the_main_n():
    t = _outcome_tables()
    t["placebo"] = t["effects"].assign(months_before_index=12)
    ctx, fam = _registered(OutcomeTables, t)
    rules = [rule for _, rule in ctx.led.relations]
    assert "placebo n = n (control)" in rules and "placebo n = n (participant)" in rules


def test_sensitivity_ratios_are_published_at_two_decimals():
    t = _outcome_tables({**PART, "not_resident": 6}, CTRL)
    t["sensitivity"] = t["effects"][["outcome"]].assign(risk_ratio=2.005943536, rr_ci_low=1.240240174,
                                                        e_value=3.426459617, p_rosenbaum=0.009641722789)
    ctx, fam = _registered(OutcomeTables, t)
    s = fam.published(ctx, {})["sensitivity"].iloc[0]
    assert (s["risk_ratio"], s["rr_ci_low"], s["e_value"], s["p_rosenbaum"]) == (2.01, 1.24, 3.43, 0.01)


def test_the_qc_summary_leaves_out_participants_counts_and_single_persons_dates():
    es = pd.DataFrame({"file": ["participants", "participants", "participants", "dod", "dod", "dream", "eindkomst"],
                       "item": ["persons", "started", "first_visitation", "rows", "first_date", "first_week",
                                "first_month"],
                       "value": ["57", "56", "2020-01-02", "120", "2016-03-04", "2015-W01", "2015-01"]})
    ctx = Context.of({"extract_summary": es}, {"min_cell": K}, False)
    out = Qc().render(ctx, {})["qc_extract_summary"]
    assert out["item"].tolist() == ["rows", "first_week", "first_month"]


def _four_single_exclusions():
    steps = ["referred", "started", "found_in_bef", "ended", "outcome_observed", "matched"]
    flow = pd.DataFrame({"step": steps + ["controls_matched", "controls_outcome_observed"],
                         "n": [70, 66, 65, 64, 63, 62, 620, 620], "persons": [70, 66, 65, 64, 63, 62, 600, 600]})
    reasons = pd.DataFrame({"step": steps[2:], "reason": ["not in bef", "no end date", "died", "no control"],
                            "n": [1, 1, 1, 1], "persons": [1, 1, 1, 1]})
    return {"flow": flow, "flow_reasons": reasons}


def test_named_reasons_that_would_each_be_one_person_are_grouped(monkeypatch):
    """Started 66 and matched 62 are public: four named reasons for four persons would say one
    each. The flow names them as a group, and the audit (a named reason is at least one person)
    agrees that nothing can be worked out; naming them one by one is caught by the audit."""
    from sibeval.publish import flows
    from sibeval.publish.ledger import audit
    disclosure = {"min_cell": K, "public_counts": {"started": 66, "matched": 62}}

    def shaped():
        ctx = Context.of(_four_single_exclusions(), disclosure, False)
        ctx.led.add(outcome("main", "participant", "N"), 62)
        ctx.led.add(outcome("main", "control", "N"), 620)
        fam = Flows()
        fam.register(ctx)
        return ctx, fam
    ctx, fam = shaped()
    row = fam.render(ctx, {})["flow"].set_index("step").loc["matched"]
    assert row["reason"] == flows.GROUPED_REASON and row["excluded"] == 4
    assert audit(ctx.led, {}).empty or audit(ctx.led, {})["protected"].all()
    monkeypatch.setattr(flows, "_nameable", lambda total, reasons, k: True)
    ctx, fam = shaped()
    assert fam.render(ctx, {})["flow"].set_index("step").loc["matched", "reason"] == \
        "not in bef; no end date; died; no control"
    a = audit(ctx.led, {})
    named = a[a["cell"].str.contains(":reason:")]
    assert len(named) == 4 and not named["protected"].any()      # each is pinned to 1


def test_means_of_amounts_are_published_at_the_precision_the_note_shows():
    hw = pd.DataFrame({"variable": ["timer", "loen"], "n_participants": [19, 19], "n_controls": [94, 94],
                       "mean_participants": [85.31578947, 14957.94737], "mean_controls": [73.34042553, 12543.54255],
                       "estimate": [11.97536394, 2414.404815], "ci_low": [-12.96821344, -2116.051869],
                       "ci_high": [36.91894132, 6944.8615], "p_welch": [0.3324239328, 0.28306],
                       "p_mannwhitney": [0.35, 0.2],
                       "p_value": [0.3324239328, 0.28306], "significant": [False, False]})
    ctx, fam = _registered(HoursWage, {"hours_wage": hw})
    out = fam.published(ctx, {})["hours_wage"].set_index("variable")
    assert out.at["timer", "mean_participants"] == 85.3 and out.at["loen", "mean_participants"] == 14958.0
    assert out.at["loen", "ci_high"] == 6945.0 and out.at["timer", "p_value"] == 0.332


def test_table1_hides_the_shares_of_a_group_whose_n_is_hidden():
    t = _outcome_tables()
    ctx, fam = _registered(OutcomeTables, t)
    t1 = fam.render(ctx, {outcome("main", "control", "N"): "complementary"})["table1"].set_index("outcome")
    assert set(t1["total_control"]) == {"x"} and set(t1["share_control"]) == {""}
    assert (t1["share_participant"] != "").all()


def test_equal_matched_sets_give_a_hidden_participant_count_back_unless_the_rows_are_hidden_too():
    """Kolding: 325 matched control rows in sets of exactly 5 say 65 matched participants; with
    62 analysed, the 3 without an outcome would follow. The sets are in the ledger, so the
    protection hides the rows as well as the participants' count."""
    from sibeval.publish.ledger import protect
    ms = pd.DataFrame({"sample": ["all", "matched_ess", "matched", "unmatched", "controls_per_participant_min",
                                  "controls_per_participant_max", "distinct_control_persons", "covariates_imbalanced"],
                       "control": [11099, 325, 325, 10774, 5, 5, 299, 0],
                       "treated": [None, 65, 65, None, None, None, None, None]})   # only the matched shown
    t = {"match_summary": ms, "design": pd.DataFrame({"setting": ["method", "ratio"], "value": ["nearest", "5"]}),
         "set_sizes": pd.DataFrame({"size": [5], "sets": [65]}),
         "covariate_counts": pd.DataFrame(columns=["covariate", "group", "n_total", "n_with", "persons_with",
                                                   "persons_without"]),
         "balance": pd.DataFrame(columns=["covariate", "type"]),
         "overlap": pd.DataFrame(columns=["group", "bin_lo", "bin_hi", "n", "persons"])}
    ctx = Context.of(t, {"min_cell": K}, False)
    n = ctx.led.add(outcome("main", "participant", "N"), 62)
    Matching()._summary(ctx, ms, t["covariate_counts"])
    lost = ctx.led.add("flow:outcome_observed:excluded", 3, shown=False)
    ctx.led.sums("match:treated:matched_rows", [n, lost], "matched = analysed + without outcome")
    ctx.led.quantities["match:treated:matched_rows"].shown = True
    Matching._set_sizes(ctx, t["set_sizes"], ms, t["design"])
    from sibeval.publish.ledger import audit
    from sibeval.publish.matching import _match_summary
    # hiding the participants' count alone is not enough: 325 rows in sets of 5 say 65
    a = audit(ctx.led, {"match:treated:matched_rows": "complementary"})
    assert not a.loc[a.cell == lost, "protected"].all()
    assert protect(ctx.led).safe
    out = _match_summary(ms, {"match:control:matched_rows": "complementary"}, ctx.k).set_index("sample")
    assert out.loc["matched_ess", "control"] == "x"          # an ESS of equal sets is the count


def test_p_values_are_published_as_the_note_shows_them():
    from sibeval.publish.family import p_published
    from sibeval.report.formatting import Formatter
    f = Formatter("da")
    for exact in (0.36653, 0.0305, 0.02349, 0.00964, 0.049999, 0.00012, 0.5):
        assert f.p(p_published(exact)) == f.p(exact), exact     # no second rounding
    assert p_published(0.00012345) == 0.00012 and p_published(0.0) == 0.0


def _lost_control_tables():
    """Sets of exactly 5 controls (the match summary prints min = max = 5); of 60 analysed
    participants' 300 controls one died, in the sets of subgroup level 0: 5 x 30 - 149 = 1."""
    ctrl = {"self_supporting_wage": 40, "wage_with_benefit": 30, "temporary_benefit": 179, "not_resident": 10,
            "permanent_benefit": 40}
    half = {k: v // 2 for k, v in PART.items()}
    c0 = {"self_supporting_wage": 20, "wage_with_benefit": 15, "temporary_benefit": 89, "not_resident": 5,
          "permanent_benefit": 20}
    c1 = {k: ctrl[k] - c0[k] for k in ctrl}
    t = _outcome_tables(PART, ctrl)
    t["effects"]["controls_in_sets"] = 300
    levels = []
    for lv, c in ((0, c0), (1, c1)):
        e = _effects(half, c)
        e = e[e.outcome.isin(["ordinary_employment", "self_supporting_or_education"])]
        levels.append(e.assign(subgroup="female", level=lv, controls_in_sets=150))
    t["subgroups"] = pd.concat(levels, ignore_index=True)
    for name in ("effects", "subgroups"):
        e = t[name]
        t[name] = e.assign(n_eff_participants=e.n_participants, n_eff_controls=e.n_controls, primary_test="boschloo",
                           alpha=0.05, method="m", risk_ratio=1.5, rr_ci_low=1.0, rr_ci_high=2.0)
    t["diagnostics"] = t["diagnostics"].assign(power=0.8, alpha=0.05)
    t["match_summary"] = pd.DataFrame({"sample": ["controls_per_participant_min", "controls_per_participant_max"],
                                       "control": [5, 5], "treated": [None, None]})
    return t


def _published_with(t):
    b = Boundary.__new__(Boundary)
    b.ctx, fam = _registered(OutcomeTables, t)
    b.families = [fam]
    p = b.protect()
    return b, p, b.publish(p)


def test_a_subgroup_level_does_not_give_its_dead_controls_back():
    """#22 (the second attacker): with equal sets, a subgroup level's participants x 5 minus its
    analysed controls is the number of its controls who died. The level's control count is
    hidden ('x') and its shares are still printed, to a step every possible count fits."""
    b, p, out = _published_with(_lost_control_tables())
    lost = "out:sub:female:0:control:N:lost_after_matching"
    row = p.audit.set_index("cell").loc[lost]
    assert row.protected and row.derivable_low <= 1 and row.derivable_high >= K - 1
    sg = out["subgroups"]
    assert (sg.loc[sg.level == 0, "n_controls"] == "x").all()
    assert pd.to_numeric(sg["share_controls"], errors="coerce").notna().all()
    assert out["effects"]["n_participants"].iloc[0] == 60


def test_without_the_set_bounds_a_subgroup_prints_its_dead_controls(monkeypatch):
    monkeypatch.setattr(OutcomeTables, "_set_bounds", lambda self, ctx: None)
    b, p, out = _published_with(_lost_control_tables())
    sg = out["subgroups"]
    n_p, n_c = (int(sg.loc[sg.level == 0, c].iloc[0]) for c in ("n_participants", "n_controls"))
    assert p.safe and 5 * n_p - n_c == 1        # the audit says safe; the reader finds exactly 1


def test_the_effective_size_printed_over_a_hidden_control_count_is_public():
    """#22 (the third attacker): the effective size in the method text was the ledger's lower
    bound, computed while the row's counts were still treated as shown; it equalled a hidden
    count rounded up. It is now the participants x the smallest set, whatever the controls."""
    import re

    b, p, out = _published_with(_lost_control_tables())
    for name, n_p in (("effects", 60), ("subgroups", 30)):
        sizes = {float(x) for x in re.findall(r"with ([\d.]+) as its effective size", " ".join(out[name]["method"]))}
        hidden = out[name]["n_controls"].astype(str).eq("x")
        assert not hidden.any() or sizes == {n_p * 5.0}, (name, sizes)
    assert out["effects"]["n_controls"].iloc[0] == "x"
