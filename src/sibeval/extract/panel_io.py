"""The person-month panel on disk: written in blocks of persons, read back with column
projection and a person filter, so a rule holds only the months of the persons it uses.

One row per person (in DREAM's order): ``pnr`` and, for each of the panel's arrays, the
person's months as one fixed-width binary value (group ids as int8, -1 where no group;
wage and hours as little-endian float64; the flags as one byte each). The schema metadata
records the months, groups and covered months, so no rule has to scan the file to learn
its shape. A row per person and month, as :meth:`Panel.to_frame` gives, took 10 s to write
and 12 s to read at 10^6 persons (10^8 rows); this layout takes about 3 s and 1.5 s.
``read_panel(path).to_frame()`` gives the long table.
"""

from __future__ import annotations

import json
import queue
import threading

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from sibeval.errors import SibevalError
from sibeval.extract import layouts
from sibeval.extract.panel import Panel
from sibeval.extract.timegrid import month_label, parse_month_label

ARRAYS = {"group": "group", "loen": "loen", "timer": "timer", "ordinary": "ordinary_employment",
          "resident": "resident", "dead": "dead"}
DTYPES = {"group": np.dtype(np.int8), "loen": np.dtype("<f8"), "timer": np.dtype("<f8"),
          "ordinary": np.dtype(bool), "resident": np.dtype(bool), "dead": np.dtype(bool)}
META = b"sibeval.panel"   # the file format's key (kept when the module moved)
LAYOUT = layouts.PANEL    # one row per person (an older file, a row per person-month, has none);
#                           the rule's params carry it: a file of an older layout is made again


class PanelWriter:
    """Write a panel block by block of persons (one row group per `persons_per_group`).

    Blocks must hold a multiple of `persons_per_group` persons, except the last; the file
    is the same bytes whether the panel comes whole or in blocks. Row groups are encoded on
    a thread while the caller builds the next block: a block's arrays must not change once
    written (up to six row groups, of this block and the one before, may still read them).
    """

    def __init__(self, path, months, covered, groups, persons: int, persons_per_group: int = 20_000):
        self.M = M = len(months)
        self.per_group = persons_per_group
        covered = np.asarray(covered, dtype=bool)
        meta = {"layout": LAYOUT, "months": [month_label(m) for m in months], "groups": list(groups),
                "covered": covered.tolist(), "persons": int(persons)}
        self.schema = pa.schema([("pnr", pa.string())]
                                + [(ARRAYS[a], pa.binary(max(1, M * DTYPES[a].itemsize))) for a in ARRAYS],
                                metadata={META: json.dumps(meta).encode()})
        self.persons, self.written, self.ended = int(persons), 0, False
        # min/max statistics only for pnr (the person filter's column); no dictionaries (a
        # person's months rarely repeat another's); LZ4 reads three times as fast as Snappy
        self.writer = pq.ParquetWriter(path, self.schema, write_statistics=["pnr"], use_dictionary=False,
                                       compression="lz4")
        self._out = _Background(self.writer.write_table)

    def write(self, panel: Panel) -> None:
        n = len(panel.pnr)
        if self.ended:
            raise ValueError("PanelWriter: a block after a partial one (blocks must hold whole row groups)")
        self.ended = n % self.per_group != 0
        pnr_all = pa.array(np.asarray(panel.pnr, dtype=object), type=pa.string())
        for lo in range(0, n, self.per_group):
            hi = min(n, lo + self.per_group)
            arrays = [pnr_all.slice(lo, hi - lo)]
            arrays += [_binary(getattr(panel, a)[lo:hi], DTYPES[a], self.schema.field(ARRAYS[a]).type)
                       for a in ARRAYS]
            self._out.put(pa.Table.from_arrays(arrays, schema=self.schema), row_group_size=max(1, hi - lo))
        self.written += n

    def close(self) -> None:
        try:
            self._out.finish()
        except BaseException:
            self.writer.close()
            raise
        self._close()

    def _close(self) -> None:
        if self.written == 0:       # an empty panel still has one (empty) row group
            self.writer.write_table(self.schema.empty_table(), row_group_size=1)
        self.writer.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _binary(values: np.ndarray, dtype: np.dtype, type_: pa.DataType) -> pa.Array:
    """Rows of a (persons, months) array as fixed-width binary values, one per person."""
    data = np.ascontiguousarray(values, dtype=dtype)
    if data.size == 0:       # no persons (or no months: a placeholder byte each)
        return pa.array([b"\0" * type_.byte_width] * len(values), type_)
    return pa.FixedSizeBinaryArray.from_buffers(type_, len(data), [None, pa.py_buffer(data)])


