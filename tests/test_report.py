"""The text system, the formatter, the workbook and the note, on hand-built published tables."""

import io
import re
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from sibeval.design.cohort import COVARIATES
from sibeval.publish.cells import is_suppressed
from sibeval.report.base import Labels
from sibeval.report.catalogue import LOCALE_DIR, Catalogue, languages, load_strings, missing_keys
from sibeval.report.formatting import Formatter
from sibeval.report.note import NoteBuilder
from sibeval.report.workbook import PCT, sheet_tab, write_workbook

ROOT = Path(__file__).resolve().parents[1]
LABELS = yaml.safe_load((ROOT / "config" / "labels.yaml").read_text(encoding="utf-8"))


# ---------- catalogue ----------
def test_every_language_has_every_key_with_the_same_placeholders():
    ref = load_strings("en")
    assert set(languages()) >= {"da", "en"}
    for lang in languages():
        assert missing_keys(lang) == [], lang
        strings = load_strings(lang)
        for key, text in ref.items():
            assert set(re.findall(r"{(\w+)}", strings[key])) == set(re.findall(r"{(\w+)}", text)), (lang, key)


def test_a_third_language_is_one_file_and_a_missing_key_is_caught(tmp_path):
    for f in LOCALE_DIR.glob("*.yaml"):
        shutil.copy(f, tmp_path / f.name)
    en = yaml.safe_load((LOCALE_DIR / "en.yaml").read_text(encoding="utf-8"))
    stub = {sec: ({k: (f"[xx] {v}" if isinstance(v, str) else v) for k, v in d.items()}) for sec, d in en.items()}
    (tmp_path / "xx.yaml").write_text(yaml.safe_dump(stub, allow_unicode=True), encoding="utf-8")
    assert missing_keys("xx", tmp_path) == []
    assert Catalogue("xx", tmp_path)("note.headline").startswith("[xx]")
    del stub["note"]["headline"]
    (tmp_path / "yy.yaml").write_text(yaml.safe_dump(stub, allow_unicode=True), encoding="utf-8")
    assert missing_keys("yy", tmp_path) == ["note.headline"]


def test_labels_cover_every_covariate_status_and_municipality():
    for lang in ("da", "en"):
        lb = Labels(LABELS, lang)
        for c in COVARIATES:
            assert lb.covariate(c) != c, c
        assert lb.group("657") == "Herning" and lb.group(791) == "Viborg" and lb.group("all") != "all"
        assert lb.get("benefit_groups", "kontanthjaelp") != "kontanthjaelp"


# ---------- formatter ----------
@pytest.mark.parametrize(
    "lang, value, call, expected",
    [
        ("da", 20057, "int", "20.057"),
        ("en", 20057, "int", "20,057"),
        ("da", 0.2, "num", "0,2"),
        ("da", -0.00004, "num", "0,0"),
        ("da", -1.26, "num", "−1,3"),
        ("da", 0.0004, "p", "< 0,001"),
        ("en", 0.0576, "p", "0.058"),
        ("da", 0.3455, "pct", "35 %"),
        ("da", "<5", "int", "<5"),
        ("da", "x", "pct", "x"),
        ("da", None, "num", ""),
        ("da", 1234567.891, "num", "1.234.567,9"),
    ],
)
def test_formatter(lang, value, call, expected):
    assert getattr(Formatter(lang), call)(value) == expected


def test_p_in_running_text_never_reads_p_equals_less_than():
    f = Formatter("da")
    assert f.p_eq(0.0001) == "p < 0,001" and f.p_eq(0.058) == "p = 0,058"


def test_suppression_markers_are_any_text_in_a_numeric_column():
    assert is_suppressed("<5") and is_suppressed("x") and is_suppressed("..")
    assert not is_suppressed("3") and not is_suppressed(3.0) and not is_suppressed("") and not is_suppressed(None)


# ---------- workbook ----------
def _sheets():
    return {
        "table1": pd.DataFrame(
            {
                "outcome": ["self_supporting_wage", "not_resident"],
                "n_participant": ["10", "<5"],
                "share_participant": [0.181818, None],
                "n_control": [30.8, 7.8],
            }
        ),
        "effects": pd.DataFrame(
            {
                "outcome": ["ordinary_employment"],
                "estimate": [0.1828],
                "p_value": [0.0023],
                "significant": [True],
                "method": ['=HYPERLINK("http://x","Open")'],
            }
        ),
    }


