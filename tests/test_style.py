"""The code style the README promises: ruff (line length 120 included) and Snakemake's linter
are clean, and every match-summary row code has a label in both languages."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sibeval.config import load_yaml
from sibeval.design.summary import ROWS

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(shutil.which("ruff") is None, reason="ruff not installed (pip install -e '.[test]')")
def test_ruff_is_clean():
    r = subprocess.run(["ruff", "check", "src", "tests", "workflow/scripts", "bench"], cwd=ROOT,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-3000:]


def test_snakemake_lint_is_clean():
    r = subprocess.run([sys.executable, "-m", "snakemake", "--lint"], cwd=ROOT, capture_output=True, text=True,
                       timeout=300)
    assert "Lints for" not in r.stdout + r.stderr, (r.stdout + r.stderr)[-3000:]


def test_every_match_summary_row_has_a_label_in_both_languages():
    samples = load_yaml(ROOT / "config" / "labels.yaml")["samples"]
    assert set(samples) == set(ROWS)
    assert all(set(v) >= {"da", "en"} for v in samples.values())
