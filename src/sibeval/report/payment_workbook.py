"""The live payment workbook (COWI's "Excel-værktøj"): every result is an Excel formula.

Sheets, in the cohort's language: the model (a results block on top, then the inputs in one
marked block with unit and source, and a chart of the municipality's account over the years),
the calculation (effect profile, budget account, account by year) and the one-way sensitivity,
both recomputed by formulas. Every formula cell also carries its value computed by the Python
model, so a viewer that does not recalculate shows the same numbers as one that does.
"""
from __future__ import annotations

import io
import math
import re
import zipfile
from dataclasses import dataclass, field, replace
from xml.sax.saxutils import escape

import numpy as np
from openpyxl import Workbook
from openpyxl.chart import LineChart, Reference
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

from sibeval.economics import model as ec
from sibeval.economics.model import SENSITIVITY, Inputs
from sibeval.report.catalogue import Catalogue
from sibeval.report.workbook import print_setup

MAX_YEARS = 60
INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")      # an assumption the user may change
MEASURED_FILL = PatternFill("solid", fgColor="E2EFDA")   # measured by the evaluation
RESULT_FILL = PatternFill("solid", fgColor="DDEBF7")
BOLD = Font(bold=True)
TITLE = Font(bold=True, size=14)
EDGE = Border(*(Side(style="thin", color="999999"),) * 4)
WRAP = Alignment(wrap_text=True, vertical="top")           # a long label wraps within its column
FIXED_TIME = (2000, 1, 1, 0, 0, 0)

FORMATS = {"share": "0.0%", "pp": "0.00%", "kr": "#,##0", "years": "0", "person_years": "0.00",
           "factor": "0.00", "months": "0", "count": "0", "persons": "0.0"}
# key, unit kind; the order of the inputs block
INPUTS = [("effect", "pp"), ("gross_share", "share"), ("n_participants", "count"), ("provider_cost", "kr"),
          ("effort_cost", "kr"), ("effort_saving_share", "share"), ("saved_benefits", "kr"), ("extra_tax", "kr"),
          ("discount_rate", "share"), ("horizon", "years"), ("constant_years", "years"),
          ("decay", "share"), ("investor_share", "share"), ("price", "kr"), ("evaluator_cost", "kr"),
          ("co_financing", "share"), ("loan_rate", "share"), ("payment_months", "months"),
          ("cap_payment", "kr"), ("cap_return", "share"), ("floor_return", "share"),
          ("stage1_months", "months"), ("stage1_share", "share"), ("stage2_months", "months"),
          ("stage2_share", "share"), ("stage3_months", "months"), ("stage3_share", "share"), ("job_retention", "share"),
          ("other_gross_share", "share"), ("other_effect", "pp"), ("other_price", "kr"), ("other_annual_gain", "kr")]