def _write(path):
    write_workbook(
        path,
        _sheets(),
        {"cohort": "demo", "cohort_file": "+cmd|' /C calc'!A0"},
        Catalogue("da"),
        "@SUM(1)",
        5,
        Labels(LABELS, "da"),
        pd.Timestamp("2023-11-14").to_pydatetime(),
    )


def _book(path, sheets: dict, lang: str = "da"):
    """Write `sheets` as a workbook in `lang` and open it (openpyxl)."""
    from openpyxl import load_workbook

    write_workbook(path, sheets, {"cohort": "demo"}, Catalogue(lang), "T", 5, Labels(LABELS, lang),
                   pd.Timestamp("2023-11-14").to_pydatetime())
    return load_workbook(path)


def test_workbook_numbers_formats_readme_and_no_formulas(tmp_path):
    from openpyxl import load_workbook

    _write(tmp_path / "t.xlsx")
    wb = load_workbook(tmp_path / "t.xlsx")
    assert wb.sheetnames[:2] == ["Læs mig", "Datagrundlag"]
    t1 = wb["Tabel 1"]
    head = [c.value for c in t1[1]]
    # the data sheets show a code as its label; the code is on the README sheet only
    assert head[0] == "Udfald" and "Udfald (kode)" not in head
    assert t1["A2"].value == LABELS["status"]["self_supporting_wage"]["da"]
    assert t1["B2"].value == 10 and t1["B2"].number_format == "#,##0"
    assert t1["B3"].value == "<5" and t1["B3"].data_type == "s"
    assert t1["C2"].number_format == PCT and t1.freeze_panes == "A2" and t1.auto_filter.ref
    codes = {c.value for ws in wb.worksheets[1:] for row in ws.iter_rows() for c in row}
    assert "self_supporting_wage" not in codes
    eff = wb["Effekter"]
    p_col = head_index(eff, "p")
    assert eff.cell(2, p_col).number_format == '[<0.001]"< 0,001";0.000'
    for ws in wb:
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", (ws.title, c.coordinate, c.value)
                if isinstance(c.value, str) and c.value not in ("<5", "x"):
                    assert not re.fullmatch(r"-?\d+(\.\d+)?", c.value), (ws.title, c.coordinate)
    readme = [[c.value for c in r] for r in wb["Læs mig"].iter_rows()]
    described = {(r[0], r[2]) for r in readme if len(r) >= 4 and r[2] and r[3]}
    assert ("Tabel 1", "Udfald", "self_supporting_wage", LABELS["status"]["self_supporting_wage"]["da"]) \
        in {tuple(r[:4]) for r in readme}
    cat = Catalogue("da")
    for name, df in _sheets().items():
        for col in df.columns:
            assert (sheet_tab(cat, name), col) in described, (name, col)
    # the sheet list: tab, description and the table's code (its CSV file)
    sheets = {r[2]: r[0] for r in readme if r[1] and r[2] and not r[3]}
    assert {"README", "provenance", "table1", "effects"} <= set(sheets) and sheets["table1"] == "Tabel 1"
    assert set(wb.sheetnames) <= set(sheets.values())


def head_index(ws, heading):
    return [c.value for c in ws[1]].index(heading) + 1


def test_workbook_bytes_identical_on_rewrite(tmp_path):
    _write(tmp_path / "a.xlsx")
    _write(tmp_path / "b.xlsx")
    a, b = (tmp_path / "a.xlsx").read_bytes(), (tmp_path / "b.xlsx").read_bytes()
    assert a == b
    core = zipfile.ZipFile(io.BytesIO(a)).read("docProps/core.xml").decode()
    assert "2023-11-14" in core


# ---------- note pieces ----------
def _cohort(lang="da"):
    return {
        "name": "t",
        "title": "T",
        "language": lang,
        "follow_up_months": 6,
        "control_dates": "matched",
        "disclosure": {"min_cell": 5},
        "effects": {"alpha": 0.05, "primary_test": "boschloo"},
        "matching": {
            "method": "nearest",
            "ratio": 5,
            "replace": False,
            "caliper": 0.2,
            "m_order": "largest",
            "smd_threshold": 0.1,
        },
        "eligibility": {
            "sex": [1, 2],
            "non_western": None,
            "age_min": 18,
            "age_max": 30,
            "benefit_groups": ["uddannelseshjaelp", "kontanthjaelp"],
            "no_employment_in_index_month": True,
        },
        "progression": {"enabled": False},
    }


