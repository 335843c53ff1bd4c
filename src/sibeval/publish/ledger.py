"""Joint small-cell protection of every number a cohort publishes, proved by an attacker.

Every count a cohort publishes (or that follows from published counts, like an exclusion
between two flow steps) is a *quantity* in a `Ledger`; every way an attacker can combine
them (a total, a headline that sums statuses, consecutive flow steps, margins of a
cross-table, subgroups that add up to the whole) is a linear *relation*. `protect()`
hides the primary cells (1 to min_cell - 1 persons), then adds complementary cells until
`audit()` finds every primary cell safe: by integer linear programming (HiGHS, called as
`scipy.optimize.milp` calls it: `sibeval.publish.highs`) it computes the tightest interval
an attacker can derive for each hidden cell from everything published, and a small cell
is protected only when that interval still covers 1 to min_cell - 1 (the marker's own
information, nothing more).

Control counts are weighted (matched sets of unequal size); the rule counts distinct
control *persons*, and the attacker's interval is computed for the weighted count, whose
marker range is [w_min, (min_cell - 1) * w_max] for the control weights' range.
"""

from __future__ import annotations

import warnings
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sibeval.errors import InconsistentTables, SibevalError

TOL = 1e-6
# the rule names of relations a family adds after a protection (Family.refine) start with this
REFINED = "as published: "
# the pairs of cells a repair tries when no single cell protects a leak (cheapest first)
PAIR_FIRST, PAIR_SECOND = 5, 10
KEEP_ALWAYS = 3         # a cell hidden only when no other can protect a leak
AUDIT_COLUMNS = ["cell", "published_as", "value_range_from_markers", "derivable_low", "derivable_high", "protected",
                 "rule", "relations"]


@dataclass
class Quantity:
    key: str
    value: float            # the number (weighted for controls)
    persons: int            # distinct persons behind it: what the rule counts
    integer: bool = True    # an attacker may assume a whole number
    shown: bool = True      # printed somewhere (False: only implied, e.g. n - x)
    public: bool = False    # already public (disclosure.public_counts)
    keep: int = 1           # cost of hiding it: 0 minor, 1 ordinary, 2 total/headline, 3 last resort
    unit: tuple[float, float] = (1.0, 1.0)   # range of one person's weight
    at_least: float = 0.0   # what a reader knows without a number, e.g. 1 for a reason the flow names
    sensitive: bool = True  # False: an unknown that constrains others but is not itself protected


@dataclass
class Ledger:
    """Every published count of a cohort and the relations between them."""

    min_cell: int
    zeros_sensitive: bool = False
    quantities: dict[str, Quantity] = field(default_factory=dict)
    relations: list[tuple[dict[str, float], str]] = field(default_factory=list)
    # lo <= sum(coef * quantity) <= hi: what a rounded number says of its counts (a share
    # k/n printed as m to a step s puts k - n(m - s/2) >= 0 and k - n(m + s/2) <= 0)
    bounds: list[tuple[dict[str, float], float, float, str]] = field(default_factory=list)
    table: str = ""                                   # the table being registered
    origin: dict[str, str] = field(default_factory=dict)

    def unknown(self, key: str, hidden: dict) -> bool:
        """Whether a reader does not see this cell's value."""
        return key in hidden or not self.quantities[key].shown

    def add(self, key: str, value: float, persons: int | None = None, **kw) -> str:
        value = float(value)
        persons = int(round(value)) if persons is None else int(persons)
        if key in self.quantities:
            q = self.quantities[key]
            if abs(q.value - value) > 1e-6 * max(1.0, abs(value)):
                raise InconsistentTables(
                    f"internal error: the analysis tables disagree on cell '{key}': table "
                    f"'{self.origin.get(key, '?')}' gives {q.value:g} and table '{self.table or '?'}' "
                    f"gives {value:g} (interim/tables/)")
            q.shown = q.shown or kw.get("shown", True)
            q.public = q.public or kw.get("public", False)
            q.keep = max(q.keep, kw.get("keep", 1))
            return key
        self.quantities[key] = Quantity(key, value, persons, **kw)
        self.origin[key] = self.table
        return key

    def relate(self, terms: dict[str, float], rule: str) -> None:
        """sum(coef * quantity) == 0; every key must exist."""
        missing = [k for k in terms if k not in self.quantities]
        if missing:
            raise SibevalError(f"disclosure: relation '{rule}' names unknown cells {missing}")
        total = sum(c * self.quantities[k].value for k, c in terms.items())
        if abs(total) > 1e-6 * max(1.0, max(abs(self.quantities[k].value) for k in terms)):
            raise SibevalError(f"disclosure: relation '{rule}' does not hold ({total:g})")
        self.relations.append((dict(terms), rule))

    def bound(self, terms: dict[str, float], lo: float, hi: float, rule: str) -> None:
        """lo <= sum(coef * quantity) <= hi (an end may be infinite); every key must exist."""
        missing = [k for k in terms if k not in self.quantities]
        if missing:
            raise SibevalError(f"disclosure: relation '{rule}' names unknown cells {missing}")
        total = sum(c * self.quantities[k].value for k, c in terms.items())
        slack = 1e-6 * max(1.0, max(abs(c * self.quantities[k].value) for k, c in terms.items()))
        if not lo - slack <= total <= hi + slack:
            raise SibevalError(f"disclosure: relation '{rule}' does not hold ({total:g} not in [{lo:g}, {hi:g}])")
        self.bounds.append((dict(terms), float(lo), float(hi), rule))

    def links(self):
        """(terms, rule) of every relation, equal or bounded: what ties cells together."""
        yield from self.relations
        for terms, _, _, rule in self.bounds:
            yield terms, rule

    def sums(self, total: str, parts, rule: str) -> None:
        self.relate({total: 1.0, **{p: -1.0 for p in parts}}, rule)

    def small(self, q: Quantity) -> bool:
        lo = 0 if self.zeros_sensitive else 1
        return q.sensitive and not q.public and lo <= q.persons <= self.min_cell - 1

    def marker_range(self, q: Quantity) -> tuple[float, float]:
        lo = 0 if self.zeros_sensitive else 1
        return (lo * q.unit[0], (self.min_cell - 1) * q.unit[1])


