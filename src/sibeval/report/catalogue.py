"""The catalogue of every string a reader sees, one YAML file per language
(src/sibeval/report/locale/<lang>.yaml). Adding a language is adding one file with the same keys."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

LOCALE_DIR = Path(__file__).with_name("locale")
REFERENCE = "en"


def wording_digest(folder: str | Path = Path(__file__).parent) -> str:
    """A digest of every catalogue (locale/) and template (templates/) under `folder`: the
    rules that write reader text take it as a parameter, so new wording renders them again
    (Snakemake reruns a rule whose script or parameters changed, not one whose library did)."""
    import hashlib

    h = hashlib.sha256()
    for f in sorted(p for sub in ("locale", "templates") for p in (Path(folder) / sub).glob("*") if p.is_file()):
        h.update(f"{f.parent.name}/{f.name}\0".encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:16]


def _flatten(d: dict, prefix: str = "") -> dict[str, str]:
    out = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flatten(v, key + "."))
        elif isinstance(v, list):                  # [heading, description] -> key.0, key.1
            out.update(_flatten(dict(enumerate(v)), key + "."))
        else:
            out[key] = str(v)
    return out


@cache
def load_strings(lang: str, folder: str = str(LOCALE_DIR)) -> dict[str, str]:
    path = Path(folder) / f"{lang}.yaml"
    if not path.exists():
        have = sorted(p.stem for p in Path(folder).glob("*.yaml"))
        raise KeyError(f"no catalogue for language '{lang}' ({path}); available: {have}")
    text = path.read_text(encoding="utf-8")
    # libyaml's parser where PyYAML has it: the same strings (tests/test_config.py), 10 times as
    # fast (config.FAST_LOADER; not imported from there, which would import jsonschema too)
    return _flatten(yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {})


def languages(folder=LOCALE_DIR) -> list[str]:
    return sorted(p.stem for p in Path(folder).glob("*.yaml"))


def missing_keys(lang: str, folder=LOCALE_DIR) -> list[str]:
    """Keys of the reference catalogue that `lang` lacks (a new language must have them all)."""
    return sorted(set(load_strings(REFERENCE, str(folder))) - set(load_strings(lang, str(folder))))


class Catalogue:
    """Strings of one language: ``cat("note.headline")``, ``cat("note.n_persons", n="55")``."""

    def __init__(self, lang: str, folder=LOCALE_DIR):
        self.lang = lang
        self.strings = load_strings(lang, str(folder))

    def __call__(self, key: str, **kw) -> str:
        try:
            s = self.strings[key]
        except KeyError:
            raise KeyError(f"catalogue {self.lang}.yaml has no key '{key}'") from None
        return s.format(**kw) if kw else s

    def get(self, key: str, default: str | None = None, **kw) -> str | None:
        return self(key, **kw) if key in self.strings else default

    def provenance_rows(self, provenance: dict) -> list[tuple[str, str]]:
        """(label, value) per provenance entry, in its order, in the catalogue's words; a raw
        file's checksum (key `sha256:<file>`) shows the file's name beside it."""
        rows = []
        for k, v in provenance.items():
            if k.startswith("sha256:"):
                rows.append((self("provenance_keys.sha256"), f"{k.split(':', 1)[1]}: {v}"))
            else:
                # a setting in words where the catalogue has them ("min_cell = 5" is a config key)
                shown = self.get(f"provenance_values.{k}", "", value=v)
                rows.append((self(f"provenance_keys.{k}"), shown or str(v)))
        return rows

    def section(self, prefix: str) -> dict[str, str]:
        """All entries under `prefix.` keyed by the rest of the key."""
        n = len(prefix) + 1
        return {k[n:]: v for k, v in self.strings.items() if k.startswith(prefix + ".")}