def _eff(outcome, est, lo, hi, p, padj, sig):
    return {
        "outcome": outcome,
        "n_participants": 129,
        "n_controls": 554,
        "share_participants": 0.2,
        "share_controls": 0.13,
        "estimate": est,
        "ci_low": lo,
        "ci_high": hi,
        "p_value": p,
        "p_adjusted": padj,
        "significant": sig,
        "suppressed": False,
    }


def _tables():
    eff = pd.DataFrame(
        [
            _eff("ordinary_employment", 0.069, 0.001, 0.15, 0.058, 0.058, False),
            _eff("permanent_benefit", -0.08, -0.108, -0.013, 0.016, 0.095, False),
        ]
    )
    return {
        "effects": eff,
        "diagnostics": pd.DataFrame({"outcome": ["ordinary_employment"], "minimum_detectable_difference": [0.11]}),
        "balance": pd.DataFrame({"covariate": ["age", "passive_4w", "distance"], "smd_after": [0.02, -0.13, 0.3]}),
        "match_summary": pd.DataFrame({"sample": ["matched_ess"], "control": [458.4], "treated": [129]}),
        "design": pd.DataFrame({"setting": ["smd_threshold", "mahvars"], "value": ["0.1", "age"]}),
    }


def test_reading_aids_explain_ci_vs_test_holm_and_detectable_difference():
    b = NoteBuilder(_tables(), _cohort("en"), LABELS)
    aids = " ".join(b.reading_aids())
    assert "excludes 0" in aids and "Holm" in aids and "detect a difference of about 11" in aids
    missed, text = b.balance_check()
    assert missed == ["Cash benefit/SHY 4 weeks before"] and "Cash benefit/SHY" in text


def test_flow_reason_translated_and_lone_count_dropped():
    b = NoteBuilder(_tables(), _cohort("da"), LABELS)
    assert b.reason("not found in the population register (bef)") == "ikke fundet i befolkningsregistret"
    assert b.reason("died before the outcome month ended (<5)") == "død før opfølgningsmånedens udløb"
    two = b.reason("outcome month after the extract's coverage (12); died before the outcome month ended (<5)")
    assert two == "opfølgningsmåned efter registerudtrækkets periode (12); død før opfølgningsmånedens udløb (<5)"


def test_economics_sheets_show_shares_as_percent_years_as_years_and_kroner_whole(tmp_path):
    """#23: one column of econ_inputs held the effect 0.1725, the discount rate 0.035 and the
    price year 2021, all as #,##0.0 ("0,2", "0,0", "2.021,0")."""

    sheets = {
        "econ_inputs": pd.DataFrame({
            "input": ["effect", "discount_rate", "price_year", "provider_cost", "investor_share"],
            "value": [0.1725, 0.035, 2021, 74165.4, 0.5], "source": ["m", "c", "c", "c", "c"]}),
        "econ_account": pd.DataFrame({"item": ["investor_share", "investor_return"], "value": [12567.6, 0.1695]}),
        "econ_sensitivity": pd.DataFrame({"parameter": ["horizon", "decay"], "base": [10, 0.15], "low": [5, 0.05],
                                          "high": [20, 0.3], "range": [31427.9, 46219.2]}),
        "econ_settlement": pd.DataFrame({"basis": ["on_effect"], "n": [55], "outcomes": [9.4875], "price": [502797.6]}),
    }
    wb = _book(tmp_path / "t.xlsx", sheets)

    from sibeval.report.value_labels import ValueLabels
    words = ValueLabels(Catalogue("da"), Labels(LABELS, "da"))

    def fmt(sheet, key, col):
        ws = wb[sheet_tab(Catalogue("da"), sheet)]
        head = [c.value for c in ws[1]]
        code = next(c for c in ("input", "item", "parameter", "basis") if c in sheets[sheet])
        rows = {ws.cell(row=r, column=1).value: r for r in range(2, ws.max_row + 1)}
        return ws.cell(row=rows[words(sheet, code, key)], column=head.index(col) + 1).number_format

    assert fmt("econ_inputs", "effect", "Værdi") == PCT and fmt("econ_inputs", "discount_rate", "Værdi") == PCT
    assert fmt("econ_inputs", "price_year", "Værdi") == "0" and fmt("econ_inputs", "provider_cost", "Værdi") == "#,##0"
    assert fmt("econ_inputs", "investor_share", "Værdi") == PCT             # an input share
    assert fmt("econ_account", "investor_share", "Værdi") == "#,##0"         # kroner in the account
    assert fmt("econ_account", "investor_return", "Værdi") == PCT
    assert fmt("econ_sensitivity", "horizon", "Lav") == "0" and fmt("econ_sensitivity", "decay", "Høj") == PCT
    assert fmt("econ_settlement", "on_effect", "Resultater") != "#,##0"      # 9.4875 outcomes keep a decimal


