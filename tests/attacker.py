"""The project's own attacker on published tables, independent of the ledger's code: given the
numbers a reader sees and the precision they are printed at (the attacker knows the code),
which sizes of a hidden group are still possible?

Each function answers for a range of candidate sizes n and keeps those for which some whole
numbers behind the printed values exist; a protection works when the candidates left are all
that the markers allow (e.g. 'x' with a small difference of 1 to 4 below it)."""

from __future__ import annotations

import math


def _fits(mean: float, step: float, n: int, grid: float = 1.0) -> bool:
    """Some sum of n values on `grid` (a count k: grid 1) has mean within half a step of `mean`."""
    lo, hi = (mean - step / 2) * n / grid, (mean + step / 2) * n / grid
    return math.floor(hi + 1e-9) >= math.ceil(lo - 1e-9)


def sizes_fitting_means(means, candidates, grid: float = 1.0) -> list[int]:
    """`means`: (printed value, step) of shares or means over one group of unknown size n."""
    return [n for n in candidates if all(_fits(m, s, n, grid) for m, s in means)]


def sizes_fitting_differences(rows, candidates, ratio: int) -> list[int]:
    """Shares of a binary covariate among n participants and their n * ratio controls (sets of
    equal size, as the match summary's min = max says): `rows` are (mean_t, mean_c, diff,
    step_t, step_c, step_diff); a size is possible when whole counts k_t <= n, k_c <= ratio * n
    fit all three printed values."""
    out = []
    for n in candidates:
        ok = True
        for mt, mc, d, st, sc, sd in rows:
            kts = [k for k in range(n + 1) if abs(k / n - mt) <= st / 2 + 1e-9]
            kcs = [k for k in range(ratio * n + 1) if abs(k / (ratio * n) - mc) <= sc / 2 + 1e-9]
            if not any(abs(kt / n - kc / (ratio * n) - d) <= sd / 2 + 1e-9 for kt in kts for kc in kcs):
                ok = False
                break
        if ok:
            out.append(n)
    return out



def excluded_between_set_bounds(analysed: int, smallest: int, largest: int, controls_observed: int) -> tuple[int, int]:
    """Controls of the analysed participants dropped before the outcome (e.g. died): every
    analysed participant has `smallest` to `largest` controls (the match summary's rows), so
    between smallest * analysed - observed and largest * analysed - observed of them left."""
    return max(smallest * analysed - controls_observed, 0), largest * analysed - controls_observed
