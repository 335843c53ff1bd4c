"""Control candidates: every person eligible in a participant's start (index) month who
was never referred is a candidate row (person, index month), with covariates measured
relative to the index month exactly as for the participants at their own start (the
risk-set design), and the eligibility funnel of the pool.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import chain
from types import SimpleNamespace

import numpy as np
import pandas as pd

from sibeval.design.cohort import file_name, short_name
from sibeval.design.month_stores import MonthStore
from sibeval.errors import ExtractError, SibevalError, file_rows, months, plain
from sibeval.extract.panel import Panel
from sibeval.extract.person_blocks import ROW, latest_rows, person_blocks
from sibeval.extract.timegrid import month_of_dates, week_of_date, week_thursday


def _snapshot(bef: pd.DataFrame, year: int) -> pd.DataFrame:
    """Each person's bef row for `year`, else the latest earlier one."""
    b = bef[bef["aar"] <= year]
    last = latest_rows(pd.factorize(b["pnr"])[0], b["aar"].to_numpy())
    return b.iloc[np.sort(last)].set_index("pnr")


def _person_rows(frame: pd.DataFrame, panel: Panel) -> np.ndarray:
    """Each register row's person as a panel row: the `_row` column the block split gives
    (the person's row in the block), else looked up by pnr."""
    return frame[ROW].to_numpy(dtype=np.int64) if ROW in frame.columns else panel.row_of(frame["pnr"])


def _index_week(index_month: int) -> tuple[int, int]:
    """The first ISO week whose Thursday lies in the index month."""
    y, m = index_month // 12, index_month % 12 + 1
    first = pd.Timestamp(year=y, month=m, day=1)
    thursday = first + pd.Timedelta(days=(3 - first.day_of_week) % 7)
    return week_of_date(thursday)


def week_minus(week: tuple[int, int], k: int) -> tuple[int, int]:
    d = pd.Timestamp(week_thursday(*week)) - pd.Timedelta(weeks=k)
    return week_of_date(d)


