"""The effect note (one self-contained HTML file) and the workbook of its tables.

Inputs are the published (already suppressed) tables; nothing here reads person data.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import os
from pathlib import Path

import numpy as np
import pandas as pd

from . import __version__
from .report_text import text


def t(key, lang, **kw):
    s = text(key, lang)
    return s.format(**kw) if kw else s


def run_date() -> str:
    """Today, or SOURCE_DATE_EPOCH when set (reproducible builds)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    d = dt.datetime.fromtimestamp(int(epoch), dt.UTC) if epoch else dt.datetime.now(dt.UTC)
    return d.date().isoformat()


def pct(x, digits=0, lang="da"):
    if x is None or x == "" or (isinstance(x, float) and np.isnan(x)):
        return ""
    s = f"{100 * float(x):.{digits}f}"
    return (s.replace(".", ",") if lang == "da" else s) + " %"


def num(x, digits=1, lang="da"):
    if x is None or x == "" or (isinstance(x, float) and np.isnan(x)):
        return ""
    if isinstance(x, str):
        return x
    s = f"{float(x):,.{digits}f}"
    if lang == "da":
        s = s.replace(",", "X").replace(".", ",").replace("X", ".")
    return s


def pval(p, lang="da"):
    if p is None or p == "" or (isinstance(p, float) and np.isnan(p)):
        return ""
    p = float(p)
    s = "< 0.001" if p < 0.001 else f"{p:.3f}"
    return s.replace(".", ",") if lang == "da" else s


def _blank(v) -> bool:
    return v is None or (isinstance(v, float) and np.isnan(v))


def table_html(df: pd.DataFrame, caption: str = "", cls: str = "") -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
    body = "".join("<tr>" + "".join(f"<td>{'' if _blank(v) else html.escape(str(v))}</td>" for v in row) + "</tr>"
                   for row in df.itertuples(index=False))
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return f'<table class="{cls}">{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def img_html(path, alt) -> str:
    data = base64.b64encode(Path(path).read_bytes()).decode()
    return f'<figure><img alt="{html.escape(alt)}" src="data:image/png;base64,{data}"><figcaption>{html.escape(alt)}</figcaption></figure>'


CSS = """
body{font-family:Georgia,'Times New Roman',serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#111;line-height:1.45}
h1{font-size:1.8rem;margin-bottom:.2rem} h2{border-bottom:1px solid #999;margin-top:2.2rem;font-size:1.3rem}
table{border-collapse:collapse;margin:1rem 0;font-size:.88rem;width:100%} caption{text-align:left;font-weight:bold;margin-bottom:.3rem}
th,td{border-bottom:1px solid #ccc;padding:.25rem .45rem;text-align:right} th:first-child,td:first-child{text-align:left}
thead th{border-bottom:2px solid #333;background:#f2f2f2}
.headline{border:2px solid #333;padding:1rem 1.3rem;background:#f7f7f7;margin:1.2rem 0}
.headline p{margin:.4rem 0} .small{font-size:.85rem;color:#333}
figure{margin:1rem 0} figure img{max-width:100%} figcaption{font-size:.85rem;color:#333}
@media print{body{max-width:none}}
"""


def headline_text(row: pd.Series, label: str, follow_up: int, lang: str) -> str:
    """Plain-language sentence for one headline effect (as evaluators write them)."""
    p1, p2 = float(row["share_participants"]), float(row["share_controls"])
    d, lo, hi = float(row["estimate"]), float(row["ci_low"]), float(row["ci_high"])
    sig = t("significant" if str(row["significant"]) == "True" else "not_significant", lang)
    if lang == "da":
        return (f"<p><b>{html.escape(label)}:</b> {pct(p1, 0, lang)} af deltagerne mod {pct(p2, 0, lang)} "
                f"i kontrolgruppen {follow_up} måneder efter forløbet. For 100 typiske deltagere svarer det til "
                f"ca. {100 * d:.0f} flere end uden indsatsen (95 % KI: {100 * lo:.0f} til {100 * hi:.0f}). "
                f"Forskellen er {sig} ({row['primary_test']}, p = {pval(row['p_value'], lang)}).</p>")
    return (f"<p><b>{html.escape(label)}:</b> {pct(p1, 0, lang)} of participants vs {pct(p2, 0, lang)} "
            f"of the control group {follow_up} months after the programme. For 100 typical participants "
            f"that is about {100 * d:.0f} more than without the programme (95 % CI: {100 * lo:.0f} to "
            f"{100 * hi:.0f}). The difference is {sig} ({row['primary_test']}, p = {pval(row['p_value'], lang)}).</p>")


