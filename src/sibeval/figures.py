"""Figures readable in black and white: markers and hatching carry the groups, not colour.
Each function returns a matplotlib Figure; :func:`save` writes PNG and SVG."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

plt.rcParams.update({
    "font.size": 9, "axes.spines.top": False, "axes.spines.right": False,
    "svg.hashsalt": "sibeval", "svg.fonttype": "none", "figure.dpi": 100,
})
GREYS = ("0.15", "0.55", "0.85")


def save(fig, stem) -> list[str]:
    """Write `stem`.png and `stem`.svg (deterministic metadata) and close the figure."""
    out = []
    for ext in ("png", "svg"):
        path = f"{stem}.{ext}"
        meta = {"Software": None} if ext == "png" else {"Date": None, "Creator": None}
        fig.savefig(path, dpi=150, bbox_inches="tight", metadata=meta)
        out.append(path)
    plt.close(fig)
    return out


def love_plot(balance: pd.DataFrame, labels: dict, threshold=0.1, title="", before="Before", after="After"):
    """Absolute SMD per covariate before (open circle) and after (filled) matching."""
    b = balance.iloc[::-1]
    y = np.arange(len(b))
    fig, ax = plt.subplots(figsize=(6, 0.35 * len(b) + 1.2))
    ax.scatter(b["smd_before"].abs(), y, facecolors="none", edgecolors="black", label=before, zorder=3)
    ax.scatter(b["smd_after"].abs(), y, color="black", marker="s", s=18, label=after, zorder=3)
    ax.axvline(threshold, color="0.4", linestyle="--", linewidth=1)
    ax.set_yticks(y, [labels.get(c, c) for c in b["covariate"]])
    ax.set_xlabel("|SMD|")
    ax.set_title(title)
    ax.legend(frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2)
    ax.grid(axis="x", color="0.9")
    return fig


def overlap_plot(data: pd.DataFrame, treatment="treated", weights="weights", title="",
                 treated_label="Treated", control_label="Control", xlabel="Propensity score"):
    """Propensity-score distributions: all controls, matched controls and treated."""
    fig, axes = plt.subplots(2, 1, figsize=(6, 4), sharex=True)
    t = data[treatment].astype(bool)
    ps = data["ps"]
    bins = np.linspace(0, float(ps.max()) * 1.02, 40)
    for ax, mask_c, lab in ((axes[0], ~t, "all"), (axes[1], ~t & (data[weights] > 0), "matched")):
        ax.hist(ps[mask_c], bins=bins, density=True, histtype="stepfilled", color=GREYS[2],
                edgecolor="0.3", hatch="//", label=f"{control_label} ({lab})")
        ax.hist(ps[t], bins=bins, density=True, histtype="step", color="black", linewidth=1.5,
                label=treated_label)
        ax.legend(frameon=False, loc="upper right", fontsize=8)
        ax.set_ylabel("Density")
    axes[1].set_xlabel(xlabel)
    axes[0].set_title(title)
    return fig


def share_bars(table: pd.DataFrame, groups, group_labels, outcome_labels, title="", xlabel="%"):
    """Horizontal bars of shares per outcome, one hatch per group; `table` has columns
    outcome, one share column per group (0-1)."""
    t = table.iloc[::-1]
    y = np.arange(len(t))
    h = 0.8 / len(groups)
    hatches = ("", "///", "..")
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(t) + 1.2))
    for k, g in enumerate(groups):
        ax.barh(y + (k - (len(groups) - 1) / 2) * h, 100 * t[g].fillna(0), height=h,
                color=GREYS[k % 3], edgecolor="black", hatch=hatches[k % 3], label=group_labels[k])
    ax.set_yticks(y, [outcome_labels.get(o, o) for o in t["outcome"]])
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    ax.legend(frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=len(groups))
    return fig


def effect_plot(effects: pd.DataFrame, labels: dict, title="", xlabel="Percentage points"):
    """Risk differences with 95 % CIs (points and bars)."""
    e = effects.iloc[::-1]
    y = np.arange(len(e))
    fig, ax = plt.subplots(figsize=(6.5, 0.4 * len(e) + 1.2))
    ax.errorbar(100 * e["estimate"], y, xerr=[100 * (e["estimate"] - e["ci_low"]), 100 * (e["ci_high"] - e["estimate"])],
                fmt="o", color="black", capsize=3)
    ax.axvline(0, color="0.4", linewidth=1)
    ax.set_yticks(y, [labels.get(o, o) for o in e["outcome"]])
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    return fig


def diverging_bars(items: pd.DataFrame, labels: dict, title="", legend=("Down", "Same", "Up"), xlabel="%"):
    """Per item: share down (left of 0), unchanged (centred) and up (right)."""
    t = items.iloc[::-1]
    y = np.arange(len(t))
    # a suppressed (NaN) share is not drawn
    down, same, up = (100 * t[f"share_{k}"].astype(float).fillna(0) for k in ("down", "same", "up"))
    fig, ax = plt.subplots(figsize=(7.5, 0.42 * len(t) + 1.3))
    ax.barh(y, -down - same / 2, left=0, color=GREYS[0], edgecolor="black", label=legend[0])
    ax.barh(y, same, left=-same / 2, color="white", edgecolor="black", hatch="..", label=legend[1])
    ax.barh(y, up, left=same / 2, color=GREYS[1], edgecolor="black", hatch="//", label=legend[2])
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_yticks(y, [labels.get(i, i) for i in t["item"]])
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    ax.legend(frameon=False, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.12))
    lim = max(100, float((down + same / 2).max()), float((up + same / 2).max()))
    ax.set_xlim(-lim, lim)
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{abs(v):.0f}"))
    return fig


def means_plot(table: pd.DataFrame, title="", start_label="Start", end_label="End", ylabel="WHO-5",
               reference=None, reference_label=""):
    """Mean score at start and end with 95 % CIs per group; `table` columns: group, mean_start,
    ci_start_low, ci_start_high, mean_end, ci_end_low, ci_end_high."""
    x = np.arange(len(table))
    fig, ax = plt.subplots(figsize=(5.5, 3.5))
    for k, (col, lab, mk) in enumerate((("start", start_label, "o"), ("end", end_label, "s"))):
        m = table[f"mean_{col}"]
        ax.errorbar(x + (k - 0.5) * 0.2, m, yerr=[m - table[f"ci_{col}_low"], table[f"ci_{col}_high"] - m],
                    fmt=mk, color="black", mfc="white" if k == 0 else "black", capsize=3, label=lab)
    if reference is not None:
        ax.axhline(reference, color="0.4", linestyle="--", linewidth=1, label=reference_label)
    ax.set_xticks(x, table["group"])
    ax.set_ylabel(ylabel)
    ax.set_ylim(0, 100)
    ax.set_title(title)
    ax.legend(frameon=False)
    return fig


def heatmap(matrix: pd.DataFrame, title="", xlabel="", ylabel=""):
    """A count table as a grey heat map with the (display) values written in each cell."""
    fig, ax = plt.subplots(figsize=(4.5, 3.6))
    vals = pd.to_numeric(matrix.stack(), errors="coerce").unstack().to_numpy(float)
    ax.imshow(np.nan_to_num(vals), cmap="Greys", vmin=0, vmax=max(1.0, np.nanmax(vals) * 1.6 if np.isfinite(vals).any() else 1))
    for i in range(matrix.shape[0]):
        for j in range(matrix.shape[1]):
            ax.text(j, i, str(matrix.iat[i, j]), ha="center", va="center", color="black")
    ax.set_xticks(range(matrix.shape[1]), matrix.columns)
    ax.set_yticks(range(matrix.shape[0]), matrix.index)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    return fig