def covariates_at(persons: pd.DataFrame, panel: Panel, bef: pd.DataFrame, codes,
                  vnds=None, udda=None, lpr=None, week_groups=None, passive_groups=(),
                  participant_municipalities=(), western=frozenset(), snapshots=None) -> pd.DataFrame:
    """Covariates for rows (pnr, index_month, index_week) relative to each row's index.

    `week_groups(pnr, week) -> group ids` gives the DREAM group of a week (for passive_4w).
    `snapshots` ({year: bef snapshot in the panel's row order}, as :func:`_snapshot` reindexed
    by ``panel.pnr``) may pass those computed already.
    """
    df = persons.reset_index(drop=True).copy()
    rows = panel.row_of(df["pnr"])
    person_rows = rows.astype(np.int64)
    if (rows < 0).any():
        raise SibevalError(f"{int((rows < 0).sum())} of {len(df)} person rows are not in DREAM; "
                           f"e.g. row(s) {plain(np.flatnonzero(rows < 0)[:2] + 1)} of the rows given")
    cols = panel.col_of(df["index_month"])
    if (cols < 36).any():
        early = np.unique(df["index_month"].to_numpy()[cols < 36])
        raise SibevalError(f"index month(s) {months(early[:3])} lie less than 36 months after the first "
                           f"DREAM month {months(panel.months[0])}; the covariate windows need 36 "
                           "months of history")
    idx_date = pd.to_datetime({"year": df["index_month"] // 12, "month": df["index_month"] % 12 + 1, "day": 1})
    year = (df["index_month"] // 12).to_numpy()
    out = {}
    # bef traits of the index year
    snapshots = snapshots or {}
    snap = pd.concat([(snapshots[y] if y in snapshots else _snapshot(bef, y).reindex(panel.pnr))
                      .iloc[rows[year == y]].set_index(df.index[year == y])
                      for y in np.unique(year)]).sort_index()
    age = (idx_date - pd.to_datetime(snap["foed_dag"])).dt.days / 365.25
    out["age"] = np.floor(age).to_numpy()
    out["age_50plus"] = (out["age"] >= 50).astype(float)
    out["partner"] = snap["samlev"].to_numpy(dtype=float)
    out["kom"] = snap["kom"].to_numpy(dtype=float)
    out["herning_viborg"] = np.isin(out["kom"], list(participant_municipalities)).astype(float)
    out["female"] = (snap["koen"].to_numpy(dtype=float) == 2).astype(float)
    out["non_western"] = (~snap["opr_land"].isin(western).to_numpy()).astype(float)
    # labour-market history from the panel
    # (month sums over the persons of these rows only, not the whole panel)
    used, rows = np.unique(rows, return_inverse=True)
    ordinary_cs = np.concatenate([np.zeros((len(used), 1)), np.cumsum(panel.ordinary[used], axis=1)], axis=1)
    benefit = ~np.isin(panel.group[used], np.concatenate([codes.gids("none_groups"), codes.gids("education_groups")]))
    benefit_cs = np.concatenate([np.zeros((len(used), 1)), np.cumsum(benefit, axis=1)], axis=1)
    out["employed_24m"] = ((ordinary_cs[rows, cols] - ordinary_cs[rows, cols - 24]) > 0).astype(float)
    out["benefit_share_36m"] = (benefit_cs[rows, cols] - benefit_cs[rows, cols - 36]) / 36.0
    # years in Denmark: since the latest immigration before the index date
    if vnds is not None:
        imm = vnds[vnds["indud_kode"] == "I"][["pnr", "haend_dato"]]
        m = df[["pnr"]].assign(_i=df.index, _d=idx_date).merge(imm, on="pnr", how="left")
        m = m[m["haend_dato"].isna() | (m["haend_dato"] < m["_d"])]
        last = m.groupby("_i")["haend_dato"].max().reindex(df.index)
        yrs = (idx_date - last).dt.days / 365.25
        out["years_dk_lt7"] = (yrs < 7).fillna(False).astype(float).to_numpy()
    else:
        out["years_dk_lt7"] = np.full(len(df), np.nan)
    # education: latest record at or before the index year; no record counts as primary
    if udda is not None:
        u = udda.sort_values(["pnr", "aar"])
        m = df[["pnr"]].assign(_i=df.index, _y=year).merge(u, on="pnr", how="left")
        m = m[m["aar"].isna() | (m["aar"] <= m["_y"])]
        last = m.groupby("_i")["hfaudd"].last().reindex(df.index)
        out["primary_school_only"] = (last.isna() | last.astype(str).str[:2].eq("10")).astype(float).to_numpy()
    else:
        out["primary_school_only"] = np.full(len(df), np.nan)
    # hospital contacts in the two calendar years before the index year
    for name, psyk in (("somatic_2y", 0), ("psych_2y", 1)):
        if lpr is None:
            out[name] = np.full(len(df), np.nan)
            continue
        c = lpr[lpr["psyk"] == psyk]
        c_row = _person_rows(c, panel)
        c_year = pd.to_datetime(c["dato"]).dt.year.to_numpy(dtype=np.int64)
        c_row, c_year = c_row[c_row >= 0], c_year[c_row >= 0]       # (persons outside the panel)
        out[name] = np.zeros(len(df))
        if not len(c_row):
            continue
        # which (person, year) had a contact: a table over the persons and the years seen
        first = int(c_year.min())
        seen = np.zeros((len(panel.pnr), int(c_year.max()) - first + 1), dtype=bool)
        seen[c_row, c_year - first] = True
        for back in (1, 2):
            y = year - back - first
            inside = (y >= 0) & (y < seen.shape[1])
            out[name][inside] = np.maximum(out[name][inside], seen[person_rows[inside], y[inside]])
    # benefit group 4 weeks before the index week
    if week_groups is not None:
        before = {w: week_minus(w, 4) for w in set(df["index_week"])}
        wk = [before[w] for w in df["index_week"]]
        g = week_groups(df["pnr"].to_numpy(), wk)
        out["passive_4w"] = np.isin(g, [codes.gid(x) for x in passive_groups]).astype(float)
    else:
        out["passive_4w"] = np.full(len(df), np.nan)
    for k, v in out.items():
        df[k] = v
    return df


def referral_months(pnr, referred) -> np.ndarray:
    """Per person of `pnr`, the month index from which they may not be a control: -inf for
    everyone in `referred` when it is a set; when it maps pnr to the month index of their
    referral, that month (risk-set matching: a person referred later is not yet treated,
    see docs/statistics.md); +inf for everyone else. Compare with `<= index_month`."""
    if not isinstance(referred, dict):
        referred = dict.fromkeys(referred, -np.inf)
    month = pd.Series(referred, dtype="float64")
    return month.reindex(pd.Index(pnr)).fillna(np.inf).to_numpy()


def _snapshot_traits(snap: pd.DataFrame, eligibility: dict, western, participant_municipalities=()) -> dict:
    """What the eligibility rules read from a bef snapshot (one per index year, not per month)."""
    e = eligibility
    t = {"born": pd.to_datetime(snap["foed_dag"]), "in_bef": snap["koen"].notna().to_numpy(),
         "sex": snap["koen"].isin(e["sex"]).to_numpy()}
    if e["non_western"] is not None:
        t["non_western"] = ~snap["opr_land"].isin(western).to_numpy() & snap["opr_land"].notna().to_numpy()
    if e.get("exclude_participant_municipalities"):
        t["outside"] = ~snap["kom"].isin(list(participant_municipalities)).to_numpy()
    return t


def _eligibility_rules(panel: Panel, bef: pd.DataFrame, index_month: int, eligibility: dict,
                       western, exclude_pnr, participant_municipalities=(), snapshot=None,
                       excluded=None, traits=None) -> list:
    """[(rule, condition, mask over panel.pnr)] in the order they are applied.

    `snapshot` (the bef snapshot of the index year in panel row order), its `traits`
    (:func:`_snapshot_traits`) and `excluded` (a mask of `exclude_pnr` over the panel rows)
    may be passed when computed once already.
    """
    col = int(panel.col_of([index_month])[0])
    if col < 0:
        raise SibevalError(f"index month {months(index_month)} is outside the DREAM months "
                           f"{months(panel.months[0])} to {months(panel.months[-1])}")
    e = eligibility
    if traits is None:
        snap = _snapshot(bef, index_month // 12).reindex(panel.pnr) if snapshot is None else snapshot
        traits = _snapshot_traits(snap, e, western, participant_municipalities)
    idx_date = pd.Timestamp(year=index_month // 12, month=index_month % 12 + 1, day=1)
    age = np.floor((idx_date - traits["born"]).dt.days / 365.25).to_numpy()
    rules = [("in_bef", "a bef row in or before the index year", traits["in_bef"]),
             ("sex", f"koen in [{plain(e['sex'])}]", traits["sex"])]
    nw = e["non_western"]
    if nw is not None:
        is_nw = traits["non_western"]
        rules.append(("origin", "non-Western origin" if nw else "Danish or Western origin",
                      is_nw if nw else ~is_nw))
    rules.append(("age", f"aged {plain(e['age_min'])}-{plain(e['age_max'])}",
                  (age >= e["age_min"]) & (age <= e["age_max"])))
    rules.append(("benefit_group", f"month's benefit group in [{plain(e['benefit_groups'])}]",
                  np.isin(panel.group[:, col], [panel.groups.index(g) for g in e["benefit_groups"]])))
    rules.append(("resident_alive", "resident and alive", panel.resident[:, col] & ~panel.dead[:, col]))
    if e.get("no_employment_in_index_month", True):
        rules.append(("no_employment", "no ordinary employment in the index month", ~panel.ordinary[:, col]))
    if excluded is None:
        excluded = referral_months(panel.pnr, exclude_pnr) <= index_month
    rules.append(("never_referred", "not referred to the programme by the index month"
                  if isinstance(exclude_pnr, dict) else "not in the participant list", ~excluded))
    if e.get("exclude_participant_municipalities"):
        rules.append(("outside_participant_municipalities", "lives outside the participants' municipalities",
                      traits["outside"]))
    return rules


class _Funnel:
    """Persons and (person, index month) rows left after each rule, accumulated over months."""

    def __init__(self, n_population: int):
        self.n, self.months = n_population, 0
        self.rules, self.persons, self.rows = [], [], []

    def add(self, rules) -> np.ndarray:
        """Add one index month's rules; returns the month's eligible mask."""
        left = np.ones(self.n, dtype=bool)
        for k, (rule, cond, mask) in enumerate(rules):
            left &= mask
            if k == len(self.rules):
                self.rules.append((rule, cond))
                self.persons.append(np.zeros(self.n, dtype=bool))
                self.rows.append(0)
            self.persons[k] |= left
            self.rows[k] += int(left.sum())
        self.months += 1
        return left

    def frame(self) -> pd.DataFrame:
        out = [{"rule": "population", "condition": "every person in DREAM",
                "persons": self.n, "rows": self.n * self.months}]
        out += [{"rule": r, "condition": c, "persons": int(p.sum()), "rows": n}
                for (r, c), p, n in zip(self.rules, self.persons, self.rows)]
        return pd.DataFrame(out)


def eligibility_funnel(panel: Panel, bef: pd.DataFrame, index_months, eligibility: dict,
                       western: set, exclude_pnr: set, participant_municipalities=()) -> pd.DataFrame:
    """How many persons and (person, index month) rows are left after each eligibility rule,
    applied in order over all `index_months` (columns rule, condition, persons, rows)."""
    f = _Funnel(len(panel.pnr))
    for m in sorted(set(np.asarray(index_months).tolist())):
        f.add(_eligibility_rules(panel, bef, int(m), eligibility, western, exclude_pnr,
                                 participant_municipalities))
    return f.frame()


def _check_index_months(participants: pd.DataFrame, panel: Panel, files) -> None:
    """Participants' start months must lie in DREAM with 36 months of history before them."""
    pf = file_name(files, "participants")
    rows = panel.row_of(participants["pnr"])
    if (rows < 0).any():
        pos = participants.index[rows < 0]
        raise ExtractError(pf, f"participant(s) not found in {short_name(files, 'dream')}", column="pnr",
                           n=int((rows < 0).sum()), examples=file_rows(pf, pos),
                           fix="deliver DREAM rows for every participant (and check how pnr is written)")
    m = month_of_dates(participants["start_dato"])
    cols = panel.col_of(m)
    first, last = months(panel.months[0]), months(panel.months[-1])
    for bad, problem in (
        (cols < 0, f"start_dato outside the months covered by {short_name(files, 'dream')} ({first} to {last})"),
        ((cols >= 0) & (cols < 36), f"start_dato less than 36 months after the first DREAM month {first}; "
                                    "the covariates need 36 months of history"),
    ):
        if bad.any():
            pos = participants.index[bad]
            raise ExtractError(pf, problem, column="start_dato", n=int(bad.sum()),
                               examples=[f"{r}: {months(mm)}" for r, mm in zip(file_rows(pf, pos), m[bad])],
                               fix="check start_dato, or deliver DREAM weeks covering the programme")


def build_candidates(participants: pd.DataFrame, all_referred: set, panel: Panel, bef, codes,
                     eligibility: dict, western: set, vnds=None, udda=None, lpr=None,
                     week_groups=None, municipalities=(), files=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Participants (treated=1, at their start month) and eligible candidates (treated=0)
    for each distinct start month, with covariates; and the eligibility funnel.

    `participants` keeps the participant file's row order in its index (for messages);
    `files` maps "participants"/"dream" to the paths named in messages.
    Returns (candidates, funnel as :func:`eligibility_funnel`). The whole population in
    memory; :func:`build_candidates_blocks` takes it a block of persons at a time.
    """
    block = SimpleNamespace(index=0, panel=panel, snapshot=lambda year: _snapshot(bef, year).reindex(panel.pnr),
                            vnds=vnds, udda=udda, lpr=lpr, week_groups=week_groups)
    return build_candidates_blocks(participants, all_referred, panel, [block], codes, eligibility, western,
                                   municipalities, files)


def build_candidates_blocks(participants: pd.DataFrame, all_referred, check_panel: Panel, blocks, codes,
                            eligibility: dict, western: set, municipalities=(), files=None):
    """:func:`build_candidates` over `blocks` of persons (each with .index, its number in the
    population's order, .panel, .snapshot(year) as :class:`~sibeval.extract.person_blocks.PersonBlock`
    gives it, .vnds, .udda, .lpr and .week_groups of its persons only, as
    :func:`candidate_blocks` makes them); every covariate and rule is a person's own, so the
    result is the same as over the whole population at once.

    `check_panel` holds at least the participants' panel rows (for the start-month checks).
    """
    pieces, funnel = candidate_pieces(participants, all_referred, check_panel, blocks, codes, eligibility,
                                      western, municipalities, files)
    return pd.concat(list(pieces), ignore_index=True), funnel


def candidate_blocks(folder, panel_path, codes, weeks, blocks, share=(0, 1), below=None):
    """The blocks of persons of a normalised extract as the candidates read them (see
    :func:`~sibeval.extract.person_blocks.person_blocks`: `share`, one process's share; `below`,
    only the blocks numbered below it)."""
    return (SimpleNamespace(index=b.index, panel=b.panel, snapshot=b.snapshot, vnds=b.vnds, udda=b.udda, lpr=b.lpr,
                            week_groups=week_lookup(b.dream))
            for b in person_blocks(folder, panel_path, codes, weeks, blocks, share=share, below=below))


@dataclass(frozen=True)
class BlockCandidates:
    """One block's share of the candidates: its funnel, its participants' rows (indexed by
    their row in the participant list) and how many control rows it gave the store."""

    index: int
    funnel: pd.DataFrame
    treated: pd.DataFrame
    controls: int


@dataclass(frozen=True)
class CandidateWork:
    """What every block's candidates are computed from (pickled to a second process)."""

    treated: pd.DataFrame          # the participants' rows at their start (index: participant list order)
    index_months: tuple
    all_referred: object
    codes: object
    eligibility: dict
    western: set
    municipalities: tuple

    def block(self, b, store) -> BlockCandidates:
        """Block `b`'s candidates: its control rows go to `store` (``add(month, block, rows)``)
        month by month; the rest is returned."""
        eligibility, western, municipalities = self.eligibility, self.western, self.municipalities
        panel = b.panel
        f = _Funnel(len(panel.pnr))
        snapshots, traits = {}, {}     # per index year: bef snapshot (in the block's panel row order)
        referral = referral_months(panel.pnr, self.all_referred)
        parts = []
        for m in self.index_months:
            year = int(m) // 12
            if year not in snapshots:
                snapshots[year] = b.snapshot(year)
                traits[year] = _snapshot_traits(snapshots[year], eligibility, western, municipalities)
            pnr = panel.pnr[f.add(_eligibility_rules(panel, None, int(m), eligibility, western,
                                                     self.all_referred, municipalities,
                                                     excluded=referral <= int(m), traits=traits[year]))]
            w = _index_week(int(m))
            parts.append(pd.DataFrame({"pnr": pnr, "index_month": int(m), "index_week": [w] * len(pnr),
                                       "treated": 0}))
        treated = self.treated
        mine = treated[panel.row_of(treated["pnr"]) >= 0]
        rows = pd.concat([mine, *parts], ignore_index=True)
        if not len(rows):
            return BlockCandidates(b.index, f.frame(), mine.iloc[:0], 0)
        rows = covariates_at(rows, panel, None, self.codes, b.vnds, b.udda, b.lpr, b.week_groups,
                             eligibility["benefit_groups"], municipalities, western, snapshots)
        rows.index = np.r_[mine.index.to_numpy(), np.full(len(rows) - len(mine), -1)]
        own = rows.iloc[:len(mine)].copy()     # a slice would keep the block's rows alive
        controls = rows.iloc[len(mine):]
        month = controls["index_month"].to_numpy()
        if (np.diff(month) < 0).any():          # (they come month by month; kept in case they do not)
            controls = controls.iloc[np.argsort(month, kind="stable")]
            month = controls["index_month"].to_numpy()
        for m in np.unique(month):
            lo, hi = np.searchsorted(month, m, side="left"), np.searchsorted(month, m, side="right")
            store.add(int(m), b.index, format_candidates(controls.iloc[lo:hi]))
        return BlockCandidates(b.index, f.frame(), own, len(controls))


def candidate_pieces(participants: pd.DataFrame, all_referred, check_panel: Panel, blocks, codes,
                     eligibility: dict, western: set, municipalities=(), files=None, store=None, helper=None):
    """The rows of :func:`build_candidates_blocks`'s table in order, in pieces (an iterator: the
    participants', then each index month's controls block by block, each formatted by
    :func:`format_candidates`), and the funnel. Each block's control rows go to `store`
    (``add(month, block, rows)``, ``blocks(month)``, ``read(month, i)``: by default kept in
    memory; at national scale spilled to disk) as the block is done, so the table is written
    piece by piece without ever being held whole.

    `helper`, when given, computes the other blocks elsewhere (a second process:
    :class:`~sibeval.design.candidate_process.CandidateProcess`; `blocks` are then this
    process's share, ``helper.share``): ``start(work)`` before this process's blocks, then
    ``finish(work)`` gives its :class:`BlockCandidates` and its store. The pieces are the same:
    the months' rows are taken in the blocks' order, whoever did them; so is the error, the
    first block's in that order (``finish(work, below=k)`` when this process's block k failed).
    """
    store = MonthStore() if store is None else store
    _check_index_months(participants, check_panel, files)
    treated = pd.DataFrame({
        "pnr": participants["pnr"].to_numpy(),
        "index_month": month_of_dates(participants["start_dato"]),
        "index_week": [week_of_date(d) for d in participants["start_dato"]],
        "treated": 1,
    })
    index_months = tuple(sorted(treated["index_month"].unique()))
    work = CandidateWork(treated, index_months, all_referred, codes, eligibility, western, tuple(municipalities))
    if helper is not None:
        helper.start(work)
    done, stores = [], [store]
    try:
        for b in blocks:
            done.append(work.block(b, store))
    except Exception:
        if helper is not None:
            # the helper's blocks before this one (the block after the last done) come first
            first, step = helper.share
            helper.finish(work, below=done[-1].index + step if done else first)
        raise
    if helper is not None:
        theirs, their_store = helper.finish(work)
        done, stores = done + theirs, [store, their_store]
    done.sort(key=lambda d: d.index)
    funnel = _sum_funnels([d.funnel for d in done])
    if sum(d.controls for d in done) == 0:
        steps = " -> ".join(f"{r.rule} {plain(r.persons)}" for r in funnel.itertuples())
        raise SibevalError(
            f"no candidate met the eligibility rules in any of the {len(index_months)} index month(s) "
            f"({months(index_months[:3])}{', ...' if len(index_months) > 3 else ''}); persons left after "
            f"each rule: {steps}. Fix: check eligibility: in the cohort file (sex, non_western, "
            "age_min/age_max, benefit_groups) against the extract")
    own = [d.treated for d in done if len(d.treated)]
    # the participants in their file's order, then each index month's controls in panel order
    return chain([format_candidates(pd.concat(own).sort_index())], _month_pieces(index_months, stores)), funnel


def _month_pieces(index_months, stores):
    """Each month's control rows from every store, in the order of the blocks they came from."""
    for m in index_months:
        got = sorted((k, s, i) for s, store in enumerate(stores) for i, k in enumerate(store.blocks(int(m))))
        for _, s, i in got:
            yield stores[s].read(int(m), i)


def format_candidates(cand: pd.DataFrame) -> pd.DataFrame:
    """The candidate rows as written: pnr as text (whichever block or month was empty) and
    the index week as 'YYYY-Www' (the few distinct weeks formatted once, not once per row)."""
    cand = cand.reset_index(drop=True)
    cand["pnr"] = cand["pnr"].astype(str)
    code, weeks = pd.factorize(cand["index_week"])
    cand["index_week"] = np.array([f"{y}-W{w:02d}" for y, w in weeks], dtype=object)[code]
    return cand


def _sum_funnels(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """The funnel of the whole population from its blocks' (persons are in one block each)."""
    out = frames[0].copy()
    for f in frames[1:]:
        out[["persons", "rows"]] += f[["persons", "rows"]].to_numpy()
    return out


def index_weeks_needed(participants: pd.DataFrame, k: int = 4) -> list[tuple[int, int]]:
    """The DREAM weeks the covariates read: k weeks before every index week."""
    weeks = {week_minus(week_of_date(d), k) for d in participants["start_dato"]}
    weeks |= {week_minus(_index_week(int(m)), k) for m in month_of_dates(participants["start_dato"])}
    return sorted(weeks)


def week_lookup(dream):
    """A function (pnr array, [(year, week)]) -> group ids, from a projected DreamData."""
    rows = pd.Index(dream.pnr)
    cols = {w: j for j, w in enumerate(dream.weeks)}

    def lookup(pnr, weeks):
        r = rows.get_indexer(pnr)
        c = np.array([cols.get(tuple(w), -1) for w in weeks])
        if (r < 0).any() or (c < 0).any():
            raise SibevalError("a week 4 weeks before an index week is outside the DREAM weeks "
                               f"{dream.weeks[0][0]}-W{dream.weeks[0][1]:02d} to "
                               f"{dream.weeks[-1][0]}-W{dream.weeks[-1][1]:02d}")
        return dream.groups[r, c]

    return lookup