def test_a_danish_workbook_has_danish_tabs_a_print_setup_and_its_own_headers(tmp_path):
    """#23: the tabs were the tables' codes (English in a Danish workbook), nothing was set up
    for print (159 A4 pages), and econ_settlement put the total payment under "Forskel" and
    "95 % KI" (the effects' headings)."""

    sheets = {**_sheets(), "econ_settlement": pd.DataFrame({
        "basis": ["per_outcome", "on_effect"], "n": [55, 55], "outcomes": [19, 9.49], "price": [251035.0, 502797.6],
        "estimate": [4769664.2, 4770291.8], "ci_low": [4769664.2, 1537554.9], "ci_high": [4769664.2, 8511859.8]})}
    for lang, tabs in (("da", {"Læs mig", "Datagrundlag", "Tabel 1", "Effekter", "Økonomi – afregning"}),
                       ("en", {"README", "Provenance", "Table 1", "Effects", "Economics – settlement"})):
        wb = _book(tmp_path / f"{lang}.xlsx", sheets, lang)
        assert tabs <= set(wb.sheetnames), wb.sheetnames
        assert not {"table1", "effects", "econ_settlement", "provenance"} & set(wb.sheetnames)
        for ws in wb:
            assert ws.page_setup.orientation == "landscape" and ws.page_setup.fitToWidth == 1, ws.title
            assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToHeight == 0, ws.title
        assert wb[sheet_tab(Catalogue(lang), "effects")].print_title_rows == "$1:$1"
        head = [c.value for c in wb[sheet_tab(Catalogue(lang), "econ_settlement")][1]]
        payment = {"da": "Betaling i alt (kr.)", "en": "Total payment (DKK)"}[lang]
        assert payment in head and not {"Forskel", "Difference", "95 % KI nedre"} & set(head), head


def test_a_hidden_balance_row_shows_a_dash_and_the_text_does_not_claim_it():
    """#23: Kolding's profile rows 'Kvinde' and 'Beskæftiget inden for 2 år' (hidden: with the
    subgroups they would describe the 3 matched participants without an outcome) were blank,
    while the text said every covariate meets |SMD| < 0,10."""
    t = _tables()
    t["balance"] = pd.DataFrame({"covariate": ["age", "female", "distance"], "smd_after": [0.02, "", 0.3]})
    t["profile"] = pd.DataFrame({"covariate": ["age", "female"], "type": ["continuous", "binary"],
                                 "participants": [46.6, ""], "eligible_pool": [44.5, 0.31],
                                 "matched_controls": [46.5, ""], "smd_before": [0.19, ""], "smd_after": [0.0, ""]})
    b = NoteBuilder(t, _cohort("da"), LABELS)
    missed, text = b.balance_check()
    female = LABELS["covariates"]["female"]["da"]
    assert not missed and "alle viste" in text and female in text and "alle baggrundsforhold" not in text
    table = b.profile_table()
    row = next(r for r in table.rows if r[0] == female)
    assert row[1] == row[3] == row[4] == row[5] == "–" and row[2] == "31 %"
    assert "–: ikke vist" in table.note