@dataclass(frozen=True)
class Protection:
    """Which cells are hidden (key -> "primary" | "complementary") and the audit."""

    hidden: dict
    audit: pd.DataFrame

    @property
    def safe(self) -> bool:
        return bool(self.audit["protected"].all()) if len(self.audit) else True


def _kept(led: Ledger, key: tuple, build):
    """`build()`, computed once per `key` while protect() or search() runs on this ledger (its
    cells and relations do not change then; a key names the relations' count where it
    depends on them), else each time."""
    cache = _CACHE.get(id(led))
    if cache is None:
        return build()
    if key not in cache:
        cache[key] = build()
    return cache[key]


def _links_of(led: Ledger) -> dict[str, list[dict[str, float]]]:
    """Each cell's links (the terms of every relation it is in)."""
    def build():
        out: dict[str, list[dict[str, float]]] = {k: [] for k in led.quantities}
        for terms, _ in led.links():
            for k in terms:
                out[k].append(terms)
        return out
    return _kept(led, ("links", len(led.relations), len(led.bounds)), build)


def _components(led: Ledger, variables: set[str]) -> dict[str, int]:
    """A label per cell: `variables` linked through relations (directly or through other
    variables) share one; every other cell has one of its own."""
    def build():
        cells, col, link, cell = _incidence(led)
        is_variable = np.zeros(len(cells), dtype=bool)
        is_variable[[col[k] for k in variables]] = True
        on = is_variable[cell]
        link, cell = link[on], cell[on]           # sorted by link
        # label propagation: each cell takes the smallest label of the cells it shares a link
        # with until none changes (a Python union-find took 2-3 ms for each of 528 patterns)
        label = np.arange(len(cells))
        if len(link):
            new_link = np.r_[True, link[1:] != link[:-1]]
            starts, of_pair = np.flatnonzero(new_link), np.cumsum(new_link) - 1
            while True:
                smallest = np.minimum.reduceat(label[cell], starts)
                new = label.copy()
                np.minimum.at(new, cell, smallest[of_pair])
                new = new[new]
                if np.array_equal(new, label):
                    break
                label = new
        return dict(zip(cells, label.tolist()))
    return _kept(led, ("components", len(led.relations), len(led.bounds), frozenset(variables)), build)


def _incidence(led: Ledger) -> tuple[list[str], dict[str, int], np.ndarray, np.ndarray]:
    """The cells, each one's column, and the (link, cell) pairs of every link (led.links())."""
    def build():
        cells = list(led.quantities)
        col = {k: i for i, k in enumerate(cells)}
        pairs = [(j, col[k]) for j, (terms, _) in enumerate(led.links()) for k in terms]
        link, cell = (np.array(v, dtype=np.int64) for v in zip(*pairs)) if pairs else (np.zeros(0, np.int64),) * 2
        return cells, col, link, cell
    return _kept(led, ("incidence", len(led.relations), len(led.bounds)), build)


