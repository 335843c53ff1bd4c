"""The complementary-cell search's shortcuts (the linear relaxation and the outer interval as
bounds, solutions already found as proof that a cell is safe) choose exactly the cells the
plain search does: on generated ledgers shaped like a
cohort's (weighted control counts, a flow, subgroups, months of a trajectory over the same
sizes), `protect()` against the search that solves every trial's integer problem."""

import numpy as np
import pytest

from sibeval.publish import ledger as L
from sibeval.publish.ledger import Ledger, protect


def _plain_repair(led, hidden, leak, cands, degree, tries):
    """The search as specified, every trial solved as an integer problem: the cheapest single
    cell that protects the leak, else the cheapest pair, else the widest single (first among
    equals)."""
    q = led.quantities[leak]

    def safe(trial):
        lo, hi, _ = L._intervals(led, trial, [leak])[leak]
        p_lo, p_hi, _ = L._intervals(led, trial, [leak], markers_only=True)[leak]
        return L._protected(led, q, (lo, hi), (p_lo, p_hi)), L._width(lo, hi)

    widths = {}
    for c in cands:
        ok, widths[c] = safe(hidden | {c: "complementary"})
        if ok:
            return [c]
    for c in cands[: L.PAIR_FIRST]:
        trial = hidden | {c: "complementary"}
        for d in L._complements_for(led, trial, leak, degree)[: L.PAIR_SECOND]:
            if safe(trial | {d: "complementary"})[0]:
                return [c, d]
    best = max(widths.values())
    return [next(c for c in cands if widths[c] == best)]


def _cohort_like(seed: int) -> Ledger:
    """Participants and weighted controls: a flow to N, statuses at the outcome month, two
    subgroups, and months of two outcomes whose counts and hidden complements add up to N."""
    rng = np.random.default_rng(seed)
    led = Ledger(min_cell=5)
    for g, weighted in (("p", False), ("c", True)):
        unit = (0.5, 1.5) if weighted else (1.0, 1.0)      # one control person's weight
        kw = {"integer": False, "unit": unit} if weighted else {}
        n_persons = int(rng.integers(18, 60))
        scale = float(rng.choice([1.0, 0.7, 1.3])) if weighted else 1.0

        def val(persons, scale=scale, weighted=weighted):
            return round(persons * scale, 1) if weighted else float(persons)

        statuses = rng.multinomial(n_persons, rng.dirichlet(np.full(5, 0.6)))
        n_persons = int(statuses.sum())
        n = led.add(f"{g}:N", sum(val(s) for s in statuses), n_persons, keep=2, **kw)
        # the values of the statuses must add to N's exactly: the last takes the rest
        vals = [val(s) for s in statuses[:-1]]
        vals.append(led.quantities[n].value - sum(vals))
        parts = [led.add(f"{g}:s{i}", v, int(s), **kw) for i, (v, s) in enumerate(zip(vals, statuses))]
        led.sums(n, parts, f"{g}: statuses add up")
        # the flow: referred - excluded = N, the exclusion only implied
        excl = int(rng.integers(1, 7))
        ref = led.add(f"{g}:referred", led.quantities[n].value + val(excl), n_persons + excl, keep=2, **kw)
        ex = led.add(f"{g}:excluded", val(excl), excl, shown=False, **kw)
        led.sums(ref, [n, ex], f"{g}: flow")
        # two subgroups whose sizes add up to N, each with a status split
        cut = int(rng.integers(3, max(4, n_persons - 3)))
        sub = []
        for j, persons in enumerate((cut, n_persons - cut)):
            size = val(persons) if j == 0 else led.quantities[n].value - led.quantities[sub[0]].value
            sub.append(led.add(f"{g}:sub{j}:N", size, persons, **kw))
            k = int(rng.integers(0, persons + 1))
            a = val(k) if size >= val(k) else size
            x = led.add(f"{g}:sub{j}:s0", a, k, **kw)
            y = led.add(f"{g}:sub{j}:rest", size - a, persons - k, **kw)
            led.sums(sub[j], [x, y], f"{g}: subgroup {j}")
        led.sums(n, sub, f"{g}: subgroups add up")
        # months: an outcome count and its hidden complement add up to N
        for m in range(int(rng.integers(2, 6))):
            for o in ("o1", "o2"):
                persons = int(rng.integers(0, n_persons + 1))
                v = min(val(persons), led.quantities[n].value)
                x = led.add(f"{g}:m{m}:{o}", v, persons, keep=0, **kw)
                c = led.add(f"{g}:m{m}:{o}:not", led.quantities[n].value - v, n_persons - persons,
                            shown=False, **kw)
                led.sums(n, [x, c], f"{g}: month {m} {o}")
    return led


