"""The live payment workbook (COWI's "Excel-værktøj"): every result is an Excel formula.

Sheets: Inputs (measured inputs filled in and marked), Calculation (budget account, split,
payment, break-evens, cash flow by year), Sensitivity (one-way, recomputed by formulas).
"""
from __future__ import annotations

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill

from sibeval.economics.model import SENSITIVITY, Inputs

MAX_YEARS = 60
MEASURED = PatternFill("solid", fgColor="FFF2CC")
INPUT_ROWS = [  # key, label, attribute
    ("effect", "Employment effect (share, participants minus controls)", "effect"),
    ("gross", "Participants' gross employment share", "gross_share"),
    ("cost", "Provider cost per participant (kr)", "provider_cost"),
    ("effort", "Ordinary employment effort per participant (kr)", "effort_cost"),
    ("sshare", "Share of the ordinary effort saved", "effort_saving_share"),
    ("benefits", "Saved benefits per additional employed per year (kr)", "saved_benefits"),
    ("tax", "Extra municipal tax per additional employed per year (kr)", "extra_tax"),
    ("rate", "Discount rate", "discount_rate"),
    ("horizon", "Horizon (years, max 60)", "horizon"),
    ("const", "Years the effect is constant", "constant_years"),
    ("decay", "Annual fall of the effect afterwards", "decay"),
    ("ishare", "Investor's share of the surplus", "investor_share"),
]
CELL = {key: f"Inputs!$B${i + 2}" for i, (key, _, _) in enumerate(INPUT_ROWS)}
YEARS = f"Calculation!$A$3:$A${MAX_YEARS + 2}"


def _k(d, r, h, c):
    """Excel formula text: present value of one employed person over the effect profile."""
    return (f"SUMPRODUCT(({YEARS}<={h})*(({YEARS}<={c})+({YEARS}>{c})*(1-{d})^({YEARS}-{c}))"
            f"*(1+{r})^(-{YEARS}))")


