"""The flow of persons (participants and controls, step by step, with the reasons for each
exclusion) and the shape a published flow takes: a step stays only where no small
exclusion lies between it and the kept step before."""

from __future__ import annotations

import pandas as pd

from sibeval.errors import SibevalError
from sibeval.publish.cells import MAIN, key, marker, outcome, slug
from sibeval.publish.family import Context, Family
from sibeval.publish.matching import match_key

FLOW_COLUMNS = ["step", "n", "excluded", "reason", "public"]
# named instead of reasons that, each at least one person, would add up to their small total
GROUPED_REASON = "several reasons, each too few persons to name"


def _nameable(total: float, reasons: int, k: int) -> bool:
    """Whether naming `reasons` reasons (each at least one person) of an exclusion of `total`
    persons leaves each of them anywhere from 1 to k - 1, as a "<k" would."""
    return reasons <= 1 or total - (reasons - 1) >= k - 1


def flow_shape(steps: pd.DataFrame, public: dict, k: int, cols=("n",), fixed: bool = False) -> list[str]:
    """The steps a published flow keeps. A small exclusion (1 to k - 1 persons, in any of
    `cols`) between two kept steps is merged into the next step's by leaving out the step
    after it (for the last step, the one before it), unless both ends are already public;
    zero exclusions are kept.

    `fixed`: only the first step, the public ones and the last are candidates, whatever the
    counts. Which steps a flow shows then says nothing about which exclusion was small (a
    reader who knows the rule would otherwise learn it from the missing step); the first step
    is left out only where the whole exclusion is small, which its marker would say anyway."""
    order = list(steps.step)
    kept = [s for i, s in enumerate(order) if not fixed or i in (0, len(order) - 1) or s in public]
    n = {c: dict(zip(steps.step, steps[c])) for c in cols}
    changed = True
    while changed:
        changed = False
        for a, b in zip(kept, kept[1:]):
            if not any(1 <= n[c][a] - n[c][b] < k for c in cols) or (a in public and b in public):
                continue
            drop = b if b != kept[-1] and b not in public else (a if a not in public else None)
            if drop is not None:
                kept.remove(drop)
                changed = True
                break
    return kept


def register_flow(ctx: Context, steps: pd.DataFrame, reasons: pd.DataFrame, key_of, public: dict) -> list:
    """Every step and exclusion as quantities; returns the published shape: (kept step,
    key of the exclusion since the kept step before, [(reason, key of its count)])."""
    kept = flow_shape(steps, public, ctx.k, fixed=True)
    n = dict(zip(steps.step, steps.n))
    persons = dict(zip(steps.step, steps["persons"] if "persons" in steps else steps.n))
    order = steps.step.tolist()
    for s in steps.step:
        first = s == order[0] and key_of(s).startswith("flow:")  # e.g. referred
        ctx.add(
            key_of(s),
            n[s],
            int(persons[s]),
            public=s in public,
            shown=s in kept,
            keep=2 if first or s == order[-1] else 1,
        )
    for a, b in zip(steps.step, steps.step[1:]):
        e = ctx.add(key(key_of(b), "excluded"), n[a] - n[b], shown=False, public=a in public and b in public)
        ctx.led.sums(key_of(a), [key_of(b), e], f"flow: {a} = {b} + excluded")
    shape = []
    if "outcome_observed" in n and order.index("outcome_observed") > 0:
        # the participants who entered matching are the step before the outcome month
        before = order[order.index("outcome_observed") - 1]
        ctx.add(match_key("treated", "all_rows"), n[before], int(n[before]), keep=1, shown=False)
        ctx.led.sums(key_of(before), [match_key("treated", "all_rows")], "the participants matched are those analysed")
    for a, b in zip(kept, kept[1:]):
        between = order[order.index(a) + 1 : order.index(b) + 1]
        e = ctx.add(key(key_of(b), "excluded_since", a), n[a] - n[b], keep=0, public=a in public and b in public)
        ctx.led.sums(key_of(a), [key_of(b), e], f"flow: {a} = {b} + excluded")
        rs = reasons[reasons.step.isin(between) & (reasons.n > 0)]
        parts = []
        if len(rs) > 1 and any(0 < x < ctx.k for x in rs.n) and not _nameable(n[a] - n[b], len(rs), ctx.k):
            shape.append((b, e, [(GROUPED_REASON, None)]))
            continue
        if len(rs) > 1:
            # each reason's count only when none of them is small; else the reasons alone
            shown = not any(0 < x < ctx.k for x in rs.n)
            # a named reason is at least one person, even where its count is not shown
            parts = [
                ctx.add(key(e, "reason", slug(x.reason)), x.n, int(getattr(x, "persons", x.n)), keep=0, shown=shown,
                        at_least=1.0)
                for x in rs.itertuples()
            ]
            ctx.led.sums(e, parts, f"flow: reasons between {a} and {b} add up")
        _reasons_name_their_steps(ctx, between, rs, parts or ([e] if len(rs) == 1 else []), key_of)
        shape.append((b, e, list(zip(rs.reason, parts)) if parts else list(zip(rs.reason, [None] * len(rs)))))
    # a first shown step that is not the flow's first (its exclusions were small and
    # merged into it) names their reasons, without a count
    first = reasons[reasons.step.isin(order[1 : order.index(kept[0]) + 1]) & (reasons.n > 0)]
    if order[0] in public and not _nameable(n[order[0]] - n[kept[0]], len(first), ctx.k):
        return [(kept[0], None, [(GROUPED_REASON, None)])] + shape
    if len(first) and abs(first.n.sum() - (n[order[0]] - n[kept[0]])) < 1e-9:
        # each named reason is at least one person, and together they are what the first
        # step (unshown) held more than the first shown one
        named = [ctx.add(key(key_of(kept[0]), "named_before", i, slug(x.reason)), x.n,
                         int(getattr(x, "persons", x.n)), keep=0, shown=False, at_least=1.0)
                 for i, x in enumerate(first.itertuples())]
        ctx.led.relate({key_of(order[0]): 1.0, key_of(kept[0]): -1.0, **{p: -1.0 for p in named}},
                       f"flow: reasons named at {kept[0]} add up")
        _reasons_name_their_steps(ctx, order[1 : order.index(kept[0]) + 1], first, named, key_of)
    return [(kept[0], None, [(r, None) for r in first.reason])] + shape


