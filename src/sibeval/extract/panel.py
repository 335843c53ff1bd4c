"""Person x calendar-month panel: benefit group, wage, hours, ordinary employment,
residence and death, from DREAM, eIndkomst, vnds and dod.

Rules (DATA_CONTRACT.md): a week belongs to the month that holds its Thursday; the
month's group is the group found in most of its weeks, empty weeks counting as `none`;
a tie goes to the group listed first in the code table (the Table 1 precedence order).
Ordinary employment is a wage > 0 in a month whose group is not in
`wage_not_ordinary_groups` (subsidised job, flex job).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np
import pandas as pd

from sibeval.extract.codes import CodeTable
from sibeval.extract.readers import DreamData
from sibeval.extract.timegrid import month_label, parse_month_label


@dataclass(frozen=True)
class Panel:
    """Wide person x month arrays (rows follow `pnr`, columns follow `months`)."""

    pnr: np.ndarray
    months: np.ndarray        # month indices, consecutive
    covered: np.ndarray       # bool per month: every week of the month is in the extract
    group: np.ndarray         # int8 group id
    loen: np.ndarray          # float64 wage, summed over employers
    timer: np.ndarray         # float64 hours
    ordinary: np.ndarray      # bool ordinary employment
    resident: np.ndarray      # bool: no open emigration (vnds) at the end of the month
    dead: np.ndarray          # bool: died on or before the end of the month
    groups: tuple             # group names by id

    def row_of(self, pnr) -> np.ndarray:
        """Row index of each pnr (-1 where the person is not in the panel)."""
        return self._rows.get_indexer(pd.Index(pnr))

    @cached_property
    def _rows(self) -> pd.Index:      # (its hash table is built once, not per look-up)
        return pd.Index(self.pnr)

    def col_of(self, month_idx) -> np.ndarray:
        """Column of each month index (-1 outside the panel)."""
        m = np.asarray(month_idx, dtype=np.int64) - int(self.months[0])
        return np.where((m >= 0) & (m < len(self.months)), m, -1)

    def to_frame(self) -> pd.DataFrame:
        n, M = self.group.shape
        return pd.DataFrame({
            "pnr": np.repeat(self.pnr, M),
            "maaned": np.tile(np.array([month_label(m) for m in self.months]), n),
            "group": pd.Categorical.from_codes(self.group.ravel(), categories=list(self.groups)),
            "loen": self.loen.ravel(),
            "timer": self.timer.ravel(),
            "ordinary_employment": self.ordinary.ravel(),
            "resident": self.resident.ravel(),
            "dead": self.dead.ravel(),
            "covered": np.tile(self.covered, n),
        })

    @classmethod
    def from_frame(cls, df: pd.DataFrame) -> Panel:
        """Inverse of :meth:`to_frame` (rows must be sorted by pnr, then month)."""
        months_lbl = pd.unique(df["maaned"])
        M = len(months_lbl)
        n = len(df) // M
        pnr = df["pnr"].to_numpy()[::M].astype(object)
        cat = df["group"].astype("category")

        def arr(col, dtype):
            return df[col].to_numpy(dtype=dtype).reshape(n, M)

        return cls(
            pnr=pnr,
            months=np.array([parse_month_label(m) for m in months_lbl], dtype=np.int64),
            covered=df["covered"].to_numpy(dtype=bool)[:M],
            group=cat.cat.codes.to_numpy().astype(np.int8).reshape(n, M),
            loen=arr("loen", "float64"), timer=arr("timer", "float64"),
            ordinary=arr("ordinary_employment", bool), resident=arr("resident", bool),
            dead=arr("dead", bool), groups=tuple(cat.cat.categories),
        )


def month_groups(weekly: np.ndarray, week_months: np.ndarray):
    """Majority group per person and month from weekly group ids.

    Returns (months, groups[n, months], weeks_per_month). Ties go to the lower group id,
    which is the earlier group of the code table.
    """
    months = np.arange(week_months.min(), week_months.max() + 1)
    n = weekly.shape[0]
    # week by week and month by month in memory: a month's weeks are then whole rows, not
    # columns strided across every person's weeks (a block of 10^5 persons: 0.15 s, was 0.22 s)
    by_week = np.ascontiguousarray(weekly.T)
    out = np.empty((len(months), n), dtype=np.int8)
    nweeks = np.zeros(len(months), dtype=int)
    G = int(weekly.max()) + 1 if weekly.size and weekly.min() >= 0 else 0
    for j, m in enumerate(months):
        cols = np.flatnonzero(week_months == m)
        nweeks[j] = cols.size
        if cols.size == 0:
            out[j] = -1
        # every pattern of the month's weeks looked up, when the table (built once per process,
        # 0.3 s for 16 groups and 5 weeks) is small beside the persons it serves
        elif G and G ** cols.size <= min(_MAX_TABLE, 16 * n):
            out[j] = _majority_table(G, cols.size)[_pattern_index(by_week[cols], G)]
        else:
            out[j] = _majority(by_week[cols].T)
    out = np.ascontiguousarray(out.T)
    return months, out, nweeks


_MAX_TABLE = 1 << 22     # a month's week patterns looked up in a table up to this size


@lru_cache(maxsize=8)
def _majority_table(G: int, w: int) -> np.ndarray:
    """The majority of every pattern of w weeks of ids below G, numbered as in
    :func:`_pattern_index` (the same rule as :func:`_majority`, applied once per pattern)."""
    code = np.arange(G ** w, dtype=np.int64)
    return _majority(np.stack([(code // G ** a) % G for a in range(w)], axis=1).astype(np.int8))


def _pattern_index(weeks: np.ndarray, G: int) -> np.ndarray:
    """Each person's pattern number over the rows of `weeks` (weeks x persons, ids below G)."""
    idx = np.zeros(weeks.shape[1], dtype=np.int32)
    for a in range(weeks.shape[0]):
        idx += weeks[a].astype(np.int32) * np.int32(G ** a)
    return idx