def _link_order(led: Ledger) -> tuple[dict[int, int], list[tuple]]:
    """The links as (terms, lo, hi, rule), relations then bounds, and each one's first place
    among them (by the id of its terms)."""
    def build():
        entries = [(t, 0.0, 0.0, r) for t, r in led.relations] + led.bounds
        place: dict = {}
        for i, (terms, *_) in enumerate(entries):
            place.setdefault(id(terms), i)
        return place, entries
    return _kept(led, ("order", len(led.relations), len(led.bounds)), build)


def _members(led: Ledger, variables) -> dict[str, list[str]]:
    """The cells of each component of `_components`, in name order."""
    def build():
        comp = _components(led, variables)
        out: dict = {}
        for k in sorted(variables):
            out.setdefault(comp[k], []).append(k)
        return out
    return _kept(led, ("members", len(led.relations), len(led.bounds), frozenset(variables)), build)


def _unknown_without_markers(led: Ledger) -> tuple[frozenset, frozenset]:
    """The cells no reader sees whatever is hidden (implied ones), and those the pattern's
    problem also takes as unknown (not public, and not a zero a policy prints)."""
    return _kept(led, ("unknown",), lambda: (
        frozenset(k for k, q in led.quantities.items() if not q.shown),
        frozenset(k for k, q in led.quantities.items()
                  if not q.public and not (q.value == 0 and not led.zeros_sensitive))))


def _bounds(led: Ledger, q: Quantity, hidden: dict) -> tuple[float, float]:
    """What the attacker knows of an unpublished cell from its marker alone."""
    if not q.shown or q.key not in hidden or not q.sensitive:
        return (q.at_least, np.inf)     # a hidden structural count ("x") may be small
    if hidden.get(q.key) == "primary":
        lo, hi = led.marker_range(q)
        return (max(lo, q.at_least), hi)
    return (max(led.min_cell * q.unit[0], q.at_least), np.inf)          # "x": at least min_cell persons


def _intervals(led: Ledger, hidden: dict, targets, markers_only: bool = False,
               relaxed: bool = False) -> dict[str, tuple[float, float, str]]:
    """Tightest [min, max] of each target an attacker can derive, with the relations used;
    `markers_only`: from the suppression pattern alone, every unhidden number unknown
    except the zeros a policy with `zeros_sensitive: false` prints. `relaxed`: the linear
    relaxation's interval (whole numbers not assumed), which contains the attacker's: a
    cheap test that a trial cannot protect a cell."""
    # a shown zero is part of the pattern when zeros are not sensitive (the policy prints
    # them): a headline equal to its one non-zero status is then known from the pattern too
    cache = _CACHE.get(id(led), {})      # kept only while protect() or search() runs on this ledger
    unshown, pattern = _unknown_without_markers(led)
    variables = unshown | (hidden.keys() & led.quantities.keys()) | (pattern if markers_only else frozenset())
    comp, members = _components(led, variables), _members(led, variables)
    out = {}
    todo = []
    for t in targets:
        vs = members[comp[t]]
        # the problem is set by the component's cells and how each is hidden: the repair's
        # trials and the pruning ask the same one again (a cell's other components unchanged)
        shape = (markers_only, len(led.relations), len(led.bounds), tuple(vs), tuple(hidden.get(k) for k in vs))
        key = (t, relaxed, *shape)
        if key in cache:
            out[t] = cache[key]
            continue
        problem = cache.get(("problem", *shape)) or _problem(led, hidden, vs)
        cache[("problem", *shape)] = problem
        idx, cons, integrality, bounds, used = problem
        if relaxed:
            integrality = np.zeros_like(integrality)
        for sign in (1.0, -1.0):
            c = np.zeros(len(vs))
            c[idx[t]] = sign
            todo.append((t, key, vs, sign, used, (c, cons, integrality, bounds)))
    def end(t, vs, sign, used, task, r) -> float:
        c, cons, integrality, bounds = task
        if r.status == 1 and markers_only:
            # the pattern's interval may only be wider than the attacker's best (it is what
            # the markers alone allow): past the time limit, the linear relaxation's is
            r = _solve_all([(c, cons, np.zeros_like(integrality), bounds)])[0]
        elif r.status == 1 and r.x is not None:
            # the attacker's interval may only be narrower: past the time limit, the best
            # value found (a value the published numbers allow) stands for its end, or a
            # value of an earlier solution that fits, if further out (as the search saw it)
            used.append("time limit: the best value found")
            found = sign * float(c @ r.x)
            if "points" in cache and not (markers_only or relaxed):
                inner = cache["points"].inner(hidden, t)
                found = min(found, inner[0]) if sign > 0 else max(found, inner[1])
            return found
        elif r.status == 1:
            raise SibevalError(f"disclosure audit: the attacker's problem for '{t}' found no value within "
                               f"{MIP_SECONDS:g} s; nothing was published. Fix: leave out the trajectory "
                               "(trajectory.publish: false) or merge small categories")
        if r.status != 0:
            raise SibevalError(f"disclosure audit: the attacker's problem for '{t}' has no "
                               f"solution ({r.message}); the published relations are inconsistent")
        if not (markers_only or relaxed or r.get("loose")) and "points" in cache:
            cache["points"].add(vs, r.x)
        v = sign * r.fun
        return np.inf if v >= _big(led) / 2 else v

    # every problem first (both ends of every target, side by side on the solver's threads),
    # then their answers in the order of one thread
    got: dict = {}
    for (t, key, vs, sign, used, task), r in zip(todo, _solve_all([d[-1] for d in todo])):
        ends, used = got.setdefault(key, ([], list(used)))
        ends.append(end(t, vs, sign, used, task, r))
        if sign < 0:
            out[t] = cache[key] = (ends[0], ends[1], "; ".join(sorted(set(used))) or "marker only")
    return out