def _reasons_name_their_steps(ctx: Context, steps, rs: pd.DataFrame, counts: list, key_of) -> None:
    """A reason names its step (the reader maps "died before the outcome month" to the step
    that excludes for it): each step's exclusion is its named reasons' counts added up, and
    a step whose reason is not named excluded nobody. `counts` are the ledger keys of `rs`'s
    rows (or none, when the reasons go unnamed)."""
    if len(rs) and len(counts) != len(rs):
        return
    q = ctx.led.quantities
    by_step = {}
    for step, c in zip(rs.step, counts):
        by_step.setdefault(step, []).append(c)
    for s in steps:
        ex = key(key_of(s), "excluded")
        parts = by_step.get(s, [])
        if ex in q and abs(q[ex].value - sum(q[p].value for p in parts)) < 1e-9:
            ctx.led.relate({ex: 1.0, **{p: -1.0 for p in parts}}, f"flow: the reasons named at {s} are its exclusion")
            if parts and all(q[p].public for p in parts):
                q[ex].public = True         # e.g. between two counts that were public anyway


def flow_rows(ctx: Context, shape, key_of, hidden: dict) -> pd.DataFrame:
    """step, n, excluded (since the step before), reason, public; a reason's own count is
    shown only when several reasons share an exclusion."""
    k, q = ctx.k, ctx.led.quantities
    rows = []
    for step, ek, reasons in shape:
        cell = key_of(step)
        parts = [
            f"{r} ({marker(hidden, rk, k) or int(q[rk].value)})" if rk and q[rk].shown else str(r) for r, rk in reasons
        ]
        rows.append(
            {
                "step": step,
                "n": marker(hidden, cell, k) or int(q[cell].value),
                # a flow's first shown step has nothing before it to be excluded from
                "excluded": (marker(hidden, ek, k) or int(q[ek].value)) if ek else "",
                "reason": "; ".join(parts),
                "public": bool(q[cell].public),
            }
        )
    return pd.DataFrame(rows, columns=FLOW_COLUMNS)


class Flows(Family):
    name = "flows"
    inputs = ("flow", "flow_reasons")
    tables = ("flow",)
    columns = {"flow": ("step", "n", "excluded", "persons"), "flow_reasons": ("step", "reason", "n", "persons")}

    def step_key(self, step: str) -> str:
        """The ledger key of a flow step; the analysed steps are the outcome tables' n."""
        keys = {
            "matched": outcome(MAIN, "participant", "N"),
            "controls_outcome_observed": outcome(MAIN, "control", "N"),
        }
        if not self.replace:
            # without replacement each matched control row is one pair; with replacement the
            # flow counts a reused control once per set, the match summary once
            keys["controls_matched"] = match_key("control", "matched_rows")
        return keys.get(step, key("flow", step))

    def register(self, ctx: Context) -> None:
        ctx.led.table = "flow"
        flow, reasons = ctx.t["flow"], ctx.t["flow_reasons"]
        self.replace = ctx.replace
        _check_public(flow, ctx.public)
        self.shapes = {}
        for controls, part in flow.groupby(flow.step.str.startswith("controls"), sort=True):
            self.shapes["controls" if controls else "participants"] = register_flow(
                ctx, part.reset_index(drop=True), reasons, self.step_key, ctx.public
            )

    def render(self, ctx: Context, hidden: dict) -> dict[str, pd.DataFrame]:
        return {
            "flow": pd.concat(
                [flow_rows(ctx, self.shapes[g], self.step_key, hidden) for g in ("participants", "controls")],
                ignore_index=True,
            )
        }


def _check_public(flow: pd.DataFrame, public: dict) -> None:
    for s, v in public.items():
        got = flow.loc[flow.step == s, "n"]
        if got.empty:
            raise SibevalError(
                f"disclosure.public_counts names the step '{s}', which the flow does not "
                f"have; allowed: {', '.join(flow.step)}"
            )
        if int(got.iloc[0]) != v:
            raise SibevalError(
                f"disclosure.public_counts gives {s} = {v}, but the extract gives "
                f"{int(got.iloc[0])}; fix the cohort file or the extract"
            )