def build_html(cohort: dict, tables: dict, figures: dict, labels: dict, provenance: dict,
               method_text: str, caveats: list[str]) -> str:
    """Assemble the effect note. `tables` and `figures` are keyed by section."""
    lang = cohort["language"]
    k = cohort["disclosure"]["min_cell"]
    parts = [f"<!DOCTYPE html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">"
             f"<title>{html.escape(t('title', lang))}: {html.escape(cohort['title'])}</title>"
             f"<style>{CSS}</style></head><body>",
             f"<h1>{html.escape(t('title', lang))}: {html.escape(cohort['title'])}</h1>",
             f"<p class=\"small\">sibeval {__version__} · {provenance['run_date']} · config {provenance['config_hash']}</p>"]
    eff = tables["effects_raw"].set_index("outcome")
    parts.append(f"<div class=\"headline\"><h2 style=\"border:none;margin-top:0\">{t('headline', lang)}</h2>")
    for o in ("ordinary_employment", "self_supporting_or_education"):
        if o in eff.index:
            parts.append(headline_text(eff.loc[o], labels["status"][o][lang], cohort["follow_up_months"], lang))
    parts.append("</div>")
    parts.append(f"<h2>{t('data_method', lang)}</h2>{method_text}")
    sections = [("flow", "flow"), ("profile", "profile"), ("table1", "table1"), ("effects", "effects"),
                ("hours_wage", "hours_wage"), ("subgroups", "subgroups"), ("placebo", "placebo"),
                ("diagnostics", "diagnostics")]
    for key, tk in sections:
        title = t(key, lang, k=cohort["follow_up_months"]) if key == "table1" else t(key, lang)
        parts.append(f"<h2>{title}</h2>")
        if tk in tables and len(tables[tk]):
            parts.append(table_html(tables[tk]))
        for fig_key in figures:
            if fig_key.startswith(key + ":"):
                parts.append(img_html(figures[fig_key], fig_key.split(":", 1)[1]))
    if "progression_items" in tables:
        parts.append(f"<h2>{t('progression', lang)}</h2>")
        for tk in ("progression_flow", "progression_items", "who5", "who5_bands"):
            if tk in tables:
                parts.append(table_html(tables[tk]))
        for fig_key in figures:
            if fig_key.startswith("progression:"):
                parts.append(img_html(figures[fig_key], fig_key.split(":", 1)[1]))
    parts.append(f"<h2>{t('caveats', lang)}</h2><ul>" + "".join(f"<li>{html.escape(c)}</li>" for c in caveats) + "</ul>")
    parts.append(f"<p class=\"small\">{html.escape(t('suppressed_note', lang, k=k))}</p>")
    prov = pd.DataFrame(sorted(provenance.items()), columns=["item", "value"])
    parts.append(f"<h2>{t('provenance', lang)}</h2>" + table_html(prov))
    parts.append("</body></html>")
    return "\n".join(parts)


def write_workbook(path, sheets: dict, readme: dict):
    """tables.xlsx: a README sheet with provenance, then one sheet per table."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "README"
    for i, (key, val) in enumerate(readme.items(), start=1):
        ws.cell(row=i, column=1, value=str(key)).font = Font(bold=True)
        ws.cell(row=i, column=2, value=str(val))
    ws.column_dimensions["A"].width = 28
    ws.column_dimensions["B"].width = 90
    for name, df in sheets.items():
        sh = wb.create_sheet(name[:31])
        for j, c in enumerate(df.columns, start=1):
            sh.cell(row=1, column=j, value=str(c)).font = Font(bold=True)
        for i, row in enumerate(df.itertuples(index=False), start=2):
            for j, v in enumerate(row, start=1):
                if isinstance(v, (np.floating, float)) and np.isnan(v):
                    v = None
                elif isinstance(v, np.generic):
                    v = v.item()
                sh.cell(row=i, column=j, value=v)
        for j, c in enumerate(df.columns, start=1):
            sh.column_dimensions[sh.cell(row=1, column=j).column_letter].width = max(10, min(60, len(str(c)) + 2))
    when = dt.datetime.fromisoformat(readme.get("run_date", "2000-01-01"))
    wb.properties.created = when
    wb.properties.modified = when
    wb.save(path)


def index_html(cohorts: list[dict]) -> str:
    """results/index.html: every cohort with its headline effects and a link to its note.

    Each dict: name, title, note (relative link), follow_up, and per headline outcome the
    shares, difference, CI and significance (from the published effects table)."""
    rows = []
    for c in cohorts:
        cells = [f'<td><a href="{html.escape(c["note"])}">{html.escape(c["title"])}</a><br>'
                 f'<span class="small">{html.escape(c["name"])} · {c["n_participants"]} deltagere · '
                 f'opfølgning {c["follow_up"]} mdr.</span></td>']
        for h in ("ordinary_employment", "self_supporting_or_education"):
            e = c["effects"].get(h)
            if e is None or e.get("suppressed"):
                cells.append("<td>–</td>")
                continue
            sig = "signifikant" if e["significant"] else "ikke signifikant"
            cells.append(f"<td>{pct(e['share_participants'])} vs {pct(e['share_controls'])}<br>"
                         f"<span class=\"small\">{100 * e['estimate']:+.0f} pp "
                         f"({100 * e['ci_low']:.0f} til {100 * e['ci_high']:.0f}), {sig}</span></td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return ("<!DOCTYPE html><html lang=\"da\"><head><meta charset=\"utf-8\"><title>sibeval: kohorter</title>"
            f"<style>{CSS}</style></head><body><h1>Effektmålinger</h1>"
            "<table><thead><tr><th>Kohorte</th><th>Løn i ordinær beskæftigelse</th>"
            "<th>Selvforsørgende eller under uddannelse</th></tr></thead><tbody>"
            + "".join(rows) + "</tbody></table>"
            f"<p class=\"small\">sibeval {__version__} · {run_date()}</p></body></html>")
