"""The payment model's figure: the tornado chart of its one-way sensitivity table."""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd

from sibeval.plotting import plt


def tornado(
    sens: pd.DataFrame,
    base: float,
    labels: dict | None = None,
    xlabel: str = "Municipality's account per participant (kr)",
    title: str = "",
    low_label: str = "low",
    high_label: str = "high",
    fmt=None,
    no_effect_label: str = "no effect",
):
    """Tornado chart of the payment model's one-way sensitivity table: bars from the base
    account to the low (hatched) and high (filled) value per input; an input that does not
    move the account (the provider's cost, which the municipality does not pay) says so
    instead of showing no bar."""
    labels = labels or {}
    s = sens.iloc[::-1]
    y = np.arange(len(s))
    fig, ax = plt.subplots(figsize=(6, 0.4 * len(s) + 1.2))
    ax.barh(y, s["municipality_low"] - base, left=base, color="white", edgecolor="black", hatch="///", label=low_label)
    ax.barh(y, s["municipality_high"] - base, left=base, color="0.55", edgecolor="black", label=high_label)
    flat = (s["municipality_low"] - base).abs().lt(1e-6) & (s["municipality_high"] - base).abs().lt(1e-6)
    for yy in y[flat.to_numpy()]:
        ax.annotate(no_effect_label, (base, yy), xytext=(4, 0), textcoords="offset points", va="center",
                    fontsize=7, style="italic")
    ax.axvline(base, color="black", linewidth=1)
    ax.axvline(0, color="0.4", linestyle="--", linewidth=1)
    # long labels (English) would squeeze the axis until its tick labels run together
    ax.set_yticks(y, [textwrap.fill(labels.get(p, p), 30) for p in s["parameter"]])
    ax.set_xlabel(xlabel)
    if title:
        ax.set_title(title)
    if fmt is not None:
        from matplotlib.ticker import FuncFormatter, MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(4))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: fmt.tick(v)))
    ax.legend(frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=2)
    fig.tight_layout()
    return fig
