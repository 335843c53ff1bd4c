"""The reader's audit: read the rendered note as a reader does (its HTML tables, cell by cell)
and map every shown number and marker back to its cell in the published tables.

`note_tables(html)` gives {section id: (header, rows)}; `audit_outcome_table(...)` compares an
effects-shaped note table with its published CSV and returns the disagreements, so a test
can show both that the demo notes pass and that a cell made wrong on purpose is caught."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal
from html.parser import HTMLParser

import pandas as pd

from sibeval.outcomes.names import HEADLINE_ORDER as HEADLINE

DASH = "–"


class _Tables(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tables, self.section, self.row, self.cell = {}, None, None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "section" and a.get("id"):
            self.section = a["id"]
        elif tag == "tr" and self.section:
            self.row = []
        elif tag in ("td", "th") and self.row is not None:
            self.cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None:
            self.row.append("".join(self.cell).strip())
            self.cell = None
        elif tag == "tr" and self.row is not None:
            self.tables.setdefault(self.section, []).append(self.row)
            self.row = None
        elif tag == "section":
            self.section = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def note_tables(html: str) -> dict[str, tuple[list[str], list[list[str]]]]:
    p = _Tables()
    p.feed(html)
    return {k: (rows[0], rows[1:]) for k, rows in p.tables.items() if rows}


def _number(text: str) -> float | None:
    """A number as the Danish or English note prints it ("34,5 %", "−1,4", "14.958")."""
    t = text.replace("%", "").replace("\u2212", "-").replace("\u00a0", " ").strip()
    if not t:
        return None
    if "," in t:                                       # Danish: 14.958,5
        t = t.replace(".", "").replace(",", ".")
    else:                                              # English: 14,958.5
        t = t.replace(",", "")
    try:
        return float(t)
    except ValueError:
        return None


def _is_hidden(v) -> bool:
    t = str(v).strip()
    return t == "x" or t.startswith("<")


def half_up(x: float, digits: int) -> float:
    """As the note rounds: half away from zero on the exact value (sibeval.report.formatting)."""
    return float(Decimal(x).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))


def shows_marker(shown: str, count) -> bool:
    """A share cell over a hidden count shows the count's marker ("x"; "<5" as "<5 pers.", so
    that it does not read as under 5 %)."""
    m = str(count).strip()
    return shown == m or (m.startswith("<") and shown == f"{m} pers.")


def audit_outcome_table(rows: list[list[str]], published: pd.DataFrame, first: int) -> list[str]:
    """An effects-shaped note table (effects, placebo, subgroups; `first` = index of the
    participants' share column) against its published rows, in order. Returns the problems."""
    problems = []
    if len(rows) != len(published):
        return [f"{len(rows)} rows shown, {len(published)} published"]
    for i, (row, (_, r)) in enumerate(zip(rows, published.iterrows())):
        where = f"row {i + 1} ({r['outcome']})"
        for j, (share, count) in enumerate((("share_participants", "x_participants"),
                                            ("share_controls", "x_controls"))):
            shown = row[first + j]
            # a share is shown wherever it is published (over a hidden n too: to whole percent);
            # else the count's marker, else a dash
            value = pd.to_numeric(r[share], errors="coerce")
            if pd.notna(value):
                if _number(shown) is None or abs(_number(shown) - half_up(100 * float(value), 1)) > 1e-9:
                    problems.append(f"{where}: {share} shows '{shown}', published {float(value):.4f}")
            elif _is_hidden(r[count]):
                if not shows_marker(shown, r[count]):
                    problems.append(f"{where}: {share} shows '{shown}', the published count is '{r[count]}'")
            elif shown != DASH:
                problems.append(f"{where}: {share} is not published but shows '{shown}'")
        est = row[first + 2]
        if pd.isna(pd.to_numeric(r["estimate"], errors="coerce")):
            if est != DASH:
                problems.append(f"{where}: the estimate is not published but shows '{est}'")
        elif _number(est) is None or abs(_number(est) - half_up(100 * float(r["estimate"]), 1)) > 1e-9:
            problems.append(f"{where}: the estimate shows '{est}', published {float(r['estimate']):.4f}")
        problems += [f"{where}: column {k + 1} is blank" for k, v in enumerate(row) if v == ""]
    return problems


def audit_table1(rows: list[list[str]], published: pd.DataFrame) -> list[str]:
    """Table 1 (status, participants n, participants %, controls %) against table1.csv."""
    problems = []
    if len(rows) != len(published):
        return [f"{len(rows)} rows shown, {len(published)} published"]
    for i, (row, (_, r)) in enumerate(zip(rows, published.iterrows())):
        where = f"row {i + 1} ({r['outcome']})"
        n = row[1]
        if _is_hidden(r["n_participant"]) and n != str(r["n_participant"]).strip():
            problems.append(f"{where}: n shows '{n}', published '{r['n_participant']}'")
        elif not _is_hidden(r["n_participant"]) and _number(n) != float(r["n_participant"]):
            problems.append(f"{where}: n shows '{n}', published '{r['n_participant']}'")
        for col, count, cell in (("share_participant", "n_participant", row[2]),
                                 ("share_control", "n_control", row[3])):
            value = pd.to_numeric(r[col], errors="coerce")
            if pd.notna(value):
                if _number(cell) is None or abs(_number(cell) - half_up(100 * float(value), 0)) > 1e-9:
                    problems.append(f"{where}: {col} shows '{cell}', published {r[col]}")
            elif _is_hidden(r[count]):
                if not shows_marker(cell, r[count]):
                    problems.append(f"{where}: {col} shows '{cell}', the published count is '{r[count]}'")
            else:
                problems.append(f"{where}: {col} shows '{cell}' with neither a share nor a marker published")
    return problems


def paragraphs(html: str) -> list[str]:
    """The running text of the note: every <p>, tags stripped."""
    import re
    from html import unescape

    return [unescape(re.sub(r"<[^>]+>", "", m)) for m in re.findall(r"<p[^>]*>(.*?)</p>", html, flags=re.S)]


def p_without_value(text: str) -> list[str]:
    """Places where running text names a p-value ("p") without giving it (= or < next)."""
    import re

    return [text[max(m.start() - 40, 0): m.end() + 20] for m in re.finditer(r"(?<![\w(])p(?![\w)\-])(?!\s*[=<])", text)]


# ---------- words: no code, no English word (in Danish), no path, no hole ----------
CODE = re.compile(r"\b[a-z][a-z0-9]*_[a-z0-9_]+\b|\bcode:")
PATH = re.compile(r"\b(?:src|docs|results|config|workflow|data|tests)/[\w./-]+|\b[\w-]+\.(?:py|md|yaml|smk)\b")
# words a Danish reader should never meet (none is also a Danish word)
ENGLISH = frozenset("""the and of with not but never before after weighted hidden participants participant
controls control share shares outcome outcomes month months per suppressed significant which were was this
that from into than these those their there where when while computed published smallest largest none
shown printed effective size count counts""".split())
HOLE = re.compile(r"=\s*[.,;:)]|=\s*$|\(\s*\)|\bnan\b|\bNone\b|\bNaN\b|[{}]|\s[.,;:](?:\s|$)")


def text_problems(texts, lang: str, where: str = "") -> list[str]:
    """Codes, repository paths, English words (in `da`) and sentences with a missing value."""
    out = []
    for t in texts:
        t = " ".join(str(t).split())
        if not t:
            continue
        for pat, what in ((CODE, "a machine code"), (PATH, "a repository path"), (HOLE, "a missing value")):
            m = pat.search(t)
            if m:
                out.append(f"{where}{what} ('{m.group(0)}') in: {t[:160]}")
        if lang == "da":
            words = {w.lower() for w in re.findall(r"[A-Za-z]+", t)}
            if words & ENGLISH:
                out.append(f"{where}English ({', '.join(sorted(words & ENGLISH))}) in: {t[:160]}")
    return out


class _Text(HTMLParser):
    """Every text a reader of the HTML sees (and image alt texts), by section; not CSS."""

    def __init__(self):
        super().__init__()
        self.skip, self.section, self.out = 0, "", []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("style", "script"):
            self.skip += 1
        if tag == "section" and a.get("id"):
            self.section = a["id"]
        if tag == "img" and a.get("alt"):
            self.out.append((self.section, a["alt"]))

    def handle_endtag(self, tag):
        if tag in ("style", "script"):
            self.skip -= 1

    def handle_data(self, data):
        if not self.skip and data.strip():
            self.out.append((self.section, data.strip()))


def note_texts(html: str) -> list[tuple[str, str]]:
    """(section id, text) of every text node of the note."""
    p = _Text()
    p.feed(html)
    return p.out


def audit_note_text(html: str, lang: str) -> list[str]:
    """The note's words: no code, path, English word (da) or hole outside the provenance
    table (which names the raw files and their checksums)."""
    texts = [t for s, t in note_texts(html) if s != "provenance"]
    joined = [" ".join(p.split()) for p in paragraphs(html)]
    problems = text_problems(texts + joined, lang)
    # a blank table cell says nothing: a hidden number shows its marker or a dash (a flow step
    # that excluded nobody, and a row without warnings, are blank by design)
    for key, (head, rows) in note_tables(html).items():
        if key in ("flow", "progression_flow", "provenance"):
            continue
        for row in rows:
            problems += [f"{key}: '{row[0]}' has a blank '{head[j]}'" for j, v in enumerate(row)
                         if v == "" and j < len(head) and head[j] not in BLANK_OK]
    return problems


BLANK_OK = ("Advarsler", "Warnings")


# ---------- the workbook: every cell against its published cell ----------
def shown_number(v: float, fmt: str):
    """The number an Excel format displays (rounded as displayed), or the literal it shows."""
    if fmt.startswith("[<0.001]"):
        if v < 0.001:
            return fmt.split('"')[1]
        fmt = fmt.split(";", 1)[1]
    if fmt == "General":
        return None
    scale = 100 if fmt.endswith("%") else 1
    body = fmt.rstrip("%").split(";")[0]
    decimals = len(body.split(".")[1]) if "." in body else 0
    return float((Decimal(repr(v)) * scale).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)) / scale