def _majority(sub: np.ndarray) -> np.ndarray:
    """The most frequent id of each row of `sub` (ties to the lower id)."""
    n, w = sub.shape
    best_score = np.full(n, -10**6, dtype=np.int32)
    best = np.zeros(n, dtype=np.int8)
    for a in range(w):
        cand = sub[:, a]
        count = np.zeros(n, dtype=np.int32)
        for b in range(w):
            count += sub[:, b] == cand
        score = count * 128 - cand.astype(np.int32)
        better = score > best_score
        best_score = np.where(better, score, best_score)
        best = np.where(better, cand, best)
    return best


def _thursdays_in_month(m: int) -> int:
    y, mo = m // 12, m % 12 + 1
    first = pd.Timestamp(year=y, month=mo, day=1)
    days = pd.date_range(first, first + pd.offsets.MonthEnd(0))
    return int((days.day_of_week == 3).sum())


def _latest_event_state(rows, cols, when, values, n, M) -> np.ndarray:
    """Per person-month, the value of the latest event so far (0 = no event yet).

    Events before the first month count at the first month; a later event in the same
    month overrides an earlier one.
    """
    ok = (rows >= 0) & (cols < M)
    rows, cols, when, values = rows[ok], np.maximum(cols[ok], 0), when[ok], values[ok]
    key = rows.astype(np.int64) * M + cols
    o = np.lexsort((when, key))
    key, values = key[o], values[o]
    last = np.r_[key[1:] != key[:-1], True]
    state = np.zeros(n * M, dtype=np.int8)
    state[key[last]] = values[last]
    state = state.reshape(n, M)
    idx = np.where(state > 0, np.arange(M)[None, :], 0)
    np.maximum.accumulate(idx, axis=1, out=idx)
    return np.take_along_axis(state, idx, axis=1)


def _positions(index: pd.Index, values: pd.Series) -> np.ndarray:
    """index.get_indexer(values), per category for dictionary-encoded columns (fast)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        pos = index.get_indexer(values.cat.categories)
        return np.append(pos, -1)[values.cat.codes.to_numpy()]
    return index.get_indexer(values)


def month_cover(week_months: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The panel's months (consecutive) and whether every week of each is in the extract."""
    months = np.arange(week_months.min(), week_months.max() + 1)
    nweeks = np.bincount(week_months - months[0], minlength=len(months))
    return months, np.array([nweeks[j] == _thursdays_in_month(m) for j, m in enumerate(months)])


def month_numbers(maaned) -> np.ndarray:
    """eIndkomst's month labels ("2019-03") as year * 12 + month - 1, parsed once per label."""
    mcodes, muniq = pd.factorize(maaned)
    return np.array([parse_month_label(x) for x in muniq], dtype=np.int64)[mcodes]


