"""The small test configuration (.test/, as in the Snakemake workflow catalogue) runs every
demo cohort end to end on 2,000- to 10,000-person extracts, and a rerun of the publication
boundary and the reports is byte-identical."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import copy_workflow

pytestmark = pytest.mark.workflow
ROOT = Path(__file__).resolve().parents[1]


def _tree(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and "interim" not in p.parts}


def test_the_small_configuration_publishes_every_cohort_reproducibly(tmp_path):
    copy_workflow(tmp_path)
    shutil.copytree(ROOT / ".test" / "config", tmp_path / ".test" / "config")
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1700000000"}
    cmd = [sys.executable, "-m", "snakemake", "--cores", "2", "--directory", ".test"]
    r = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    res = tmp_path / ".test" / "results"
    for cohort in ("sib_herning_viborg", "kolding_ny_start", "viborg_unge"):
        assert (res / cohort / "report" / "effect_note.html").stat().st_size > 10_000
        assert "Every small cell protected: yes" in (res / cohort / "disclosure" / "audit_summary.txt").read_text()
    first = _tree(res)
    kept = {k: (res / k).read_bytes() for k in first if k.endswith(".html")}
    # the publication boundary and everything after it again (the demo's full rerun from the raw
    # files is tests/test_workflow.py::test_rerun_is_byte_identical_and_raw_untouched)
    r = subprocess.run([*cmd, "--forcerun", "publish", "publish_qc_extract_summary", "publish_qc_eligibility_funnel"],
                       cwd=tmp_path, env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    second = _tree(res)
    changed = sorted(k for k in first if first[k] != second.get(k))
    if changed and changed[0] in kept:
        import difflib
        a, b = kept[changed[0]].decode().splitlines(), (res / changed[0]).read_text().splitlines()
        print("\n".join(list(difflib.unified_diff(a, b, lineterm="", n=0))[:20]))
    assert not changed, changed
