"""Figures readable in black and white: markers and hatching carry the groups, not colour.
Each function returns a matplotlib Figure; :func:`sibeval.plotting.save` writes PNG and SVG."""

from __future__ import annotations

import matplotlib.ticker
import numpy as np
import pandas as pd

from sibeval.plotting import GREYS, plt


def love_plot(
    balance: pd.DataFrame,
    labels: dict,
    threshold=0.1,
    title="",
    before="Before",
    after="After",
    xlabel="|SMD|",
    fmt=None,
    hidden_label="–",
):
    """Absolute SMD per covariate before (open circle) and after (filled) matching; a row whose
    SMD is not published has no point but `hidden_label` beside the axis."""
    b = balance.iloc[::-1]
    y = np.arange(len(b))
    fig, ax = plt.subplots(figsize=(6, 0.35 * len(b) + 1.2))
    b = b.assign(
        smd_before=pd.to_numeric(b["smd_before"], errors="coerce"),
        smd_after=pd.to_numeric(b["smd_after"], errors="coerce"),
    )
    ax.scatter(b["smd_before"].abs(), y, facecolors="none", edgecolors="black", label=before, zorder=3)
    ax.scatter(b["smd_after"].abs(), y, color="black", marker="s", s=18, label=after, zorder=3)
    ax.axvline(threshold, color="0.4", linestyle="--", linewidth=1)
    for yy in y[(b["smd_before"].isna() | b["smd_after"].isna()).to_numpy()]:
        ax.text(0.002, yy, hidden_label, va="center", fontsize=7, style="italic")
    ax.set_yticks(y, [labels.get(c, c) for c in b["covariate"]])
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    _ticks(ax, fmt, digits=2)
    ax.legend(frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=2)
    ax.grid(axis="x", color="0.9")
    return fig


def overlap_bins(
    table: pd.DataFrame,
    group_labels: dict,
    title="",
    xlabel="Propensity score",
    ylabel="%",
    fmt=None,
    suppressed_note=None,
    totals=None,
):
    """Share of each group per propensity-score bin from a published table (group, bin_lo,
    bin_hi, n): one step line per group, legend outside the data. A suppressed bin count
    (text) is a gap in its line; shares are of the group's published total (`totals`), or of
    its shown bins where the total is hidden (say so in the caption)."""
    totals = totals or {}
    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    styles = {
        "participants": ("black", "-", 2.0),
        "matched_controls": ("0.35", "--", 1.6),
        "eligible_pool": ("0.6", ":", 1.4),
    }
    for g in [g for g in ("participants", "matched_controls", "eligible_pool") if g in set(table["group"])] + sorted(
        set(table["group"]) - set(styles)
    ):
        sub = table[table["group"] == g].sort_values("bin_lo")
        n = pd.to_numeric(sub["n"], errors="coerce")
        total = totals.get(g) or n.sum()
        share = 100 * n / total if total else n
        lo = pd.to_numeric(sub["bin_lo"]).to_numpy()
        hi = pd.to_numeric(sub["bin_hi"]).to_numpy()
        x = np.append(lo, hi[-1]) if len(lo) else lo
        yv = np.append(share.to_numpy(), share.to_numpy()[-1]) if len(lo) else share.to_numpy()
        color, ls, lw = styles.get(g, ("0.2", "-.", 1.2))
        ax.step(x, yv, where="post", color=color, linestyle=ls, linewidth=lw, label=group_labels.get(g, g))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.set_ylim(bottom=0)
    _ticks(ax, fmt, "x", digits="auto")
    _ticks(ax, fmt, "y", digits=0)
    ax.legend(frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=3)
    if suppressed_note:
        fig.text(0.01, -0.08, suppressed_note, fontsize=7, style="italic")
    return fig