def _big(led: Ledger) -> float:
    # a finite ceiling far above any count keeps HiGHS from "infeasible or unbounded"
    return _kept(led, ("big",), lambda: 2.0 * max(abs(q.value) for q in led.quantities.values()) + 10.0)


def _problem(led: Ledger, hidden: dict, vs: list[str]):
    """The attacker's constraints on one component's unknown cells `vs`: (index of each cell,
    constraints, integrality, bounds, the rules used)."""
    # scipy where a problem is built: a job with nothing to protect (the QC tables') never
    # imports scipy.optimize
    from scipy.optimize import Bounds, LinearConstraint
    from scipy.sparse import csc_array

    idx = {k: i for i, k in enumerate(vs)}
    rows, lows, tops, used = [], [], [], []
    links, (place, entries) = _links_of(led), _link_order(led)
    # the links of these cells, each once, in the ledger's order (the rows' order is HiGHS's)
    for i in sorted({place[id(terms)] for k in vs for terms in links[k]}):
        terms, lo, hi, rule = entries[i]
        row = np.zeros(len(vs))
        const = 0.0
        for k, c in terms.items():
            if k in idx:
                row[idx[k]] += c
            else:
                const += c * led.quantities[k].value
        rows.append(row)
        lows.append(lo - const - TOL)
        tops.append(hi - const + TOL)
        used.append(rule)
    lo_b, hi_b = zip(*(_bounds(led, led.quantities[k], hidden) for k in vs))
    big = _big(led)
    hi_b = [min(h, big) for h in hi_b]
    integrality = np.array([led.quantities[k].integer for k in vs], dtype=int)
    # sparse once here: each problem is solved for both ends, often again for other trials
    cons = [LinearConstraint(csc_array(np.array(rows)), np.array(lows), np.array(tops))] if rows else []
    return idx, cons, integrality, Bounds(lo_b, hi_b), tuple(used)


