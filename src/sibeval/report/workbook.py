"""tables.xlsx: the published tables as an analyst wants them in Excel.

Numbers are stored as numbers with a number format; a suppression marker ("<5", "x") is text
in that cell only; headers are in the cohort's language (machine names listed on the README
sheet); header row frozen, autofilter, fitted widths; provenance on its own sheet. Text that
starts with = + - @ is stored as text, never as a formula. The bytes are identical on rerun.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile

import pandas as pd

from sibeval.economics.model import kind as econ_kind
from sibeval.publish.cells import FORMULA_START, as_number, is_suppressed
from sibeval.report.base import Labels
from sibeval.report.catalogue import Catalogue
from sibeval.report.value_labels import CODE_COLUMNS, TEXT_COLUMNS, ValueLabels

SHARE_SHEETS = ("effects", "subgroups", "placebo", "sensitivity", "diagnostics", "trajectory", "decay")
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
DASH = "–"          # not shown: computed from a hidden count
ECON = "econ_"
# the economics sheets' row names, and the columns whose kind is their row's
ECON_ROW_KEYS = ("input", "item", "parameter", "point", "party")
ECON_VALUE_COLUMNS = ("value", "base", "low", "high", "mean", "p05", "p50", "p95")


# shares and differences in percent to the four decimals they are published with: Excel rounds
# a displayed 34,55 % up where the note (and the count, 19/55 = 34,545 %) reads 34,5 %
PCT = "0.00%"
# a share printed to whole percent because its group's size is hidden
COARSE_SHARE_N = {"share_participants": "n_participants", "share_controls": "n_controls",
                  "share_participant": "total_participant", "share_control": "total_control"}

# identifiers and settings written as plain integers (a seed of 20221101 is not 20.221.101)
PLAIN_INTEGERS = ("seed", "reps", "df", "price_year", "months_before_index", "level")


def number_format(sheet: str, col: str, values: list[float], below: str = "< 0.001") -> str:
    """Excel number format of a numeric column, from its machine name; `below` is how a p
    under 0.001 reads in the workbook's language (as in the note, never "0.000")."""
    if col.startswith("p_") or col in ("p_value", "p_adjusted", "p_vs_target"):
        return f'[<0.001]"{below}";0.000'
    if col in PLAIN_INTEGERS:
        return "0"
    if col.startswith(("share", "ci_up", "ci_same", "ci_down")) or col in ("target", "power", "alpha"):
        return PCT
    if col in ("bin_lo", "bin_hi"):                  # propensity scores: small, four decimals
        return "0.0000"
    if sheet in SHARE_SHEETS and col in ("estimate", "ci_low", "ci_high", "regression_estimate",
                                         "adjusted_estimate", "adjusted_ci_low", "adjusted_ci_high",
                                         "regression_se", "observed_difference",
                                         "minimum_detectable_difference", "band_low", "band_high",
                                         "effect_first", "decay"):
        return PCT
    if sheet == "table1" and col.startswith("share"):
        return PCT
    if all(float(v).is_integer() for v in values):
        return "#,##0"
    if col.startswith(("smd", "diff_raw", "variance_ratio", "ecdf", "risk_ratio", "rr_ci")):
        return "0.000"
    return "#,##0.0" if max(abs(v) for v in values) >= 10 else "0.000"


# tables of results: an empty number or verdict is a dash
RESULT_SHEETS = ("table1", "effects", "subgroups", "placebo", "sensitivity", "diagnostics", "status_distribution",
                 "hours_wage", "balance", "profile", "progression_items", "who5", "trajectory", "decay")


def _is_numeric_column(series: pd.Series) -> bool:
    vals = [v for v in series if not (v is None or (isinstance(v, float) and pd.isna(v)) or str(v) == "")]
    nums = [v for v in vals if as_number(v) is not None]
    return bool(nums) and all(as_number(v) is not None or is_suppressed(v) for v in vals)


