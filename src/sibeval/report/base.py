"""What every part of the note shares: the published tables read as given (markers stay text),
the labels of codes, the note's table and figure elements, and `NoteBase`: the cohort's
settings, catalogue, formatter and the counts every section uses (one source: the effects
table)."""

from __future__ import annotations

import base64
import datetime as dt
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import jinja2

from sibeval.errors import SibevalError
from sibeval.outcomes.definitions import lasting_definitions
from sibeval.outcomes.names import HEADLINE_ORDER
from sibeval.publish.cells import as_number, is_suppressed
from sibeval.report.catalogue import Catalogue
from sibeval.report.formatting import Formatter

if TYPE_CHECKING:      # pandas is imported where tables are read: the index page needs none (0.4 s)
    import pandas as pd

REQUIRED = ("flow", "table1", "effects", "diagnostics", "balance", "match_summary", "design")
TEMPLATES = Path(__file__).with_name("templates")


def load_tables(paths: dict) -> dict[str, pd.DataFrame]:
    """Read published tables {name: csv path}; text stays text (a suppressed cell such as
    "<5" in a numeric column is kept as given)."""
    import pandas as pd

    out = {}
    for name, path in paths.items():
        if isinstance(path, (list, tuple)):
            continue
        out[name] = pd.read_csv(path, keep_default_na=False, na_values=[""])
    missing = [n for n in REQUIRED if n not in out]
    if missing:
        raise SibevalError(f"published tables missing: {', '.join(missing)} (expected as <name>.csv beside "
                           f"{', '.join(sorted(out))[:200]}); rerun the publish rule of this cohort")
    return out


def provenance(cohort: dict, params: dict, checksums: pd.DataFrame, version: str) -> dict:
    """What the note's provenance table lists: cohort, files, settings hash, version, date,
    the suppression threshold and the raw files' checksums (`checksums.csv`: file, sha256)."""
    out = {"cohort": f"{cohort['title']} ({cohort['name']})", "cohort_file": cohort["source"],
           "extract": params["extract_dir"], "config_hash": params["config_hash"], "sibeval_version": version,
           "run_date": run_date(), "suppression": cohort["disclosure"]["min_cell"]}
    return out | {f"sha256:{f}": h for f, h in zip(checksums["file"], checksums["sha256"])}


def run_date() -> str:
    """Today, or SOURCE_DATE_EPOCH when set (reproducible builds)."""
    return run_time().date().isoformat()


def document_time() -> dt.datetime:
    """The workbook's document date: SOURCE_DATE_EPOCH when set, else a fixed date, so that the
    same published tables give the same bytes on any day (the run's date is on the provenance
    sheet and in the note)."""
    return run_time() if os.environ.get("SOURCE_DATE_EPOCH") else dt.datetime(2000, 1, 1)


def run_time() -> dt.datetime:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    d = dt.datetime.fromtimestamp(int(epoch), dt.UTC) if epoch else dt.datetime.now(dt.UTC)
    return d.replace(tzinfo=None, microsecond=0)


def cohort_labels(labels: dict, cohort: dict) -> dict:
    """The labels with the cohort's lasting outcomes (cohort file `outcomes:`) named in every
    language from the catalogues' wording."""
    lasting = lasting_definitions(cohort.get("outcomes"))
    if not lasting:
        return labels
    status = dict(labels.get("status", {}))
    langs = sorted({lang for entry in status.values() for lang in entry})
    for d in lasting:
        status[d.name] = {lang: Catalogue(lang)("values.lasting", status=status.get(d.status, {}).get(lang, d.status),
                                                at_least=d.at_least, months=d.months, first=d.first, last=d.last)
                          for lang in langs}
    return {**labels, "status": status}


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
        if s in self.labels.get("municipalities", {}) or (
            s.endswith(".0") and s[:-2] in self.labels.get("municipalities", {})
        ):
            return self.get("municipalities", s[:-2] if s.endswith(".0") else s)
        return self.get("groups", s)


@dataclass
class Table:
    key: str
    title: str
    header: list
    rows: list
    note: str = ""
    figures: list = field(default_factory=list)
    intro: str = ""

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


def is_true(v) -> bool:
    """A published boolean (read back from CSV as text or bool)."""
    return str(v) == "True"


class NoteBase:
    """The published tables of one cohort with the cohort's settings, wording and number format."""

    def __init__(self, tables: dict, cohort: dict, labels: dict, lang: str | None = None):
        self.t = tables
        self.c = cohort
        self.lang = lang or cohort.get("language", "da")
        self.cat = Catalogue(self.lang)
        self.f = Formatter(self.lang)
        self.lb = Labels(cohort_labels(labels, cohort), self.lang)
        self.k = cohort["disclosure"]["min_cell"]
        self.lasting = tuple(d.name for d in lasting_definitions(cohort.get("outcomes")))
        self.alpha = cohort["effects"]["alpha"]
        self.eff = tables["effects"].set_index("outcome", drop=False)
        # the match's design record: the settings as the match applied them
        d = tables["design"]
        self.design = dict(zip(d["setting"], d["value"].fillna("").astype(str)))

    @staticmethod
    def share_digits(n, digits: int = 1) -> int:
        """Decimals of a share: whole percent over a hidden group size (it is printed to that
        step), else `digits`."""
        return 0 if is_suppressed(n) else digits

    @staticmethod
    def hiding_marker(row) -> str:
        """The marker ("x", "<5") of the count that hides a row's derived numbers: an outcome
        count first (x_*, n_up/same/down), then a group size (n_*); a dash if none is hidden."""
        cols = [c for c in row.index if c.startswith("x_") or c in ("n_up", "n_same", "n_down")]
        cols += [c for c in row.index if c.startswith("n_") and c not in cols]
        return next((str(row[c]).strip() for c in cols if is_suppressed(row[c])), "–")

    # ---------- counts used everywhere (one source: the effects table) ----------
    def n_participants(self) -> int | str:
        for h in HEADLINE_ORDER:
            if h in self.eff.index and as_number(self.eff.loc[h, "n_participants"]) is not None:
                return int(as_number(self.eff.loc[h, "n_participants"]))
        v = self.eff["n_participants"].iloc[0]
        return int(as_number(v)) if as_number(v) is not None else str(v)  # hidden: its marker

    def n_controls(self) -> int | str:
        for h in HEADLINE_ORDER:
            if h in self.eff.index and as_number(self.eff.loc[h, "n_controls"]) is not None:
                return int(as_number(self.eff.loc[h, "n_controls"]))
        v = self.eff["n_controls"].iloc[0]
        return int(as_number(v)) if as_number(v) is not None else str(v)

    def n_controls_text(self) -> str:
        """The number of controls for running text: the count, or words saying it is hidden."""
        n = self.n_controls()
        return self.f.int(n) if as_number(n) is not None else self.cat("common.hidden_number", marker=n)

    def n_eff_controls(self) -> float | None:
        if "n_eff_controls" in self.eff:
            for h in HEADLINE_ORDER:
                if h in self.eff.index and as_number(self.eff.loc[h, "n_eff_controls"]) is not None:
                    return as_number(self.eff.loc[h, "n_eff_controls"])
        ms = self.t["match_summary"].set_index("sample")
        return as_number(ms.loc["matched_ess", "control"]) if "matched_ess" in ms.index else None

    def test_name(self) -> str:
        return self.lb.get("methods", self.c["effects"]["primary_test"])

    def alpha_text(self) -> str:
        return self.f.pct(self.alpha, 0 if round(100 * self.alpha, 6).is_integer() else 1)


def environment() -> jinja2.Environment:
    """The Jinja2 environment of the note's and the index's templates."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
