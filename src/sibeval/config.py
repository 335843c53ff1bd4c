"""Load and validate the workflow config and cohort files against JSON schemas."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import jsonschema
import yaml

from sibeval.errors import ConfigError


def _with_defaults(validator_cls):
    """A validator that fills in `default`s for missing properties, depth first."""
    validate_props = validator_cls.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for key, sub in properties.items():
                if "default" in sub and key not in instance:
                    instance[key] = json.loads(json.dumps(sub["default"]))
        yield from validate_props(validator, properties, instance, schema)

    return jsonschema.validators.extend(validator_cls, {"properties": set_defaults})


_Validator = _with_defaults(jsonschema.Draft202012Validator)


def validate(data: dict, schema: dict, source: str) -> dict:
    """Validate `data` (filled with defaults, in place) and raise one clear ConfigError."""
    errors = sorted(_Validator(schema).iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        lines = []
        for err in errors:
            key = ".".join(str(p) for p in err.absolute_path) or "(top level)"
            if err.validator == "additionalProperties":
                allowed = sorted(err.schema.get("properties", {}))
                extra = sorted(set(err.instance) - set(allowed))
                where = f"{key}." if err.absolute_path else ""
                lines.append(
                    f"unknown key(s) {', '.join(where + e for e in extra)}; allowed: {', '.join(allowed)}"
                )
            elif err.validator == "required":
                lines.append(f"{key}: {err.message}")
            else:
                lines.append(f"{key}: {err.message}")
        raise ConfigError(f"{source}: " + "; ".join(lines))
    return data


# libyaml's parser where PyYAML has it (the same values, about 10 times as fast: every rule's
# Snakemake start reads the schemas and cohort files; tests/test_config.py compares the two)
FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(path: str | Path) -> dict:
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"{path}: file not found")
    text = path.read_text(encoding="utf-8")
    try:
        data = yaml.load(text, Loader=FAST_LOADER)
    except yaml.YAMLError:
        try:        # the pure-Python parser's message quotes the line and marks the column
            yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: not valid YAML: {exc}") from None
        raise ConfigError(f"{path}: not valid YAML (libyaml's parser rejects what PyYAML's accepts: "
                          "please report it)") from None
    return data if data is not None else {}


def load_validated(path: str | Path, schema_path: str | Path) -> dict:
    """Read a YAML file and validate it against a YAML JSON schema, filling defaults."""
    return validate(load_yaml(path), load_yaml(schema_path), str(path))


def overridden(base: dict, over: dict) -> dict:
    """`base` with `over` applied: a non-empty mapping is merged key by key, anything else
    (a list, a number, an empty mapping) replaces the value."""
    out = dict(base)
    for k, v in over.items():
        out[k] = overridden(out[k], v) if isinstance(v, dict) and v and isinstance(out.get(k), dict) else v
    return out


def config_hash(obj) -> str:
    """Stable short hash of a (validated) config, for provenance."""
    blob = json.dumps(obj, sort_keys=True, ensure_ascii=False, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def schema_reference(schema: dict, title: str, intro: str = "") -> str:
    """A Markdown reference of a JSON schema: one row per setting (dotted key), with its
    type or allowed values, default and description."""
    rows = []

    def walk(s: dict, prefix: str) -> None:
        required = set(s.get("required", ()))
        for key, sub in (s.get("properties") or {}).items():
            name = f"{prefix}{key}"
            rows.append((name, _kind(sub), "(required)" if key in required else _default(sub),
                         " ".join(str(sub.get("description", "")).split())))
            if "properties" in sub:
                walk(sub, name + ".")
            elif isinstance(sub.get("additionalProperties"), dict) and "properties" in sub["additionalProperties"]:
                walk(sub["additionalProperties"], name + ".<name>.")
    walk(schema, "")
    esc = lambda v: str(v).replace("|", "\\|")  # noqa: E731
    lines = [f"# {title}", "", *([intro, ""] if intro else []),
             "| setting | type / allowed | default | what it does |", "|---|---|---|---|"]
    lines += [f"| `{n}` | {esc(k)} | {esc(d)} | {esc(w)} |" for n, k, d, w in rows]
    return "\n".join(lines) + "\n"


def _kind(s: dict) -> str:
    if "enum" in s:
        return " / ".join(f"`{json.dumps(v)}`" for v in s["enum"])
    if "oneOf" in s:
        return " or ".join(_kind(o) for o in s["oneOf"])
    if "const" in s:
        return f"`{json.dumps(s['const'])}`"
    t = s.get("type", "")
    t = " or ".join(t) if isinstance(t, list) else t
    if t == "array" and "items" in s:
        return f"list of {_kind(s['items'])}"
    bounds = [f"{op} {s[k]}" for k, op in (("minimum", "≥"), ("exclusiveMinimum", ">"), ("maximum", "≤")) if k in s]
    return t + (f" ({', '.join(bounds)})" if bounds else "")


def _default(s: dict) -> str:
    if "default" not in s or s["default"] == {} and "properties" in s:
        return ""
    return f"`{json.dumps(s['default'], ensure_ascii=False)}`"


def config_readme(schemas: str | Path) -> str:
    """config/README.md: the reference of config.yaml and of a cohort file, from the schemas'
    descriptions (regenerate with `sibeval config-docs`; a test checks it is current)."""
    schemas = Path(schemas)
    top = schema_reference(
        load_yaml(schemas / "config.schema.yaml"), "Settings reference",
        "Generated from `workflow/schemas/` by `sibeval config-docs`; do not edit by hand.\n\n"
        "## config/config.yaml\n\nWhich cohorts run and where their extracts are. Override one setting "
        "for a run with `snakemake --config key=value`.")
    cohort = schema_reference(
        load_yaml(schemas / "cohort.schema.yaml"), "",
        "One file per cohort (`config/cohorts/<name>.yaml`); every setting not given takes its default. "
        "`cohort_overrides:` in config.yaml replaces settings without editing the file.")
    return top + "\n" + cohort.replace("# \n", "## config/cohorts/<name>.yaml\n", 1)


def overlapping_cohorts(cohorts: dict[str, dict]) -> list[str]:
    """Pairs of cohorts whose published tables could be differenced: on the same extract and
    participant list, with municipality selections that overlap without being equal (an
    empty selection is every municipality). Equal selections describe the same persons and
    disjoint ones different persons; a nested or overlapping pair gives the part where they
    differ by subtraction (e.g. Herning + Viborg minus Herning = Viborg), which each cohort's
    own protection does not see."""
    out = []
    names = sorted(cohorts)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            ca, cb = cohorts[a], cohorts[b]
            if (ca.get("extract"), ca.get("participants_file", "participants.csv")) != \
                    (cb.get("extract"), cb.get("participants_file", "participants.csv")):
                continue
            ma, mb = set(ca.get("municipalities") or ()), set(cb.get("municipalities") or ())
            if ma == mb or (ma and mb and not ma & mb):
                continue
            shown = lambda m: ", ".join(map(str, sorted(m))) or "all"  # noqa: E731
            out.append(f"cohorts '{a}' (municipalities {shown(ma)}) and '{b}' (municipalities {shown(mb)}) "
                       f"draw on the same participant list of extract '{ca.get('extract')}': subtracting one's "
                       "published tables from the other's would give the counts of the municipalities where "
                       "they differ, which neither cohort's protection covers. Publish one of them: move the "
                       f"other's file out of the cohort folder (joint protection of overlapping cohorts is not "
                       "supported yet)")
    return out
