"""The reader's words for what the published tables hold as codes or English text.

The published CSV files keep machine codes (`ordinary_employment`, `boschloo`) and the
analysis's English method texts: they are the audit trail. A reader of the workbook sees the
catalogue's words instead: `ValueLabels(cat, labels)(sheet, column, value)` gives the text in the
workbook's language, and `is_code_column` says which columns are codes (listed with their
labels on the README sheet only).
"""

from __future__ import annotations

import re

from sibeval.report.base import Labels
from sibeval.report.catalogue import Catalogue

# columns that name a row by a code: shown as their label, the code only on the README sheet
CODE_COLUMNS = ("outcome", "anchor", "covariate", "item", "step", "group", "subgroup", "variable", "sample",
                "setting", "input", "parameter", "point", "basis", "file", "party")
# columns of words the analysis writes in English: translated cell by cell
TEXT_COLUMNS = ("method", "adjustment", "warnings", "reason", "type", "primary_test", "wilcoxon_method",
                "source", "adjusted_for", "value")


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", str(text).lower()).strip("_")


class ValueLabels:
    """Labels of codes and translations of method texts for one language."""

    def __init__(self, cat: Catalogue, labels: Labels):
        self.cat, self.lb = cat, labels
        self.clauses = [(re.compile(p), t) for p, t in _pairs(cat.section("method_clauses"))]

    @staticmethod
    def is_code_column(sheet: str, col: str) -> bool:
        return col in CODE_COLUMNS and not (sheet == "extract_summary" and col == "value")

    def __call__(self, sheet: str, col: str, value, row: dict | None = None):
        """The reader's text for `value` in `sheet`.`col` (other values unchanged)."""
        if not isinstance(value, str) or value in ("", "x") or re.fullmatch(r"<\d+", value):
            return value
        row = row or {}
        f = getattr(self, f"_{col}", None)
        if f is None or col not in CODE_COLUMNS + TEXT_COLUMNS:
            return value
        return f(value, sheet, row)

    # row names -------------------------------------------------------------------------
    def _outcome(self, v, sheet, row):
        return self.lb.status(v)

    def _anchor(self, v, sheet, row):
        return self.cat(f"values.anchor.{v}")

    def _covariate(self, v, sheet, row):
        base = v.removesuffix("_squared")
        label = self.lb.covariate(base)
        return self.cat("values.squared", label=label) if v.endswith("_squared") else label

    _subgroup = _covariate

    def _item(self, v, sheet, row):
        if sheet == "econ_account":
            return self.cat.get(f"economics.items.{v}", v)
        if sheet == "econ_break_even":
            return self.cat.get(f"economics.break_even_items.{v}", v)
        if sheet == "extract_summary":
            if v.startswith("code:"):
                code = v.split(":", 1)[1]
                return self.cat("values.dream_code", code=self.cat("values.empty") if code == "(empty)" else code)
            return self.cat.get(f"values.extract_items.{v}", v)
        return self.lb.item(v)

    def _step(self, v, sheet, row):
        return self.cat.get(f"flow_steps.{v}", v)

    def _group(self, v, sheet, row):
        return self.lb.group(v)

    def _variable(self, v, sheet, row):
        return self.cat.get(f"variables.{v}", v)

    def _sample(self, v, sheet, row):
        return self.lb.get("samples", v)

    def _setting(self, v, sheet, row):
        return self.cat.get(f"values.design_settings.{v}", v)

    def _input(self, v, sheet, row):
        if ":" in str(v):                      # a further outcome type's input: price:education
            part, outcome = str(v).split(":", 1)
            return f"{self._input(part, sheet, row)} – {self.lb.status(outcome)}"
        return (self.cat.get(f"payment_workbook.inputs_labels.{v}")
                or self.cat.get(f"values.economics_inputs.{v}", v))

    def _parameter(self, v, sheet, row):
        return self.cat.get(f"economics.parameters.{v}", v)

    def _point(self, v, sheet, row):
        return self.cat.get(f"economics.points.{v}") or self.cat.get(f"values.risk_points.{v}", v)

    def _basis(self, v, sheet, row):
        return self.cat.get(f"values.decay_basis.{v}" if sheet == "econ_decay_comparison"
                            else f"values.settlement_basis.{v}", v)

    def _party(self, v, sheet, row):
        return self.cat.get(f"values.parties.{v}", v)

    def _file(self, v, sheet, row):
        return self.cat.get(f"values.registers.{v}", v)

    # words -----------------------------------------------------------------------------
    def _value(self, v, sheet, row):
        if sheet == "extract_summary":
            return self.cat.get(f"values.words.{v}", v)
        if sheet != "design":
            return v
        setting = str(row.get("setting", ""))
        if setting in ("covariates", "mahvars", "covariates_left_out", "exact_constant"):
            return ", ".join(self._covariate(c, sheet, row) for c in v.split(";") if c)
        if setting == "method":
            return self.lb.get("methods", v)
        return self.cat.get(f"values.design_values.{v}", v)

    def _adjusted_for(self, v, sheet, row):
        return ", ".join(self._covariate(c.strip(), sheet, row) for c in v.split(",") if c.strip())

    def _type(self, v, sheet, row):
        return self.cat.get(f"values.types.{v}", v)

    def _primary_test(self, v, sheet, row):
        return self.lb.get("methods", v)

    def _wilcoxon_method(self, v, sheet, row):
        return self.cat.get(f"values.words.{slug(v)}", v)

    def _source(self, v, sheet, row):
        return self.cat.get(f"values.sources.{slug(v)}", v)

    def _warnings(self, v, sheet, row):
        return "; ".join(self.cat.get(f"warnings.{slug(p)}", p.strip()) for p in v.split(";") if p.strip())

    def _reason(self, v, sheet, row):
        out = []
        for p in (p.strip() for p in v.split(";") if p.strip()):
            m = re.fullmatch(r"(.*?)\s*\((\d+|<\d+|x)\)", p)
            base, count = (m.group(1), m.group(2)) if m else (p, "")
            word = self.cat.get(f"reasons.{slug(base)}", base)
            out.append(f"{word} ({count})" if count else word)
        return "; ".join(out)

    def _method(self, v, sheet, row):
        return self._translate(v)

    _adjustment = _method

    def _translate(self, text: str) -> str:
        """A method text, clause by clause, by the catalogue's patterns (in order)."""
        for pattern, template in self.clauses:
            text = pattern.sub(lambda m, t=template: t.format(*m.groups()), text)
        if self.cat.lang == "da":                       # "trin 0,01", not 0.01
            text = re.sub(r"(?<=\d)\.(?=\d)", ",", text)
        return text


def _pairs(section: dict) -> list[tuple[str, str]]:
    """`method_clauses` entries `<name>.0` (pattern) and `<name>.1` (template), in file order."""
    keys = dict.fromkeys(k.rsplit(".", 1)[0] for k in section)
    return [(section[f"{k}.0"], section[f"{k}.1"]) for k in keys]
