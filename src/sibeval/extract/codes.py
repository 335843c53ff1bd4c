"""The benefit code table: code -> group, and the Table 1 classification groups."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sibeval.errors import ConfigError


def _expand(spec: str) -> list[str]:
    if "-" in spec:
        lo, hi = spec.split("-")
        width = len(lo)
        return [str(c).zfill(width) for c in range(int(lo), int(hi) + 1)]
    return [spec]


@dataclass(frozen=True)
class CodeTable:
    """Benefit groups in tie-break order, with their codes and classification sets."""

    groups: tuple[str, ...]
    code_to_group: dict
    unknown_codes: str
    classification: dict

    @classmethod
    def from_config(cls, cfg: dict) -> CodeTable:
        groups = tuple(cfg["groups"])
        code_to_group = {}
        for g, specs in cfg["groups"].items():
            for spec in specs:
                for code in _expand(str(spec)):
                    if code in code_to_group:
                        raise ConfigError(
                            f"dream_codes: code '{code}' is in both '{code_to_group[code]}' and '{g}'"
                        )
                    code_to_group[code] = g
        unknown = cfg.get("unknown_codes", "error")
        if unknown != "error" and unknown not in groups:
            raise ConfigError(
                f"dream_codes: unknown_codes is '{unknown}'; allowed: error or one of {', '.join(groups)}"
            )
        cls_cfg = cfg["classification"]
        for key, names in cls_cfg.items():
            bad = [n for n in names if n not in groups]
            if bad:
                raise ConfigError(f"dream_codes: classification.{key} names unknown group(s) {bad}")
        if "none" not in groups:
            raise ConfigError("dream_codes: a group named 'none' (no public benefit) is required")
        return cls(groups, code_to_group, unknown, {k: tuple(v) for k, v in cls_cfg.items()})

    def gid(self, group: str) -> int:
        return self.groups.index(group)

    def gids(self, key: str) -> np.ndarray:
        """Group ids of a classification set, e.g. 'temporary_groups'."""
        return np.array([self.gid(g) for g in self.classification[key]], dtype=np.int8)

    @property
    def none_id(self) -> int:
        return self.gid("none")

    def lookup(self, codes) -> tuple[np.ndarray, dict]:
        """Group id per distinct code string (None/'' -> none); returns (ids, unknown->count stub)."""
        ids = np.empty(len(codes), dtype=np.int8)
        unknown = []
        for i, c in enumerate(codes):
            key = "" if c is None else str(c).strip()
            g = self.code_to_group.get(key)
            if g is None:
                unknown.append(key)
                g = self.unknown_codes if self.unknown_codes != "error" else "none"
            ids[i] = self.gid(g)
        return ids, unknown