def _ticks(ax, fmt, axis="x", digits=0, absolute=False):
    """Locale-formatted tick labels (decimal comma in Danish, no negative zero); digits="auto"
    uses as many decimals as the tick spacing needs."""
    if fmt is None:
        return
    if digits == "auto":
        a = ax.xaxis if axis == "x" else ax.yaxis
        locs = a.get_major_locator()()
        step = float(np.min(np.diff(locs))) if len(locs) > 1 else 1.0
        digits = max(0, int(-np.floor(np.log10(step)))) if step > 0 else 0
    f = matplotlib.ticker.FuncFormatter(lambda v, _: fmt.num(abs(v) if absolute else v, digits))
    (ax.xaxis if axis == "x" else ax.yaxis).set_major_formatter(f)


def share_bars(
    table: pd.DataFrame,
    groups,
    group_labels,
    outcome_labels,
    title="",
    xlabel="%",
    fmt=None,
    suppressed_label="suppressed",
):
    """Horizontal bars of shares per outcome, one hatch per group; `table` has columns
    outcome, one share column per group (0-1). A missing (suppressed) share has no bar (an
    outline of any length reads as a share) but `suppressed_label` at the axis, never silently
    left out."""
    t = table.iloc[::-1]
    y = np.arange(len(t))
    h = 0.8 / len(groups)
    hatches = ("", "///", "..")
    fig, ax = plt.subplots(figsize=(7, 0.5 * len(t) + 1.4))
    for k, g in enumerate(groups):
        vals = pd.to_numeric(t[g], errors="coerce")
        pos = y + (k - (len(groups) - 1) / 2) * h
        ax.barh(
            pos,
            100 * vals.fillna(0),
            height=h,
            color=GREYS[k % 3],
            edgecolor="black",
            hatch=hatches[k % 3],
            label=group_labels[k],
        )
        for yy, o in zip(pos[vals.isna().to_numpy()], t["outcome"][vals.isna().to_numpy()]):
            text = suppressed_label.get((o, g), "") if isinstance(suppressed_label, dict) else suppressed_label
            ax.text(0.5, yy, text, va="center", fontsize=7, style="italic")
    ax.set_yticks(y, [outcome_labels.get(o, o) for o in t["outcome"]])
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    _ticks(ax, fmt)
    ax.legend(frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=len(groups))
    return fig


def effect_plot(
    effects: pd.DataFrame, labels: dict, title="", xlabel="Percentage points", fmt=None, suppressed_label="suppressed"
):
    """Risk differences with 95 % CIs (points and bars); a suppressed row is named, not drawn
    (`suppressed_label`: one text, or outcome -> text with the marker of its hidden count)."""
    e = effects.iloc[::-1].copy()
    for col in ("estimate", "ci_low", "ci_high"):
        e[col] = pd.to_numeric(e[col], errors="coerce")
    y = np.arange(len(e))
    fig, ax = plt.subplots(figsize=(6.5, 0.4 * len(e) + 1.2))
    ax.errorbar(
        100 * e["estimate"],
        y,
        xerr=[100 * (e["estimate"] - e["ci_low"]), 100 * (e["ci_high"] - e["estimate"])],
        fmt="o",
        color="black",
        capsize=3,
    )
    ax.axvline(0, color="0.4", linewidth=1)
    for yy, o in zip(y[e["estimate"].isna().to_numpy()], e["outcome"][e["estimate"].isna().to_numpy()]):
        text = suppressed_label.get(o, "") if isinstance(suppressed_label, dict) else suppressed_label
        ax.text(0.5, yy, text, va="center", fontsize=7, style="italic")
    ax.set_yticks(y, [labels.get(o, o) for o in e["outcome"]])
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    _ticks(ax, fmt)
    return fig