def readme_sheets(wb) -> dict[str, str]:
    """Table code -> sheet tab, from the README sheet's list of sheets."""
    rows = [[c.value for c in r] for r in wb.worksheets[0].iter_rows()]
    return {r[2]: r[0] for r in rows if len(r) >= 3 and r[1] and r[2] and (len(r) < 4 or not r[3])}


def audit_workbook(path, tables: dict[str, pd.DataFrame], words, lang: str) -> list[str]:
    """tables.xlsx against the published tables (`tables`: code -> CSV read as text): same
    rows and columns; a number equal and displayed to a precision that keeps it (no 0,2 for
    0.1662, no 2.021,0 for a year); a marker as published; a code as its label (`words`:
    ValueLabels); no code, English word (da) or hole in any header or text."""
    from openpyxl import load_workbook

    wb = load_workbook(path)
    yes_no = {"True": words.cat("common.yes"), "False": words.cat("common.no")}
    problems = []
    for code, tab in readme_sheets(wb).items():
        if code not in tables:
            continue
        df, ws = tables[code], wb[tab]
        rows = list(ws.iter_rows())
        head = [c.value for c in rows[0]]
        problems += text_problems(head, lang, f"{tab} header: ")
        if len(head) != len(df.columns) or len(rows) - 1 != len(df):
            problems.append(f"{tab}: {len(rows) - 1} x {len(head)} shown, {len(df)} x {len(df.columns)} published")
            continue
        for cells, (_, r) in zip(rows[1:], df.iterrows()):
            for cell, col in zip(cells, df.columns):
                where, pub, v = f"{tab}!{cell.coordinate} ({col}): ", str(r[col]).strip(), cell.value
                if _is_hidden(pub):
                    if v != pub:
                        problems.append(f"{where}shows {v!r}, published marker {pub!r}")
                elif pub == "":
                    if v not in (None, DASH):
                        problems.append(f"{where}shows {v!r}, nothing published")
                elif pub in yes_no:
                    if v != yes_no[pub]:
                        problems.append(f"{where}shows {v!r} for {pub}")
                elif words.is_code_column(code, col):
                    want = words(code, col, pub, dict(r))
                    if v != want or (v == pub and CODE.search(pub)):
                        problems.append(f"{where}shows {v!r}, the reader's words for {pub!r} are {want!r}")
                elif _published_number(pub) is not None:
                    problems += _number_problems(where, _published_number(pub), v, cell.number_format, col,
                                                 published=not code.startswith("econ_"))
                else:
                    want = words(code, col, pub, dict(r))
                    if v != want:
                        problems.append(f"{where}shows {v!r}, the reader's words for {pub!r} are {want!r}")
                    problems += text_problems([v], lang, where)
    return problems


