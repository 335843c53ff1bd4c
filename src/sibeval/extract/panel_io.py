"""The person-month panel on disk: written in blocks of persons, read back with column
projection and a person filter, so a rule holds only the months of the persons it uses.

The file has the columns of :meth:`Panel.to_frame` (one row per person and month, sorted
by person then month); each row group holds whole persons, and the schema metadata
records the months and groups so no rule has to scan the file to learn its shape.
"""

from __future__ import annotations

import json
import queue
import threading

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from sibeval.extract.panel import Panel
from sibeval.extract.timegrid import month_label, parse_month_label

ARRAYS = {"group": "group", "loen": "loen", "timer": "timer", "ordinary": "ordinary_employment",
          "resident": "resident", "dead": "dead"}
META = b"sibeval.panel"   # the file format's key (kept when the module moved)


class PanelWriter:
    """Write a panel block by block of persons (one row group per `persons_per_group`).

    Blocks must hold a multiple of `persons_per_group` persons, except the last; the file
    is the same bytes whether the panel comes whole or in blocks. Row groups are encoded on
    a thread while the caller builds the next block: a block's arrays must not change once
    written (up to six row groups, of this block and the one before, may still read them).
    """

    def __init__(self, path, months, covered, groups, persons: int, persons_per_group: int = 20_000):
        self.M = len(months)
        self.per_group = persons_per_group
        self.covered = np.asarray(covered, dtype=bool)
        labels = np.array([month_label(m) for m in months])
        meta = {"months": labels.tolist(), "groups": list(groups), "persons": int(persons)}
        # the schema (with pandas' metadata) of the frame Panel.to_frame gives; the blocks are
        # built as Arrow arrays, without a Python string per person-month
        M = self.M
        one = Panel(pnr=np.array([""], dtype=object), months=np.asarray(months), covered=self.covered,
                    group=np.zeros((1, M), np.int8), loen=np.zeros((1, M)), timer=np.zeros((1, M)),
                    ordinary=np.zeros((1, M), bool), resident=np.zeros((1, M), bool),
                    dead=np.zeros((1, M), bool), groups=tuple(groups))
        schema = pa.Table.from_pandas(one.to_frame(), preserve_index=False).schema
        self.schema = schema.with_metadata({**(schema.metadata or {}), META: json.dumps(meta).encode()})
        self.month_labels = pa.array(labels, type=pa.large_string())
        self.group_names = pa.array(list(groups), type=pa.string())
        self.persons, self.written, self.ended = int(persons), 0, False
        # min/max statistics only for pnr (the person filter's column): the others cost 40 % of
        # the write time and no reader filters on them
        self.writer = pq.ParquetWriter(path, self.schema, write_statistics=["pnr"])
        self._out = _Background(self.writer.write_table)

    def write(self, panel: Panel) -> None:
        n = len(panel.pnr)
        if self.ended:
            raise ValueError("PanelWriter: a block after a partial one (blocks must hold whole row groups)")
        self.ended = n % self.per_group != 0
        M = self.M
        pnr_all = pa.array(np.asarray(panel.pnr, dtype=object), type=pa.large_string())
        for lo in range(0, n, self.per_group):
            hi = min(n, lo + self.per_group)
            k = hi - lo
            arrays = [
                _repeat_each(pnr_all.slice(lo, k), M),
                _repeat_each(self.month_labels, k, tile=True),
                _group_array(panel.group[lo:hi].ravel(), self.group_names),
                pa.array(panel.loen[lo:hi].ravel()),
                pa.array(panel.timer[lo:hi].ravel()),
                pa.array(panel.ordinary[lo:hi].ravel()),
                pa.array(panel.resident[lo:hi].ravel()),
                pa.array(panel.dead[lo:hi].ravel()),
                pa.array(np.tile(self.covered, k)),
            ]
            self._out.put(pa.Table.from_arrays(arrays, schema=self.schema), row_group_size=k * M or 1)
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


def _repeat_each(values: pa.LargeStringArray, M: int, tile: bool = False) -> pa.Array:
    """Each value M times in a row (or, with `tile`, the whole array M times); equal-length
    values without nulls (pnr, month labels) are repeated as bytes, not string by string."""
    n = len(values)
    _, offsets, data = values.buffers()
    offsets = np.frombuffer(offsets, dtype=np.int64)[values.offset:values.offset + n + 1]
    lengths = np.diff(offsets)
    if n == 0 or values.null_count or (lengths != lengths[0]).any() or lengths[0] == 0:
        order = np.tile(np.arange(n), M) if tile else np.repeat(np.arange(n), M)
        return values.take(pa.array(order))
    w = int(lengths[0])
    rows = np.frombuffer(data, dtype=np.uint8)[offsets[0]:offsets[-1]].reshape(n, w)
    out = np.tile(rows, (M, 1)) if tile else np.repeat(rows, M, axis=0)
    return pa.LargeStringArray.from_buffers(n * M, pa.py_buffer(np.arange(n * M + 1, dtype=np.int64) * w),
                                            pa.py_buffer(out))


def _group_array(ids: np.ndarray, names: pa.Array) -> pa.DictionaryArray:
    """Group ids as the dictionary column pandas writes for a categorical (-1 -> null)."""
    missing = ids < 0
    indices = pa.array(np.where(missing, 0, ids).astype(np.int8), mask=missing if missing.any() else None)
    return pa.DictionaryArray.from_arrays(indices, names)


def panel_meta(path) -> dict:
    return json.loads(pq.read_schema(path).metadata[META])