class _Points:
    """Solutions of the attacker's problems: values of every cell that fit everything
    published under the pattern they were found for. Under another pattern a solution still
    fits when each cell it sets apart from the true value is unknown there, within its
    bounds and whole if the cell is a count; the values of a cell over the solutions that
    fit (and its true value) then lie inside the attacker's interval, a cheap proof that the
    interval is at least that wide."""

    def __init__(self, led: Ledger):
        self.led = led
        self.col = {k: i for i, k in enumerate(led.quantities)}
        self.truth = np.array([q.value for q in led.quantities.values()], dtype=float)
        self.integer = np.array([q.integer for q in led.quantities.values()], dtype=bool)
        # the bounds with nothing hidden: a shown cell is known, an implied one is not
        self.lo, self.hi = self.truth.copy(), self.truth.copy()
        for k, q in led.quantities.items():
            if not q.shown:
                self.lo[self.col[k]], self.hi[self.col[k]] = _bounds(led, q, {})
        self.seen: set = set()
        self.rows = np.empty((16, len(self.truth)))      # grown by doubling; the first `n` used
        self.n = 0
        self.apart = np.zeros(len(self.truth), dtype=bool)   # cells some solution moves
        self._last: tuple = (None, None)                     # (pattern and solutions, which fit)

    def add(self, vs, x) -> None:
        full = self.truth.copy()
        full[[self.col[k] for k in vs]] = x
        key = full.round(6).tobytes()
        if key in self.seen or (np.abs(full - np.round(full)) > TOL)[self.integer].any():
            return          # known, or a count not whole: it fits no pattern
        self.seen.add(key)
        if self.n == len(self.rows):
            self.rows = np.concatenate([self.rows, np.empty_like(self.rows)])
        self.rows[self.n] = full
        self.n += 1
        self.apart |= np.abs(full - self.truth) > TOL

    def _fit(self, hidden: dict) -> np.ndarray:
        """Which solutions fit `hidden`: the same for every cell asked of one pattern (the
        audit's loops), so kept until the next solution comes."""
        key = (frozenset(hidden.items()), self.n)
        if self._last[0] != key:
            lo, hi = self.lo.copy(), self.hi.copy()
            for k in hidden:
                lo[self.col[k]], hi[self.col[k]] = _bounds(self.led, self.led.quantities[k], hidden)
            cols = np.flatnonzero(self.apart)
            m = self.rows[:self.n, cols]
            self._last = (key, ((m >= lo[cols] - TOL) & (m <= hi[cols] + TOL)).all(axis=1))
        return self._last[1]

    def inner(self, hidden: dict, key: str) -> tuple[float, float]:
        """[min, max] of `key` over the solutions that fit `hidden` and the true values."""
        t = self.col[key]
        if not self.n:
            return self.truth[t], self.truth[t]
        vals = self.rows[:self.n][self._fit(hidden), t]
        return min(self.truth[t], vals.min(initial=np.inf)), max(self.truth[t], vals.max(initial=-np.inf))


# per ledger (by id, while protect() or search() runs on it): each attacker's problem solved once
_CACHE: dict[int, dict] = {}


# one attacker's problem's time limit (status 1 past it): only the pattern's problems, whose every
# unhidden number is a variable, come near it (the trajectory's months of a matched cohort)
MIP_SECONDS = 10.0


def _solve_all(tasks: list) -> list:
    """`_solve` of each (c, constraints, integrality, bounds), on the solver's threads when
    `solver_threads` set more than one (HiGHS releases the GIL): the answers are the same,
    unless a problem runs into the time limit (wall time: two at once reach it sooner)."""
    pool = _THREADS["pool"]
    with warnings.catch_warnings():     # milp (highs.solve's fallback) warns that it passes HiGHS's options on
        warnings.filterwarnings("ignore", "Unrecognized options", RuntimeWarning)
        if pool is None or len(tasks) < 2:
            return [_solve(*t) for t in tasks]
        return list(pool.map(lambda t: _solve(*t), tasks))


_THREADS: dict = {"pool": None}


@contextmanager
def solver_threads(n: int):
    """Solve the attacker's problems on `n` threads inside this block (1: in this thread;
    inside another such block, that block's threads). For one protection at a time: the
    threads belong to the process, not to a caller's thread."""
    if n <= 1 or _THREADS["pool"] is not None:
        yield
        return
    with ThreadPoolExecutor(max_workers=n, thread_name_prefix="highs") as pool:
        _THREADS["pool"] = pool
        try:
            yield
        finally:
            _THREADS["pool"] = None


# HiGHS's feasibility jump heuristic took two thirds of the time of the attacker's problems,
# which its presolve and first LP settle (5.6 of 8.1 ms, bench/README.md): the optimum is the
# same without it. Its presolve stays: without it the 1,964 problems of the 10^6 cohort took
# 5.2-6.0 s against 7.3-8.6 s, but HiGHS then accepted a point 4.6e-7 outside the bounds that
# already allow TOL, and Kolding's audit gave an implied cell's attacker 6 where it is 4
HIGHS = {"time_limit": MIP_SECONDS, "mip_heuristic_run_feasibility_jump": False}