def _cell_value(v, cat: Catalogue):
    if v is None or (isinstance(v, float) and pd.isna(v)) or str(v) == "":
        return None
    if isinstance(v, bool) or str(v) in ("True", "False"):
        return cat("common.yes") if str(v) == "True" else cat("common.no")
    if hasattr(v, "item"):
        v = v.item()
    return v


def in_words(name: str, df: pd.DataFrame, words: ValueLabels) -> pd.DataFrame:
    """The sheet as the reader sees it: a code as its label, an English method text translated."""
    out = df.copy()
    rows = df.to_dict("records")
    for col in [c for c in df.columns if c in CODE_COLUMNS + TEXT_COLUMNS]:
        out[col] = [words(name, col, v, r) for v, r in zip(df[col], rows)]
    return out


def code_rows(cat: Catalogue, name: str, df: pd.DataFrame, shown: pd.DataFrame) -> list[list]:
    """README rows (sheet, column, code, label) for each code a data sheet shows as its label."""
    out = []
    for col in [c for c in df.columns if ValueLabels.is_code_column(name, c)]:
        seen = {}
        for code, label in zip(df[col], shown[col]):
            if isinstance(code, str) and code not in seen:
                seen[code] = label
        out += [[sheet_tab(cat, name), _header(cat, col, name)[0], code, label] for code, label in seen.items()]
    return out


def _header(cat: Catalogue, col: str, sheet: str = "") -> tuple[str, str]:
    """(heading, description) of a column from the catalogue."""
    # a column whose meaning is its sheet's (the settlement's "estimate" is a payment)
    label = cat.get(f"sheet_headers.{sheet}.{col}.0") or cat.get(f"columns.{col}.0", col)
    desc = (cat.get(f"sheet_headers.{sheet}.{col}.1") or cat.get(f"columns.{col}.1")
            or cat.get(f"sheet_columns.{sheet}", "", code=col))
    return label, desc