def _published_number(s: str):
    try:
        return float(s)
    except ValueError:
        return None


def _number_problems(where, want: float, v, fmt: str, col: str, published: bool = True) -> list[str]:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return [f"{where}shows {v!r}, published {want}"]
    if abs(v - want) > 1e-9 * max(1.0, abs(want)):
        return [f"{where}holds {v}, published {want}"]
    shown = shown_number(v, fmt)
    if shown is None:
        return [f"{where}{v} has no number format"]
    if published and "%" in fmt and not isinstance(shown, str):   # a published share, as the note shows it
        digits = len(fmt.rstrip("%").split(".")[1]) if "." in fmt else 0
        note = half_up(100 * want, digits) / 100
        if abs(shown - note) > 1e-12:
            return [f"{where}{want} displays as {100 * shown:g} %, the note's rounding gives {100 * note:g} %"]
    if isinstance(shown, str) or "%" in fmt or fmt.startswith("[<"):
        return []                       # a share in percent, a p to 0.001: the kind's own precision
    if want and not float(want).is_integer() and abs(shown - want) > 0.05 * abs(want):
        return [f"{where}{want} displays as {shown} ({fmt})"]
    if ("year" in col or col in ("seed", "price_year")) and "," in fmt:
        return [f"{where}the year/identifier {want:g} displays with a thousands separator ({fmt})"]
    return []