def _solve(c, cons, integrality, bounds):
    """HiGHS, retried without presolve if it reports a numerical failure or infeasibility, and
    then with a MIP feasibility tolerance of 1e-5 (HiGHS's default 1e-6 fails on repeated
    equalities held to TOL; 1e-5 changes no whole count). The true counts satisfy every
    relation (checked when it is added) and every marker, so the problem is never infeasible:
    HiGHS's presolve has called a feasible problem of weighted controls infeasible (scenario
    302, tests/fixtures/highs_presolve_infeasible.npz); without presolve it solves. Call it
    through `_solve_all`, which quiets scipy's warning about HiGHS's options."""
    from sibeval.publish import highs

    r = highs.solve(c, cons, integrality, bounds, HIGHS)
    for options in ({"presolve": False}, {"presolve": False, "mip_feasibility_tolerance": 1e-5}):
        if r.status not in (2, 4):
            break
        r = highs.solve(c, cons, integrality, bounds, {**HIGHS, **options})
        r["loose"] = "mip_feasibility_tolerance" in options    # its solution is not kept as a proof
    return r


def audit(led: Ledger, hidden: dict) -> pd.DataFrame:
    """One row per small cell: how it is published, the attacker's interval, protected or not."""
    rows = []
    targets = [k for k, q in led.quantities.items() if led.small(q)]
    shown_small = [k for k in targets if led.quantities[k].shown and k not in hidden]
    if shown_small:
        raise SibevalError(f"disclosure: small cells would be printed: {shown_small[:5]}")
    iv = _intervals(led, hidden, targets)
    pattern = _intervals(led, hidden, targets, markers_only=True)
    for k in targets:
        q = led.quantities[k]
        lo, hi, rules = iv[k]
        p_lo, p_hi, _ = pattern[k]
        # a weighted count's interval in whole units, rounded outward: its exact ends are the
        # range of one control's weight, which tells which sets lost a control
        out_lo, out_hi = (_r, _r) if q.integer else (_floor, _ceil)
        rows.append({"cell": k, "published_as": f"<{led.min_cell}" if q.shown else "(implied)",
                     "value_range_from_markers": f"{out_lo(p_lo)}-{out_hi(p_hi)}",
                     "derivable_low": out_lo(lo), "derivable_high": out_hi(hi),
                     "protected": _protected(led, q, (lo, hi), (p_lo, p_hi)), "rule": "primary",
                     "relations": rules})
    for k, why in sorted(hidden.items()):
        if why == "complementary":
            rows.append({"cell": k, "published_as": "x", "value_range_from_markers": "", "derivable_low": np.nan,
                         "derivable_high": np.nan,
                         "protected": True, "rule": "complementary", "relations": ""})
    return pd.DataFrame(rows, columns=AUDIT_COLUMNS)


def _protected(led: Ledger, q: Quantity, derived, pattern) -> bool:
    """The published numbers add nothing to what the markers themselves say, and do not
    pin the cell (a small sum of small cells, "<5", already bounds its members)."""
    (lo, hi), (p_lo, p_hi) = derived, pattern
    need_lo, need_hi = led.marker_range(q)
    return bool(lo <= max(need_lo, p_lo) + TOL and hi >= min(need_hi, p_hi) - TOL and not _pinned(q, (lo, hi)))


def _pinned(q: Quantity, iv) -> bool:
    """Narrower than one person: no pattern can make such an interval protect its cell."""
    return iv[1] - iv[0] < q.unit[0] - TOL


def derivable(led: Ledger, hidden: dict, key: str) -> tuple[float, float]:
    """The tightest interval an attacker can derive for one cell from what is published."""
    q = led.quantities[key]
    if q.shown and key not in hidden:
        return q.value, q.value
    lo, hi, _ = _intervals(led, hidden, [key])[key]
    return lo, hi


def _cell_safe(led: Ledger, hidden: dict, key: str) -> bool:
    points = _CACHE.get(id(led), {}).get("points")
    if points is not None and _protected(led, led.quantities[key], points.inner(hidden, key), (-np.inf, np.inf)):
        return True         # values the attacker cannot rule out already cover the marker's range
    lo, hi, _ = _intervals(led, hidden, [key])[key]
    return _pattern_protects(led, hidden, key, (lo, hi))