def write_workbook(path, sheets: dict[str, pd.DataFrame], provenance: dict, cat: Catalogue,
                   title: str, min_cell: int, labels: Labels, when: dt.datetime) -> None:
    """Write the workbook; `labels` name the codes (config/labels.yaml) in the catalogue's language."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.writer.excel import ExcelWriter

    bold = Font(bold=True)
    right = Alignment(horizontal="right")
    wb = Workbook()
    readme = wb.active
    readme.title = sheet_tab(cat, "README")
    words = ValueLabels(cat, labels)
    data = {name: in_words(name, df, words) for name, df in sheets.items()}

    # the README is the one sheet that names the tables' codes (the published CSV files)
    rows = [[cat("workbook.readme_title")], [cat("workbook.readme_intro", title=title, k=min_cell)], [],
            [cat("workbook.sheet"), cat("workbook.description"), cat("workbook.code")]]
    rows += [[sheet_tab(cat, n), cat(f"sheets.{n}"), n] for n in ["README", "provenance", *data]]
    rows += [[], [cat("workbook.sheet"), cat("workbook.column"), cat("workbook.code"), cat("workbook.description")]]
    for name, df in data.items():
        for col in df.columns:
            head, desc = _header(cat, col, name)
            rows.append([sheet_tab(cat, name), head, col, desc])
    codes_at = len(rows) + 2
    rows += [[], [cat("workbook.sheet"), cat("workbook.column"), cat("workbook.code"), cat("workbook.label")]]
    for name, df in sheets.items():
        rows += code_rows(cat, name, df, data[name])
    for r in rows:
        readme.append(r)
    for r in (1, 4, 4 + len(data) + 4, codes_at):
        for c in readme[r]:
            c.font = bold
    _no_formulas(readme)
    _widths(readme, max_width=80)
    for (c,) in readme.iter_rows(min_row=2, max_row=2, max_col=1):
        c.alignment = Alignment(wrap_text=True, vertical="top")
    print_setup(readme, header_rows=None)

    prov = wb.create_sheet(sheet_tab(cat, "provenance"))
    prov.append([cat("workbook.item"), cat("workbook.value")])
    for label, value in cat.provenance_rows(provenance):
        prov.append([label, value])
    _finish(prov, bold)

    for name, shown in data.items():
        df = sheets[name]
        ws = wb.create_sheet(sheet_tab(cat, name))
        ws.append([_header(cat, c, name)[0] for c in df.columns])
        numeric = {c: _is_numeric_column(df[c]) for c in df.columns}
        below = cat("workbook.p_below")
        formats = {c: number_format(name, c, [as_number(v) for v in df[c] if as_number(v) is not None], below)
                   for c in df.columns if numeric[c]}
        hidden_rows = df["suppressed"].astype(str).eq("True") if "suppressed" in df else pd.Series(False, df.index)
        # a result left out (computed from a hidden count, undefined, or not computed): a dash,
        # as in the note (the README says so), never a bare blank; other blanks are "not applicable"
        dash = {c: name in RESULT_SHEETS and c not in CODE_COLUMNS + TEXT_COLUMNS for c in df.columns}
        for hid, row in zip(hidden_rows, shown.itertuples(index=False)):
            ws.append([DASH if ((hid and numeric[c]) or dash[c]) and _cell_value(v, cat) is None
                       else _value(v, numeric[c], cat) for c, v in zip(df.columns, row)])
        for j, c in enumerate(df.columns, start=1):
            for (cell,) in ws.iter_rows(min_row=2, min_col=j, max_col=j):
                if isinstance(cell.value, (int, float)) and not isinstance(cell.value, bool):
                    cell.number_format = formats.get(c) or ("#,##0" if float(cell.value).is_integer() else "0.000")
                elif numeric[c] and isinstance(cell.value, str):       # a marker or dash sits with the numbers
                    cell.alignment = right
        _coarse_shares(ws, df)
        if name.startswith(ECON):
            _economics_formats(ws, df, name.removeprefix(ECON))
        if "type" in df.columns:
            _binary_rows_as_shares(ws, df)
        if name == "hours_wage":
            _amounts_by_variable(ws, df)
        _finish(ws, bold)

    wb.properties.creator = "sibeval"
    wb.properties.created = when
    wb.properties.modified = when
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        ExcelWriter(wb, z).write_data()
    _fixed_zip(buf.getvalue(), path)


def _coarse_shares(ws, df: pd.DataFrame) -> None:
    """A share over a hidden group size is printed to whole percent: shown so ("17 %", not 17,00)."""
    for share, n in COARSE_SHARE_N.items():
        if share not in df or n not in df:
            continue
        j = list(df.columns).index(share) + 1
        for i, hidden in enumerate(df[n].map(is_suppressed), start=2):
            if hidden and isinstance(ws.cell(i, j).value, (int, float)):
                ws.cell(i, j).number_format = "0%"


def _economics_formats(ws, df: pd.DataFrame, table: str) -> None:
    """An economics sheet mixes shares, years and kroner in one column (inputs, account,
    sensitivity): each number gets the format of its row's quantity, else its column's;
    kroner are whole, counts keep their column's format."""
    key_col = next((c for c in df.columns if c in ECON_ROW_KEYS), None)
    for i, row in enumerate(df.itertuples(index=False), start=2):
        key = str(getattr(row, key_col)) if key_col else ""
        for j, c in enumerate(df.columns, start=1):
            cell = ws.cell(row=i, column=j)
            if c == key_col or not isinstance(cell.value, (int, float)) or isinstance(cell.value, bool):
                continue
            k = econ_kind(key, table) if c in ECON_VALUE_COLUMNS else None
            k = k or econ_kind(c, table)
            if k != "count":                    # counts keep their column's format
                cell.number_format = {"share": PCT, "years": "0"}.get(k, "#,##0")