def test_progression_rows_show_markers_and_dashes_never_blanks():
    """#23: the SIB note's BIP row 'viden om jobmuligheder' had blank 'same' and 'down' cells
    where the CSV has 'x' and '<5', and 'Negative, der startede usikre' was blank where the
    breakdown was withheld."""
    t = _tables()
    t["progression_items"] = pd.DataFrame([
        {"group": "all", "item": "bip_viden_jobmuligheder", "indicator": False, "n": 44, "n_up": 29, "n_same": "x",
         "n_down": "<5", "share_up": 0.659, "share_same": "", "share_down": "", "target": 0.75, "p_vs_target": 0.166,
         "n_down_started_unsure": "x", "share_of_down_started_unsure": ""},
        {"group": "all", "item": "bip_tro_paa_job", "indicator": True, "n": 44, "n_up": 10, "n_same": 25, "n_down": 9,
         "share_up": 0.227, "share_same": 0.568, "share_down": 0.205, "target": 0.75, "p_vs_target": 5e-13,
         "n_down_started_unsure": "", "share_of_down_started_unsure": ""},
        {"group": "all", "item": "bip_samarbejdsevne", "indicator": True, "n": 44, "n_up": 44, "n_same": 0,
         "n_down": 0, "share_up": 1.0, "share_same": 0.0, "share_down": 0.0, "target": 0.75, "p_vs_target": 1e-5,
         "n_down_started_unsure": 0, "share_of_down_started_unsure": ""}])
    b = NoteBuilder(t, _cohort("da"), LABELS)
    table = next(x for x in b.progression_tables() if x.key == "progression_items")
    first, second, third = table.rows
    assert first[2:5] == ["66 %", "x", "<5 pers."] and first[8] == "x"
    assert second[8] == "–" and third[8] == "ikke relevant"
    assert first[7] == "–"                            # no verdict published: a dash, not a blank
    assert not [v for row in table.rows for v in row if v == ""]
    assert '"x"' in table.note and "–: ikke vist" in table.note


def test_an_undefined_regression_p_says_so_instead_of_a_dash_for_a_hidden_count():
    t = _tables()
    t["effects"] = t["effects"].assign(p_regression=["", 0.02], p_boschloo=[0.5, 0.02], p_fisher=[0.6, 0.03])
    b = NoteBuilder(t, _cohort("da"), LABELS)
    table = b.effects_table(b.t["effects"], "effects", "E")
    col = table.header.index("p (regression)")
    assert table.rows[0][col] == "ikke defineret" and table.rows[1][col] == "0,020"
    assert "p-værdi er ikke defineret, hvor alle i den ene gruppe" in table.note


def test_a_hidden_share_has_no_bar_only_its_label():
    """#23: Kolding's Figure 3 drew each hidden share as a dashed bar 6 units long, which
    reads as about 6 %."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.patches import Rectangle

    from sibeval.report.figures import share_bars

    t = pd.DataFrame({"outcome": ["a", "b"], "p": [0.3, None], "c": [0.2, 0.07]})
    fig = share_bars(t, ["p", "c"], ["P", "C"], {"a": "A", "b": "B"}, suppressed_label={("b", "p"): "skjult (x)"})
    ax = fig.axes[0]
    bars = [r for r in ax.patches if isinstance(r, Rectangle) and r.get_width() > 0]
    assert sorted(round(r.get_width(), 6) for r in bars) == [7.0, 20.0, 30.0]
    assert [x.get_text() for x in ax.texts] == ["skjult (x)"]


def test_overlap_shares_are_of_the_published_total_and_a_hidden_bin_is_a_gap():
    """#23: Kolding's overlap figure gave shares of the shown bins only and a caption 'Ikke vist: 2'."""
    import matplotlib

    matplotlib.use("Agg")
    from sibeval.report.figures import overlap_bins

    ov = pd.DataFrame({"group": ["participants"] * 3 + ["eligible_pool"] * 3, "bin_lo": [0, 0.1, 0.2] * 2,
                       "bin_hi": [0.1, 0.2, 0.3] * 2, "n": [10, "x", 30, 500, 300, 200]})
    fig = overlap_bins(ov, {"participants": "P", "eligible_pool": "E"}, totals={"eligible_pool": 1000})
    lines = {ln.get_label(): ln.get_ydata() for ln in fig.axes[0].get_lines()}
    assert list(lines["E"][:3]) == [50.0, 30.0, 20.0]
    assert lines["P"][0] == 25.0 and np.isnan(lines["P"][1])      # no total: of the shown bins
    t = _tables()
    t["overlap"] = ov
    t["match_summary"] = pd.DataFrame({"sample": ["matched", "all"], "control": ["x", 1000], "treated": ["x", 60]})
    b = NoteBuilder(t, _cohort("da"), LABELS)
    assert b.overlap_totals() == {"participants": None, "matched_controls": None, "eligible_pool": 1000}