def build(inp: Inputs, measured=("effect", "gross_share"), title: str = "") -> Workbook:
    """A workbook whose Calculation and Sensitivity sheets are formulas of the Inputs sheet."""
    if inp.horizon > MAX_YEARS:
        raise ValueError(f"economics: horizon {inp.horizon} exceeds the workbook's {MAX_YEARS} years")
    wb = Workbook()
    ws = wb.active
    ws.title = "Inputs"
    ws.append(["Input", "Value", "Source"])
    for _key, label, attr in INPUT_ROWS:
        m = attr in measured
        ws.append([label, getattr(inp, attr), "measured (pipeline)" if m else "assumption"])
        if m:
            ws.cell(ws.max_row, 2).fill = MEASURED
    ws.append([])
    ws.append([title or "Yellow: measured by the pipeline. Change any value to see the payment change."])
    ws.column_dimensions["A"].width = 58
    ws.column_dimensions["C"].width = 22
    for c in ws[1]:
        c.font = Font(bold=True)

    ca = wb.create_sheet("Calculation")
    ca["A1"], ca["D1"] = "Effect profile by year", "Budget account per participant"
    ca.append(["year", "effect", "PV factor"])
    for t in range(1, MAX_YEARS + 1):
        r = t + 2
        ca.cell(r, 1, t)
        ca.cell(r, 2, f"=IF(A{r}<={CELL['horizon']},{CELL['effect']}*IF(A{r}<={CELL['const']},1,"
                      f"(1-{CELL['decay']})^(A{r}-{CELL['const']})),0)")
        ca.cell(r, 3, f"=IF({CELL['effect']}=0,0,B{r}/{CELL['effect']})*(1+{CELL['rate']})^(-A{r})")
    e, c = CELL, "Calculation!"
    rows = [
        ("annuity", "PV of one additional employed person (years)", "=SUM(C3:C62)"),
        ("effort_saving", "Saving on the ordinary effort", f"={e['sshare']}*{e['effort']}"),
        ("benefits_saving", "Saved benefits (PV)", f"={e['effect']}*{e['benefits']}*E3"),
        ("tax_gain", "Extra municipal income tax (PV)", f"={e['effect']}*{e['tax']}*E3"),
        ("municipal_saving", "Municipality's saving", "=E4+E5+E6"),
        ("provider_cost", "Provider cost", f"={e['cost']}"),
        ("surplus", "Budget surplus", "=E7-E8"),
        ("investor_share", "Investor's share of the surplus", f"={e['ishare']}*E9"),
        ("payment", "Payment per participant", "=E8+E10"),
        ("investor_return", "Investor's return", "=E10/E8"),
        ("municipality_account", "Municipality's account", "=E7-E11"),
        ("payment_per_employed", "Payment per participant in employment", f"=E11/{e['gross']}"),
        ("investor_gross_share", "Break-even gross share (investor)", "=E8/E14"),
        ("investor_effect", "Break-even effect (investor)", f"=E15-({e['gross']}-{e['effect']})"),
        ("surplus_effect", "Break-even effect (budget surplus)",
         f"=(E8-E4)/(({e['benefits']}+{e['tax']})*E3)"),
        ("municipality_savings_share", "Break-even effort-saving share (municipality)",
         f"=(E11-E5-E6)/{e['effort']}"),
    ]
    for i, (key, label, f) in enumerate(rows):
        ca.cell(i + 3, 4, label)
        ca.cell(i + 3, 5, f)
        ca.cell(i + 3, 6, key)
    ca.column_dimensions["D"].width = 46
    ca.column_dimensions["E"].width = 14
    ca["H1"] = "Municipality's account by year (discounted)"
    ca["H2"], ca["I2"], ca["J2"] = "year", "net present value", "cumulative"
    ca["H3"], ca["I3"], ca["J3"] = 0, "=E4-E11", "=I3"
    for t in range(1, MAX_YEARS + 1):
        r = t + 3
        ca.cell(r, 8, t)
        ca.cell(r, 9, f"=B{t + 2}*({e['benefits']}+{e['tax']})*(1+{e['rate']})^(-H{r})")
        ca.cell(r, 10, f"=J{r - 1}+I{r}")
    ca["D21"] = "Years until the municipality's cumulative account is positive"
    ca["E21"] = (f'=IFERROR(MATCH(TRUE(),INDEX(J3:J{MAX_YEARS + 3}>=-0.000001,0),0)-1,"not within horizon")')
    ca["F21"] = "years_to_break_even"

    se = wb.create_sheet("Sensitivity")
    head = ["parameter", "case", "effect", "saving share", "decay", "discount rate", "horizon",
            "provider cost", "gain factor", "municipality's account", "surplus"]
    se.append(head)
    base = {"effect": e["effect"], "effort_saving_share": e["sshare"], "decay": e["decay"],
            "discount_rate": e["rate"], "horizon": e["horizon"], "provider_cost": e["cost"],
            "annual_gain": "1"}
    order = ["effect", "effort_saving_share", "decay", "discount_rate", "horizon", "provider_cost",
             "annual_gain"]
    for name, (attr, bounds) in SENSITIVITY.items():
        v = 1.0 if name == "annual_gain" else getattr(inp, attr)
        for case, val in zip(("low", "high"), bounds(v)):
            r = se.max_row + 1
            vals = [f"={base[k]}" for k in order]
            vals[order.index(name)] = val
            se.append([name, case, *vals])
            k = _k(f"E{r}", f"F{r}", f"G{r}", e["const"])
            saving = f"D{r}*{e['effort']}+C{r}*({e['benefits']}+{e['tax']})*I{r}*{k}"
            se.cell(r, 10, f"={saving}-{c}$E$11")
            se.cell(r, 11, f"={saving}-H{r}")
    se.column_dimensions["J"].width = 22
    for ws_ in (ca, se):
        for cell in ws_[1]:
            cell.font = Font(bold=True)
    return wb


CALC_ROWS = {key: 3 + i for i, key in enumerate(
    ["annuity", "effort_saving", "benefits_saving", "tax_gain", "municipal_saving", "provider_cost",
     "surplus", "investor_share", "payment", "investor_return", "municipality_account",
     "payment_per_employed", "investor_gross_share", "investor_effect", "surplus_effect",
     "municipality_savings_share"])}


def save(wb: Workbook, path) -> None:
    """Save with fixed timestamps (zip entries and document dates): same inputs, same bytes."""
    import io
    import re
    import zipfile

    buf = io.BytesIO()
    wb.save(buf)
    out = io.BytesIO()
    with zipfile.ZipFile(buf) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", b"2000-01-01T00:00:00Z", data)
            zout.writestr(zipfile.ZipInfo(info.filename, date_time=(2000, 1, 1, 0, 0, 0)), data,
                          compress_type=zipfile.ZIP_DEFLATED)
    with open(path, "wb") as fh:
        fh.write(out.getvalue())