def _pattern_protects(led: Ledger, hidden: dict, key: str, iv) -> bool:
    """The audit's test of an attacker's interval against the pattern's, solving the
    pattern's problem only when the interval alone does not settle it: narrower than one
    person it fails, covering the marker's whole range it passes, whatever the pattern."""
    q = led.quantities[key]
    if _pinned(q, iv):
        return False
    if _protected(led, q, iv, (-np.inf, np.inf)):
        return True
    p_lo, p_hi, _ = _intervals(led, hidden, [key], markers_only=True)[key]
    return _protected(led, q, iv, (p_lo, p_hi))


def _r(v):
    return v if not np.isfinite(v) else round(float(v), 4)


def _floor(v):
    return v if not np.isfinite(v) else float(np.floor(v + 1e-9))


def _ceil(v):
    return v if not np.isfinite(v) else float(np.ceil(v - 1e-9))


def protect(led: Ledger, tries: int = 25) -> Protection:
    """Primary suppression, then complementary cells until every small cell is safe.

    Leaks are repaired one at a time, in a fixed order. For a leak the candidates are the
    published cells related to it, cheapest first (minor, smallest, fewest relations, name);
    the first that protects it alone is taken, else the one that widens the attacker's
    interval most. Hiding a cell only widens intervals, so a protected cell stays protected;
    a final audit checks everything again."""
    if not led.quantities:                 # nothing counted (e.g. the QC tables alone)
        return Protection({}, pd.DataFrame(columns=AUDIT_COLUMNS))
    with _search_session(led):
        hidden = _search(led, tries)
        final = audit(led, hidden)         # in the session: the search solved most of it
    if not final.loc[final.rule == "primary", "protected"].all():
        raise SibevalError("disclosure: complementary suppression left a small cell unprotected; nothing was published")
    return Protection(hidden, final)


def search(led: Ledger, tries: int = 25) -> dict:
    """The cells `protect` hides (key -> "primary" | "complementary"), without its final
    audit: for a caller that audits them under more relations (`boundary.protect_refined`)."""
    with _search_session(led):
        return _search(led, tries)


@contextmanager
def _search_session(led: Ledger):
    _CACHE[id(led)] = {"points": _Points(led)}
    try:
        yield
    finally:
        _CACHE.pop(id(led), None)


def _search(led: Ledger, tries: int) -> dict:
    hidden = {k: "primary" for k, q in led.quantities.items() if q.shown and led.small(q)}
    degree = {k: 0 for k in led.quantities}
    for terms, _ in led.links():
        for k in terms:
            degree[k] += 1
    # the audit's order and test (covering the marker's range also passes the pattern's)
    for leak in [k for k, q in led.quantities.items() if led.small(q) and not _cell_safe(led, hidden, k)]:
        while not _cell_safe(led, hidden, leak):
            cands = _complements_for(led, hidden, leak, degree)[:tries]
            if not cands:
                iv = _intervals(led, hidden, [leak])[leak]
                raise SibevalError(
                    f"disclosure: the small cell '{leak}' can be worked out from published numbers "
                    f"(between {_r(iv[0])} and {_r(iv[1])}) and no further cell can be hidden to protect "
                    "it; nothing was published. Fix: merge small categories or leave the table out")
            for pick in _repair(led, hidden, leak, cands, degree, tries):
                hidden[pick] = "complementary"
    return dict(sorted(_prune(led, hidden).items()))


def _all_safe(led: Ledger, hidden: dict) -> bool:
    # the audit's test, cell by cell: covering the marker's range also passes the pattern's
    return all(_cell_safe(led, hidden, k) for k, q in led.quantities.items() if led.small(q))


def _prune(led: Ledger, hidden: dict) -> dict:
    """Show again every complementary cell the others make unnecessary (a repair may pick a
    cell that a later one makes redundant, e.g. a step whose exclusion of 0 is shown), last
    chosen first; the result protects every small cell as before."""
    before = hidden
    targets = [t for t, q in led.quantities.items() if led.small(q)]
    for k in [k for k, why in reversed(list(hidden.items())) if why == "complementary"]:
        trial = {c: w for c, w in hidden.items() if c != k}
        # only the small cells linked to k (through unpublished cells) can be affected
        variables = {c for c in led.quantities if led.unknown(c, hidden)}
        comp = _components(led, variables)
        if all(_cell_safe(led, trial, t) for t in targets if comp[t] == comp[k]):
            hidden = trial
    return hidden if _all_safe(led, hidden) else before


