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


def load_yaml(path: str | Path) -> dict:
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"{path}: file not found")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
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
