"""Does the effect last? Outcome trajectories on the matched sample (issue 25).

Each analysed person's status month by month: before the programme relative to its start
month (the pre-period check: the curves should overlap there), after it relative to its end
month, as far as the extract's coverage allows (a month past the data is censored; after a
person's death the person counts as in no outcome, so deaths do not change who is compared).
The participants' and their matched controls' shares use the main result's ATT weights; the
uncertainty is a cluster bootstrap over matched sets (seeded), with pointwise 95 % intervals
and a simultaneous band (sup-t). The effect's persistence is read at fixed months after the
end, and its decay fitted as effect(m) = effect(m0) (1 - d)^((m - m0)/12)
on the point estimate and on every bootstrap draw.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sibeval.extract.codes import CodeTable
from sibeval.extract.panel import Panel
from sibeval.extract.timegrid import month_of_dates
from sibeval.outcomes.status import HEADLINES, classify_status

START, END = "start", "end"          # the anchors: months relative to the start / the end month
DEAD = "dead"                        # the status of a month after the person's death
# the trajectory's analysis table (trajectory_tables), which the publish family declares
TRAJECTORY_COLUMNS = ("outcome", "anchor", "month", "outcome_month", "n_participants", "n_controls",
                      "weight_participants", "weight_controls", "x_participants", "x_controls",
                      "persons_x_participants", "persons_x_controls", "share_participants", "share_controls",
                      "estimate", "ci_low", "ci_high", "band_low", "band_high", "method")


def monthly_status(status: pd.DataFrame, panel: Panel, codes: CodeTable, before: int = 24,
                   after: int | None = None) -> pd.DataFrame:
    """The analysed rows' status in every month of the trajectory.

    `status` is classify_outcomes' frame with its `weight` (analysed rows have weight > 0).
    Rows: one per analysed row, anchor and relative month: `start` months -before..-1 (relative
    to the start month), `end` months 0..after (relative to the end month; `after` None: as far
    as the extract covers any participant). Columns: row, pnr, role, subclass, weight, anchor,
    month, observed (in the extract's coverage), dead, status ("dead" after death: in no outcome)
    and a 0/1 column per headline outcome (NaN where not observed).
    """
    df = status[status["weight"] > 0].reset_index(drop=True)
    start = df["index_month"].to_numpy(dtype=np.int64)
    end = month_of_dates(df["slut_dato"])
    last = int(panel.months[panel.covered][-1]) if panel.covered.any() else int(panel.months[0]) - 1
    if after is None:
        part = df["role"].to_numpy() == "participant"
        after = max(0, int(last - end[part].min())) if part.any() else 0
    rel = np.r_[np.arange(-before, 0), np.arange(0, after + 1)]
    anchor = np.r_[np.full(before, START), np.full(after + 1, END)]
    month = np.where(anchor == START, start[:, None] + rel, end[:, None] + rel)        # rows x months
    rows = panel.row_of(df["pnr"])[:, None].repeat(len(rel), axis=1)
    cols = panel.col_of(month.ravel()).reshape(month.shape)
    found = (rows >= 0) & (cols >= 0)
    r, c = np.where(found, rows, 0), np.where(found, cols, 0)
    # a death is an outcome, not a gap in the data: the person stays in the trajectory, in no
    # status of the living (the share of the matched persons stays one population from month to
    # month, and only the extract's end censors; a lasting outcome counts it the same way)
    observed = found & panel.covered[c]
    dead = observed & panel.dead[r, c]
    alive = observed & ~dead
    st = np.full(month.shape, None, dtype=object)
    st[dead] = DEAD
    if alive.any():
        st[alive] = classify_status(panel.group[r, c][alive], panel.ordinary[r, c][alive],
                                    panel.resident[r, c][alive], codes)
    out = pd.DataFrame({
        "row": np.repeat(np.arange(len(df)), len(rel)),
        "pnr": np.repeat(df["pnr"].to_numpy(), len(rel)),
        "role": np.repeat(df["role"].to_numpy(), len(rel)),
        "subclass": np.repeat(df["subclass"].to_numpy(), len(rel)),
        "weight": np.repeat(df["weight"].to_numpy(float), len(rel)),
        "anchor": np.tile(anchor, len(df)),
        "month": np.tile(rel, len(df)),
        "observed": observed.ravel(),
        "dead": dead.ravel(),
        "status": st.ravel(),
    })
    for h, members in HEADLINES.items():
        out[h] = np.where(out["observed"], out["status"].isin(members).astype(float), np.nan)
    return out


@dataclass(frozen=True)
class Trajectory:
    """One outcome's trajectory: per anchor and month the observed persons, the two shares,
    their difference (the effect) with pointwise and simultaneous 95 % limits, and the
    bootstrap draws of the difference (draws x months, the table's order)."""

    outcome: str
    table: pd.DataFrame
    draws: np.ndarray
    method: str

    def to_frame(self) -> pd.DataFrame:
        return self.table.assign(outcome=self.outcome)[["outcome", *self.table.columns]]


def trajectory(monthly: pd.DataFrame, outcome: str, draws: int = 500, seed: int = 20221101,
               level: float = 0.95) -> Trajectory:
    """The participants' and controls' weighted shares of `outcome` month by month and their
    difference, with a cluster bootstrap over matched sets (`draws`, seeded): pointwise
    percentile limits and a sup-t simultaneous band at `level`."""
    d = monthly[monthly["subclass"].notna()]
    keys = d[["anchor", "month"]].drop_duplicates().sort_values(["anchor", "month"],
                                                               key=lambda s: s.map({END: 1, START: 0})
                                                               if s.name == "anchor" else s)
    keys = keys.reset_index(drop=True)
    col = pd.MultiIndex.from_frame(keys)
    sets = pd.Index(pd.unique(d["subclass"]))
    s_idx = sets.get_indexer(d["subclass"])
    j_idx = col.get_indexer(pd.MultiIndex.from_frame(d[["anchor", "month"]]))
    obs = d["observed"].to_numpy(bool)
    w = d["weight"].to_numpy(float) * obs
    has = np.nan_to_num(d[outcome].to_numpy(float))
    y = has * w
    table = keys.copy()
    sums = {}
    for role, tag in (("participant", "p"), ("control", "c")):
        m = d["role"].to_numpy() == role
        for name, v in (("A", y), ("B", w)):
            arr = np.zeros((len(sets), len(keys)))
            np.add.at(arr, (s_idx[m], j_idx[m]), v[m])
            sums[name + tag] = arr
        seen = d[m & obs].groupby(["anchor", "month"])["pnr"].nunique()
        table[f"n_{role}s"] = seen.reindex(col).fillna(0).astype(int).to_numpy()
        # the counts behind the shares, for the disclosure ledger: the weighted size and count
        # (participants' weights are 1) and the distinct persons with the outcome
        table[f"weight_{role}s"] = sums["B" + tag].sum(axis=0)
        table[f"x_{role}s"] = sums["A" + tag].sum(axis=0)
        with_it = d[m & obs & (has == 1)]
        table[f"persons_x_{role}s"] = (with_it.groupby(["anchor", "month"])["pnr"].nunique()
                                       .reindex(col).fillna(0).astype(int).to_numpy())

    def shares(k):
        with np.errstate(invalid="ignore", divide="ignore"):
            sp = (k @ sums["Ap"]) / (k @ sums["Bp"])
            sc = (k @ sums["Ac"]) / (k @ sums["Bc"])
        return sp, sc

    one = np.ones((1, len(sets)))
    sp, sc = (x[0] for x in shares(one))
    table["share_participants"], table["share_controls"], table["estimate"] = sp, sc, sp - sc
    rng = np.random.default_rng(seed)
    k = rng.multinomial(len(sets), np.full(len(sets), 1 / len(sets)), size=draws).astype(float)
    bp, bc = shares(k)
    diff = bp - bc
    if len(sets) < 2:                     # one matched set: resampling it shows no uncertainty at all
        diff[:] = np.nan
    a = (1 - level) / 2
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)          # a month nobody is observed in
        table["ci_low"] = np.nanquantile(diff, a, axis=0) if draws else np.nan
        table["ci_high"] = np.nanquantile(diff, 1 - a, axis=0) if draws else np.nan
        sd = np.nanstd(diff, axis=0, ddof=1)
        ok = np.isfinite(table["estimate"].to_numpy()) & (sd > 0)
        t = np.nanmax(np.abs(diff[:, ok] - table["estimate"].to_numpy()[ok]) / sd[ok], axis=1) if ok.any() else []
    c = float(np.nanquantile(t, level)) if ok.any() else np.nan
    table["band_low"] = np.where(ok, table["estimate"] - c * sd, np.nan)
    table["band_high"] = np.where(ok, table["estimate"] + c * sd, np.nan)
    method = (f"weighted shares on the matched sets; cluster bootstrap over {len(sets)} matched sets "
              f"({draws} draws, seed {seed}); pointwise percentile limits and a sup-t simultaneous band "
              f"({level:.0%}); a month past the data is censored, a person who has died counts as "
              "in no outcome")
    return Trajectory(outcome, table, diff, method)


@dataclass(frozen=True)
class Decay:
    """The effect's decay fitted on the months after the end: effect(m) = effect_first x
    (1 - decay)^((m - first)/12), least squares weighted by the bootstrap variance, on the
    estimate and on each bootstrap draw (percentile limits)."""

    outcome: str
    effect_first: float
    decay: float
    ci_low: float
    ci_high: float
    first: int
    last: int
    months: int
    method: str

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([self.__dict__])


# the decay's search grid: a yearly fall from -50 % (growth) to 99.9 %
DECAY_GRID = np.r_[np.linspace(-0.5, 0.9, 281), np.linspace(0.9025, 0.999, 40)]


def fit_decay(traj: Trajectory, first: int = 2, last: int | None = None, level: float = 0.95,
              min_persons: int = 10) -> Decay:
    """The effect's annual decay from the trajectory's months `first`..`last` after the end
    (those with at least `min_persons` observed participants and a finite estimate)."""
    t = traj.table
    use = ((t["anchor"] == END) & (t["month"] >= first) & (t["n_participants"] >= min_persons)
           & np.isfinite(t["estimate"]))
    if last is not None:
        use &= t["month"] <= last
    use = use.to_numpy()
    m = t["month"].to_numpy()[use].astype(float)
    e = t["estimate"].to_numpy()[use]
    draws = traj.draws[:, use]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        var = np.nanvar(draws, axis=0, ddof=1) if len(draws) > 1 else np.ones(use.sum())
    wts = np.where(np.isfinite(var) & (var > 0), 1 / np.where(var > 0, var, 1), 0.0)
    nan = Decay(traj.outcome, np.nan, np.nan, np.nan, np.nan, first, int(m.max()) if len(m) else first,
                int(len(m)), "too few months observed after the end")
    if len(m) < 3 or not (wts > 0).any():
        return nan
    f = (1 - DECAY_GRID)[:, None] ** ((m - first) / 12)[None, :]         # grid x months
    den = (f ** 2 * wts).sum(axis=1)

    def best(values):                                                     # values: rows x months
        v = np.nan_to_num(values)
        num = (v * wts) @ f.T                                             # rows x grid
        gain = num ** 2 / den
        gain[num <= 0] = -np.inf                                          # a positive effect only
        g = np.argmax(gain, axis=1)
        ok = np.isfinite(gain[np.arange(len(g)), g])
        return np.where(ok, num[np.arange(len(g)), g] / den[g], np.nan), np.where(ok, DECAY_GRID[g], np.nan)

    a, d = best(e[None, :])
    _, dd = best(draws)
    a_ = (1 - level) / 2
    lo, hi = (np.nanquantile(dd, [a_, 1 - a_]) if np.isfinite(dd).sum() > 1 else (np.nan, np.nan))
    return Decay(traj.outcome, float(a[0]), float(d[0]), float(lo), float(hi), first, int(m.max()), int(len(m)),
                 f"effect(m) = effect(+{first}) x (1 - d)^((m - {first})/12), least squares weighted by the "
                 f"bootstrap variance over months +{first} to +{int(m.max())}; percentile limits over "
                 f"{len(dd)} bootstrap draws; a draw with no positive effect has no decay")


def persistence(traj: Trajectory, at=(2, 6, 12, 18, 24)) -> pd.DataFrame:
    """The effect at fixed months after the end, where observed: the trajectory's rows."""
    t = traj.table
    rows = t[(t["anchor"] == END) & t["month"].isin(at) & (t["n_participants"] > 0)]
    return rows.assign(outcome=traj.outcome)[["outcome", "month", "n_participants", "n_controls", "estimate",
                                               "ci_low", "ci_high"]].reset_index(drop=True)


def last_complete(traj: Trajectory, first: int) -> int:
    """The last month after the end up to which every analysed row is observed from month `first`
    (the same participants and controls every month)."""
    t = traj.table[traj.table["anchor"] == END].sort_values("month")
    t = t[t["month"] >= first]
    if t.empty:
        return first
    full = (t["n_participants"] == t["n_participants"].iloc[0]) & \
        (np.abs(t["weight_controls"] - t["weight_controls"].iloc[0]) < 1e-9)
    run = full.cumprod().astype(bool)
    return int(t.loc[run, "month"].max())


def pre_period_overlaps(traj: Trajectory) -> bool:
    """Whether the simultaneous band covers no difference in every month before the start (the
    curves overlap there, as matching on the history should make them)."""
    t = traj.table[(traj.table["anchor"] == START) & np.isfinite(traj.table["band_low"])]
    return bool(((t["band_low"] <= 0) & (t["band_high"] >= 0)).all())


def trajectory_tables(status: pd.DataFrame, panel: Panel, codes: CodeTable, follow_up: int, settings: dict,
                      outcomes) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """The analysis tables of the trajectories (`settings`: the cohort's trajectory section):
    one row per outcome, anchor and month with the counts the disclosure ledger needs and
    `outcome_month` marking the contract's month; the decay per outcome; a log line each."""
    monthly = monthly_status(status, panel, codes, before=settings["months_before"])
    tables, decays, lines = [], [], []
    for o in outcomes:
        t = trajectory(monthly, o, draws=settings["draws"], seed=settings["seed"])
        # on the months everyone is observed in: later months hold only the persons who ended early
        # (a different group), and the published table shows these months only
        d = fit_decay(t, first=follow_up, last=last_complete(t, follow_up), min_persons=settings["min_persons"])
        f = t.to_frame()
        f["outcome_month"] = (f["anchor"] == END) & (f["month"] == follow_up)
        tables.append(f.assign(method=t.method))
        decays.append(d.to_frame())
        lines.append(f"{o}: effect {d.effect_first:+.3f} at +{d.first}, decay {d.decay:.3f} (95 % {d.ci_low:.3f} to "
                     f"{d.ci_high:.3f}) over {d.months} months; the pre-period "
                     + ("overlaps" if pre_period_overlaps(t) else "does not overlap"))
    return pd.concat(tables, ignore_index=True), pd.concat(decays, ignore_index=True), lines