# ---------- figures: the SVG's labels, bars and points against the published cells ----------
SVG = "{http://www.w3.org/2000/svg}"
GROUP_FILL = {"participants": "#262626", "controls": "url("}     # grey 0.15; hatched (a pattern)


def svg_parts(path) -> dict:
    """Texts (x, y, text, kind), bars (x0, x1, y0, y1, fill) and marker points (x, y, group)
    of a matplotlib SVG (svg.fonttype none: text stays text)."""
    import xml.etree.ElementTree as ET

    out = {"texts": [], "bars": [], "points": []}

    def walk(el, ctx):
        gid = el.get("id", "")
        if el.tag == SVG + "g" and ctx != "legend":
            if gid.startswith(("xtick_", "ytick_")):
                ctx = gid.split("_")[0]
            elif gid.startswith("legend"):
                ctx = "legend"
            elif gid.startswith("patch_"):
                ctx = "patch"
            elif gid.startswith(("line2d_", "PathCollection_")) and ctx not in ("xtick", "ytick"):
                ctx = gid
        if el.tag == SVG + "text" and el.get("x") is not None:
            out["texts"].append((float(el.get("x")), float(el.get("y")), "".join(el.itertext()).strip(), ctx))
        elif el.tag == SVG + "path" and ctx == "patch":
            nums = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", el.get("d", ""))]
            xs, ys = nums[0::2], nums[1::2]
            fill = re.search(r"fill:\s*(#[0-9a-f]{6}|url\()", el.get("style", ""))
            if len(xs) >= 4:
                out["bars"].append((min(xs), max(xs), min(ys), max(ys), fill.group(1) if fill else ""))
        elif el.tag == SVG + "use" and ctx.startswith(("line2d_", "PathCollection_")):
            out["points"].append((float(el.get("x")), float(el.get("y")), ctx))
        for ch in el:
            walk(ch, ctx)

    walk(ET.parse(path).getroot(), "")
    return out


