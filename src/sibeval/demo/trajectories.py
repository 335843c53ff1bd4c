"""Monthly outcomes on matched sets with a known trajectory (issue 25): the truth the decay
estimate must recover (tests/test_trajectory.py, bench/trajectory_decay.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sibeval.outcomes import trajectory as tr


def synthetic(seed: int, sets: int = 120, controls: int = 3, effect: float = 0.18, decay: float = 0.5,
              before: int = 24, after: int = 24, censor: bool = True) -> pd.DataFrame:
    """A monthly frame as `monthly_status` gives it, with a known effect: participants and their
    matched controls share an employability (so the curves overlap before the start); after the
    end the participants' chance is the controls' plus effect x (1 - decay)^((m - 2)/12) from
    month 2 (0 before: in the programme). A person's months are correlated (a person effect);
    with `censor` a third of the sets end their data between months 12 and 24."""
    rng = np.random.default_rng(seed)
    months = np.r_[np.arange(-before, 0), np.arange(0, after + 1)]
    anchor = np.r_[np.full(before, tr.START), np.full(after + 1, tr.END)]
    rows = []
    for s in range(sets):
        u = rng.normal(0, 1)
        last = rng.integers(min(12, after), after + 1) if censor and rng.random() < 1 / 3 else after
        for j in range(controls + 1):
            role = "participant" if j == 0 else "control"
            v = u + rng.normal(0, 0.7)                                   # the person's own employability
            base = 0.17 / (1 + np.exp(-(v - 0.2))) * 2
            lift = np.where((anchor == tr.END) & (months >= 2), effect * (1 - decay) ** ((months - 2) / 12), 0.0)
            p = np.clip(base + (lift if j == 0 else 0.0), 0, 1)
            y = (rng.random(len(months)) < p).astype(float)
            obs = ~((anchor == tr.END) & (months > last))
            rows.append(pd.DataFrame({"row": len(rows), "pnr": f"{s}-{j}", "role": role, "subclass": s,
                                      "weight": 1.0, "anchor": anchor, "month": months, "observed": obs,
                                      "ordinary_employment": np.where(obs, y, np.nan)}))
    return pd.concat(rows, ignore_index=True)