def read_panel(path, arrays=tuple(ARRAYS), pnr=None) -> Panel:
    """Read the panel: only the `arrays` named (the others are None) and, with `pnr`, only
    those persons' months (persons absent from the panel are left out)."""
    meta = panel_meta(path)
    months_lbl = meta["months"]
    M = len(months_lbl)
    groups = tuple(meta["groups"])
    wanted = [ARRAYS[a] for a in arrays]
    pf = _open(path)
    if pnr is not None:
        keep = pa.array(sorted({str(p) for p in pnr}), type=pa.string())
        found, parts = [], {c: [] for c in wanted}
        for i in range(pf.num_row_groups):
            col = pf.read_row_group(i, columns=["pnr"]).column(0)
            persons = _decoded(col.take(pa.array(np.arange(len(col) // M, dtype=np.int64) * M)))   # one per person
            hit = np.flatnonzero(pc.is_in(persons, value_set=keep).to_numpy(zero_copy_only=False))
            if not len(hit):
                continue
            found.append(np.asarray(persons.take(pa.array(hit)).to_numpy(zero_copy_only=False), dtype=object))
            rows = (hit[:, None] * M + np.arange(M)[None, :]).ravel()
            t = pf.read_row_group(i, columns=wanted).take(pa.array(rows))
            for c in wanted:
                parts[c].append(t.column(c))
        person_pnr = np.asarray(np.concatenate(found) if found else np.array([], dtype=object), dtype=object)
        n = len(person_pnr)
        out = {a: (np.concatenate([_values(col, a, groups) for col in parts[ARRAYS[a]]]) if n
                   else np.empty(0, dtype=np.int8 if a == "group" else np.float64 if a in ("loen", "timer") else bool)
                   ).reshape(n, M) for a in arrays}
        return _panel(person_pnr, months_lbl, groups, out, pf, M)
    n = meta["persons"]
    out = {a: np.empty((n, M), dtype=np.int8 if a == "group" else np.float64 if a in ("loen", "timer") else bool)
           for a in arrays}
    person_pnr = np.empty(n, dtype=object)
    row = 0
    for i in range(pf.num_row_groups):
        t = pf.read_row_group(i, columns=["pnr", *wanted])
        k = t.num_rows // M
        person_pnr[row:row + k] = _first_of_each(t.column("pnr"), k, M)
        for a in arrays:
            out[a][row:row + k] = _values(t.column(ARRAYS[a]), a, groups).reshape(k, M)
        row += k
    return _panel(person_pnr, months_lbl, groups, out, pf, M)


def read_rows(pf: pq.ParquetFile, lo: int, hi: int, columns) -> pa.Table:
    """Rows lo..hi of a Parquet file: only the row groups that hold them are read."""
    starts = np.r_[0, np.cumsum([pf.metadata.row_group(i).num_rows for i in range(pf.num_row_groups)])]
    first = int(np.searchsorted(starts, lo, side="right") - 1)
    last = int(np.searchsorted(starts, hi, side="left"))
    return pf.read_row_groups(list(range(first, last)), columns=columns).slice(lo - int(starts[first]), hi - lo)


def read_panel_rows(path, lo: int, hi: int, arrays=tuple(ARRAYS)) -> Panel:
    """The panel's persons lo..hi (in file order): only the `arrays` named."""
    meta = panel_meta(path)
    months_lbl, groups = meta["months"], tuple(meta["groups"])
    M = len(months_lbl)
    pf = _open(path)
    t = read_rows(pf, lo * M, hi * M, ["pnr", *[ARRAYS[a] for a in arrays]])
    k = hi - lo
    out = {a: _values(t.column(ARRAYS[a]), a, groups).reshape(k, M) for a in arrays}
    person_pnr = _first_of_each(t.column("pnr"), k, M)
    return _panel(person_pnr, months_lbl, groups, out, pf, M)


def _open(path) -> pq.ParquetFile:
    """The panel file with pnr read as a dictionary: each person's pnr is repeated over their
    months, and decoding a string per person-month cost most of a person-filtered read."""
    return pq.ParquetFile(path, read_dictionary=["pnr"])


def _decoded(col):
    """A (chunked) pnr column as plain strings (it may be read as a dictionary)."""
    return col.cast(col.type.value_type) if pa.types.is_dictionary(col.type) else col


def _first_of_each(col, k: int, M: int) -> np.ndarray:
    """Each person's pnr from a column of k persons x M months (a string per person only)."""
    first = _decoded(col.take(pa.array(np.arange(k, dtype=np.int64) * M)))
    return np.asarray(first.to_numpy(zero_copy_only=False), dtype=object)


def _values(col, a, groups) -> np.ndarray:
    if a == "group":
        col = col.combine_chunks()
        lookup = np.array([groups.index(g) for g in col.dictionary.to_pylist()], dtype=np.int8)
        return lookup[col.indices.to_numpy(zero_copy_only=False)]
    return col.to_numpy()


def _panel(person_pnr, months_lbl, groups, out, pf, M) -> Panel:
    covered = pf.read_row_group(0, columns=["covered"]).column(0).to_numpy()[:M] if pf.num_row_groups \
        else np.zeros(M, bool)
    return Panel(
        pnr=person_pnr, months=np.array([parse_month_label(m) for m in months_lbl], dtype=np.int64),
        covered=np.asarray(covered, dtype=bool), group=out.get("group"), loen=out.get("loen"),
        timer=out.get("timer"), ordinary=out.get("ordinary"), resident=out.get("resident"),
        dead=out.get("dead"), groups=groups,
    )