def _x_scale(texts) -> tuple[float, float]:
    """(a, b) with svg x = a + b * value, from the x-axis tick labels."""
    import numpy as np

    ticks = [(x, _number(t.lstrip("−-")) * (-1 if t.startswith(("−", "-")) else 1))
             for x, _, t, k in texts if k == "xtick" and _number(t.lstrip("−-")) is not None]
    xs, vs = np.array([t[0] for t in ticks]), np.array([t[1] for t in ticks])
    b, a = np.polyfit(vs, xs, 1)
    return a, b


BASELINE = 3.2          # px a text's baseline lies below its centre (7-9 pt)


def _rows(texts, labels: list[str]) -> dict[str, float]:
    """y of each row's axis label (the y-tick label's centre)."""
    ys = {t: y for _, y, t, k in texts if k == "ytick"}
    return {lab: ys[lab] - BASELINE for lab in labels if lab in ys}


def _figure(path, labels: list[str]):
    """A figure's parts, its x scale (a, b) and the y of each labelled row."""
    parts = svg_parts(path)
    return parts, *_x_scale(parts["texts"]), _rows(parts["texts"], labels)


def _labels_beside(parts, y: float | None, tol: float) -> list[str]:
    """The texts in the plot (not on an axis) whose centre is within `tol` px of row `y`."""
    if y is None:
        return []
    return [t for _, yy, t, k in parts["texts"] if k == "" and abs(yy - BASELINE - y) < tol]


def audit_share_bars(path, table1: pd.DataFrame, status_label, marker_text) -> list[str]:
    """Figure 4 (table1_shares) against table1.csv: each status's participant and control bar
    as long as its published share; a hidden share has no bar but the marker its count has."""
    rows = table1[~table1["outcome"].isin(HEADLINE)]
    parts, a, b, ys = _figure(path, [status_label(o) for o in rows["outcome"]])
    step = abs(sorted(ys.values())[1] - sorted(ys.values())[0]) if len(ys) > 1 else 20.0
    problems = []
    for _, r in rows.iterrows():
        lab = status_label(r["outcome"])
        if lab not in ys:
            problems.append(f"{path.name}: no row labelled {lab!r}")
            continue
        for group, share, count in (("participants", "share_participant", "n_participant"),
                                    ("controls", "share_control", "n_control")):
            bars = [bar for bar in parts["bars"] if bar[4] == GROUP_FILL[group]
                    and bar[2] <= ys[lab] + (0.2 if group == "participants" else -0.2) * step <= bar[3]]
            value = pd.to_numeric(r[share], errors="coerce")
            where = f"{path.name} {lab} ({group}): "
            if pd.notna(value):
                drawn = [(bar[1] - bar[0]) / b for bar in bars]
                if not drawn or abs(drawn[0] - 100 * value) > 0.6:
                    problems.append(f"{where}bar {drawn[:1]} long, published {100 * value:.1f} %")
            else:
                if any(bar[1] - bar[0] > 0.5 for bar in bars):
                    problems.append(f"{where}a bar is drawn for a share not published")
                want = marker_text(str(r[count]).strip()) if _is_hidden(r[count]) else None
                near = _labels_beside(parts, ys[lab], 0.45 * step)
                if want is None or want not in near:
                    problems.append(f"{where}hidden share labelled {near}, its count is published as {r[count]!r}")
    return problems