def test_workbook_p_values_below_a_thousandth_seeds_and_hidden_numbers_read_as_in_the_note(tmp_path):
    """#23: tables.xlsx showed p = 0.00012 as 0,000, the seed 20221101 as 20.221.101, and the
    numbers computed from a hidden count as bare blanks."""

    sheets = {"effects": pd.DataFrame({"outcome": ["a", "b"], "x_participants": [12, "<5"], "estimate": [0.2, None],
                                       "p_value": [0.00012, None], "suppressed": [False, True]}),
              "status_distribution": pd.DataFrame({"statistic": [3.2], "seed": [20221101], "reps": [20000]})}
    wb = _book(tmp_path / "t.xlsx", sheets)
    eff, sd = wb["Effekter"], wb["Statusfordeling"]
    head = [c.value for c in eff[1]]
    p = eff.cell(2, head.index("p") + 1)
    assert p.value == 0.00012 and p.number_format == '[<0.001]"< 0,001";0.000'
    assert eff.cell(3, head.index("p") + 1).value == "–" and eff.cell(3, head.index("Forskel") + 1).value == "–"
    assert eff.cell(3, head.index("Deltagere med udfaldet") + 1).value == "<5"
    seed = sd.cell(2, [c.value for c in sd[1]].index("Frø") + 1)
    assert seed.value == 20221101 and seed.number_format == "0"


def test_an_input_that_does_not_move_the_account_says_so_in_the_tornado():
    """#23: the SIB tornado showed 'Leverandørens udgift' without a bar and without a word."""
    import matplotlib

    matplotlib.use("Agg")
    from sibeval.economics.figures import tornado

    sens = pd.DataFrame({"parameter": ["effect", "provider_cost"], "municipality_low": [-24425.0, 12567.6],
                         "municipality_high": [49560.4, 12567.6]})
    fig = tornado(sens, 12567.6, no_effect_label="ingen virkning på kommunens regnskab")
    assert [t.get_text() for t in fig.axes[0].texts] == ["ingen virkning på kommunens regnskab"]


def test_an_smd_just_under_the_threshold_does_not_read_as_the_threshold():
    """#23: Viborg's profile showed the SMDs -0.096 (balanced) and 0.103 (not) both as 0,10 beside
    a target of 'under 0,10': shown at the published three decimals."""
    t = _tables()
    t["profile"] = pd.DataFrame({"covariate": ["benefit_share_36m", "passive_4w"], "type": ["continuous", "binary"],
                                 "participants": [0.8, 0.7], "eligible_pool": [0.82, 0.6],
                                 "matched_controls": [0.81, 0.65], "smd_before": [0.176, 0.11],
                                 "smd_after": [-0.096, 0.103]})
    rows = NoteBuilder(t, _cohort("da"), LABELS).profile_table().rows
    assert [r[5] for r in rows] == ["−0,096", "0,103"]


def test_holm_column_regression_dash_and_binary_shares_read_as_they_are():
    """#23 (fresh-eyes render): 'p (Holm)' repeated the unadjusted p of pre-specified rows; a row
    over a hidden control count said the regression p was 'ikke defineret' for the wrong reason;
    the workbook showed a binary covariate's share 0.44 as 0,4 (next test)."""
    t = _tables()
    t["effects"] = t["effects"].assign(adjustment=["none (pre-specified)", "holm over 8 statuses"],
                                       p_regression=["", 0.02], p_boschloo=[0.05, 0.02], p_fisher=[0.06, 0.03],
                                       n_controls=["x", 554])
    b = NoteBuilder(t, _cohort("da"), LABELS)
    table = b.effects_table(b.t["effects"], "effects", "E")
    holm, reg = table.header.index("p (justeret)"), table.header.index("p (regression)")
    assert table.rows[0][holm] == "ikke justeret" and table.rows[1][holm] == "0,095"
    assert table.rows[0][reg] == "–"


