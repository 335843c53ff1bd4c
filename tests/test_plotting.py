"""plotting.save finds the tight box once for PNG and SVG: the PNG must be the very file
savefig(bbox_inches="tight") writes, the SVG cropped to that box within its padding."""

import re

import numpy as np
import pandas as pd
import pytest

from sibeval.plotting import DPI, plt, save


def _report_figures():
    from sibeval.economics.figures import tornado
    from sibeval.report.figures import overlap_bins, share_bars

    ov = pd.DataFrame({"group": ["participants"] * 3 + ["eligible_pool"] * 3, "bin_lo": [0, 0.1, 0.2] * 2,
                       "bin_hi": [0.1, 0.2, 0.3] * 2, "n": [10, "x", 30, 500, 300, 200]})
    sens = pd.DataFrame({"parameter": ["effect", "provider_cost"], "municipality_low": [-24425.0, 12567.6],
                         "municipality_high": [49560.4, 12567.6]})
    return [
        lambda: share_bars(pd.DataFrame({"outcome": ["a", "b"], "p": [0.3, None], "c": [0.2, 0.07]}), ["p", "c"],
                           ["Deltagere", "Kontrolpersoner"], {"a": "Ordinær beskæftigelse", "b": "Selvforsørgende"},
                           "Andele", "%", suppressed_label={("b", "p"): "skjult (x)"}),
        lambda: overlap_bins(ov, {"participants": "P", "eligible_pool": "E"}, totals={"eligible_pool": 1000}),
        lambda: tornado(sens, 12567.6, no_effect_label="ingen virkning på kommunens regnskab"),
    ]


def _generated(seed):
    """Layouts a note may have: long labels, a legend outside the axes, a suptitle, tight_layout."""
    rng = np.random.default_rng(seed)

    def draw():
        fig, axes = plt.subplots(1, int(rng.integers(1, 3)), figsize=(rng.uniform(3, 7), rng.uniform(2, 5)))
        for ax in np.atleast_1d(axes):
            k = int(rng.integers(2, 8))
            ax.barh([("label " * int(rng.integers(1, 6))) + str(i) for i in range(k)], rng.uniform(-5, 40, k))
            ax.set_title("Æøå " * int(rng.integers(1, 4)))
            if rng.random() < 0.5:
                ax.legend(["a series"], loc="upper left", bbox_to_anchor=(1.02, 1))
            if rng.random() < 0.3:
                ax.text(1.1, -0.3, "note outside", transform=ax.transAxes)
        if rng.random() < 0.5:
            fig.suptitle("A title over everything")
        if rng.random() < 0.5:
            fig.tight_layout()
        return fig

    state = rng.bit_generator.state
    return [lambda: (rng.bit_generator.__setattr__("state", state), draw())[1]]


def _svg_size(path):
    head = open(path, encoding="utf-8").read(600)
    return [float(v) for v in re.search(r'width="([\d.]+)pt" height="([\d.]+)pt"', head).groups()]


@pytest.mark.filterwarnings("ignore:Tight layout not applied")
@pytest.mark.parametrize("make", [*_report_figures(), *(f for s in range(12) for f in _generated(s))])
def test_save_writes_the_png_a_tight_savefig_writes_and_the_svg_in_the_same_box(make, tmp_path):
    save(make(), tmp_path / "fig")
    fig = make()
    fig.savefig(tmp_path / "plain.png", dpi=DPI, bbox_inches="tight", metadata={"Software": None})
    fig.savefig(tmp_path / "plain.svg", dpi=DPI, bbox_inches="tight", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    assert (tmp_path / "fig.png").read_bytes() == (tmp_path / "plain.png").read_bytes()
    # the SVG renderer measures text a little narrower than Agg (up to 2.7 pt here): within the
    # 0.1 inch padding, so nothing is cut off, only the white margin differs
    pad = plt.rcParams["savefig.pad_inches"] * 72
    assert np.all(np.abs(np.subtract(_svg_size(tmp_path / "fig.svg"), _svg_size(tmp_path / "plain.svg"))) < pad)