def diverging_bars(items: pd.DataFrame, labels: dict, title="", legend=("Down", "Same", "Up"), xlabel="%", fmt=None,
                   hidden_label=None):
    """Per item: share down (left of 0), unchanged (centred) and up (right). An item with any
    share not published has no bar at all (a part of a bar reads as the whole) but its
    `hidden_label` (item -> text) at 0."""
    t = items.iloc[::-1]
    y = np.arange(len(t))
    shares = {k: pd.to_numeric(t[f"share_{k}"], errors="coerce") for k in ("down", "same", "up")}
    hidden = (shares["down"].isna() | shares["same"].isna() | shares["up"].isna()).to_numpy()
    down, same, up = (100 * shares[k].where(~hidden).fillna(0) for k in ("down", "same", "up"))
    fig, ax = plt.subplots(figsize=(7.5, 0.42 * len(t) + 1.3))
    ax.barh(y, -down - same / 2, left=0, color=GREYS[0], edgecolor="black", label=legend[0])
    ax.barh(y, same, left=-same / 2, color="white", edgecolor="black", hatch="..", label=legend[1])
    ax.barh(y, up, left=same / 2, color=GREYS[1], edgecolor="black", hatch="//", label=legend[2])
    ax.axvline(0, color="black", linewidth=0.8)
    for yy, i in zip(y[hidden], t["item"][hidden]):
        ax.text(2, yy, (hidden_label or {}).get(i, ""), va="center", fontsize=7, style="italic")
    ax.set_yticks(y, [labels.get(i, i) for i in t["item"]])
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    ax.legend(frameon=False, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.12))
    lim = max(100, float((down + same / 2).max()), float((up + same / 2).max()))
    ax.set_xlim(-lim, lim)
    if fmt is None:
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{abs(v):.0f}"))
    else:
        _ticks(ax, fmt, absolute=True)
    return fig


def means_plot(
    table: pd.DataFrame,
    title="",
    start_label="Start",
    end_label="End",
    ylabel="WHO-5",
    reference=None,
    reference_label="",
    fmt=None,
):
    """Mean score at start and end with 95 % CIs per group; `table` columns: group, mean_start,
    ci_start_low, ci_start_high, mean_end, ci_end_low, ci_end_high."""
    x = np.arange(len(table))
    fig, ax = plt.subplots(figsize=(5.5, 3.5))
    for k, (col, lab, mk) in enumerate((("start", start_label, "o"), ("end", end_label, "s"))):
        m, lo, hi = (
            pd.to_numeric(table[c], errors="coerce") for c in (f"mean_{col}", f"ci_{col}_low", f"ci_{col}_high")
        )
        ax.errorbar(
            x + (k - 0.5) * 0.2,
            m,
            yerr=[m - lo, hi - m],
            fmt=mk,
            color="black",
            mfc="white" if k == 0 else "black",
            capsize=3,
            label=lab,
        )
    if reference is not None:
        ax.axhline(reference, color="0.4", linestyle="--", linewidth=1, label=reference_label)
    ax.set_xticks(x, table["group"])
    ax.set_ylabel(ylabel)
    ax.set_ylim(0, 100)
    ax.set_title(title)
    _ticks(ax, fmt, "y")
    ax.legend(frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=3)
    return fig


def heatmap(matrix: pd.DataFrame, title="", xlabel="", ylabel=""):
    """A count table as a grey heat map with the (display) values written in each cell."""
    fig, ax = plt.subplots(figsize=(4.5, 3.6))
    vals = pd.to_numeric(matrix.stack(), errors="coerce").unstack().to_numpy(float)
    ax.imshow(
        np.nan_to_num(vals),
        cmap="Greys",
        vmin=0,
        vmax=max(1.0, np.nanmax(vals) * 1.6 if np.isfinite(vals).any() else 1),
    )
    for i in range(matrix.shape[0]):
        for j in range(matrix.shape[1]):
            if not np.isfinite(vals[i, j]):          # hidden: hatched, so it does not read as 0
                ax.add_patch(plt.Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, hatch="///", edgecolor="0.6",
                                           linewidth=0))
            ax.text(j, i, str(matrix.iat[i, j]), ha="center", va="center", color="black")
    ax.set_xticks(range(matrix.shape[1]), matrix.columns)
    ax.set_yticks(range(matrix.shape[0]), matrix.index)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    return fig


