"""Synthetic BIP and WHO-5 questionnaires for the demo participants.

Answers are built item by item: for each item a number of persons move up, move down
or stay; start answers are then chosen within the range each change allows so that the
municipal WHO-5 sums land where the demo profile puts them. The pipeline computes every
share and mean from the written file.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sibeval.demo.profiles import EM
from sibeval.extract.contract import BIP_ITEMS, WHO5_ITEMS

HERNING, VIBORG = 657, 791
N_PAIRS = {HERNING: 24, VIBORG: 20}

# BIP: (persons up, persons down) of the 44 complete pairs, per item
BIP_CHANGES = {
    "bip_tro_paa_job": (10, 9), "bip_samarbejdsevne": (18, 9), "bip_helbredsmestring": (13, 9),
    "bip_kompetencer_arbejdsplads": (12, 11), "bip_kontakt_nye_mennesker": (20, 7),
    "bip_viden_jobmuligheder": (29, 4), "bip_motivation": (22, 6), "bip_arbejdsevne": (15, 10),
    "bip_transportevne": (11, 5), "bip_overskud_hverdag": (17, 8), "bip_jobsoegning": (24, 5),
}
# WHO-5 per municipality: ups per item, downs per item, size of an up, size of a down,
# how many ups are +2 instead of +1, the start sum over persons and items
WHO5_PLAN = {
    HERNING: {"ups": [5, 7, 4, 4, 5], "downs": [4, 4, 4, 4, 4], "up": 2, "down": 1,
              "double_ups": 0, "start_sum": 240, "improvers": 8, "decliners": 10},
    VIBORG: {"ups": [11, 12, 11, 10, 12], "downs": [2, 1, 2, 2, 1], "up": 1, "down": 1,
             "double_ups": 7, "start_sum": 290, "improvers": 20, "decliners": 20},
}


def _fill_starts(lo, hi, target, rng):
    """Start answers within [lo, hi] per cell summing to `target` (deterministic given rng)."""
    v = np.clip(np.round((lo + hi) / 2), lo, hi).astype(int)
    cells = rng.permutation(v.size)
    guard = 0
    while v.sum() != target:
        step = 1 if v.sum() < target else -1
        for c in cells:
            if v.sum() == target:
                break
            if lo.flat[c] <= v.flat[c] + step <= hi.flat[c]:
                v.flat[c] += step
        guard += 1
        if guard > 100:
            raise RuntimeError("demo questionnaires: start sum not reachable")
    return v


def _who5(kom, rng):
    plan = WHO5_PLAN[kom]
    n = N_PAIRS[kom]
    delta = np.zeros((n, 5), int)
    people = rng.permutation(n)
    improvers = people[: plan["improvers"]]
    decliners = people[-plan["decliners"]:]
    off_u = off_d = 0
    doubles = plan["double_ups"]
    for j in range(5):
        ups = [improvers[(off_u + k) % len(improvers)] for k in range(plan["ups"][j])]
        off_u += plan["ups"][j]
        for p in ups:
            delta[p, j] = plan["up"]
            if doubles > 0:
                delta[p, j] += 1
                doubles -= 1
        cand = [p for p in np.roll(decliners, -off_d) if delta[p, j] == 0]
        for p in cand[: plan["downs"][j]]:
            delta[p, j] = -plan["down"]
        off_d += plan["downs"][j]
    lo = np.where(delta < 0, -delta, 0)
    hi = np.where(delta > 0, 5 - delta, 5)
    start = _fill_starts(lo, hi, plan["start_sum"], rng)
    return start, start + delta


def _bip(n_h, rng):
    """BIP start/end answers for 44 persons (Herning first); decliners mostly start at 2."""
    n = n_h + N_PAIRS[VIBORG]
    start = np.zeros((n, len(BIP_ITEMS)), int)
    end = np.zeros_like(start)
    for j, item in enumerate(BIP_ITEMS):
        n_up, n_down = BIP_CHANGES[item]
        # negatives lean towards Herning (two thirds), as the catalogue describes
        n_down_h = int(round(n_down * 2 / 3))
        herning, viborg = rng.permutation(n_h), n_h + rng.permutation(n - n_h)
        down = np.concatenate([herning[:n_down_h], viborg[: n_down - n_down_h]])
        rest = np.setdiff1d(np.arange(n), down)
        up = rng.permutation(rest)[:n_up]
        same = np.setdiff1d(rest, up)
        s = rng.integers(2, 5, n)                           # 2..4
        s[down] = np.where(rng.random(down.size) < 0.6, 2, rng.integers(3, 5, down.size))
        s[up] = rng.integers(1, 4, up.size)
        step = np.zeros(n, int)
        step[up] = np.where(rng.random(up.size) < 0.25, 2, 1)
        step[down] = -1
        step[same] = 0
        start[:, j] = s
        end[:, j] = s + step
    return start, end


def questionnaires(pnr, kommune, started, outcome_state, participants, rng) -> pd.DataFrame:
    """Start and end questionnaires: 44 complete pairs (24 Herning, 20 Viborg) + incomplete ones."""

    dates = participants.set_index("pnr")
    pairs = {}
    for kom in (HERNING, VIBORG):
        pool = [i for i in started if kommune[i] == kom and outcome_state[i] != EM]
        pairs[kom] = sorted(rng.choice(pool, N_PAIRS[kom], replace=False))
    others = [i for i in started if i not in pairs[HERNING] and i not in pairs[VIBORG]]
    start_only = others[:7]
    missing_item = others[7:9]

    who_h = _who5(HERNING, rng)
    who_v = _who5(VIBORG, rng)
    bip_s, bip_e = _bip(N_PAIRS[HERNING], rng)
    ids = list(pairs[HERNING]) + list(pairs[VIBORG])
    who_s = np.vstack([who_h[0], who_v[0]])
    who_e = np.vstack([who_h[1], who_v[1]])

    rows = []

    def row(i, runde, bip, who):
        d = dates.loc[pnr[i], "start_dato" if runde == "start" else "slut_dato"]
        r = {"pnr": pnr[i], "runde": runde, "dato": pd.Timestamp(d).date().isoformat()}
        r.update({c: (None if v is None else int(v)) for c, v in zip(BIP_ITEMS, bip)})
        r.update({c: (None if v is None else int(v)) for c, v in zip(WHO5_ITEMS, who)})
        rows.append(r)

    for k, i in enumerate(ids):
        row(i, "start", bip_s[k], who_s[k])
        row(i, "slut", bip_e[k], who_e[k])
    for i in start_only + missing_item:
        b = rng.integers(1, 6, len(BIP_ITEMS))
        w = rng.integers(0, 6, 5)
        row(i, "start", b, w)
        if i in missing_item:
            w_end = [int(x) for x in rng.integers(0, 6, 5)]
            w_end[int(rng.integers(0, 5))] = None
            row(i, "slut", rng.integers(1, 6, len(BIP_ITEMS)), w_end)
    df = pd.DataFrame(rows)
    for c in BIP_ITEMS + WHO5_ITEMS:
        df[c] = df[c].astype("Int64")
    return df.sort_values(["pnr", "runde"], ascending=[True, False], kind="stable").reset_index(drop=True)
