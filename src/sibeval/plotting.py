"""The figures' common ground: matplotlib without a display, one black-and-white style, and
`save` (PNG and SVG with deterministic metadata). Shared by the stages that draw."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

plt.rcParams.update(
    {
        "font.size": 9,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "svg.hashsalt": "sibeval",
        "svg.fonttype": "none",
        "figure.dpi": 100,
    }
)
GREYS = ("0.15", "0.55", "0.85")


def save(fig, stem, formats=("png", "svg")) -> list[str]:
    """Write `stem`.png and `stem`.svg (or the `formats` given; deterministic metadata) and
    close the figure."""
    out = []
    for ext in formats:
        path = f"{stem}.{ext}"
        meta = {"Software": None} if ext == "png" else {"Date": None, "Creator": None}
        fig.savefig(path, dpi=150, bbox_inches="tight", metadata=meta)
        out.append(path)
    plt.close(fig)
    return out