def _repair(led: Ledger, hidden: dict, leak: str, cands: list, degree: dict, tries: int) -> list[str]:
    """The cells to hide next for one leak: the cheapest that protects it alone; else the
    cheapest pair that does; else the single cell that widens the attacker's interval most."""
    q = led.quantities[leak]
    # hiding a non-zero cell only narrows the interval the markers alone give (an "x" is at
    # least min_cell), so the pattern with all such candidates hidden bounds, from inside, the
    # pattern of every trial that hides some of them: a trial that fails against it fails
    narrowing = {c for c in cands if led.quantities[c].value != 0 or led.zeros_sensitive}
    union = hidden | {c: "complementary" for c in narrowing}
    # hiding a cell only widens the attacker's interval, so with every such candidate hidden it
    # bounds, from outside, the interval of every trial that hides some of them: if that fails
    # against the inner pattern (or is narrower than one person), so does each of those trials
    outer = _widened(_intervals(led, union, [leak])[leak])
    pinned = _pinned(q, outer)
    inner = None if pinned else _intervals(led, union, [leak], markers_only=True)[leak]
    hopeless = pinned or not _protected(led, q, outer, inner[:2])

    def safe(trial) -> tuple[bool, float | None]:
        """(protected, the attacker's width); the width is None when a bound already shows
        the trial fails (the relaxation's interval, or the outer one, contains the attacker's)."""
        narrowed = set(trial) - set(hidden) <= narrowing
        if narrowed and (hopeless or not _protected(
                led, q, _widened(_intervals(led, trial, [leak], relaxed=True)[leak]), inner[:2])):
            return False, None
        lo, hi, _ = _intervals(led, trial, [leak])[leak]
        if narrowed and not _protected(led, q, (lo, hi), inner[:2]):
            return False, _width(lo, hi)
        return _pattern_protects(led, trial, leak, (lo, hi)), _width(lo, hi)

    widths = {}
    for c in cands:
        ok, widths[c] = safe(hidden | {c: "complementary"})
        if ok:
            return [c]
    for c in cands[:PAIR_FIRST]:
        trial = hidden | {c: "complementary"}
        for d in _complements_for(led, trial, leak, degree)[:PAIR_SECOND]:
            if safe(trial | {d: "complementary"})[0]:
                return [c, d]
    return [_widest(led, hidden, leak, cands, widths)]


def _width(lo: float, hi: float) -> float:
    # to 1e-6, the solver's tolerance: equal widths compare equal (the first among them wins)
    return round(hi - lo, 6)


def _widened(iv) -> tuple[float, float]:
    return iv[0] - TOL, iv[1] + TOL


def _widest(led: Ledger, hidden: dict, leak: str, cands: list, widths: dict) -> str:
    """The candidate whose hiding widens the leak's interval most, the first among equals.
    A width not yet computed is computed only if an upper bound on it could beat the best so
    far: the interval with every candidate hidden (it contains each trial's), then the trial's
    linear relaxation."""
    best, best_w, outer = None, -np.inf, None
    for c in cands:
        w = widths[c]
        if w is None:
            if outer is None:
                outer = _width(*_intervals(led, hidden | {d: "complementary" for d in cands}, [leak])[leak][:2])
            trial = hidden | {c: "complementary"}
            if outer <= best_w or _width(*_intervals(led, trial, [leak], relaxed=True)[leak][:2]) <= best_w:
                continue
            w = _width(*_intervals(led, trial, [leak])[leak][:2])
        if w > best_w:
            best, best_w = c, w
    return best


def _complements_for(led: Ledger, hidden: dict, leak: str, degree: dict) -> list[str]:
    """Published cells related (directly or through hidden cells) to the leaking one,
    cheapest first: minor, then smallest, then fewest relations, then name."""
    unknown = {k for k in led.quantities if led.unknown(k, hidden)}
    links = _links_of(led)
    reach, frontier, cands = {leak}, [leak], set()
    while frontier:
        k = frontier.pop()
        for terms in links[k]:
            for other in terms:
                if other in reach:
                    continue
                q = led.quantities[other]
                if other in unknown:
                    reach.add(other)
                    frontier.append(other)
                elif not q.public and (q.persons >= led.min_cell or not q.sensitive):
                    cands.add(other)
    ranked = sorted(cands, key=lambda k: (led.quantities[k].keep, led.quantities[k].value, degree[k], k))
    # a cell kept at all costs (the analysed participants' n) only when nothing else is left
    cheap = [k for k in ranked if led.quantities[k].keep < KEEP_ALWAYS]
    return cheap or ranked