MAX_STAGES = 3
MAX_OUTCOME_TYPES = 1
# the calculation's account rows: key, unit kind, formula template ({name}: an input cell,
# [key]: a row of this block). An empty price is the surplus-share contract, an empty loan
# rate no loan (the catalogue's Alternativ 2 when given).
CALC = [
    ("annuity", "person_years", "=SUM(C3:C62)"),
    ("effort_saving", "kr", "={effort_saving_share}*{effort_cost}"),
    ("benefits_saving", "kr", "={effect}*{saved_benefits}*[annuity]"),
    ("tax_gain", "kr", "={effect}*{extra_tax}*[annuity]"),
    ("other_saving", "kr", "={other_gain}*[annuity]"),
    ("municipal_saving", "kr", "=[effort_saving]+[benefits_saving]+[tax_gain]+[other_saving]"),
    ("provider_cost", "kr", "={provider_cost}"),
    ("evaluator_cost", "kr", "=N({evaluator_cost})"),
    ("surplus", "kr", "=[municipal_saving]-[provider_cost]-[evaluator_cost]"),
    ("other_payment", "kr", "=N({other_price})*N({other_gross_share})"),
    # the agreed price, or the cost plus the investor's share of the surplus, within the
    # contract's floor and caps (an empty cap or floor, or a payment cap of 0, is none)
    ("payment", "kr", "={bounded_payment}"),
    # the investor's share of the cost times its return (a loan: the interest)
    ("investor_share", "kr", "=(1-N({co_financing}))*[provider_cost]*[investor_return]"),
    ("investor_return", "share", "=IF(ISNUMBER({loan_rate}),(1+{loan_rate})^({payment_months}/12)-1,"
                                 "([payment]-[provider_cost])/[provider_cost])"),
    ("provider_margin", "kr", "=[payment]-[provider_cost]-[investor_share]"),
    ("municipality_account", "kr", "=[municipal_saving]-[evaluator_cost]-[payment]"),
    ("payment_per_employed", "kr", "=([payment]-[other_payment])/{gross_share}"),
    ("investor_gross_share", "share", "=([provider_cost]+IF(ISNUMBER({loan_rate}),[investor_share],0)"
                                      "-[other_payment])/[payment_per_employed]"),
    ("investor_effect", "pp", "=[investor_gross_share]-({gross_share}-{effect})"),
    ("surplus_effect", "pp", "=([provider_cost]+[evaluator_cost]-[effort_saving]-[other_saving])"
                             "/(({saved_benefits}+{extra_tax})*[annuity])"),
    ("municipality_savings_share", "share", "=([payment]+[evaluator_cost]-[benefits_saving]-[tax_gain]"
                                            "-[other_saving])/{effort_cost}"),
    # a staged contract pays a later stage only for those still in employment
    ("stage_factor", "factor", "={stage_factor_decay}"),
    # the cohort's totals at the contract's price (the ceiling: every participant in employment)
    ("expected_employed", "persons", "={n_participants}*{gross_share}"),
    ("expected_payment", "kr", "={n_participants}*[payment]"),
    ("contract_value", "kr", "={n_participants}*{bounded_full_price}"),
    ("employed_for_investor", "count", "=IF(N({n_participants})=0,\"–\",IF(ROUNDUP({provider_cost}*{n_participants}"
                                       "/[payment_per_employed]-1E-9,0)>{n_participants},\"{not_reachable}\","
                                       "ROUNDUP({provider_cost}*{n_participants}/[payment_per_employed]-1E-9,0)))"),
]
CALC_ROWS = {key: 3 + i for i, (key, _, _) in enumerate(CALC)}
BREAK_EVEN_ROW = 3 + len(CALC) + 1          # years until the account is positive
# the results block of the model sheet, in reading order
RESULTS = ["payment", "payment_per_employed", "municipal_saving", "provider_cost", "surplus",
           "investor_return", "provider_margin", "municipality_account", "years_to_break_even", "investor_effect",
           "surplus_effect", "expected_payment", "contract_value", "employed_for_investor"]
SENS_COLUMNS = ["effect", "effort_saving_share", "decay", "discount_rate", "horizon", "provider_cost",
                "annual_gain"]


@dataclass
class PaymentWorkbook:
    """The openpyxl workbook and, per formula cell, the value the Python model computes."""

    wb: Workbook
    cached: dict = field(default_factory=dict)       # (sheet title, "E3") -> value
    names: dict = field(default_factory=dict)        # "model", "calculation", "sensitivity" -> title
    labels: object = None                            # a subgroup's label (covariate code -> words)

    def __getitem__(self, name):
        return self.wb[self.names.get(name, name)]

    def put(self, ws, coord: str, formula: str, value) -> None:
        ws[coord] = formula
        self.cached[(ws.title, coord)] = value

    def save(self, path) -> None:
        """Save with the cached values and fixed timestamps: same inputs, same bytes."""
        save(self, path)


def _ref(sheet: str, coord: str) -> str:
    col, row = re.match(r"([A-Z]+)(\d+)", coord).groups()
    return f"'{sheet}'!${col}${row}"


