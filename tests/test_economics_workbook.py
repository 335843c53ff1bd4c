"""The live payment workbook: a municipal tool in the cohort's language whose cached values are
the Python model's and recalculate in LibreOffice to the same numbers."""
import shutil
import subprocess
import time
import zipfile
from dataclasses import replace

import openpyxl
import pytest

from sibeval.economics import model as ec
from sibeval.report.catalogue import Catalogue
from sibeval.report.payment_workbook import CALC_ROWS, INPUTS, RESULTS, build, save
from test_economics import CAT

# one pytest-xdist worker runs the whole module: its module fixture is built once
pytestmark = pytest.mark.xdist_group("test_economics_workbook")

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
needs_soffice = pytest.mark.skipif(
    SOFFICE is None, reason="LibreOffice (soffice) not installed: apt-get install libreoffice-calc-nogui")


# LibreOffice shows a workbook's cached values unless told to recalculate on load
RECALC_ALWAYS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse">
<value>0</value></prop></item>
</oor:items>
"""


def recalc_all(paths: list, tmp_path) -> dict:
    """Each workbook recalculated by LibreOffice (one process for all): name -> openpyxl values."""
    out = tmp_path / "out"
    profile = tmp_path / "lo" / "user"
    profile.mkdir(parents=True, exist_ok=True)
    (profile / "registrymodifications.xcu").write_text(RECALC_ALWAYS, encoding="utf-8")
    subprocess.run([SOFFICE, "--headless", f"-env:UserInstallation=file://{tmp_path}/lo",
                    "--calc", "--convert-to", "xlsx", "--outdir", str(out), *map(str, paths)],
                   check=True, capture_output=True, timeout=300)
    return {p.name: openpyxl.load_workbook(out / p.name, data_only=True) for p in paths}


def _saved(pw, tmp_path, name="pm.xlsx"):
    path = tmp_path / "in" / name
    path.parent.mkdir(exist_ok=True)
    save(pw, path)
    return path


def _input_row(ws, key):
    label = Catalogue("da")(f"payment_workbook.inputs_labels.{key}")
    return next(c.row for c in ws["A"] if c.value == label)


EDITED = {
    "base": {},
    "effect_0": {"effect": 0.0},                                   # an undecided programme
    "no_tax_no_investor_steep_decay_long_horizon": {"extra_tax": 0.0, "investor_share": 0.0, "decay": 0.95,
                                                    "horizon": 45},
    "small_control_share": {"effect": 0.18, "gross_share": 0.25},  # the tornado's high effect past g
    "capped": {"cap_return": 0.10, "floor_return": -0.2, "cap_payment": 85000.0},
    "budget_capped": {"cap_payment": 80000.0},
    "staged": {"stages": ((2, 0.4), (8, 0.3), (14, 0.3))},    # later stages only for lasting jobs
    # the contract's forms (#24): an agreed price with the cohort's totals, co-financing with
    # evaluator costs, Alternativ 1 and 2, and a further outcome type with its own price
    "agreed_price": {"mode": "agreed_price", "price": 240000.0, "n_participants": 56, "cap_payment": 85000.0},
    "co_financed": {"co_financing": 0.5, "evaluator_cost": 3000.0, "n_participants": 56},
    "reinvestment": {"mode": "reinvestment"},
    "loan": {"mode": "loan", "loan_rate": 0.05, "payment_months": 18, "n_participants": 56},
    "staged_agreed_price": {"mode": "agreed_price", "price": 260000.0, "stages": ((2, 0.5), (14, 0.5)),
                            "job_retention": 0.9, "n_participants": 56},
    "education_paid_too": {"mode": "agreed_price", "price": 230000.0, "n_participants": 20,
                           "outcome_types": (ec.OutcomeType("education", 0.10, 0.04, 60000.0, 30000.0),)},
}
# the catalogue's subgroups (Tabel 3-4): the prices sheet of every edited workbook
PRICES = {"subgroup": "employed_24m", "outcome": "ordinary_employment", "level": [0, 1],
          "n_participants": [36, 19], "share_participants": [0.25, 10 / 19]}


def _prices(inp):
    import pandas as pd
    return ec.subgroup_payments(inp, {"subgroup": "employed_24m", "outcome": "ordinary_employment"},
                                pd.DataFrame(PRICES))


@pytest.fixture(scope="module")
def recalculated(tmp_path_factory):
    """The edited workbooks, a workbook with a cached value made wrong on purpose and one with a
    changed provider cost, all recalculated in one LibreOffice run."""
    tmp = tmp_path_factory.mktemp("lo")
    paths = {k: _saved(build(replace(CAT, **v), price_year=2021, prices=_prices(replace(CAT, **v))), tmp,
                         f"{k}.xlsx") for k, v in EDITED.items()}
    wrong = build(CAT)
    wrong.cached[(wrong.names["calculation"], f"E{CALC_ROWS['provider_cost']}")] = 12345.0
    paths["wrong_cache"] = _saved(wrong, tmp, "wrong_cache.xlsx")
    wb = openpyxl.load_workbook(paths["base"])
    model = wb.worksheets[0]
    model.cell(_input_row(model, "provider_cost"), 2).value = 60000
    paths["changed_cost"] = tmp / "in" / "changed_cost.xlsx"
    wb.save(paths["changed_cost"])
    return paths, recalc_all(list(paths.values()), tmp)


def test_formulas_not_values_and_the_inputs_block_is_marked():
    pw = build(CAT, price_year=2021, title="SIB")
    ca = pw["calculation"]
    assert all(str(ca.cell(r, 5).value).startswith("=") for r in CALC_ROWS.values())
    se = pw["sensitivity"]
    assert all(str(se.cell(r, 10).value).startswith("=") for r in range(3, se.max_row + 1))
    model = pw["model"]
    assert model.title == "Betalingsmodel" and ca.title == "Beregning"
    fills = {model.cell(_input_row(model, k), 2).fill.fgColor.rgb for k, _ in INPUTS}
    assert len(fills) == 2                                  # measured vs assumption, both marked
    assert model.cell(_input_row(model, "effect"), 4).value.startswith("Målt")
    assert model.cell(_input_row(model, "provider_cost"), 3).value == "kr."
    assert model.freeze_panes and ca.freeze_panes and se.freeze_panes
    assert model._charts, "the model sheet charts the municipality's account over the years"


def test_every_number_has_a_format_and_no_label_is_english_in_danish():
    pw = build(CAT, price_year=2021)
    english = {"the", "and", "of", "per", "payment", "effect", "year", "input", "value", "source"}
    for ws in pw.wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                v = c.value
                numeric = isinstance(v, float) or (isinstance(v, str) and v.startswith("="))
                if numeric and c.column_letter not in ("A", "H"):
                    assert c.number_format != "General", (ws.title, c.coordinate)
                if isinstance(v, str) and not v.startswith("="):
                    words = {w.strip("(),.:").lower() for w in v.split()}
                    assert not words & english, (ws.title, c.coordinate, v)


def test_cached_values_are_the_python_model(tmp_path):
    """A viewer that does not recalculate shows the model's numbers (openpyxl data_only)."""
    got = openpyxl.load_workbook(_saved(build(CAT), tmp_path), data_only=True)
    names = {k: Catalogue("da")(f"payment_workbook.sheet_names.{k}") for k in ("model", "calculation")}
    ca, model = got[names["calculation"]], got[names["model"]]
    acc = ec.account(CAT)
    assert ca.cell(CALC_ROWS["payment"], 5).value == pytest.approx(acc.payment)
    shown = [model.cell(6 + i, 2).value for i in range(len(RESULTS))]
    assert None not in shown
    assert shown[RESULTS.index("payment")] == pytest.approx(acc.payment)
    assert shown[RESULTS.index("years_to_break_even")] == ec.years_to_break_even(CAT)


