"""The effect note, its figures and the cohort index, built from the published tables only.

`load_tables` reads the published CSVs; everything else takes DataFrames. Wording comes from
the catalogue (:mod:`sibeval.report.catalogue`), numbers from one formatter
(:mod:`sibeval.report.formatting`), human labels from config/labels.yaml, layout from the Jinja2
templates in ``sibeval/templates``.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import pandas as pd

from sibeval import __version__
from sibeval.outcomes.status import HEADLINE_ORDER as HEADLINES
from sibeval.publish.cells import as_number, is_suppressed, slug
from sibeval.report.catalogue import Catalogue
from sibeval.report.formatting import Formatter

REQUIRED = ("flow", "table1", "effects", "diagnostics", "balance", "match_summary")
TEMPLATES = Path(__file__).with_name("templates")


def load_tables(paths: dict) -> dict[str, pd.DataFrame]:
    """Read published tables {name: csv path}; text stays text (a suppressed cell such as
    "<5" in a numeric column is kept as given)."""
    out = {}
    for name, path in paths.items():
        if isinstance(path, (list, tuple)):
            continue
        out[name] = pd.read_csv(path, keep_default_na=False, na_values=[""])
    missing = [n for n in REQUIRED if n not in out]
    if missing:
        raise KeyError(f"published tables missing: {missing}")
    return out


def run_date() -> str:
    """Today, or SOURCE_DATE_EPOCH when set (reproducible builds)."""
    return run_time().date().isoformat()


def run_time() -> dt.datetime:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    d = dt.datetime.fromtimestamp(int(epoch), dt.UTC) if epoch else dt.datetime.now(dt.UTC)
    return d.replace(tzinfo=None, microsecond=0)


class Labels:
    """Human labels of machine codes (config/labels.yaml) in one language."""

    def __init__(self, labels: dict, lang: str):
        self.labels, self.lang = labels, lang

    def get(self, section: str, code) -> str:
        entry = self.labels.get(section, {}).get(str(code))
        if entry is None and isinstance(code, float) and code.is_integer():
            entry = self.labels.get(section, {}).get(str(int(code)))
        return entry[self.lang] if entry else str(code)

    def status(self, c):
        return self.get("status", c)

    def covariate(self, c):
        return self.get("covariates", c)

    def item(self, c):
        return self.get("items", c)

    def group(self, c):
        s = str(c)
        if s in self.labels.get("municipalities", {}) or (s.endswith(".0") and s[:-2] in self.labels.get("municipalities", {})):
            return self.get("municipalities", s[:-2] if s.endswith(".0") else s)
        return self.get("groups", s)

    def of_column(self, col: str, code) -> str:
        """Label of a code found in a published table column (workbook label columns)."""
        section = {"outcome": "status", "covariate": "covariates", "subgroup": "covariates",
                   "item": "items", "sample": "samples"}.get(col)
        if col == "group":
            return self.group(code)
        if section:
            return self.get(section, code)
        return str(code)


@dataclass
class Table:
    key: str
    title: str
    header: list
    rows: list
    note: str = ""
    figures: list = field(default_factory=list)

    @property
    def text_cols(self) -> set[int]:
        """Columns of words (left-aligned, may wrap): the first, and any holding long text."""
        out = {0}
        for j in range(1, len(self.header)):
            cells = [str(r[j]) for r in self.rows if j < len(r)]
            if any(len(re.sub(r"[\d\s,.%<>−+-]", "", c)) > 6 for c in cells):
                out.add(j)
        return out


@dataclass
class Figure:
    key: str
    caption: str
    png: str
    footnote: str = ""
    number: int = 0

    def data_uri(self) -> str:
        return "data:image/png;base64," + base64.b64encode(Path(self.png).read_bytes()).decode()


def _num(v):
    return as_number(v)


def _true(v) -> bool:
    return str(v) == "True"


class NoteBuilder:
    """Turns the published tables of one cohort into the note's context and figures."""

    def __init__(self, tables: dict, cohort: dict, labels: dict, lang: str | None = None):
        self.t = tables
        self.c = cohort
        self.lang = lang or cohort.get("language", "da")
        self.cat = Catalogue(self.lang)
        self.f = Formatter(self.lang)
        self.lb = Labels(labels, self.lang)
        self.k = cohort["disclosure"]["min_cell"]
        self.alpha = cohort["effects"]["alpha"]
        self.eff = tables["effects"].set_index("outcome", drop=False)
        # the match's design record (the settings as applied); a published folder from
        # before the record existed falls back to the cohort file
        d = tables.get("design")
        self.design = dict(zip(d["setting"], d["value"].fillna("").astype(str))) if d is not None else {}

    # ---------- counts used everywhere (one source: the effects table) ----------
    def n_participants(self) -> int | str:
        for h in HEADLINES:
            if h in self.eff.index and _num(self.eff.loc[h, "n_participants"]) is not None:
                return int(_num(self.eff.loc[h, "n_participants"]))
        v = self.eff["n_participants"].iloc[0]
        return int(_num(v)) if _num(v) is not None else str(v)      # hidden: its marker

    def n_controls(self) -> int | str:
        for h in HEADLINES:
            if h in self.eff.index and _num(self.eff.loc[h, "n_controls"]) is not None:
                return int(_num(self.eff.loc[h, "n_controls"]))
        v = self.eff["n_controls"].iloc[0]
        return int(_num(v)) if _num(v) is not None else str(v)

    def n_eff_controls(self) -> float | None:
        if "n_eff_controls" in self.eff:
            for h in HEADLINES:
                if h in self.eff.index and _num(self.eff.loc[h, "n_eff_controls"]) is not None:
                    return _num(self.eff.loc[h, "n_eff_controls"])
        ms = self.t["match_summary"].set_index("sample")
        return _num(ms.loc["matched_ess", "control"]) if "matched_ess" in ms.index else None

    def test_name(self) -> str:
        return self.lb.get("methods", self.c["effects"]["primary_test"])

    def alpha_text(self) -> str:
        return self.f.pct(self.alpha, 0 if round(100 * self.alpha, 6).is_integer() else 1)

    # ---------- headline ----------
    def headlines(self) -> list[str]:
        out = []
        for h in HEADLINES:
            if h not in self.eff.index:
                continue
            r = self.eff.loc[h]
            label = html.escape(self.lb.status(h))
            if _true(r.get("suppressed")) or _num(r["estimate"]) is None:
                out.append(self.cat("note.headline_suppressed", label=label, k=self.k))
                continue
            sig = self.cat("note.significant" if _true(r["significant"]) else "note.not_significant",
                           alpha=self.alpha_text())
            out.append(self.cat(
                "note.headline_sentence", label=label, p1=self.f.pct(r["share_participants"]),
                p2=self.f.pct(r["share_controls"]), months=self.c["follow_up_months"],
                diff=self.f.pp(r["estimate"], 0), lo=self.f.pp(r["ci_low"], 0), hi=self.f.pp(r["ci_high"], 0),
                sig=sig, test=self.test_name(), p=self.f.p_eq(r["p_value"])))
        return out

    def legend(self) -> str:
        return self.cat("note.legend", n=self.f.int(self.n_participants()),
                        months=self.c["follow_up_months"], test=self.test_name())

    # ---------- reading aids ----------
    def reading_aids(self) -> list[str]:
        aids = []
        statuses = [o for o in self.eff.index if o not in HEADLINES]
        for o, r in self.eff.iterrows():
            if _true(r.get("suppressed")) or _num(r["estimate"]) is None:
                continue
            lo, hi, p = _num(r["ci_low"]), _num(r["ci_high"]), _num(r["p_value"])
            padj = _num(r.get("p_adjusted"))
            sig = _true(r["significant"])
            label = self.lb.status(o)
            excludes0 = lo is not None and hi is not None and (lo > 0 or hi < 0)
            if p is not None and padj is not None and p < self.alpha <= padj and not sig:
                aids.append(self.cat("note.aid_holm", label=label, p_raw=self.f.p_eq(p), alpha=self.f.num(self.alpha, 2),
                                     m=len(statuses), p_adj=self.f.p_eq(padj)))
            elif excludes0 and not sig and p is not None and p >= self.alpha:
                aids.append(self.cat("note.aid_ci_vs_test", label=label, lo=self.f.pp(lo), hi=self.f.pp(hi),
                                     test=self.test_name(), p=self.f.p_eq(p)))
            elif sig and not excludes0 and lo is not None:
                aids.append(self.cat("note.aid_test_vs_ci", label=label, lo=self.f.pp(lo), hi=self.f.pp(hi),
                                     test=self.test_name(), p=self.f.p_eq(p)))
        aids += self.sensitivity_sentences()
        dg = self.t["diagnostics"].set_index("outcome")
        for h in HEADLINES:
            if h not in self.eff.index or h not in dg.index:
                continue
            r = self.eff.loc[h]
            mdd, obs = _num(dg.loc[h, "minimum_detectable_difference"]), _num(r["estimate"])
            if _true(r["significant"]) or mdd is None or obs is None:
                continue
            aids.append(self.cat("note.aid_mdd", label=self.lb.status(h), n=self.f.int(self.n_participants()),
                                 n_c=self.f.int(self.n_controls()), mdd=self.f.pp(mdd, 0), obs=self.f.pp(obs)))
        return aids

    def sensitivity_sentences(self) -> list[str]:
        """One plain sentence per headline: its E-value and Rosenbaum bound."""
        sens = self.t.get("sensitivity")
        if sens is None or not len(sens):
            return []
        out = []
        sens = sens.set_index("outcome")
        for h in HEADLINES:
            if h not in sens.index or _true(sens.loc[h].get("suppressed")):
                continue
            r = sens.loc[h]
            e, e_ci, rr = _num(r["e_value"]), _num(r["e_value_ci"]), _num(r["risk_ratio"])
            if e is None or e_ci is None or rr is None:
                continue
            text = self.cat("note.aid_evalue", label=self.lb.status(h), e=self.f.num(e, 1),
                            e_ci=self.f.num(e_ci, 1), rr=self.f.num(rr, 2))
            g = _num(r.get("gamma_critical"))
            if g is not None and g > 1:
                text += " " + self.cat("note.aid_gamma", gamma=self.f.num(g, 2))
            elif g is not None:
                text += " " + self.cat("note.aid_gamma_ns")
            out.append(text)
        return out

    def smd_threshold(self) -> float:
        return float(self.design.get("smd_threshold", self.c["matching"].get("smd_threshold", 0.1)))

    def mahvars(self) -> list[str]:
        """The covariates the Mahalanobis distance used, as the match records them."""
        if "mahvars" in self.design:
            return [v for v in self.design["mahvars"].split(";") if v]
        m = self.c["matching"]
        shown = [v for v in self.t["balance"]["covariate"] if v != "distance"]
        return shown if m.get("mahvars") == "covariates" else list(m.get("mahvars") or [])

    def balance_check(self) -> tuple[list[str], str]:
        """Covariates missing the balance target after matching, and the sentence to show."""
        thr = self.smd_threshold()
        b = self.t["balance"]
        b = b[b["covariate"] != "distance"]
        smd = b["smd_after"].map(_num).abs()
        missed = [self.lb.covariate(c) for c, v in zip(b["covariate"], smd) if v is not None and v >= thr]
        if missed:
            return missed, self.cat("note.balance_warning", threshold=self.f.num(thr, 2), covariates=", ".join(missed))
        return [], self.cat("note.balance_ok", threshold=self.f.num(thr, 2), max_smd=self.f.num(smd.max(), 3))

    # ---------- method ----------
    def method(self) -> list[str]:
        c, f, cat = self.c, self.f, self.cat
        paras = []
        qc = self.t.get("extract_summary")
        if qc is not None and len(qc):
            q = qc.set_index(["file", "item"])["value"]
            get = lambda fi, it: q.get((fi, it), "")  # noqa: E731
            paras.append(cat("method.extract", first_week=get("dream", "first_week"),
                             last_week=get("dream", "last_week"), persons=f.int(get("dream", "persons")),
                             first_month=get("eindkomst", "first_month"), last_month=get("eindkomst", "last_month")))
        el = c["eligibility"]
        sexes = sorted(el["sex"])
        sex = cat(f"method.sex_{sexes[0]}") if len(sexes) == 1 else cat("method.sex_both")
        origin = cat(f"method.origin_{str(el['non_western']).lower() if el['non_western'] is not None else 'null'}")
        benefits = self._join([self.lb.get("benefit_groups", b) for b in el["benefit_groups"]])
        paras.append(cat("method.eligibility", sex=sex, origin=origin, age_min=el["age_min"], age_max=el["age_max"],
                         benefits=benefits,
                         no_wage=cat("method.no_wage") if el.get("no_employment_in_index_month", True) else ""))
        m = c["matching"]
        text = [cat("method.model")]
        if m.get("squares"):
            text.append(cat("method.squares"))
        if m["method"] == "nearest":
            cal = f.num(m["caliper"], 2).rstrip("0").rstrip(",.") if m.get("caliper") else None
            text.append(cat("method.nearest", ratio=m["ratio"],
                            replace=cat("method.replace_true" if m["replace"] else "method.replace_false"
                                        if m.get("controls_once_across_index_months") else "method.replace_per_month"),
                            caliper=cal if cal else cat("method.no_caliper"),
                            order=cat(f"method.order_{m['m_order']}")))
            shown = [v for v in self.t["balance"]["covariate"] if v != "distance"]
            mah = [v for v in self.mahvars() if v in shown]
            if mah:
                text.append(cat("method.mahvars", covariates=self._join([self.lb.covariate(v) for v in mah], "and")))
        else:
            text.append(cat(f"method.{m['method']}"))
        ms = self.t["match_summary"].set_index("sample")
        lo = ms.loc["controls_per_participant_min", "control"] if "controls_per_participant_min" in ms.index else ""
        hi = ms.loc["controls_per_participant_max", "control"] if "controls_per_participant_max" in ms.index else ""
        text.append(cat("method.matched", n=f.int(self.n_participants()), n_c=f.int(self.n_controls()),
                        min=f.int(lo), max=f.int(hi)))
        paras.append(" ".join(text))
        dist = self.t.get("status_distribution")
        dist_p = f.p(dist["p_value"].iloc[0]) if dist is not None and len(dist) else ""
        dist_p = dist_p if dist_p.startswith("<") else f"= {dist_p}"
        paras.append(cat("method.outcome", months=c["follow_up_months"], dates=cat(f"method.dates_{c['control_dates']}"))
                     + " " + cat("method.tests", test=self.test_name(), alpha=f.num(self.alpha, 2), dist_p=dist_p))
        return paras

    def covariates(self) -> list[str]:
        return [self.lb.covariate(v) for v in self.t["balance"]["covariate"] if v != "distance"]

    def _join(self, items, word="or"):
        items = list(items)
        if len(items) <= 1:
            return "".join(items)
        return ", ".join(items[:-1]) + f" {self.cat('common.' + word)} " + items[-1]

    # ---------- tables ----------
    def col(self, code: str) -> str:
        return self.cat.get(f"columns.{code}.0", code)

    def flow_table(self, name="flow", title_key="note.flow") -> Table:
        fl = self.t[name]
        rows = []
        for _, r in fl.iterrows():
            public = " †" if _true(r.get("public", False)) else ""
            rows.append([self.cat.get(f"flow_steps.{r['step']}", str(r["step"])), self.f.int(r["n"]) + public,
                         "" if _num(r.get("excluded")) == 0 else self.f.int(r.get("excluded")),
                         self.reason(r.get("reason", ""))])
        return Table(name, self.cat(title_key), [self.col("step"), self.col("n"), self.col("excluded"), self.col("reason")],
                     rows, self.cat("note.flow_note", k=self.k))

    def reason(self, text) -> str:
        """Translate an analysis reason ("a (3); b (<5)"); a lone reason drops its count,
        which the excluded column already shows."""
        if text is None or str(text) in ("", "nan"):
            return ""
        parts = [p.strip() for p in str(text).split(";") if p.strip()]
        out = []
        for p in parts:
            base, count = p, ""
            if p.endswith(")") and "(" in p:
                head, _, tail = p.rpartition("(")
                inner = tail[:-1]
                if re.fullmatch(r"\d+|<\d+|x", inner.strip()):
                    base, count = head.strip(), inner
            word = self.cat.get(f"reasons.{slug(base)}", base)
            out.append(f"{word} ({self.f.int(count) if count.isdigit() else count})" if count and len(parts) > 1 else word)
        return "; ".join(out)

    def profile_table(self) -> Table | None:
        pr = self.t.get("profile")
        if pr is None:
            return None
        rows = []
        for _, r in pr.iterrows():
            vals = [_num(r[c]) for c in ("participants", "eligible_pool", "matched_controls") if _num(r[c]) is not None]
            cont = r.get("type") == "continuous" and not all(0 <= v <= 1 for v in vals)
            show = (lambda v: self.f.num(v, 1)) if cont else (lambda v: self.f.pct(v, 0))
            rows.append([self.lb.covariate(r["covariate"]), show(r["participants"]), show(r["eligible_pool"]),
                         show(r["matched_controls"]), self.f.num(r.get("smd_before"), 2), self.f.num(r.get("smd_after"), 2)])
        return Table("profile", self.cat("note.profile"),
                     [self.col("covariate"), self.cat("common.participants"), self.cat("common.pool"),
                      self.cat("common.controls"), self.col("smd_before"), self.col("smd_after")],
                     rows, self.cat("note.profile_note"))

    def table1(self) -> Table:
        t1 = self.t["table1"]
        ess = self.n_eff_controls()
        rows = [[self.lb.status(r["outcome"]), self.f.int(r["n_participant"]),
                 self.f.pct(r["share_participant"]) if not is_suppressed(r["n_participant"]) else "",
                 self.f.pct(r["share_control"]) if not is_suppressed(r["n_control"]) else str(r["n_control"])]
                for _, r in t1.iterrows()]
        n_c = self.n_controls()
        return Table("table1", self.cat("note.table1", months=self.c["follow_up_months"]),
                     [self.col("outcome"), f"{self.cat('common.participants')} (n)", f"{self.cat('common.participants')} (%)",
                      f"{self.cat('common.controls')} (%)"],
                     rows, self.cat("note.table1_note", n_c=self.f.int(n_c), ess=self.f.num(ess, 0) if ess else ""))

    def effects_table(self, df, key, title, note="") -> Table:
        cols = [("share_participants", self.f.pct, 1), ("share_controls", self.f.pct, 1)]
        header = [self.col("outcome")]
        if "months_before_index" in df:
            header.append(self.col("months_before_index"))
        if "subgroup" in df:
            header = [self.col("subgroup")] + header
        header += [self.col(c) for c, _, _ in cols] + [f"{self.col('estimate')} (pp)", self.cat("common.ci95")]
        pcols = [c for c in ("p_boschloo", "p_fisher", "p_regression", "p_adjusted") if c in df]
        header += [self.col(c) for c in pcols] + [self.col("significant")]
        rows = []
        for _, r in df.iterrows():
            row = [self.lb.status(r["outcome"])]
            if "months_before_index" in df:
                row.append(self.f.int(r["months_before_index"]))
            if "subgroup" in df:
                lvl = self.cat("common.yes") if _num(r["level"]) == 1 else self.cat("common.no")
                row = [f"{self.lb.covariate(r['subgroup'])}: {lvl}"] + row
            row += [fn(r[c], d) for c, fn, d in cols]
            lo, hi = self.f.pp(r["ci_low"]), self.f.pp(r["ci_high"])
            row += [self.f.pp(r["estimate"]), f"{lo} {self.cat('common.to')} {hi}" if lo and hi else ""]
            row += [self.f.p(r[c]) for c in pcols]
            row.append("" if str(r["significant"]) in ("", "nan") else self.cat("common.yes" if _true(r["significant"]) else "common.no"))
            rows.append(row)
        return Table(key, title, header, rows, note)

    def hours_wage(self) -> Table:
        hw = self.t["hours_wage"]
        rows = [[self.cat.get(f"variables.{r['variable']}", r["variable"]), self.f.int(r["n_participants"]),
                 self.f.num(r["mean_participants"], 1), self.f.int(r["n_controls"]), self.f.num(r["mean_controls"], 1),
                 self.f.p(r["p_welch"]), self.f.p(r["p_mannwhitney"])] for _, r in hw.iterrows()]
        return Table("hours_wage", self.cat("note.hours_wage"),
                     [self.col("variable"), self.col("n_participants"), self.col("mean_participants"),
                      self.col("n_controls"), self.col("mean_controls"), self.col("p_welch"), self.col("p_mannwhitney")], rows)

    def diagnostics(self) -> Table:
        dg = self.t["diagnostics"]
        rows = [[self.lb.status(r["outcome"]), self.f.pp(r["minimum_detectable_difference"]),
                 self.f.pp(r["observed_difference"]), self.f.int(r["participants_needed"]),
                 self.warnings(r.get("warnings", ""))] for _, r in dg.iterrows()]
        return Table("diagnostics", self.cat("note.diagnostics"),
                     [self.col("outcome"), f"{self.col('minimum_detectable_difference')} (pp)",
                      f"{self.col('observed_difference')} (pp)", self.col("participants_needed"), self.col("warnings")], rows)

    def warnings(self, text) -> str:
        if text is None or str(text) in ("", "nan"):
            return ""
        return "; ".join(self.cat.get(f"warnings.{slug(w)}", w) for w in str(text).split("; "))

    def generic(self, key, title) -> Table | None:
        """A published table the note does not know in detail (e.g. sensitivity): labelled
        headers, locale-formatted numbers."""
        df = self.t.get(key)
        if df is None or not len(df):
            return None
        rows = []
        for _, r in df.iterrows():
            row = []
            for c in df.columns:
                v = r[c]
                if c == "outcome":
                    row.append(self.lb.status(v))
                elif c.startswith("p_") or c == "p_value":
                    row.append(self.f.p(v))
                elif c.startswith(("share", "estimate", "ci_")):
                    row.append(self.f.pp(v) if c.startswith(("estimate", "ci_")) else self.f.pct(v, 1))
                elif _num(v) is not None and not isinstance(v, bool):
                    row.append(self.f.num(v, 0 if float(_num(v)).is_integer() else 2))
                elif str(v) in ("True", "False"):
                    row.append(self.cat("common.yes" if _true(v) else "common.no"))
                else:
                    row.append("" if str(v) == "nan" else str(v))
            rows.append(row)
        keep = [i for i, c in enumerate(df.columns) if c not in ("method", "adjustment", "primary_test", "alpha", "suppressed")]
        return Table(key, title, [self.col(df.columns[i]) for i in keep], [[r[i] for i in keep] for r in rows])

    def progression_tables(self) -> list[Table]:
        out = []
        if "progression_flow" in self.t:
            out.append(self.flow_table("progression_flow", "note.progression_flow"))
        it = self.t.get("progression_items")
        if it is not None:
            ia = it[it["group"].astype(str) == "all"]
            rows = [[self.lb.item(r["item"]) + (" *" if _true(r["indicator"]) else ""), self.f.int(r["n"]),
                     self.f.pct(r["share_up"]), self.f.pct(r["share_same"]), self.f.pct(r["share_down"]),
                     self.f.pct(r["target"]), self.f.p(r["p_vs_target"]), self.f.pct(r["share_of_down_started_unsure"])]
                    for _, r in ia.iterrows()]
            out.append(Table("progression_items", self.cat("note.progression_items"),
                             [self.col("item"), self.col("n"), self.col("share_up"), self.col("share_same"),
                              self.col("share_down"), self.col("target"), self.col("p_vs_target"),
                              self.col("share_of_down_started_unsure")], rows, self.cat("note.progression_items_note")))
        w5 = self.t.get("who5")
        if w5 is not None:
            rows = [[self.lb.group(r["group"]), self.f.int(r["n"]), self.f.num(r["mean_start"], 0), self.f.num(r["mean_end"], 0),
                     f"{self.f.num(r['mean_change'], 1)} ({self.f.num(r['ci_change_low'], 1)} {self.cat('common.to')} {self.f.num(r['ci_change_high'], 1)})",
                     self.f.p(r["p_paired_t"]), self.f.p(r["p_wilcoxon"]), self.f.pct(r["share_improved_meaningfully"])]
                    for _, r in w5.iterrows()]
            out.append(Table("who5", self.cat("note.who5"),
                             [self.col("group"), self.col("n"), self.col("mean_start"), self.col("mean_end"),
                              f"{self.col('mean_change')} ({self.cat('common.ci95')})",
                              self.col("p_paired_t"), self.col("p_wilcoxon"), self.col("share_improved_meaningfully")], rows))
        b = self.t.get("who5_bands")
        if b is not None:
            rows = [[str(r.iloc[0])] + [self.f.int(v) for v in r.iloc[1:]] for _, r in b.iterrows()]
            out.append(Table("who5_bands", self.cat("note.who5_bands"), [self.col("start_band"), *map(str, b.columns[1:])], rows))
        return out

    def economics(self) -> dict | None:
        """The economics section (payment model) from the published economics tables."""
        acc = self.t.get("econ_account")
        if acc is None or not len(acc):
            return None
        cat, f = self.cat, self.f
        a = acc.set_index("item")["value"]
        b = self.t["econ_break_even"].set_index("item")["value"]
        inp = self.t["econ_inputs"].set_index("input")["value"]
        risk = self.t["econ_risk"].set_index("point")
        money = [k for k in ("effort_saving", "benefits_saving", "tax_gain", "municipal_saving", "provider_cost",
                             "surplus", "investor_share", "payment", "municipality_account", "payment_per_employed")
                 if k in a.index]
        rows = [[cat(f"economics.items.{k}"), f.num(a[k], 0)] for k in money]
        rows.append([cat("economics.items.investor_return"), f.pct(a["investor_return"], 1)])
        account = Table("econ_account", cat("economics.account"), [cat("economics.item"), cat("economics.amount")], rows)
        be_rows = []
        for k in b.index:
            v = b[k]
            shown = f.pp(v) if k.endswith("_effect") else f.pct(v, 1)
            be_rows.append([cat(f"economics.break_even_items.{k}"), shown])
        break_even = Table("econ_break_even", cat("economics.break_even"), [cat("economics.item"), cat("economics.value")], be_rows)
        r_rows = [[cat(f"economics.points.{k}"), f.pp(risk.at[k, "effect"]), f.num(risk.at[k, "surplus"], 0),
                   f.num(risk.at[k, "municipality_account"], 0), f.pct(risk.at[k, "investor_return"], 1)]
                  for k in ("ci_low", "estimate", "ci_high") if k in risk.index]
        cf = self.t["econ_cash_flow"]
        positive = [int(_num(y)) for y, c in zip(cf["year"], cf["cumulative"]) if _num(c) is not None and _num(c) >= 0]
        probs = {"p_mun": f.pct(risk.at["p_municipality_negative", "probability"], 1),
                 "p_inv": f.pct(risk.at["p_investor_loses", "probability"], 1)}
        note = (cat("economics.risk_note", years=positive[0], **probs) if positive
                else cat("economics.risk_note_never", **probs))
        risk_t = Table("econ_risk", cat("economics.risk"),
                       [cat("economics.point"), self.col("effect"), self.col("surplus"),
                        self.col("municipality_account"), self.col("investor_return")], r_rows, note)
        intro = cat("economics.intro", effect=f.pp(inp["effect"]), low=f.pp(inp.get("effect_ci_low")),
                    high=f.pp(inp.get("effect_ci_high")), gross=f.pct(inp["gross_share"], 1),
                    price_year=str(int(_num(inp.get("price_year", self.c.get("economics", {}).get("price_year"))))))
        return {"title": cat("economics.title"), "intro": intro, "tables": [account, break_even, risk_t]}

    def caveats(self) -> list[str]:
        keys = ["design", "one_month", "small"]
        if "progression_items" in self.t:
            keys.append("progression")
        return [self.cat(f"caveats.{k}") for k in keys]

    # ---------- figures ----------
    def figures(self, out_dir) -> dict[str, Figure]:
        """Draw every figure of the note from the published tables into `out_dir` (PNG + SVG)."""
        from sibeval.report import figures as fg

        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        cat, f, lb = self.cat, self.f, self.lb
        supp = cat("figures.suppressed_bar", marker=f"<{self.k}")
        figs = {}

        def save(key, fig, caption, footnote=""):
            fg.save(fig, out_dir / key)
            figs[key] = Figure(key, caption, str(out_dir / f"{key}.png"), footnote)

        t1 = self.t["table1"]
        t1 = t1[~t1["outcome"].isin(HEADLINES)]
        bars = pd.DataFrame({"outcome": t1["outcome"],
                             "p": [None if is_suppressed(n) else _num(s) for n, s in zip(t1["n_participant"], t1["share_participant"])],
                             "c": [None if is_suppressed(n) else _num(s) for n, s in zip(t1["n_control"], t1["share_control"])]})
        hidden = [lb.status(o) for o, a, b in zip(bars["outcome"], bars["p"], bars["c"]) if a is None or b is None]
        marks = {(o, g): cat("figures.suppressed_bar", marker=str(m).strip())
                 for g, col in (("p", "n_participant"), ("c", "n_control"))
                 for o, m in zip(t1["outcome"], t1[col]) if is_suppressed(m)}
        save("table1_shares", fg.share_bars(bars, ["p", "c"], [cat("common.participants"), cat("common.controls")],
                                            {o: lb.status(o) for o in bars["outcome"]}, cat("figures.table1_title"),
                                            cat("figures.share_axis"), fmt=f, suppressed_label=marks),
             cat("figures.table1_title"),
             cat("figures.suppressed_footnote", k=self.k, items=", ".join(hidden)) if hidden else "")
        eff = self.t["effects"]
        hidden = [lb.status(o) for o, e in zip(eff["outcome"], eff["estimate"]) if _num(e) is None]
        save("effects", fg.effect_plot(eff, {o: lb.status(o) for o in eff["outcome"]}, cat("figures.effects_title"),
                                       cat("figures.pp_axis"), fmt=f, suppressed_label=supp),
             cat("figures.effects_title"),
             cat("figures.suppressed_footnote", k=self.k, items=", ".join(hidden)) if hidden else "")
        bal = self.t["balance"]
        save("love_plot", fg.love_plot(bal, {c: lb.covariate(c) for c in bal["covariate"]},
                                       self.smd_threshold(), cat("figures.love_title"),
                                       cat("figures.before"), cat("figures.after"), cat("figures.love_axis"), fmt=f),
             cat("figures.love_title"))
        ov = self.t.get("overlap")
        if ov is not None and len(ov):
            hidden_bins = int(sum(is_suppressed(v) for v in ov["n"]))
            save("overlap", fg.overlap_bins(ov, {g: lb.group(g) for g in ov["group"].unique()}, cat("figures.overlap_title"),
                                            cat("figures.overlap_axis"), cat("figures.overlap_share"), fmt=f),
                 cat("figures.overlap_title"),
                 cat("figures.suppressed_footnote", k=self.k, items=f.int(hidden_bins)) if hidden_bins else "")
        it = self.t.get("progression_items")
        if it is not None:
            allg = it[it["group"].astype(str) == "all"]
            legend = (cat("figures.down"), cat("figures.same"), cat("figures.up"))
            items = {i: lb.item(i) for i in allg["item"]}
            for key, prefix, title in (("bip_items", "bip", "figures.bip_title"), ("who5_items", "who5", "figures.who5_items_title")):
                sub = allg[allg["item"].str.startswith(prefix)]
                hidden = [lb.item(i) for i, s in zip(sub["item"], sub["share_up"]) if _num(s) is None]
                save(key, fg.diverging_bars(sub, items, cat(title), legend, "%", fmt=f), cat(title),
                     cat("figures.suppressed_footnote", k=self.k, items=", ".join(hidden)) if hidden else "")
        w5 = self.t.get("who5")
        if w5 is not None:
            save("who5_means", fg.means_plot(w5.assign(group=w5["group"].map(lb.group)), cat("figures.who5_means_title"),
                                             cat("figures.start"), cat("figures.end"), cat("figures.who5_score"),
                                             reference=_num(w5["population_mean"].iloc[0]) if "population_mean" in w5 else None,
                                             reference_label=cat("figures.population_mean"), fmt=f),
                 cat("figures.who5_means_title"))
        b = self.t.get("who5_bands")
        if b is not None:
            m = b.set_index(b.columns[0])
            save("who5_bands", fg.heatmap(m, cat("figures.who5_bands_title"), cat("figures.end"), cat("figures.start")),
                 cat("figures.who5_bands_title"))
        sens = self.t.get("econ_sensitivity")
        if sens is not None and len(sens):
            from sibeval.report.figures import tornado
            base = _num(self.t["econ_account"].set_index("item")["value"]["municipality_account"])
            save("tornado", tornado(sens.assign(**{c: pd.to_numeric(sens[c]) for c in sens.columns if c != "parameter"}),
                                    base, {p: cat.get(f"economics.parameters.{p}", p) for p in sens["parameter"]},
                                    xlabel=cat("economics.tornado_axis"), title=cat("economics.tornado_title"),
                                    low_label=cat("economics.low"), high_label=cat("economics.high"), fmt=f),
                 cat("economics.tornado_caption"))
        return figs

    # ---------- assemble ----------
    def context(self, figures: dict, provenance: dict) -> dict:
        cat = self.cat
        fig = figures.get
        sections = []
        flow = self.flow_table()
        sections.append(flow)
        prof = self.profile_table()
        missed, balance_text = self.balance_check()
        if prof is not None:
            prof.figures = [x for x in (fig("love_plot"), fig("overlap")) if x]
            sections.append(prof)
        else:
            sections.append(Table("profile", cat("note.profile"), [], [], "", [x for x in (fig("love_plot"), fig("overlap")) if x]))
        t1 = self.table1()
        t1.figures = [x for x in (fig("table1_shares"),) if x]
        sections.append(t1)
        eff = self.effects_table(self.t["effects"], "effects", cat("note.effects"), cat("note.effects_note"))
        eff.figures = [x for x in (fig("effects"),) if x]
        sections.append(eff)
        sections.append(self.hours_wage())
        sg = self.t.get("subgroups")
        if sg is not None and len(sg):
            sections.append(self.effects_table(sg, "subgroups", cat("note.subgroups")))
        pl = self.t.get("placebo")
        if pl is not None and len(pl):
            months = int(_num(pl["months_before_index"].iloc[0]))
            sections.append(self.effects_table(pl, "placebo", cat("note.placebo"), cat("note.placebo_note", months=months)))
        sens = self.generic("sensitivity", cat("note.sensitivity"))
        if sens is not None:
            sections.append(sens)
        sections.append(self.diagnostics())
        prog = self.progression_tables()
        if prog:
            prog[0].figures = []
            prog[-1].figures = [fig(k) for k in ("bip_items", "who5_items", "who5_means", "who5_bands") if fig(k)]
        econ = self.economics()
        if econ:
            econ["tables"][-1].figures = [x for x in (fig("tornado"),) if x]
        figno = 0
        for s in sections + prog + (econ["tables"] if econ else []):
            for x in s.figures:
                figno += 1
                x.number = figno
        return {
            "lang": self.lang, "cat": cat, "title": self.c["title"], "version": __version__,
            "provenance": provenance, "headlines": self.headlines(), "legend": self.legend(),
            "aids": self.reading_aids(), "balance_missed": missed, "balance_text": balance_text,
            "method": self.method(), "covariates": self.covariates(), "sections": sections,
            "progression": prog, "economics": econ, "caveats": self.caveats(), "k": self.k,
            "n_participants": self.f.int(self.n_participants()),
        }


def environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                              trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
                              undefined=jinja2.StrictUndefined)


def render_note(tables: dict, cohort: dict, labels: dict, provenance: dict, fig_dir) -> str:
    """The effect note (one self-contained HTML file); figures are drawn into `fig_dir`."""
    b = NoteBuilder(tables, cohort, labels)
    figs = b.figures(fig_dir)
    return environment().get_template("note.html.j2").render(**b.context(figs, provenance))


def cohort_summary(tables: dict, cohort: dict, labels: dict) -> dict:
    """One row of results/index.html (numbers only; wording is added when rendering)."""
    b = NoteBuilder(tables, cohort, labels)
    heads = {}
    for h in HEADLINES:
        if h not in b.eff.index:
            continue
        r = b.eff.loc[h]
        hidden = _true(r.get("suppressed")) or _num(r["estimate"]) is None
        heads[h] = None if hidden else {k: _num(r[k]) for k in ("share_participants", "share_controls", "estimate", "ci_low", "ci_high")} | {"significant": _true(r["significant"])}
    return {"name": cohort["name"], "title": cohort["title"], "follow_up": cohort["follow_up_months"],
            "n_participants": b.n_participants(), "effects": heads}


def render_index(summaries: list[dict], lang: str, labels: dict, note_links: dict) -> str:
    """results/index.html over the cohorts' summaries, in `lang`."""
    cat, f, lb = Catalogue(lang), Formatter(lang), Labels(labels, lang)
    rows = []
    for s in summaries:
        cells = []
        for h in HEADLINES:
            e = s["effects"].get(h)
            if not e:
                cells.append(None)
                continue
            cells.append({"shares": f"{f.pct(e['share_participants'])} vs {f.pct(e['share_controls'])}",
                          "diff": f"{f.pp(e['estimate'], 0, signed=True)} pp ({f.pp(e['ci_low'], 0)} {cat('common.to')} {f.pp(e['ci_high'], 0)})",
                          "sig": cat("index.significant" if e["significant"] else "index.not_significant")})
        rows.append({"title": s["title"], "name": s["name"], "link": note_links[s["name"]],
                     "n": f.int(s["n_participants"]), "follow_up": cat("index.follow_up", months=s["follow_up"]),
                     "cells": cells})
    months = sorted({s["follow_up"] for s in summaries})
    months_text = cat("index.follow_up", months=months[0]) if len(months) == 1 else cat("index.varies")
    return environment().get_template("index.html.j2").render(
        lang=lang, cat=cat, rows=rows, heads=[lb.status(h) for h in HEADLINES],
        legend=cat("index.legend", months_text=months_text), version=__version__, date=run_date())