def sheet_tab(cat: Catalogue, name: str) -> str:
    """A sheet's tab in the workbook's language (Excel allows 31 characters)."""
    return cat.get(f"sheet_tabs.{name}", name)[:31]


# balance and profile columns that hold a share on a binary covariate's row (a mean elsewhere)
ROW_SHARE_COLUMNS = ("mean_treated_before", "mean_control_before", "mean_treated_after", "mean_control_after",
                     "participants", "eligible_pool", "matched_controls")


def _binary_rows_as_shares(ws, df: pd.DataFrame) -> None:
    """A binary covariate's mean is a share: 44 %, not 0,4 (its column also holds mean ages); so
    is a continuous covariate that is a share (0.85 of 3 years on benefit: 85 %, as in the note)."""
    cols = [c for c in ROW_SHARE_COLUMNS if c in df.columns]
    for i, (_, r) in enumerate(df.iterrows(), start=2):
        vals = [as_number(r[c]) for c in cols if as_number(r[c]) is not None]
        if str(r["type"]) != "binary" and not (vals and all(0 <= v <= 1 for v in vals)):
            continue
        for j, c in enumerate(df.columns, start=1):
            cell = ws.cell(row=i, column=j)
            if c in ROW_SHARE_COLUMNS and isinstance(cell.value, (int, float)) and not isinstance(cell.value, bool):
                cell.number_format = "0%"


# hours and wages share the hours_wage columns: each row in its own unit (whole kroner for wages)
AMOUNT_FORMATS = {"loen": "#,##0", "timer": "#,##0.0"}
AMOUNT_COLUMNS = ("mean_participants", "mean_controls", "estimate", "ci_low", "ci_high")


def _amounts_by_variable(ws, df: pd.DataFrame) -> None:
    if "variable" not in df:
        return
    for i, var in enumerate(df["variable"].astype(str), start=2):
        for j, c in enumerate(df.columns, start=1):
            cell = ws.cell(row=i, column=j)
            if var in AMOUNT_FORMATS and c in AMOUNT_COLUMNS and isinstance(cell.value, (int, float)):
                cell.number_format = AMOUNT_FORMATS[var]


def _value(v, numeric: bool, cat: Catalogue):
    v = _cell_value(v, cat)
    if v is None:
        return None
    x = as_number(v) if not isinstance(v, bool) else None
    if x is not None and (numeric or not re.match(r"0\d", str(v).strip())):   # codes like 0101 stay text
        return int(x) if float(x).is_integer() and abs(x) < 2 ** 53 else x
    return str(v) if not isinstance(v, (int, float)) else v


def _widths(ws, max_width=60):
    widths = {}
    for row in ws.iter_rows():
        for c in row:
            if c.value is not None:
                n = len(str(c.value)) if not isinstance(c.value, float) else 10
                widths[c.column_letter] = max(widths.get(c.column_letter, 6), min(max_width, n + 2))
    for col, w in widths.items():
        ws.column_dimensions[col].width = w


def _no_formulas(ws):
    """Text starting with = + - @ stays text (openpyxl would store it as a formula)."""
    for row in ws.iter_rows():
        for c in row:
            if isinstance(c.value, str) and c.value.startswith(FORMULA_START):
                c.data_type = "s"


def _finish(ws, bold):
    _no_formulas(ws)
    for c in ws[1]:
        c.font = bold
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = ws.dimensions
    _widths(ws)
    print_setup(ws)


def print_setup(ws, header_rows: str = "1:1") -> None:
    """Printed on A4 landscape, as wide as the page, the header row on every page."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    if header_rows:
        ws.print_title_rows = header_rows


def _fixed_zip(data: bytes, path) -> None:
    """Re-pack with fixed member timestamps (zip dates would otherwise be 'now')."""
    src = zipfile.ZipFile(io.BytesIO(data))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            zi = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o600 << 16
            out.writestr(zi, src.read(info.filename))