def wage_cells(rows: np.ndarray, maaned, months: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(cell = row * M + month column, kept) for eIndkomst rows at panel `rows` (-1: absent)."""
    M = len(months)
    mo = month_numbers(maaned) - months[0]
    ok = (rows >= 0) & (mo >= 0) & (mo < M)
    return rows[ok] * M + mo[ok], ok


SPARSE = 20     # add_sums: a chunk with fewer rows than 1/SPARSE of its span of cells is summed by cell


def add_sums(totals, flat: np.ndarray, weights) -> None:
    """totals[i][flat] += weights[i] for each i: each cell's weights summed in row order, then
    added to its total. Over the span of cells `flat` touches (a chunk of a file sorted by
    person touches a few), or, where its rows are spread thinly over that span (a file sorted
    by month: a tenth of a million rows over a block's ten million cells), over the cells it
    touches only; the same additions either way, so the same totals bit for bit (from totals
    without -0.0, which the span's `+= 0.0` would make +0.0: the panel's start at zeros)."""
    if not len(flat):
        return
    lo, hi = int(flat.min()), int(flat.max())
    if len(flat) * SPARSE < hi - lo + 1:
        cells, at = np.unique(flat, return_inverse=True)
        for total, w in zip(totals, weights):
            total[cells] += np.bincount(at, weights=w, minlength=len(cells))
        return
    at = (flat - lo).astype(np.intp, copy=False)       # once for every total
    for total, w in zip(totals, weights):
        sums = np.bincount(at, weights=w)
        total[lo:lo + len(sums)] += sums


def residence(rows, dates, kinds, n: int, months: np.ndarray) -> np.ndarray:
    """Resident at the end of each month: the latest vnds event (I=1, U=2) so far is no U."""
    if not len(rows):
        return np.ones((n, len(months)), dtype=bool)
    d = pd.to_datetime(pd.Series(dates))
    cols = (d.dt.year * 12 + d.dt.month - 1).to_numpy() - months[0]
    vals = np.where(np.asarray(kinds) == "U", 2, 1).astype(np.int8)
    state = _latest_event_state(np.asarray(rows), cols, d.to_numpy().astype("int64"), vals, n, len(months))
    return state != 2


def deaths(group: np.ndarray, rows, dates, codes: CodeTable, months: np.ndarray) -> np.ndarray:
    """Dead on or before the end of each month: a deceased DREAM group or a dod date."""
    n, M = group.shape
    dead = np.isin(group, codes.gids("deceased_groups")) if "deceased_groups" in codes.classification \
        else np.zeros((n, M), bool)
    if len(rows):
        d = pd.to_datetime(pd.Series(dates))
        cols = (d.dt.year * 12 + d.dt.month - 1).to_numpy() - months[0]
        rows = np.asarray(rows)
        ok = rows >= 0
        death_col = np.full(n, M + 1)
        np.minimum.at(death_col, rows[ok], np.maximum(cols[ok], 0))
        dead = dead | (np.arange(M)[None, :] >= death_col[:, None])
    return np.logical_or.accumulate(dead, axis=1)


def assemble(pnr, months, covered, group, loen, timer, resident, dead, codes: CodeTable) -> Panel:
    """A Panel from its arrays; ordinary employment is derived here."""
    not_ordinary = np.isin(group, codes.gids("wage_not_ordinary_groups"))
    return Panel(pnr=np.asarray(pnr, dtype=object), months=months, covered=covered,
                 group=group, loen=loen, timer=timer, ordinary=(loen > 0) & ~not_ordinary,
                 resident=resident, dead=dead, groups=codes.groups)


def build_panel(dream: DreamData, eindkomst, codes: CodeTable,
                vnds: pd.DataFrame | None = None, dod: pd.DataFrame | None = None) -> Panel:
    """The person x month panel for every person in DREAM, in memory (see
    :func:`sibeval.extract.panel_blocks.build_panel_file` for the whole population).

    `eindkomst` is a frame or an iterable of frames (chunks of rows, summed as they come).
    """
    months, covered = month_cover(dream.week_months)
    _, group, _ = month_groups(dream.groups, dream.week_months)
    n, M = group.shape
    pidx = pd.Index(dream.pnr)
    loen = np.zeros(n * M)
    timer = np.zeros(n * M)
    for chunk in [eindkomst] if isinstance(eindkomst, pd.DataFrame) else eindkomst:
        if not len(chunk):
            continue
        flat, ok = wage_cells(_positions(pidx, chunk["pnr"]), chunk["maaned"], months)
        add_sums((loen, timer), flat, (chunk["loen"].to_numpy()[ok], chunk["timer"].to_numpy()[ok]))
    have_v = vnds is not None and len(vnds)
    resident = residence(pidx.get_indexer(vnds["pnr"]) if have_v else [], vnds["haend_dato"] if have_v else [],
                         vnds["indud_kode"].to_numpy() if have_v else [], n, months)
    have_d = dod is not None and len(dod)
    dead = deaths(group, pidx.get_indexer(dod["pnr"]) if have_d else [], dod["doddato"] if have_d else [],
                  codes, months)
    return assemble(dream.pnr, months, covered, group, loen.reshape(n, M), timer.reshape(n, M),
                    resident, dead, codes)
