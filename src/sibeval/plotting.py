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
    """Write `stem`.png and `stem`.svg (or the `formats` given; deterministic metadata) and
    close the figure, cropped to the box ``savefig(bbox_inches="tight")`` finds for the PNG:
    found once for every format (each "tight" save lays the figure out again: 1.8 of the
    report's 3.7 s of figures at 10^6 persons)."""
    box = tight_box(fig)
    out = []
    for ext in formats:
        path = f"{stem}.{ext}"
        meta = {"Software": None} if ext == "png" else {"Date": None, "Creator": None}
        fig.savefig(path, dpi=DPI, bbox_inches=box, metadata=meta)
        out.append(path)
    plt.close(fig)
    return out


def tight_box(fig, dpi: float = DPI):
    """The padded box, in inches, around everything drawn, as savefig(bbox_inches="tight")
    finds it for a PNG at `dpi` (an Agg layout pass without rendering): the steps of
    matplotlib's FigureCanvasBase.print_figure, whose private helpers it uses (the PNG's
    byte-equality with a tight savefig is tested in tests/test_plotting.py)."""
    from matplotlib import cbook

    with cbook._setattr_cm(fig, dpi=dpi), cbook._setattr_cm(fig.canvas, _device_pixel_ratio=1, _is_saving=True):
        renderer = fig.canvas.get_renderer()
        with renderer._draw_disabled():
            fig.draw(renderer)
        box = fig.get_tightbbox(renderer)
    pad = plt.rcParams["savefig.pad_inches"]
    return box.padded(pad, pad)