def _profile(inp: Inputs) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Effect, present-value factor and discount factor in years 1..MAX_YEARS, as the
    calculation sheet has them (the model's profile, 0 past the horizon)."""
    sheet = replace(inp, horizon=MAX_YEARS)
    rel = np.where(np.arange(1, MAX_YEARS + 1) <= inp.horizon, ec.effect_profile(sheet), 0.0)
    disc = ec.discount_factors(sheet)
    return inp.effect * rel, rel * disc, disc


# the workbook's inputs the evaluation measures (the rest are the cohort file's assumptions)
MEASURED_INPUTS = ("effect", "gross_share", "n_participants", "other_gross_share", "other_effect")


def build(inp: Inputs, measured=MEASURED_INPUTS,
          title: str = "", lang: str = "da", price_year: int | None = None, prices=None,
          labels=None) -> PaymentWorkbook:
    """A workbook whose results are formulas of its inputs block, in `lang`; `prices` (the
    model's subgroup_payments) adds the differentiated and selection-neutral prices, their
    subgroup named by `labels` (a covariate code -> its words)."""
    if inp.horizon > MAX_YEARS:
        raise ValueError(f"economics: horizon {inp.horizon} exceeds the workbook's {MAX_YEARS} years")
    if len(inp.stages) > MAX_STAGES:
        raise ValueError(f"economics: {len(inp.stages)} payment stages; the workbook holds {MAX_STAGES}")
    if len(inp.outcome_types) > MAX_OUTCOME_TYPES:
        raise ValueError(f"economics: {len(inp.outcome_types)} further outcome types; the workbook holds "
                         f"{MAX_OUTCOME_TYPES}")
    cat = Catalogue(lang)
    w = cat.section("payment_workbook")
    names = {k: w[f"sheet_names.{k}"] for k in ("model", "calculation", "sensitivity")}
    pw = PaymentWorkbook(Workbook(), names=names, labels=labels)
    model = pw.wb.active
    model.title = names["model"]
    calc = pw.wb.create_sheet(names["calculation"])
    sens = pw.wb.create_sheet(names["sensitivity"])
    cell = _inputs_block(pw, model, inp, measured, w, price_year, title, cat)
    values = _calculation(pw, calc, inp, cell, w, cat)
    _results_block(pw, model, values, w, cat)
    _sensitivity(pw, sens, inp, cell, w, cat)
    if prices is not None and len(prices):
        _prices(pw, pw.wb.create_sheet(w["sheet_names.prices"]), inp, prices, cell, w, cat)
    _chart(model, calc, inp, w)
    return pw


def _inputs_block(pw, ws, inp, measured, w, price_year, title, cat) -> dict:
    py = price_year if price_year is not None else "–"
    ws["A1"] = w["title"].format(title=title) if title else w["title_plain"]
    ws["A1"].font = TITLE
    ws["A2"] = w["how"].format(price_year=py)
    ws["A2"].alignment = WRAP
    ws.merge_cells("A2:D2")
    ws.row_dimensions[2].height = 48
    first = 5 + len(RESULTS) + 2                        # the inputs block starts below the results
    ws.cell(first, 1, w["inputs"]).font = BOLD
    for j, h in enumerate((w["input"], w["value"], w["unit"], w["source"]), 1):
        ws.cell(first + 1, j, h).font = BOLD
    cell = {}
    stages = dict(enumerate(inp.stages, start=1))
    for i, (key, unit) in enumerate(INPUTS):
        r = first + 2 + i
        _label(ws, r, w[f"inputs_labels.{key}"])
        if key.startswith("stage"):
            k, part = int(key[5]), key.split("_")[1]
            value = stages[k][0 if part == "months" else 1] if k in stages else None
        else:
            value = _input_value(inp, key)
        c = ws.cell(r, 2, value)
        # a measured share keeps its four published decimals (Excel would round 34,55 % up)
        c.number_format = "0.00%" if key in measured and unit in ("share", "pp") else FORMATS[unit]
        c.fill = MEASURED_FILL if key in measured else INPUT_FILL
        c.border = EDGE
        ws.cell(r, 3, w[f"units.{unit}"])
        ws.cell(r, 4, w["measured"] if key in measured else w["assumption"])
        cell[key] = _ref(ws.title, f"B{r}")
    r = first + 2 + len(INPUTS)
    ws.cell(r, 1, w["price_year"])
    ws.cell(r, 2, price_year).number_format = "0"
    ws.cell(r, 4, w["assumption"])
    ws.column_dimensions["A"].width = 62
    ws.column_dimensions["B"].width = 16
    ws.column_dimensions["C"].width = 34
    ws.column_dimensions["D"].width = 42
    ws.freeze_panes = "A4"
    print_setup(ws, None)
    return cell


def _label(ws, row: int, text: str, width: int = 62) -> None:
    """A label in column A that wraps, its row tall enough for it (a viewer does not fit it)."""
    ws.cell(row, 1, text).alignment = WRAP
    lines = math.ceil(len(text) / (width + 10))           # a proportional font fits more than the width
    if lines > 1:
        ws.row_dimensions[row].height = 15 * lines


def _input_value(inp: Inputs, key: str):
    """An input cell's value: empty for a contract term not in use (no agreed price, no loan,
    no further outcome type); a reinvestment contract is a cap of 0 on the fund's return."""
    other = inp.outcome_types[0] if inp.outcome_types else None
    if key.startswith("other_"):
        return None if other is None else getattr(other, key.removeprefix("other_"))
    if key == "price":
        return inp.price if inp.mode == "agreed_price" else None
    if key == "loan_rate":
        return inp.loan_rate if inp.mode == "loan" else None
    if key == "cap_return" and inp.mode == "reinvestment":
        return min(inp.cap_return if inp.cap_return is not None else 0.0, 0.0)
    return getattr(inp, key)


def _rows(formula: str) -> str:
    """A CALC template's [key] references as cells of the account block."""
    return re.sub(r"\[(\w+)\]", lambda m: f"E{CALC_ROWS[m.group(1)]}", formula)


def _other_gain(cell: dict) -> str:
    """Excel formula text: the further outcome type's saving a year (0 without one)."""
    return f"N({cell['other_effect']})*N({cell['other_annual_gain']})"


def bounded(expr: str, cost: str, cell: dict) -> str:
    """Excel formula text: a payment per participant within the contract's floor and caps."""
    return (f"MIN(MAX({expr},IF({cell['floor_return']}=\"\",-1E+300,{cost}*(1+{cell['floor_return']}))),"
            f"IF({cell['cap_payment']}>0,{cell['cap_payment']},1E+300),"
            f"IF({cell['cap_return']}=\"\",1E+300,{cost}*(1+{cell['cap_return']})))")


def _calculation(pw, ws, inp, cell, w, cat) -> dict:
    """Effect profile (A:C), account (D:E), account by year (H:J); returns the values by key."""
    ws["A1"], ws["D1"], ws["H1"] = w["profile"], w["account_head"], w["by_year"]
    for c in ("A1", "D1", "H1"):
        ws[c].font = BOLD
    for j, h in ((1, w["year"]), (2, w["effect"]), (3, w["pv_factor"]), (8, w["year"]),
                 (9, w["net"]), (10, w["cumulative"])):
        ws.cell(2, j, h).font = BOLD
    effect, pv, disc = _profile(inp)
    for t in range(1, MAX_YEARS + 1):
        r = t + 2
        ws.cell(r, 1, t)
        # the effect's profile: 1 while flat, then falling; 0 past the horizon
        profile = (f"IF(A{r}<={cell['horizon']},IF(A{r}<={cell['constant_years']},1,"
                   f"(1-{cell['decay']})^(A{r}-{cell['constant_years']})),0)")
        pw.put(ws, f"B{r}", f"={cell['effect']}*{profile}", float(effect[t - 1]))
        # discounted, without the effect's size, so an effect of 0 still has its present value
        pw.put(ws, f"C{r}", f"={profile}*(1+{cell['discount_rate']})^(-A{r})", float(pv[t - 1]))
        ws[f"B{r}"].number_format = FORMATS["pp"]
        ws[f"C{r}"].number_format = "0.0000"
    acc, be = ec.account(inp), ec.break_even(inp)
    values = {k: getattr(acc, k) if hasattr(acc, k) else getattr(be, k, None) for k, _, _ in CALC}
    values["annuity"] = float(pv.sum())
    values["stage_factor"] = float(ec.stage_factor(inp))
    values["other_payment"] = inp.other_payment
    # the cohort's totals (0 and a dash without the cohort's size)
    n = inp.n_participants or 0
    totals = ec.cohort_totals(inp, n) if n and ec.contract_price(inp) > 0 else None
    values |= {"expected_employed": n * inp.gross_share, "expected_payment": n * acc.payment,
               "contract_value": n * ec.contract_payment(inp, ec.full_price(inp)),
               "employed_for_investor": "–" if not n or totals is None else totals.employed_for_investor
               or w["not_reachable"]}
    labels = _row_labels(cat, w)
    # everyone in employment at every stage: the full price, within the caps (the contract's ceiling)
    full = _rows(f"IF(ISNUMBER({cell['price']}),{cell['price']},[payment_per_employed]/[stage_factor])")
    planned = _rows(f"IF(ISNUMBER({cell['price']}),{cell['price']}*[stage_factor]*{cell['gross_share']}"
                    f"+[other_payment],[provider_cost]+{cell['investor_share']}*[surplus])")
    fill = dict(cell, stage_factor_decay=stage_formula(cell), not_reachable=w["not_reachable"],
                other_gain=_other_gain(cell),
                bounded_payment=bounded(planned, _rows("[provider_cost]"), cell),
                bounded_full_price=bounded(full, _rows("[provider_cost]"), cell))
    for key, unit, f in CALC:
        r = CALC_ROWS[key]
        ws.cell(r, 4, labels[key])
        pw.put(ws, f"E{r}", _rows(f).format(**fill), values[key])
        ws[f"E{r}"].number_format = FORMATS[unit]
    # the municipality's account by year: year 0 is the programme year (saving minus payment)
    cf = ec.cash_flow(inp)["net_present_value"].to_numpy()
    flows = np.r_[cf, np.zeros(MAX_YEARS + 1 - len(cf))]
    cum = np.cumsum(flows)
    ws["H3"] = 0
    pw.put(ws, "I3", _rows("=[effort_saving]-[payment]-[evaluator_cost]"), float(flows[0]))
    pw.put(ws, "J3", "=I3", float(cum[0]))
    # the saving a year per unit of the profile: the main effect's and the further outcome type's
    gain = f"({cell['effect']}*({cell['saved_benefits']}+{cell['extra_tax']})+{_other_gain(cell)})"
    for t in range(1, MAX_YEARS + 1):
        r = t + 3
        ws.cell(r, 8, t)
        pw.put(ws, f"I{r}", f"=C{t + 2}*{gain}", float(flows[t]))
        pw.put(ws, f"J{r}", f"=J{r - 1}+I{r}", float(cum[t]))
    for r in range(3, MAX_YEARS + 4):
        ws[f"I{r}"].number_format = ws[f"J{r}"].number_format = FORMATS["kr"]
    years = ec.years_to_break_even(inp)
    r = BREAK_EVEN_ROW
    ws.cell(r, 4, w["years_to_break_even"])
    pw.put(ws, f"E{r}", f'=IFERROR(MATCH(TRUE(),INDEX(J3:J{MAX_YEARS + 3}>=-0.000001,0),0)-1,"{w["not_within"]}")',
           w["not_within"] if math.isnan(years) else years)
    ws[f"E{r}"].number_format = FORMATS["years"]
    values["years_to_break_even"] = f"E{r}"
    for col, width in (("A", 8), ("B", 10), ("C", 18), ("D", 66), ("E", 16), ("H", 8), ("I", 22), ("J", 16)):
        ws.column_dimensions[col].width = width
    ws.freeze_panes = "A3"
    print_setup(ws, "2:2")
    return values


def _row_labels(cat, w) -> dict:
    """The reader's label of each calculated row and result."""
    return (cat.section("economics.items") | cat.section("economics.break_even_items")
            | {k: w[k] for k in ("annuity", "stage_factor", "years_to_break_even", "other_payment",
                                 "expected_employed", "expected_payment", "contract_value", "employed_for_investor")})


def _results_block(pw, ws, values, w, cat) -> None:
    """The results on top of the model sheet: each a formula of the calculation sheet."""
    calc = pw.names["calculation"]
    ws["A4"] = w["results"]
    ws["A4"].font = BOLD
    for j, h in enumerate((w["result"], w["value"], w["unit"]), 1):
        ws.cell(5, j, h).font = BOLD
    labels = _row_labels(cat, w)
    units = dict((k, u) for k, u, _ in CALC) | {"years_to_break_even": "years"}
    for i, key in enumerate(RESULTS):
        r = 6 + i
        where = values[key] if key == "years_to_break_even" else f"E{CALC_ROWS[key]}"
        _label(ws, r, labels[key])
        value = pw.cached[(calc, where)]
        pw.put(ws, f"B{r}", f"='{calc}'!{where}", value)
        c = ws[f"B{r}"]
        c.number_format, c.fill, c.font, c.border = FORMATS[units[key]], RESULT_FILL, BOLD, EDGE
        ws.cell(r, 3, w[f"units.{units[key]}"])


def _sensitivity(pw, ws, inp, cell, w, cat) -> None:
    names = cat.section("economics.parameters")
    ws["A1"] = w["sensitivity_head"]
    ws["A1"].font = BOLD
    head = [w["parameter"], w["case"], *[names.get(k, k) for k in SENS_COLUMNS[:-1]], w["gain_factor"],
            w["municipality_account"], w["surplus"]]
    for j, h in enumerate(head, 1):
        ws.cell(2, j, h).font = BOLD
        ws.cell(2, j).alignment = WRAP
    base = {k: cell.get(k) for k in SENS_COLUMNS} | {"annual_gain": None}
    base_values = {k: (1.0 if k == "annual_gain" else getattr(inp, k)) for k in SENS_COLUMNS}
    table = ec.sensitivity(inp).set_index("parameter")
    units = ["pp", "share", "share", "share", "years", "kr", "factor"]
    calc = pw.names["calculation"]
    r = 2
    for name in SENSITIVITY:
        for case in ("low", "high"):
            val = table.loc[name, case]          # as the model used it (an effect kept within the shares)
            val = int(val) if name == "horizon" else float(val)
            r += 1
            ws.cell(r, 1, names.get(name, name))
            ws.cell(r, 2, cat(f"economics.{case}"))
            for j, k in enumerate(SENS_COLUMNS):
                coord = f"{chr(ord('C') + j)}{r}"
                if k == name:
                    ws[coord] = val
                elif base[k] is None:
                    ws[coord] = 1
                else:
                    pw.put(ws, coord, f"={base[k]}", base_values[k])
                ws[coord].number_format = FORMATS[units[j]]
            k = _annuity_formula(calc, f"E{r}", f"F{r}", f"G{r}", cell["constant_years"])
            saving = (f"D{r}*{cell['effort_cost']}+(C{r}*({cell['saved_benefits']}+{cell['extra_tax']})*I{r}"
                      f"+{_other_gain(cell)})*{k}")
            # the contract's price per participant in employment times the gross share, which
            # moves with the effect (the control share held), within the caps and floor
            row = f"'{calc}'!$E$" + "{}"
            price = (f"IF(ISNUMBER({cell['price']}),{cell['price']}*{row.format(CALC_ROWS['stage_factor'])},"
                     f"{row.format(CALC_ROWS['payment_per_employed'])})")
            paid = bounded(f"{price}*({cell['gross_share']}-{cell['effect']}+C{r})"
                           f"+{row.format(CALC_ROWS['other_payment'])}", cell["provider_cost"], cell)
            evaluator = f"N({cell['evaluator_cost']})"
            pw.put(ws, f"J{r}", f"={saving}-{evaluator}-{paid}", float(table.loc[name, f"municipality_{case}"]))
            pw.put(ws, f"K{r}", f"={saving}-H{r}-{evaluator}", float(table.loc[name, f"surplus_{case}"]))
            ws[f"J{r}"].number_format = ws[f"K{r}"].number_format = FORMATS["kr"]
    ws.column_dimensions["A"].width = 40
    for col in "CDEFGHI":
        ws.column_dimensions[col].width = 16
    ws.column_dimensions["J"].width = ws.column_dimensions["K"].width = 20
    ws.row_dimensions[2].height = 45
    ws.freeze_panes = "C3"
    print_setup(ws, "2:2")


def _prices(pw, ws, inp, prices, cell, w, cat) -> None:
    """Differentiated and selection-neutral prices by subgroup (the model's subgroup_payments),
    each a formula of the measured participants and gross shares and the account's payment."""
    calc = pw.names["calculation"]
    ws["A1"] = w["prices_head"]
    ws["A1"].font = BOLD
    head = ["level", "participants", "participant_share", "gross_share", "price", "margin", "neutral_price",
            "neutral_margin"]
    for j, h in enumerate(head, 1):
        c = ws.cell(2, j, w[f"prices.{h}"])
        c.font, c.alignment = BOLD, WRAP
    last = 2 + len(prices)
    per_employed = f"'{calc}'!$E${CALC_ROWS['payment_per_employed']}"
    payment, cost = f"'{calc}'!$E${CALC_ROWS['payment']}", cell["provider_cost"]
    mean = f"SUMPRODUCT($C$3:$C${last},$D$3:$D${last})"             # the participant-weighted gross share
    name = pw.labels(prices["subgroup"].iloc[0]) if pw.labels else prices["subgroup"].iloc[0]
    for i, (_, row) in enumerate(prices.iterrows()):
        r = 3 + i
        yes = float(row["level"]) == 1
        ws.cell(r, 1, f"{name}: {cat('common.yes') if yes else cat('common.no')}")
        for col, v in (("B", int(row["n_participants"])), ("D", float(row["gross_share"]))):
            ws[f"{col}{r}"] = v
            ws[f"{col}{r}"].fill, ws[f"{col}{r}"].border = MEASURED_FILL, EDGE
        pw.put(ws, f"C{r}", f"=B{r}/SUM($B$3:$B${last})", float(row["participant_share"]))
        pw.put(ws, f"E{r}", f"={per_employed}*(1-(D{r}-{mean}))", float(row["payment_per_employed"]))
        pw.put(ws, f"F{r}", f"=E{r}*D{r}-{cost}", float(row["provider_margin"]))
        pw.put(ws, f"G{r}", f"={payment}/D{r}", float(row["neutral_price"]))
        pw.put(ws, f"H{r}", f"=G{r}*D{r}-{cost}", float(row["neutral_margin"]))
        for col, fmt in zip("BCDEFGH", ("0", "0.0%", "0.00%", "#,##0", "#,##0", "#,##0", "#,##0")):
            ws[f"{col}{r}"].number_format = fmt
    ws.cell(last + 2, 1, w["prices_note"]).alignment = WRAP
    ws.merge_cells(f"A{last + 2}:H{last + 2}")
    ws.row_dimensions[last + 2].height = 60
    ws.column_dimensions["A"].width = 40
    for col in "BCDEFGH":
        ws.column_dimensions[col].width = 16
    ws.row_dimensions[2].height = 45
    print_setup(ws, "2:2")


def stage_formula(cell: dict) -> str:
    """Excel formula text: the share of the full price expected per participant in employment
    at the first stage (1 without stages): a later stage's share times the job retention (an
    empty retention: 1 - the annual fall) to the power of the years since the first stage."""
    m1 = cell["stage1_months"]
    jr = cell["job_retention"]
    yearly = f"IF(ISNUMBER({jr}),MIN(1,{jr}),1-{cell['decay']})"
    terms = "+".join(f"N({cell[f'stage{k}_share']})*{yearly}^((N({cell[f'stage{k}_months']})-N({m1}))/12)"
                     for k in range(1, MAX_STAGES + 1))
    shares = ",".join(cell[f"stage{k}_share"] for k in range(1, MAX_STAGES + 1))
    return f"IF(COUNT({shares})=0,1,{terms})"


def _annuity_formula(calc, d, r, h, c):
    """Excel formula text: present value of one employed person over the effect profile."""
    years = f"'{calc}'!$A$3:$A${MAX_YEARS + 2}"
    return (f"SUMPRODUCT(({years}<={h})*(({years}<={c})+({years}>{c})*(1-{d})^({years}-{c}))"
            f"*(1+{r})^(-{years}))")


def _chart(model, calc, inp, w) -> None:
    chart = LineChart()
    chart.title = w["chart_title"]
    chart.y_axis.title = w["chart_axis_kr"]
    chart.x_axis.title = w["chart_axis_year"]
    chart.y_axis.numFmt = "#,##0"
    chart.x_axis.tickLblPos = "low"          # the years below the plot, not on the zero line
    chart.legend = None
    last = 3 + inp.horizon
    chart.add_data(Reference(calc, min_col=10, min_row=3, max_row=last), titles_from_data=False)
    chart.set_categories(Reference(calc, min_col=8, min_row=3, max_row=last))
    chart.height, chart.width = 9, 16
    model.add_chart(chart, "F4")


def _with_values(xml: bytes, values: dict) -> bytes:
    """Write each formula cell's cached value into the sheet's XML (openpyxl leaves <v/> empty)."""
    def fill(m):
        coord, attrs, formula = m.group(1), m.group(2) or "", m.group(3)
        v = values.get(coord)
        if v is None or (isinstance(v, float) and not math.isfinite(v)):
            return m.group(0)
        if isinstance(v, str):
            return f'<c r="{coord}"{attrs} t="str"><f>{formula}</f><v>{escape(v)}</v></c>'
        return f'<c r="{coord}"{attrs}><f>{formula}</f><v>{float(v)!r}</v></c>'
    text = re.sub(r'<c r="([A-Z]+\d+)"((?: s="\d+")?)><f>(.*?)</f><v\s*/></c>', fill, xml.decode("utf-8"))
    return text.encode("utf-8")


def save(pw: PaymentWorkbook, path) -> None:
    """Save with cached values and fixed timestamps (zip entries and document dates)."""
    buf = io.BytesIO()
    pw.wb.save(buf)
    sheets = {f"xl/worksheets/sheet{i + 1}.xml": ws.title for i, ws in enumerate(pw.wb.worksheets)}
    by_sheet: dict[str, dict] = {}
    for (title, coord), v in pw.cached.items():
        by_sheet.setdefault(title, {})[coord] = v
    out = io.BytesIO()
    with zipfile.ZipFile(buf) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", b"2000-01-01T00:00:00Z", data)
            elif info.filename in sheets:
                data = _with_values(data, by_sheet.get(sheets[info.filename], {}))
            zi = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zout.writestr(zi, data)
    with open(path, "wb") as fh:
        fh.write(out.getvalue())
