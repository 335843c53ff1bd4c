"""Helpers for the workflow scripts (duck-typed on Snakemake's `snakemake` object; the
library itself never imports Snakemake)."""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

from .errors import SibevalError

log = logging.getLogger("sibeval")


def run(smk, main) -> None:
    """Send logging to smk.log[0], run main(smk) and turn expected errors into one clear
    message (no deep traceback) and a non-zero exit."""
    handlers = [logging.StreamHandler(sys.stderr)]
    if getattr(smk, "log", None):
        Path(smk.log[0]).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(smk.log[0], mode="w", encoding="utf-8"))
    logging.basicConfig(level=logging.WARNING, handlers=handlers, force=True,
                        format="%(asctime)s %(levelname)s [%(name)s] %(message)s")
    log.setLevel(logging.INFO)   # our messages; libraries stay at WARNING
    try:
        main(smk)
    except SibevalError as exc:
        log.error("%s", exc)
        sys.exit(1)


@contextmanager
def atomic_path(path):
    """Yield a temporary path next to `path`; rename it into place only on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
    os.close(fd)
    try:
        yield tmp
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the usual permissions
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def write_csv(df, path, **kw):
    """CSV written atomically with fixed formatting (byte-identical for equal inputs)."""
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=False, lineterminator="\n", float_format="%.10g", **kw)


def write_parquet(df, path):
    with atomic_path(path) as tmp:
        df.to_parquet(tmp, index=False)


def context(smk):
    """What every workflow script starts from: the settings its rule passes (`params.run`:
    only those the rule uses), the code table and the extract.

    The extract is the normalised one under results/extracts/<extract>/ (register files as
    typed Parquet; the cohort's participant list and questionnaires from the raw folder),
    or the raw folder for the rule that normalises it.
    """
    from types import SimpleNamespace

    from .codes import CodeTable
    from .normalise import NormalisedExtract
    from .registers import Extract

    p = smk.params.run
    c = p.get("cohort", {})
    e = p.get("extract")
    extract = None
    if e is not None:
        if e.get("raw"):
            extract = Extract(e["path"], e["columns"])
        else:
            extract = NormalisedExtract(e["normalised"], e["path"], e["columns"], e.get("files"))
    return SimpleNamespace(
        params=p, cohort=c, lang=c.get("language"), min_cell=c.get("disclosure", {}).get("min_cell"),
        codes=CodeTable.from_config(p["dream_codes"]) if "dream_codes" in p else None,
        labels=p.get("labels"), extract=extract,
    )
