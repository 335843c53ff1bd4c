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


DPI = 150


def save(fig, stem, formats=("png", "svg")) -> list[str]:
    """Write `stem`.png and `stem`.svg (or the `formats` given; deterministic metadata),
    cropped to the figure's tight box, and close the figure."""
    # the box found once, as savefig finds it for the PNG (laid out by Agg at the PNG's
    # resolution), and used for every format: each "tight" savefig lays the figure out again
    box = tight_box(fig) if len(formats) > 1 else "tight"
    out = []
    for ext in formats:
        path = f"{stem}.{ext}"
        meta = {"Software": None} if ext == "png" else {"Date": None, "Creator": None}
        fig.savefig(path, dpi=DPI, bbox_inches=box, metadata=meta)
        out.append(path)
    plt.close(fig)
    return out


def tight_box(fig):
    """The figure's tight bounding box with savefig's padding, in inches, as a PNG at DPI."""
    dpi = fig.dpi
    fig.dpi = DPI
    try:
        fig.draw_without_rendering()
        return fig.get_tightbbox().padded(plt.rcParams["savefig.pad_inches"])
    finally:
        fig.dpi = dpi