def _no_points(self, hidden, key):
    """No solution used as proof: only the true value, an interval of width 0."""
    return self.truth[self.col[key]], self.truth[self.col[key]]


@pytest.mark.parametrize("seed", range(16))
def test_the_shortcuts_choose_the_cells_the_plain_search_chooses(seed, monkeypatch):
    fast = protect(_cohort_like(seed))
    monkeypatch.setattr(L, "_repair", _plain_repair)
    monkeypatch.setattr(L._Points, "inner", _no_points)
    plain = protect(_cohort_like(seed))
    assert fast.hidden == plain.hidden
    assert fast.audit.equals(plain.audit)
    assert fast.safe


@pytest.mark.parametrize("seed", range(16))
def test_threads_and_highs_heuristics_change_nothing_the_search_chooses(seed, monkeypatch):
    """The attacker's problems solved two at a time (`solver_threads`), and solved with
    HiGHS's feasibility jump heuristic (left out for speed), hide the same cells with the
    same audit as one at a time without it."""
    one = protect(_cohort_like(seed))
    with L.solver_threads(2):
        two = protect(_cohort_like(seed))
    monkeypatch.setattr(L, "HIGHS", {"time_limit": L.MIP_SECONDS})
    jump = protect(_cohort_like(seed))
    for other in (two, jump):
        assert other.hidden == one.hidden
        assert other.audit.equals(one.audit)


def test_the_generated_ledgers_reach_every_branch_of_the_search(monkeypatch):
    """The comparison above means something only if the generated ledgers need complementary
    cells, pairs and the widest-cell fallback."""
    seen = {"single": 0, "pair": 0, "widest": 0}
    real_repair, real_widest = L._repair, L._widest

    def repair(*a):
        out = real_repair(*a)
        seen["pair" if len(out) == 2 else "single"] += 1
        return out

    def widest(*a):
        seen["widest"] += 1
        return real_widest(*a)

    monkeypatch.setattr(L, "_repair", repair)
    monkeypatch.setattr(L, "_widest", widest)
    for seed in range(16):
        protect(_cohort_like(seed))
    assert seen["single"] >= 10 and seen["pair"] >= 1 and seen["widest"] >= 1, seen


def _degree(led):
    degree = {k: 0 for k in led.quantities}
    for terms, _ in led.links():
        for k in terms:
            degree[k] += 1
    return degree


def test_the_widest_cell_is_the_one_every_trial_solved_would_give():
    """The fallback's bounds skip trials that cannot beat the best so far; on states with
    unequal widths (a few more cells hidden at random) it picks what solving every trial
    picks: the widest, the first among equals."""
    picks_not_first = 0
    for seed in range(12):
        led = _cohort_like(seed)
        rng = np.random.default_rng(seed)
        primary = {k: "primary" for k, q in led.quantities.items() if q.shown and led.small(q)}
        hideable = [k for k, q in led.quantities.items()
                    if q.shown and k not in primary and q.persons >= led.min_cell]
        degree = _degree(led)
        for extra in range(3):
            hidden = primary | {k: "complementary" for k in rng.choice(hideable, size=extra, replace=False)}
            for leak in primary:
                cands = L._complements_for(led, hidden, leak, degree)[:25]
                if len(cands) < 2:
                    continue
                widths = [L._width(*L._intervals(led, hidden | {c: "complementary"}, [leak])[leak][:2])
                          for c in cands]
                plain = cands[widths.index(max(widths))]
                assert L._widest(led, hidden, leak, cands, dict.fromkeys(cands)) == plain, (seed, leak)
                picks_not_first += plain != cands[0]
    assert picks_not_first >= 10        # the test can tell a search that takes the first cell


