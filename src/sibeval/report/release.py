"""The release manifest: every file that may leave the research environment, with its size
and sha256, for the output checker to sign off. Everything listed was built from the
published tables after disclosure control (or is the disclosure audit itself); what is not
listed (interim/ with the logs, report/summary.json) stays with the evaluator."""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

# what a released file is, by the folder it sits in
KINDS = {"published": "published table", "qc": "quality control (small counts hidden)",
         "disclosure": "disclosure audit"}


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


COLUMNS = ("file", "kind", "bytes", "sha256")


@dataclass(frozen=True)
class Manifest:
    """The release manifest: one (file, kind, bytes, sha256) row per file, sorted by path."""

    rows: tuple[tuple[str, str, int, str], ...]

    @property
    def bytes(self) -> int:
        return sum(r[2] for r in self.rows)

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame(list(self.rows), columns=list(COLUMNS))

    def to_csv(self) -> str:
        """The CSV text, as ``to_frame().to_csv(index=False, lineterminator="\\n")`` writes it
        (the release job needs no pandas: it is the run's last step)."""
        out = io.StringIO()
        w = csv.writer(out, lineterminator="\n")
        w.writerow(COLUMNS)
        w.writerows(self.rows)
        return out.getvalue()


def manifest(files, root: str | Path = ".") -> Manifest:
    """One row per file (directories expanded, sorted by path): file, kind, bytes, sha256."""
    root = Path(root)
    paths = []
    for f in files:
        p = Path(f)
        # a folder's files, without Snakemake's bookkeeping (.snakemake_timestamp)
        paths += sorted(x for x in p.rglob("*") if x.is_file() and not x.name.startswith(".")) if p.is_dir() else [p]
    rows = []
    for p in sorted(set(paths), key=lambda x: x.as_posix()):
        rel = p.relative_to(root) if p.is_absolute() else p
        folder = rel.parts[2] if len(rel.parts) > 3 and rel.parts[0] == "results" else ""
        kind = KINDS.get(folder, "index of cohorts")
        if folder == "report":
            kind = {".html": "effect note", ".xlsx": "workbook of the published tables"}.get(p.suffix, "figure")
        elif folder == "economics":
            kind = {".xlsx": "payment workbook", ".csv": "payment model table"}.get(p.suffix, "payment model figure")
        elif p.name == "checksums.csv":
            kind = "provenance: sha256 of the raw files"
        rows.append((rel.as_posix(), kind, p.stat().st_size, _sha256(p)))
    return Manifest(tuple(rows))
