"""The panel's fast paths give what the plain ones give.

month_groups' table of week patterns against the pairwise majority; the writer's
per-person binary rows, read back whole, by persons and by rows, against the panel written.
"""

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sibeval.errors import SibevalError
from sibeval.extract.panel import Panel, _majority, month_groups
from sibeval.extract.panel_io import ARRAYS, PanelWriter, read_panel, read_panel_rows, write_panel


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


def _panel(pnr, M=5, seed=0):
    rng = np.random.default_rng(seed)
    n = len(pnr)
    return Panel(pnr=np.array(pnr, dtype=object), months=np.arange(24000, 24000 + M),
                 covered=rng.random(M) < 0.7, group=rng.integers(-1, 4, (n, M)).astype(np.int8),
                 loen=rng.random((n, M)) * (rng.random((n, M)) < 0.3), timer=rng.random((n, M)),
                 ordinary=rng.random((n, M)) < 0.5, resident=rng.random((n, M)) < 0.9,
                 dead=rng.random((n, M)) < 0.1, groups=("a", "b", "c", "none"))


def _same(a: Panel, b: Panel, arrays=tuple(ARRAYS)) -> None:
    assert list(a.pnr) == list(b.pnr)
    np.testing.assert_array_equal(a.months, b.months)
    np.testing.assert_array_equal(a.covered, b.covered)
    assert a.groups == b.groups
    for f in arrays:
        x, y = getattr(a, f), getattr(b, f)
        assert x.dtype == y.dtype and x.shape == y.shape, f
        np.testing.assert_array_equal(np.ascontiguousarray(x).view(np.uint8), np.ascontiguousarray(y).view(np.uint8))
        assert x.flags.writeable, f