def test_a_binary_covariates_mean_is_a_share_in_the_workbook(tmp_path):

    sheets = {"profile": pd.DataFrame({"covariate": ["age", "age_50plus"], "type": ["continuous", "binary"],
                                       "participants": [46.56, 0.44], "matched_controls": [46.54, 0.45]})}
    ws = _book(tmp_path / "t.xlsx", sheets)["Deltagerprofil"]
    head = [c.value for c in ws[1]]
    col = head.index("Deltagere") + 1
    assert ws.cell(3, col).number_format == "0%" and ws.cell(2, col).number_format != "0%"


def test_wages_are_whole_kroner_and_hours_one_decimal_in_the_workbook(tmp_path):
    """#23 (fresh-eyes render): wages read '17.219,0 kr.' (the column's format, set by the hours)."""

    sheets = {"hours_wage": pd.DataFrame({"variable": ["timer", "loen"], "n_participants": [21, 21],
                                          "mean_participants": [101.4, 17219.3], "estimate": [18.6, 3312.2]})}
    ws = _book(tmp_path / "t.xlsx", sheets)["Timer og løn"]
    head = [c.value for c in ws[1]]
    for name in ("mean_participants", "estimate"):
        col = next(i for i, h in enumerate(head, start=1) if h == _header_of(name))
        assert ws.cell(2, col).number_format == "#,##0.0" and ws.cell(3, col).number_format == "#,##0", name


def _header_of(col):
    from sibeval.report.workbook import _header

    return _header(Catalogue("da"), col, "hours_wage")[0]


def test_the_workbooks_document_date_is_fixed_without_source_date_epoch(monkeypatch):
    """#23: docProps/core.xml held the time of the run, so the same tables gave other bytes on
    another day."""
    from sibeval.report.base import document_time
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    assert document_time() == document_time() == __import__("datetime").datetime(2000, 1, 1)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert document_time().date().isoformat() == "2023-11-14"


def test_no_catalogue_repeats_a_key():
    """A YAML mapping with a key twice keeps the last silently: a new entry would never show."""
    import yaml

    class Strict(yaml.SafeLoader):
        pass

    def mapping(loader, node):
        keys = [loader.construct_object(k) for k, _ in node.value]
        assert len(keys) == len(set(keys)), sorted({k for k in keys if keys.count(k) > 1})
        return loader.construct_mapping(node)

    Strict.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, mapping)
    for f in LOCALE_DIR.glob("*.yaml"):
        yaml.load(f.read_text(encoding="utf-8"), Loader=Strict)


def test_no_running_text_uses_x_for_a_number():
    """x marks a hidden number in every table and note: the catalogues do not also use it for
    an unknown ("x points above the average ... x % less" read as two hidden numbers). Only
    the explanation of the marker ("x: hidden ...") names it; method_clauses' first items are
    the published tables' English wording, matched, not shown."""
    import re

    for lang in languages():
        for key, text in load_strings(lang).items():
            if key.startswith("method_clauses.") and key.endswith(".0"):
                continue
            for m in re.finditer(r"(?<![\w\"'(«{\\])x(?![\w\"')»}])", str(text)):
                assert text[m.end():m.end() + 1] == ":", (lang, key, text[max(0, m.start() - 40):m.end() + 20])


def test_the_subgroup_margins_have_one_name_in_the_note_and_both_workbooks():
    """subgroup_payments' margins are the party paid's (the investor's in a SIB): tables.xlsx
    called them the provider's margin while the note and payment_model.xlsx said the investor's."""
    for lang in languages():
        s = load_strings(lang)
        assert s["columns.provider_margin.0"] == s["payment_workbook.prices.margin"], lang
        assert s["columns.neutral_margin.0"] == s["payment_workbook.prices.neutral_margin"], lang


def test_the_wording_digest_changes_with_any_catalogue_or_template(tmp_path):
    """The rules that write reader text take it as a parameter (rule_params, report.smk), so
    changed wording renders them again."""
    import shutil

    from sibeval.report.catalogue import LOCALE_DIR, wording_digest

    root = LOCALE_DIR.parent
    for sub in ("locale", "templates"):
        shutil.copytree(root / sub, tmp_path / sub)
    base = wording_digest(tmp_path)
    assert base == wording_digest(root) == wording_digest(tmp_path)
    for f in (tmp_path / "locale" / "da.yaml", next((tmp_path / "templates").iterdir())):
        f.write_bytes(f.read_bytes() + b"\n")
        assert wording_digest(tmp_path) != base, f.name
        base = wording_digest(tmp_path)
