"""The release manifest: every file that may leave the research environment, with its size
and sha256, for the output checker to sign off. Everything listed was built from the
published tables after disclosure control (or is the disclosure audit itself); what is not
listed (interim/ with the logs, report/summary.json) stays with the evaluator."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

# what a released file is, by the folder it sits in
KINDS = {"published": "published table", "qc": "quality control (small counts hidden)",
         "disclosure": "disclosure audit"}


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def manifest(files, root: str | Path = ".") -> pd.DataFrame:
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
        rows.append({"file": rel.as_posix(), "kind": kind,
                     "bytes": p.stat().st_size, "sha256": _sha256(p)})
    return pd.DataFrame(rows, columns=["file", "kind", "bytes", "sha256"])
