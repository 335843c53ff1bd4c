"""Cohort files: start-up validation, running one cohort, adding a cohort by copying a file
(dry runs of Snakemake; the whole run is in test_workflow.py)."""

import re
import subprocess
import sys

import pytest

from conftest import copy_workflow


@pytest.fixture
def wd(tmp_path):
    return copy_workflow(tmp_path)


def dry(wd, *args):
    return subprocess.run([sys.executable, "-m", "snakemake", "-n", "--cores", "1", "--directory", str(wd),
                           "--snakefile", str(wd / "Snakefile"), *args], capture_output=True, text=True, timeout=300)


def test_every_listed_cohort_is_planned(wd):
    r = dry(wd)
    assert r.returncode == 0, r.stderr[-2000:]
    for c in ("sib_herning_viborg", "kolding_ny_start", "viborg_unge"):
        assert f"results/{c}/report/effect_note.html" in r.stdout
    assert "results/index.html" in r.stdout


def test_one_cohort_with_config_override(wd):
    r = dry(wd, "--config", "cohorts=[viborg_unge]")
    assert r.returncode == 0, r.stderr[-2000:]
    assert "results/viborg_unge/report/effect_note.html" in r.stdout
    assert "sib_herning_viborg" not in r.stdout and "kolding_ny_start" not in r.stdout


def test_a_mistake_in_a_cohort_file_fails_at_start_up_naming_file_and_key(wd):
    f = wd / "config" / "cohorts" / "kolding_ny_start.yaml"
    f.write_text(f.read_text().replace("  ratio: 5", "  ratoi: 5"))
    r = dry(wd)
    assert r.returncode != 0
    msg = r.stdout + r.stderr
    assert "config/cohorts/kolding_ny_start.yaml" in msg and "matching.ratoi" in msg
    assert "Traceback" not in msg


def test_unknown_cohort_and_unknown_extract_are_named(wd):
    r = dry(wd, "--config", "cohorts=[nope]")
    assert r.returncode != 0 and "'nope' has no file" in r.stdout + r.stderr
    f = wd / "config" / "cohorts" / "viborg_unge.yaml"
    f.write_text(f.read_text().replace("extract: demo_unge", "extract: demo_missing"))
    r = dry(wd, "--config", "cohorts=[viborg_unge]")
    assert r.returncode != 0 and "demo_missing" in r.stdout + r.stderr


def test_a_fourth_cohort_is_a_copy_of_one_file(wd):
    src = wd / "config" / "cohorts" / "sib_herning_viborg.yaml"
    (wd / "config" / "cohorts" / "sib_english.yaml").write_text(
        src.read_text().replace("language: da", "language: en"))
    r = dry(wd, "--config", "cohorts=[sib_herning_viborg,sib_english]")
    assert r.returncode == 0, r.stderr[-2000:]
    assert "results/sib_english/report/effect_note.html" in r.stdout


def test_two_cohorts_on_one_extract_share_one_normalised_extract_and_panel(wd):
    src = wd / "config" / "cohorts" / "sib_herning_viborg.yaml"
    (wd / "config" / "cohorts" / "sib_english.yaml").write_text(
        src.read_text().replace("language: da", "language: en"))
    r = dry(wd, "--config", "cohorts=[sib_herning_viborg,sib_english]")
    assert r.returncode == 0, r.stderr[-2000:]
    stats = r.stdout.split("Job stats:")[1]
    counts = {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)\s*$", stats, re.M)}
    assert counts["normalise_extract"] == 1 and counts["build_panel"] == 1 and "split_registers" not in counts
    assert counts["build_candidates"] == 2 and counts["report"] == 2
    assert r.stdout.count("output: results/extracts/interim/demo/panel.parquet") == 1


def test_column_renames_move_to_the_extract_and_the_cohort_place_warns(wd):
    cfg = wd / "config" / "config.yaml"
    cfg.write_text(cfg.read_text().replace(
        "    path: data/raw/demo_unge\n", "    path: data/raw/demo_unge\n    columns: {bef: {KOM_KODE: kom}}\n"))
    r = dry(wd, "--config", "cohorts=[viborg_unge]")
    assert r.returncode == 0, r.stderr[-2000:]
    assert "deprecated" not in r.stdout + r.stderr
    f = wd / "config" / "cohorts" / "viborg_unge.yaml"
    f.write_text(f.read_text() + "columns: {eindkomst: {LOENBELOB: loen}}\n")
    r = dry(wd, "--config", "cohorts=[viborg_unge]")
    assert r.returncode == 0, r.stderr[-2000:]
    assert "config/cohorts/viborg_unge.yaml: `columns:` in a cohort file is deprecated" in r.stdout + r.stderr
    f.write_text(f.read_text().replace("LOENBELOB: loen", "KOM_KODE: kommune").replace("eindkomst", "bef"))
    r = dry(wd, "--config", "cohorts=[viborg_unge]")
    assert r.returncode != 0 and "columns.bef.KOM_KODE" in r.stdout + r.stderr


def test_a_cohort_nested_in_another_on_the_same_extract_is_refused(wd):
    """Herning + Viborg minus Herning would be Viborg's tables, which neither cohort's own
    protection covers: the overlapping cohort file stops the run at start, even when only the
    other cohort runs (releases of earlier runs meet too)."""
    sib = (wd / "config" / "cohorts" / "sib_herning_viborg.yaml").read_text(encoding="utf-8")
    (wd / "config" / "cohorts" / "sib_herning.yaml").write_text(
        sib.replace("municipalities: [657, 791]", "municipalities: [657]"), encoding="utf-8")
    r = dry(wd, "--config", "cohorts=[sib_herning_viborg]")
    out = r.stdout + r.stderr
    assert r.returncode != 0
    assert "'sib_herning' (municipalities 657) and 'sib_herning_viborg' (municipalities 657, 791)" in out
    assert "Publish one of them" in out and "Traceback" not in out


def test_cohorts_with_the_same_or_disjoint_municipalities_may_share_an_extract():
    from sibeval.config import overlapping_cohorts
    base = {"extract": "demo", "participants_file": "participants.csv"}
    assert not overlapping_cohorts({"a": {**base, "municipalities": [657, 791]},
                                    "b": {**base, "municipalities": [791, 657]},     # same persons
                                    "c": {"extract": "other", "municipalities": [657]}})
    assert not overlapping_cohorts({"h": {**base, "municipalities": [657]}, "v": {**base, "municipalities": [791]}})
    assert len(overlapping_cohorts({"all": {**base, "municipalities": []},
                                    "h": {**base, "municipalities": [657]}})) == 1
