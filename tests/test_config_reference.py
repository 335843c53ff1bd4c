"""config/README.md is the settings reference generated from the workflow's schemas: it is
current, and it names every setting the schemas define."""

from pathlib import Path

from sibeval.config import config_readme, load_yaml

ROOT = Path(__file__).resolve().parents[1]


def test_config_readme_is_generated_from_the_current_schemas():
    expected = config_readme(ROOT / "workflow" / "schemas")
    assert (ROOT / "config" / "README.md").read_text(encoding="utf-8") == expected, \
        "config/README.md is out of date: run `sibeval config-docs`"


def test_every_cohort_setting_is_described():
    def walk(s, prefix=""):
        for k, v in (s.get("properties") or {}).items():
            yield f"{prefix}{k}", v
            yield from walk(v, f"{prefix}{k}.")
    schema = load_yaml(ROOT / "workflow" / "schemas" / "cohort.schema.yaml")
    undescribed = [k for k, v in walk(schema) if not v.get("description")]
    assert not undescribed, undescribed
    text = config_readme(ROOT / "workflow" / "schemas")
    assert all(f"`{k}`" in text for k, _ in walk(schema))
