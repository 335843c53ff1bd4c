"""plotting.save: one tight box for the PNG and the SVG. The PNG is the bytes savefig's own
"tight" gives; the SVG's box holds everything the SVG renderer's own tight box holds."""

import re

import numpy as np
import pytest

from sibeval.plotting import DPI, plt, save


def _figure(seed: int):
    rng = np.random.default_rng(seed)
    fig, ax = plt.subplots(figsize=(4 + 3 * rng.random(), 2 + 3 * rng.random()))
    labels = [f"{'lang etikette ' * int(rng.integers(1, 4))}{i}" for i in range(int(rng.integers(2, 12)))]
    ax.barh(labels, rng.random(len(labels)) * 10 ** rng.integers(0, 6))
    ax.set_title("Andel i beskæftigelse" * int(rng.integers(1, 3)))
    ax.set_xlabel("procent")
    if seed % 2:
        fig.text(0.01, -0.05, "Note: skjulte celler er markeret med x", fontsize=7)
    return fig


def _view(path):
    return [float(v) for v in re.search(r'viewBox="([^"]+)"', path.read_text()).group(1).split()]


@pytest.mark.parametrize("seed", range(6))
def test_one_box_for_png_and_svg(tmp_path, seed):
    save(_figure(seed), tmp_path / "one")
    fig = _figure(seed)
    for ext in ("png", "svg"):          # savefig's own tight box, measured by each format's renderer
        fig.savefig(tmp_path / f"own.{ext}", dpi=DPI, bbox_inches="tight",
                    metadata={"Software": None} if ext == "png" else {"Date": None, "Creator": None})
    plt.close(fig)
    assert (tmp_path / "one.png").read_bytes() == (tmp_path / "own.png").read_bytes()
    one, own = _view(tmp_path / "one.svg"), _view(tmp_path / "own.svg")
    assert one[2] >= own[2] - 0.01 and one[3] >= own[3] - 0.01      # nothing cut off
    assert one[2] <= own[2] + 20 and one[3] <= own[3] + 20          # at most a few points more margin
