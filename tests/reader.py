"""The reader's audit: read the rendered note as a reader does (its HTML tables, cell by cell)
and map every shown number and marker back to its cell in the published tables.

`note_tables(html)` gives {section id: (header, rows)}; `audit_outcome_table(...)` compares an
effects-shaped note table with its published CSV and returns the disagreements, so a test
can show both that the demo notes pass and that a cell made wrong on purpose is caught."""

from __future__ import annotations

from html.parser import HTMLParser

import pandas as pd

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
                if _number(shown) is None or abs(_number(shown) - round(100 * float(value), 1)) > 1e-9:
                    problems.append(f"{where}: {share} shows '{shown}', published {float(value):.4f}")
            elif _is_hidden(r[count]):
                if shown != str(r[count]).strip():
                    problems.append(f"{where}: {share} shows '{shown}', the published count is '{r[count]}'")
            elif shown != DASH:
                problems.append(f"{where}: {share} is not published but shows '{shown}'")
        est = row[first + 2]
        if pd.isna(pd.to_numeric(r["estimate"], errors="coerce")):
            if est != DASH:
                problems.append(f"{where}: the estimate is not published but shows '{est}'")
        elif _number(est) is None or abs(_number(est) - round(100 * float(r["estimate"]), 1)) > 1e-9:
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
                if _number(cell) is None or abs(_number(cell) - round(100 * float(value))) > 1e-9:
                    problems.append(f"{where}: {col} shows '{cell}', published {r[col]}")
            elif _is_hidden(r[count]):
                if cell != str(r[count]).strip():
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