@pytest.mark.parametrize("n,M,per_group", [(23, 5, 4), (8, 1, 4), (20, 108, 10), (0, 3, 4), (1, 2, 4)])
def test_panel_file_gives_back_every_array_by_person_by_rows_and_in_blocks(n, M, per_group, tmp_path):
    pnr = [f"{i:010d}" for i in range(n - 1)] + (["ÆØÅ-1"] if n else [])
    panel = _panel(pnr, M=M, seed=n)
    special = [-0.0, np.inf, 1e-300, 2.5e12, np.nan]
    panel.loen[:len(special), 0] = special[:n]          # kept bit for bit
    write_panel(panel, tmp_path / "whole.parquet", persons_per_group=per_group)
    _same(read_panel(tmp_path / "whole.parquet"), panel)
    meta = pq.read_schema(tmp_path / "whole.parquet")
    assert meta.names == ["pnr", *ARRAYS.values()]
    assert pq.ParquetFile(tmp_path / "whole.parquet").metadata.num_rows == n      # a row per person
    # in blocks of whole row groups: the same bytes
    with PanelWriter(tmp_path / "blocks.parquet", panel.months, panel.covered, panel.groups, n, per_group) as w:
        for lo in range(0, n, 2 * per_group):
            w.write(_rows(panel, lo, min(n, lo + 2 * per_group)))
    assert (tmp_path / "blocks.parquet").read_bytes() == (tmp_path / "whole.parquet").read_bytes()
    for lo, hi in ((0, n), (n // 3, n - n // 4), (n, n)):
        _same(read_panel_rows(tmp_path / "whole.parquet", lo, hi, arrays=("group", "dead")),
              _rows(panel, lo, hi), arrays=("group", "dead"))
    some = [pnr[i] for i in (n - 1, 0, n // 2)] if n else []
    sub = read_panel(tmp_path / "whole.parquet", arrays=("loen", "resident"), pnr=[*some, "nobody"])
    rows = sorted({pnr.index(p) for p in some})                    # in file order
    _same(sub, _rows(panel, rows), arrays=("loen", "resident"))
    assert sub.group is None and sub.timer is None


def _rows(panel: Panel, lo, hi=None) -> Panel:
    pick = slice(lo, hi) if hi is not None else lo
    return Panel(pnr=np.asarray(panel.pnr)[pick], months=panel.months, covered=panel.covered,
                 **{a: getattr(panel, a)[pick] for a in ARRAYS}, groups=panel.groups)


def test_a_panel_file_of_the_older_layout_is_refused_with_the_fix(tmp_path):
    panel = _panel(["a", "b"])
    pa_table = pa.Table.from_pandas(panel.to_frame(), preserve_index=False)
    pq.write_table(pa_table, tmp_path / "old.parquet")
    with pytest.raises(SibevalError, match="older version of the workflow. Fix: delete it"):
        read_panel(tmp_path / "old.parquet")


def test_panel_writer_raises_the_writers_error(tmp_path, monkeypatch):
    panel = _panel([f"{i:04d}" for i in range(8)])
    w = PanelWriter(tmp_path / "p.parquet", panel.months, panel.covered, panel.groups, 8, 4)

    def fail(*a, **k):
        raise OSError("disk full")
    monkeypatch.setattr(w._out, "write", fail)
    with pytest.raises(OSError, match="disk full"):
        with w:
            w.write(panel)


def _sequential_sums(n_cells, flat, weights):
    """Each cell's weights added one by one in row order from 0, then added to its total
    (what add_sums promises), in plain Python."""
    out = []
    for w in weights:
        cell = {}
        for c, v in zip(flat.tolist(), w.tolist()):
            cell[c] = cell.get(c, 0.0) + v
        total = np.zeros(n_cells)
        for c, v in cell.items():
            total[c] += v
        out.append(total)
    return out


@pytest.mark.parametrize("seed", range(40))
def test_add_sums_by_span_or_by_cell_gives_the_same_bits(seed, monkeypatch):
    """eIndkomst chunks summed into a block's cells: a file sorted by person (rows dense over
    a few cells' span) and one sorted by month (rows thin over the whole block) take the two
    paths; both give each cell's row-order sum, bit for bit, added to earlier totals."""
    import sibeval.extract.panel as panel

    rng = np.random.default_rng(seed)
    n_cells = int(rng.integers(1, 5000))
    rows = int(rng.integers(1, 3000))
    lo = int(rng.integers(0, n_cells))
    width = int(rng.integers(1, n_cells - lo + 1))
    flat = lo + rng.integers(0, width, rows)
    if seed % 3 == 0:
        flat = np.sort(flat)
    weights = (rng.uniform(0, 1e5, rows).round(2), rng.uniform(0, 200, rows) * 1.1)
    before = [rng.uniform(0, 1e6, n_cells) * (rng.random(n_cells) < 0.5) for _ in weights]
    want = [b + s for b, s in zip(before, _sequential_sums(n_cells, flat, weights))]
    for sparse in (panel.SPARSE, 0, 10 ** 9):        # as set; always by cell; always by span
        monkeypatch.setattr(panel, "SPARSE", sparse)
        totals = tuple(b.copy() for b in before)
        panel.add_sums(totals, flat, weights)
        for got, w in zip(totals, want):
            assert np.array_equal(got.view(np.int64), w.view(np.int64)), sparse


def test_add_sums_takes_the_cell_path_for_a_month_sorted_chunk(monkeypatch):
    """A tenth of a million rows over ten million cells is summed by cell (not over a span
    of ten million): the path that saves a month-sorted eIndkomst 20 s at 10^6 persons."""
    import sibeval.extract.panel as panel

    spans = []
    real = np.bincount
    monkeypatch.setattr(panel.np, "bincount", lambda at, **k: spans.append(int(at.max()) + 1) or real(at, **k))
    rng = np.random.default_rng(1)
    flat = rng.integers(0, 10_000_000, 100_000)
    totals = (np.zeros(10_000_000),)
    panel.add_sums(totals, flat, (np.ones(100_000),))
    assert spans and max(spans) <= 100_000
    assert totals[0].sum() == 100_000