def audit_effect_points(path, effects: pd.DataFrame, status_label, marker_of) -> list[str]:
    """Figure of differences: each outcome's point and CI ends at the published values (pp);
    a hidden difference has no point but the marker of the count that hides it."""
    parts, a, b, ys = _figure(path, [status_label(o) for o in effects["outcome"]])
    problems = []
    for _, r in effects.iterrows():
        lab = status_label(r["outcome"])
        where = f"{path.name} {lab}: "
        xs = sorted((x - a) / b for x, y, _ in parts["points"] if lab in ys and abs(y - ys[lab]) < 3)
        est = pd.to_numeric(r["estimate"], errors="coerce")
        if pd.notna(est):
            want = [100 * float(r["ci_low"]), 100 * float(est), 100 * float(r["ci_high"])]
            if len(xs) != 3 or max(abs(u - v) for u, v in zip(xs, want)) > 0.3:
                problems.append(f"{where}drawn at {[round(x, 1) for x in xs]}, published {[round(w, 1) for w in want]}")
        else:
            near = _labels_beside(parts, ys.get(lab), 6)
            if xs:
                problems.append(f"{where}points drawn for a hidden difference")
            if marker_of(r) not in near:
                problems.append(f"{where}labelled {near}, the hiding count is {marker_of(r)!r}")
    return problems


def audit_love_points(path, balance: pd.DataFrame, covariate_label, hidden_text) -> list[str]:
    """Love plot: each covariate's |SMD| before (open) and after (filled) at the published values;
    a covariate whose SMD is not published has no point but the hidden text."""
    parts, a, b, ys = _figure(path, [covariate_label(c) for c in balance["covariate"]])
    problems = []
    for _, r in balance.iterrows():
        lab = covariate_label(r["covariate"])
        pts = {g: (x - a) / b for x, y, g in parts["points"] if lab in ys and abs(y - ys[lab]) < 3}
        vals = [pd.to_numeric(r[c], errors="coerce") for c in ("smd_before", "smd_after")]
        if all(pd.notna(v) for v in vals):
            got = [pts.get("PathCollection_1"), pts.get("PathCollection_2")]
            if None in got or max(abs(g - abs(v)) for g, v in zip(got, vals)) > 0.005:
                problems.append(f"{path.name} {lab}: drawn at {got}, published {[abs(v) for v in vals]}")
        else:
            near = _labels_beside(parts, ys.get(lab), 6)
            if hidden_text not in near:
                problems.append(f"{path.name} {lab}: SMD not published, labelled {near}")
    return problems


def svg_text_problems(path, lang: str) -> list[str]:
    return text_problems([t for _, _, t, _ in svg_parts(path)["texts"]], lang, f"{path.name}: ")


# ---------- the payment workbook ----------
def audit_payment_workbook(path, econ: dict[str, pd.DataFrame], cat) -> list[str]:
    """payment_model.xlsx: every formula has its value cached; every non-integer number a
    format; the results block equals the economics tables (account, break-even); no code,
    English word (da) or hole in any text."""
    from openpyxl import load_workbook

    formulas, values = load_workbook(path), load_workbook(path, data_only=True)
    problems = []
    for ws in formulas.worksheets:
        wv = values[ws.title]
        for row in ws.iter_rows():
            for c in row:
                v, cached = c.value, wv[c.coordinate].value
                where = f"{ws.title}!{c.coordinate}: "
                if isinstance(v, str) and v.startswith("="):
                    if cached is None:
                        problems.append(f"{where}a formula without a cached value")
                    v = cached
                if isinstance(v, float) and not v.is_integer() and c.number_format == "General":
                    problems.append(f"{where}{v} has no number format")
                if isinstance(v, str) and not v.startswith("="):
                    problems += text_problems([v], cat.lang, where)
    model = values.worksheets[0]
    want = {}
    for table, section in (("econ_account", "economics.items"), ("econ_break_even", "economics.break_even_items")):
        words = cat.section(section)
        for item, value in zip(econ[table]["item"], econ[table]["value"]):
            if pd.notna(pd.to_numeric(value, errors="coerce")):     # a break-even not reached is empty
                want[words.get(item, item)] = float(value)
    shown = {r[0].value: r[1].value for r in model.iter_rows(min_row=6, max_row=20) if r[0].value in want}
    if len(shown) < 8:
        problems.append(f"the results block shows {len(shown)} of the account's results")
    for label, v in shown.items():
        if not isinstance(v, (int, float)) or abs(v - want[label]) > 1e-6 * max(1, abs(want[label])):
            problems.append(f"results block: {label} shows {v}, the economics tables {want[label]}")
    return problems
