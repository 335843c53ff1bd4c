"""The panel's fast paths give what the plain ones give.

month_groups' table of week patterns against the pairwise majority; the writer's byte-built
string columns and background thread against a file written from `Panel.to_frame` by
pandas' conversion, one row group at a time.
"""

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sibeval.extract.panel import Panel, _majority, month_groups
from sibeval.extract.panel_io import PanelWriter, _repeat_each, read_panel, write_panel


@pytest.mark.parametrize("G", [1, 3, 16, 40])
def test_month_groups_table_is_the_pairwise_majority(G):
    rng = np.random.default_rng(G)
    week_months = np.repeat(np.arange(9), [1, 2, 3, 4, 5, 4, 5, 6, 4])
    weekly = rng.integers(0, G, (3000, len(week_months))).astype(np.int8)
    weekly[rng.random(weekly.shape) < 0.5] = G - 1      # many ties and majorities
    months, groups, nweeks = month_groups(weekly, week_months)
    assert groups.dtype == np.int8
    for j, m in enumerate(months):
        cols = np.flatnonzero(week_months == m)
        assert nweeks[j] == len(cols)
        np.testing.assert_array_equal(groups[:, j], _majority(weekly[:, cols]))


def test_month_groups_with_a_negative_id_and_a_month_without_weeks():
    weekly = np.array([[-1, 2, -1, 0], [3, 3, 1, 1]], dtype=np.int8)
    months, groups, nweeks = month_groups(weekly, np.array([0, 0, 0, 2]))
    np.testing.assert_array_equal(months, [0, 1, 2])
    np.testing.assert_array_equal(nweeks, [3, 0, 1])
    np.testing.assert_array_equal(groups, [[-1, -1, 0], [3, -1, 1]])


@pytest.mark.parametrize("values", [["a1", "b2", "c3"], ["a", "bbb", None], ["ÆØÅ", "x"], [], ["", ""]])
@pytest.mark.parametrize("tile", [False, True])
def test_repeat_each_is_take(values, tile):
    arr = pa.array(["pad", *values], type=pa.large_string()).slice(1)
    n, M = len(values), 4
    order = np.tile(np.arange(n), M) if tile else np.repeat(np.arange(n), M)
    out = _repeat_each(arr, M, tile=tile)
    out.validate(full=True)
    assert out.equals(arr.take(pa.array(order, type=pa.int64())))


def _panel(pnr, M=5, seed=0):
    rng = np.random.default_rng(seed)
    n = len(pnr)
    return Panel(pnr=np.array(pnr, dtype=object), months=np.arange(24000, 24000 + M),
                 covered=rng.random(M) < 0.7, group=rng.integers(-1, 4, (n, M)).astype(np.int8),
                 loen=rng.random((n, M)) * (rng.random((n, M)) < 0.3), timer=rng.random((n, M)),
                 ordinary=rng.random((n, M)) < 0.5, resident=rng.random((n, M)) < 0.9,
                 dead=rng.random((n, M)) < 0.1, groups=("a", "b", "c", "none"))


def _plain(panel, path, per_group):
    """The file written from pandas' frame, one row group per `per_group` persons."""
    schema = PanelWriter(path, panel.months, panel.covered, panel.groups, len(panel.pnr), per_group).schema
    M = len(panel.months)
    frame = panel.to_frame()
    with pq.ParquetWriter(path, schema, write_statistics=["pnr"]) as w:
        for lo in range(0, len(panel.pnr), per_group):
            part = frame.iloc[lo * M:(lo + per_group) * M]
            w.write_table(pa.Table.from_pandas(part, schema=schema, preserve_index=False),
                          row_group_size=len(part))


@pytest.mark.parametrize("pnr", [[f"{i:010d}" for i in range(23)],
                                 [f"{i:010d}" for i in range(22)] + ["ÆØÅ-1"]])
def test_panel_writer_is_the_plain_file(pnr, tmp_path):
    panel = _panel(pnr)
    write_panel(panel, tmp_path / "fast.parquet", persons_per_group=4)
    _plain(panel, tmp_path / "plain.parquet", 4)
    assert (tmp_path / "fast.parquet").read_bytes() == (tmp_path / "plain.parquet").read_bytes()
    back = read_panel(tmp_path / "fast.parquet", arrays=("loen",))
    np.testing.assert_array_equal(back.loen, panel.loen)
    assert list(back.pnr) == pnr


def test_panel_writer_raises_the_writers_error(tmp_path, monkeypatch):
    panel = _panel([f"{i:04d}" for i in range(8)])
    w = PanelWriter(tmp_path / "p.parquet", panel.months, panel.covered, panel.groups, 8, 4)

    def fail(*a, **k):
        raise OSError("disk full")
    monkeypatch.setattr(w._out, "write", fail)
    with pytest.raises(OSError, match="disk full"):
        with w:
            w.write(panel)