@needs_soffice
def test_libreoffice_recalculates_rather_than_echoing_the_cache(recalculated):
    """The recalculation below proves something only if LibreOffice computes the formulas: a
    cached value made wrong on purpose comes back right."""
    _, lo = recalculated
    assert lo["wrong_cache.xlsx"].worksheets[1].cell(CALC_ROWS["provider_cost"], 5).value == CAT.provider_cost


@needs_soffice
@pytest.mark.parametrize("edit", list(EDITED))
def test_recalculated_values_equal_the_cached_ones(recalculated, edit):
    """Every formula cell recalculates in LibreOffice to the value the Python model cached, for
    the base case and edited inputs (no #DIV/0! where the cache shows a number)."""
    paths, lo = recalculated
    path = paths[edit]
    cached = openpyxl.load_workbook(path, data_only=True)
    formulas = openpyxl.load_workbook(path)
    got_book = lo[path.name]
    n = 0
    for ws in formulas.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if isinstance(c.value, str) and c.value.startswith("="):
                    want, got = cached[ws.title][c.coordinate].value, got_book[ws.title][c.coordinate].value
                    assert want is not None, (ws.title, c.coordinate)
                    if isinstance(want, str):
                        assert got == want, (ws.title, c.coordinate)
                    else:
                        assert got == pytest.approx(want, rel=1e-9, abs=1e-6), (ws.title, c.coordinate, got)
                    n += 1
    assert n > 300


@needs_soffice
def test_a_changed_cost_changes_the_payment(recalculated):
    """The workbook stays live: a changed provider cost changes the payment."""
    _, lo = recalculated
    want = ec.account(replace(CAT, provider_cost=60000)).payment
    assert lo["changed_cost.xlsx"].worksheets[1].cell(CALC_ROWS["payment"], 5).value == pytest.approx(want, abs=0.01)


def test_english_on_request_and_a_horizon_past_the_sheet_is_refused():
    pw = build(CAT, lang="en")
    assert [ws.title for ws in pw.wb.worksheets] == ["Payment model", "Calculation", "Sensitivity"]
    with pytest.raises(ValueError, match="horizon 61"):
        build(replace(CAT, horizon=61))


def test_an_account_never_positive_reads_as_words_not_a_year(tmp_path):
    inp = replace(CAT, effect=0.01, gross_share=0.2)
    got = openpyxl.load_workbook(_saved(build(inp), tmp_path), data_only=True).worksheets[0]
    row = 6 + RESULTS.index("years_to_break_even")
    assert got.cell(row, 2).value == Catalogue("da")("payment_workbook.not_within")


def test_workbook_bytes_are_reproducible(tmp_path):
    save(build(CAT), tmp_path / "a.xlsx")
    time.sleep(2.1)
    save(build(CAT), tmp_path / "b.xlsx")
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()
    assert b"2000-01-01T00:00:00Z" in zipfile.ZipFile(tmp_path / "a.xlsx").read("docProps/core.xml")
