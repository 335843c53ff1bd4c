"""The live payment workbook recalculates in LibreOffice to the Python model."""
import shutil
import subprocess
from dataclasses import replace

import openpyxl
import pytest

from sibeval.economics import model as ec
from sibeval.economics.workbook import CALC_ROWS, build
from test_economics import CAT

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
needs_soffice = pytest.mark.skipif(
    SOFFICE is None, reason="LibreOffice (soffice) not installed: apt-get install libreoffice-calc-nogui")


def recalc(wb, tmp_path, name="pm.xlsx"):
    src = tmp_path / "in" / name
    src.parent.mkdir()
    wb.save(src)
    out = tmp_path / "out"
    subprocess.run([SOFFICE, "--headless", f"-env:UserInstallation=file://{tmp_path}/lo",
                    "--calc", "--convert-to", "xlsx", "--outdir", str(out), str(src)],
                   check=True, capture_output=True, timeout=180)
    return openpyxl.load_workbook(out / name, data_only=True)


def test_formulas_not_values():
    wb = build(CAT)
    ca = wb["Calculation"]
    assert all(str(ca.cell(r, 5).value).startswith("=") for r in CALC_ROWS.values())
    se = wb["Sensitivity"]
    assert all(str(se.cell(r, 10).value).startswith("=") for r in range(2, se.max_row + 1))
    assert wb["Inputs"]["C2"].value == "measured (pipeline)"


@needs_soffice
def test_recalculates_to_python_and_cost_changes_payment(tmp_path):
    wb = build(CAT)
    wb["Inputs"]["B4"] = 60000            # provider cost
    got = recalc(wb, tmp_path)["Calculation"]
    changed = ec.account(replace(CAT, provider_cost=60000))
    assert got.cell(CALC_ROWS["payment"], 5).value == pytest.approx(changed.payment, abs=0.01)
    assert changed.payment < ec.account(CAT).payment


@needs_soffice
def test_recalculated_figures_match(tmp_path):
    got = recalc(build(CAT), tmp_path)
    ca = got["Calculation"]
    acc, be = ec.account(CAT), ec.break_even(CAT)
    for key, row in CALC_ROWS.items():
        want = getattr(acc, key, None)
        want = getattr(be, key) if want is None and hasattr(be, key) else want
        if want is not None:
            assert ca.cell(row, 5).value == pytest.approx(want, rel=1e-9, abs=1e-6), key
    assert ca["E21"].value == ec.years_to_break_even(CAT)
    sens = ec.sensitivity(CAT).set_index("parameter")
    for r in got["Sensitivity"].iter_rows(min_row=2, values_only=True):
        assert r[9] == pytest.approx(sens.loc[r[0], f"municipality_{r[1]}"], abs=0.01), r[:2]
        assert r[10] == pytest.approx(sens.loc[r[0], f"surplus_{r[1]}"], abs=0.01), r[:2]


def test_workbook_bytes_are_reproducible(tmp_path):
    import time

    from sibeval.economics.workbook import save
    save(build(CAT), tmp_path / "a.xlsx")
    time.sleep(2.1)
    save(build(CAT), tmp_path / "b.xlsx")
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()
    assert openpyxl.load_workbook(tmp_path / "a.xlsx")["Inputs"]["B2"].value == CAT.effect