def test_solutions_found_lie_inside_every_later_attackers_interval_and_settle_cells():
    """What the stored solutions give for a cell (those that fit the pattern asked) is inside
    the attacker's interval under that pattern, on random patterns of each generated ledger;
    and it proves many cells safe without a solve (else the shortcut would do nothing)."""
    proved = 0
    for seed in range(6):
        led = _cohort_like(seed)
        rng = np.random.default_rng(100 + seed)
        primary = {k: "primary" for k, q in led.quantities.items() if q.shown and led.small(q)}
        hideable = [k for k, q in led.quantities.items()
                    if q.shown and k not in primary and q.persons >= led.min_cell]
        L._CACHE[id(led)] = {"points": L._Points(led)}
        try:
            points = L._CACHE[id(led)]["points"]
            for _ in range(12):
                extra = rng.choice(hideable, size=int(rng.integers(0, 6)), replace=False)
                hidden = primary | {k: "complementary" for k in extra}
                for t in primary:
                    # the pattern's problem and the relaxation are solved too: their solutions
                    # (not the attacker's) must not be kept as proofs
                    L._intervals(led, hidden, [t], markers_only=True)
                    L._intervals(led, hidden, [t], relaxed=True)
                    a, b = points.inner(hidden, t)
                    lo, hi, _ = L._intervals(led, hidden, [t])[t]
                    assert lo - 1e-5 <= a <= b <= hi + 1e-5, (seed, t, (a, b), (lo, hi))     # to the solver's tolerance
                    proved += L._protected(led, led.quantities[t], (a, b), (-np.inf, np.inf))
        finally:
            L._CACHE.pop(id(led), None)
    assert proved >= 20, proved


def test_a_stored_solution_counts_only_where_it_fits_the_pattern_asked():
    """A solution proves a value only if every cell it moves is unknown under the pattern
    asked, within that cell's bounds, and whole for a count."""
    led = Ledger(min_cell=5)
    for key, value in (("t", 10), ("a", 3), ("b", 7)):
        led.add(key, value)
    led.sums("t", ["a", "b"], "t = a + b")
    both = {"a": "primary", "b": "complementary"}
    points = L._Points(led)
    points.add(("a", "b"), np.array([2.5, 7.5]))          # not whole: no proof
    assert points.inner(both, "a") == (3, 3)
    points.add(("a", "b"), np.array([1.0, 9.0]))
    assert points.inner(both, "a") == (1, 3)
    assert points.inner({"a": "primary"}, "a") == (3, 3)   # b shown: the solution does not fit
    points.add(("a", "b"), np.array([0.0, 10.0]))         # below the marker's range of a "<5"
    assert points.inner(both, "a") == (1, 3)


class _Links:
    """The part of a Ledger `_components` reads: cells and the terms of each link."""

    def __init__(self, cells, links):
        self.quantities = dict.fromkeys(cells)
        self.relations, self.bounds = [(t, "r") for t in links], []

    def links(self):
        yield from self.relations


def _reference_components(cells, links, variables):
    """Cells reachable from each other through links, stepping on variables only."""
    seen, out = {}, []
    for start in sorted(variables):
        if start in seen:
            continue
        group, todo = {start}, [start]
        while todo:
            k = todo.pop()
            for terms in links:
                if k in terms:
                    for other in terms:
                        if other in variables and other not in group:
                            group.add(other)
                            todo.append(other)
        for k in group:
            seen[k] = len(out)
        out.append(group)
    return out + [{k} for k in cells if k not in variables]


@pytest.mark.parametrize("seed", range(60))
def test_components_are_the_cells_linked_through_unknown_cells(seed):
    """The search's components (label propagation over the links) on generated link graphs:
    long chains, links of one cell, cells in no link, and every share of unknown cells."""
    rng = np.random.default_rng(seed)
    cells = [f"c{i}" for i in range(int(rng.integers(1, 60)))]
    links = []
    if rng.random() < 0.3:          # a chain: as many rounds as its length
        links += [{cells[i]: 1.0, cells[i + 1]: -1.0} for i in range(len(cells) - 1)][::-1]
    for _ in range(int(rng.integers(0, 40))):
        size = int(rng.integers(1, min(6, len(cells)) + 1))
        links.append({k: 1.0 for k in rng.choice(cells, size, replace=False)})
    variables = {k for k in cells if rng.random() < rng.random()}
    label = L._components(_Links(cells, links), variables)
    assert set(label) == set(cells)
    groups = {}
    for k, v in label.items():
        groups.setdefault(v, set()).add(k)
    assert sorted(map(sorted, groups.values())) == sorted(map(sorted, _reference_components(cells, links, variables)))