class _Background:
    """Calls `write(table, **kw)` in order on a thread of its own, so encoding row groups
    (which releases the GIL) overlaps building the next block; at most `depth` tables wait
    (memory: about one block of persons)."""

    def __init__(self, write, depth: int = 6):
        self.write, self.error = write, None
        self.queue: queue.Queue = queue.Queue(maxsize=depth)
        self.thread = threading.Thread(target=self._run, name="panel-writer", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while (item := self.queue.get()) is not None:
            if self.error is None:          # after an error, drain without writing
                try:
                    self.write(item[0], **item[1])
                except BaseException as e:  # noqa: BLE001 - handed to the caller
                    self.error = e
            del item                        # not kept while waiting for the next
            self.queue.task_done()

    def put(self, table: pa.Table, **kw) -> None:
        self._raise()
        self.queue.put((table, kw))     # waits while `depth` tables wait

    def finish(self) -> None:
        """Wait for every table to be written; re-raise the writer's error, if any."""
        if self.thread.is_alive():
            self.queue.put(None)
            self.thread.join()
        self._raise()

    def _raise(self) -> None:
        if self.error is not None:
            raise self.error


def write_panel(panel: Panel, path, persons_per_group: int = 20_000) -> None:
    """Write `panel` to Parquet, one row group per block of persons."""
    with PanelWriter(path, panel.months, panel.covered, panel.groups, len(panel.pnr), persons_per_group) as w:
        w.write(panel)


def panel_meta(path) -> dict:
    meta = json.loads((pq.read_schema(path).metadata or {}).get(META, b"{}"))
    if meta.get("layout") != LAYOUT:
        raise SibevalError(f"{path} is not a panel file of this version (a row per person expected): it "
                           "comes from an older version of the workflow. Fix: delete it and run the workflow again")
    return meta


def read_panel(path, arrays=tuple(ARRAYS), pnr=None) -> Panel:
    """Read the panel: only the `arrays` named (the others are None) and, with `pnr`, only
    those persons' months (persons absent from the panel are left out)."""
    meta = panel_meta(path)
    M = len(meta["months"])
    wanted = [ARRAYS[a] for a in arrays]
    pf = _open(path)
    parts = []
    keep = None if pnr is None else pa.array(sorted({str(p) for p in pnr}), type=pa.string())
    for i in range(pf.num_row_groups):
        if keep is None:
            parts.append(pf.read_row_group(i, columns=["pnr", *wanted]))
            continue
        persons = pf.read_row_group(i, columns=["pnr"]).column(0)
        hit = pc.is_in(persons, value_set=keep)
        if pc.any(hit).as_py():
            parts.append(pf.read_row_group(i, columns=["pnr", *wanted]).filter(hit))
    t = pa.concat_tables(parts) if parts else pf.schema_arrow.empty_table().select(["pnr", *wanted])
    return _panel(t, arrays, meta, M)


def read_panel_rows(path, lo: int, hi: int, arrays=tuple(ARRAYS)) -> Panel:
    """The panel's persons lo..hi (in file order): only the `arrays` named."""
    meta = panel_meta(path)
    t = read_rows(_open(path), lo, hi, ["pnr", *[ARRAYS[a] for a in arrays]])
    return _panel(t, arrays, meta, len(meta["months"]))


def read_rows(pf: pq.ParquetFile, lo: int, hi: int, columns) -> pa.Table:
    """Rows lo..hi of a Parquet file: only the row groups that hold them are read."""
    starts = np.r_[0, np.cumsum([pf.metadata.row_group(i).num_rows for i in range(pf.num_row_groups)])]
    first = int(np.searchsorted(starts, lo, side="right") - 1)
    last = int(np.searchsorted(starts, hi, side="left"))
    return pf.read_row_groups(list(range(first, last)), columns=columns).slice(lo - int(starts[first]), hi - lo)


def _open(path) -> pq.ParquetFile:
    return pq.ParquetFile(path)


def binary_rows(col, dtype, k: int) -> np.ndarray:
    """A column of fixed-width binary values, each `k` values of `dtype`, as a (rows, k) array:
    a read-only view of Arrow's memory when the column is one chunk, else one copy."""
    dtype = np.dtype(dtype)
    chunks = col.chunks if isinstance(col, pa.ChunkedArray) else [col]
    width = k * dtype.itemsize
    parts = [np.frombuffer(c.buffers()[1], dtype=np.uint8)[c.offset * width:(c.offset + len(c)) * width]
             .view(dtype).reshape(len(c), k) for c in chunks if len(c) and k]
    if not parts:
        return np.zeros((len(col), k), dtype=dtype)
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def _matrix(col, a: str, M: int) -> np.ndarray:
    """A column of fixed-width binary values as the (persons, months) array (writable)."""
    out = binary_rows(col, DTYPES[a], M)
    return out if out.flags.owndata else out.copy()


def _panel(t: pa.Table, arrays, meta: dict, M: int) -> Panel:
    out = {a: _matrix(t.column(ARRAYS[a]), a, M) for a in arrays}
    return Panel(
        pnr=np.asarray(t.column("pnr").to_numpy(zero_copy_only=False), dtype=object),
        months=np.array([parse_month_label(m) for m in meta["months"]], dtype=np.int64),
        covered=np.asarray(meta["covered"], dtype=bool), group=out.get("group"), loen=out.get("loen"),
        timer=out.get("timer"), ordinary=out.get("ordinary"), resident=out.get("resident"),
        dead=out.get("dead"), groups=tuple(meta["groups"]),
    )