def trajectory_plot(t: pd.DataFrame, labels: dict, gap: int = 4, outcome_month: int | None = None, fmt=None):
    """The participants' and controls' shares month by month (top) and their difference with its
    pointwise 95 % interval and simultaneous band (bottom), for one outcome of the published
    trajectory table. The months before the start (anchor 'start') and after the end ('end') are
    drawn with a gap of `gap` for the programme between them; a month without a published number
    is a break in the line. `labels`: participants, controls, difference, pointwise, band, start,
    end, programme, outcome_month, share_axis, diff_axis, month_axis, title."""
    t = t.copy()
    for c in ("share_participants", "share_controls", "estimate", "ci_low", "ci_high", "band_low", "band_high",
              "month"):
        t[c] = pd.to_numeric(t[c], errors="coerce")
    # one x axis: the pre-period up to -1, the programme as a gap, the months after the end from 0
    t["x"] = np.where(t["anchor"] == "start", t["month"], t["month"] + gap)
    t = t.sort_values("x")
    # every x from the first month to the last: a month not published (and the programme) is a
    # break in the lines
    full = pd.DataFrame({"x": np.arange(min(t["x"].min(), 0), t["x"].max() + 1)})
    t = full.merge(t, on="x", how="left")
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7.5, 6.2), sharex=True,
                                      gridspec_kw={"height_ratios": [1, 1]})
    for ax in (top, bottom):
        ax.axvspan(-0.5, gap - 0.5, color="0.93", zorder=0)
        ax.axvline(-0.5, color="0.4", linewidth=0.8)
        ax.axvline(gap - 0.5, color="0.4", linewidth=0.8)
        if outcome_month is not None:
            ax.axvline(gap + outcome_month, color="black", linewidth=0.8, linestyle=":")
    top.plot(t["x"], 100 * t["share_participants"], color="black", marker="o", markersize=2.5,
             label=labels["participants"])
    top.plot(t["x"], 100 * t["share_controls"], color="0.45", linestyle="--", marker="s", markersize=2.5,
             label=labels["controls"])
    top.set_ylabel(labels["share_axis"])
    top.set_ylim(bottom=0)
    top.set_title(labels["title"])
    top.legend(frameon=False, loc="upper left", fontsize=8)
    ymax = top.get_ylim()[1]
    top.text(gap / 2 - 0.5, ymax * 0.97, labels["programme"], ha="center", va="top", fontsize=7, style="italic")
    bottom.fill_between(t["x"], 100 * t["band_low"], 100 * t["band_high"], color="0.85", linewidth=0,
                        label=labels["band"])
    bottom.fill_between(t["x"], 100 * t["ci_low"], 100 * t["ci_high"], color="0.65", linewidth=0,
                        label=labels["pointwise"])
    bottom.plot(t["x"], 100 * t["estimate"], color="black", linewidth=1.2, label=labels["difference"])
    bottom.axhline(0, color="0.3", linewidth=0.8)
    bottom.set_ylabel(labels["diff_axis"])
    bottom.legend(frameon=False, loc="upper left", fontsize=8, ncol=3)
    if outcome_month is not None:
        bottom.annotate(labels["outcome_month"], (gap + outcome_month, bottom.get_ylim()[0]), xytext=(3, 3),
                        textcoords="offset points", fontsize=7)
    # tick labels in months relative to the start (before) and to the end (after)
    ticks = [x for x in range(int(full["x"].min()), int(full["x"].max()) + 1)
             if (x < 0 and x % 6 == 0) or (x >= gap and (x - gap) % 6 == 0)]
    bottom.set_xticks(ticks, [fmt.int(x if x < 0 else x - gap) if fmt else str(x if x < 0 else x - gap)
                              for x in ticks])
    bottom.set_xlabel(labels["month_axis"])
    _ticks(top, fmt, axis="y")
    _ticks(bottom, fmt, axis="y")
    fig.tight_layout()
    return fig
