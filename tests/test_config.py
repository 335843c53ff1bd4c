"""Config and cohort files against their JSON schemas."""

from pathlib import Path

import pytest

from sibeval.config import load_validated, load_yaml, validate
from sibeval.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "workflow" / "schemas" / "cohort.schema.yaml"


def test_shipped_cohort_validates_with_defaults():
    c = load_validated(ROOT / "config" / "cohorts" / "sib_herning_viborg.yaml", SCHEMA)
    assert c["matching"]["ratio"] == 10 and c["matching"]["m_order"] == "largest"
    assert c["disclosure"]["min_cell"] == 5 and c["progression"]["bip_target"] == 0.75


def test_typo_names_the_file_and_the_key(tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text("title: x\nextract: demo\nmatching:\n  ratoi: 5\n")
    with pytest.raises(ConfigError) as e:
        load_validated(f, SCHEMA)
    assert str(f) in str(e.value) and "matching.ratoi" in str(e.value) and "ratio" in str(e.value)


def test_wrong_value_names_the_key(tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text("title: x\nextract: demo\nlanguage: de\n")
    with pytest.raises(ConfigError, match="language"):
        load_validated(f, SCHEMA)


def test_top_level_config():
    schema = load_yaml(ROOT / "workflow" / "schemas" / "config.schema.yaml")
    cfg = validate(load_yaml(ROOT / "config" / "config.yaml"), schema, "config.yaml")
    assert cfg["dream_codes"] == "config/dream_codes.yaml"
    with pytest.raises(ConfigError, match="cohort"):
        validate({"cohortz": [], "extracts": {}}, schema, "config.yaml")


def test_the_fast_yaml_parser_reads_every_shipped_file_as_the_python_one():
    """load_yaml and the catalogues use libyaml's parser: the same values as PyYAML's own."""
    import yaml

    from sibeval.config import FAST_LOADER

    root = Path(__file__).resolve().parents[1]
    files = [*root.glob("config/**/*.yaml"), *root.glob("workflow/schemas/*.yaml"),
             *root.glob("src/sibeval/report/locale/*.yaml"), *root.glob("workflow/profiles/*/*.yaml")]
    assert len(files) >= 8
    for f in files:
        text = f.read_text(encoding="utf-8")
        assert yaml.load(text, Loader=FAST_LOADER) == yaml.safe_load(text), f


def test_invalid_yaml_is_reported_with_the_line_and_column(tmp_path):
    bad = tmp_path / "cohort.yaml"
    bad.write_text("title: x\neligibility:\n  sex: [M, F\n  age_min: 30\n", encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_yaml(bad)
    msg = str(e.value)
    assert str(bad) in msg and "not valid YAML" in msg and "line 4" in msg and "^" in msg
