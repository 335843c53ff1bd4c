"""The person-month panel of a whole population in bounded memory.

:func:`build_panel_file` reads the normalised extract block by block of DREAM persons
and writes each block's months as it goes, so its memory is set by the block size, not
by the number of persons. eIndkomst (tens of rows per person, in any order) comes split
by block from normalise_extract (:class:`EindkomstBlocks`, written as the file is checked,
in pieces of a row group's rows); each block sums its own rows piece by piece in file order,
the same additions as the in-memory :func:`~sibeval.extract.panel.build_panel` makes over the
file in those pieces: the file is byte-identical to it.

:class:`PersonIndex` maps pnr to DREAM rows with a sorted byte array (a few bytes per
person) rather than a hash of Python strings.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from sibeval.errors import SibevalError
from sibeval.extract.codes import CodeTable
from sibeval.extract.dream_store import DreamStore
from sibeval.extract.panel import (
    add_sums,
    assemble,
    deaths,
    month_cover,
    month_groups,
    month_numbers,
    residence,
)
from sibeval.extract.panel_io import PanelWriter
from sibeval.extract.qc import read_summary
from sibeval.extract.register_blocks import block_runs
from sibeval.extract.timegrid import week_month

log = logging.getLogger("sibeval")

BLOCK_PERSONS = 100_000      # a multiple of the panel file's 20,000 persons per row group
EINDKOMST_BLOCKS = "eindkomst_blocks"     # normalise_extract's split of eIndkomst, next to the Parquet files
# the rows of one row group of a Parquet file pyarrow writes (its default): the pieces
# eIndkomst is summed by (each raw chunk's rows in pieces of this many)
ROW_GROUP_ROWS = 1024 * 1024
SORTED_LOOKUP = 50_000      # PersonIndex: from this many keys in no order, they are looked up sorted


def as_bytes(values, width: int | None = None) -> np.ndarray:
    """Text as a fixed-width numpy byte array (UTF-8; null -> b""), built from the Arrow
    buffers without a Python object per value."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    values = pc.cast(values, pa.large_string())
    n = len(values)
    if values.null_count:
        values = values.fill_null("")
    _, offsets, data = values.buffers()
    offsets = np.frombuffer(offsets, dtype=np.int64)[values.offset:values.offset + n + 1]
    data = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, np.uint8)
    lengths = np.diff(offsets)
    width = max(1, int(lengths.max()) if n else 1) if width is None else width
    if n and (lengths == width).all():       # all of one width (pnr usually): the bytes as they lie
        return data[offsets[0]:offsets[-1]].view(f"S{width}").copy()
    out = np.zeros((n, width), dtype=np.uint8)
    start = offsets[:-1]
    for j in range(min(width, int(lengths.max()) if n else 0)):
        has = lengths > j
        out[has, j] = data[start[has] + j]
    return out.view(f"S{width}").ravel()


MAX_DIGITS = 18     # 11 ** 18 < 2 ** 64
_DIGIT = np.full(256, 255, dtype=np.uint8)
_DIGIT[0] = 0                                   # NUL (a shorter key's padding) sorts first
_DIGIT[ord("0"):ord("9") + 1] = np.arange(1, 11)


def digit_codes(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fixed-width byte keys (at most MAX_DIGITS bytes) as unsigned integers in base 11, in the
    order of the bytes, and which keys hold only digits and NUL (the others' numbers mean
    nothing)."""
    width = keys.dtype.itemsize
    digits = _DIGIT[keys.view(np.uint8).reshape(len(keys), width)]
    ok = (digits != 255).all(axis=1)
    out = np.zeros(len(keys), dtype=np.uint64)
    for j in range(width):
        out *= np.uint64(11)
        out += digits[:, j]
    return out, ok


class PersonIndex:
    """Row of each pnr in a person order (DREAM's), by binary search on sorted bytes."""

    def __init__(self, pnr: pa.Array, chunk: int = 500_000):
        if isinstance(pnr, pa.ChunkedArray):
            pnr = pnr.combine_chunks()
        self.n = len(pnr)
        width = max(1, int(pc.max(pc.binary_length(pc.cast(pnr, pa.string()))).as_py() or 1)) if self.n else 1
        keys = np.empty(self.n, dtype=f"S{width}")
        for lo in range(0, self.n, chunk):     # bounded: never a Python string per person
            keys[lo:lo + chunk] = as_bytes(pnr.slice(lo, chunk), width)
        self.order = np.argsort(keys, kind="stable")
        self.sorted = keys[self.order]
        self.width = width
        # pnr of digits (CPR numbers) as integers in the same order: numpy's binary search on
        # byte strings took 0.1 s per million keys (6 s of a month-sorted eIndkomst at 10^6)
        codes, ok = digit_codes(self.sorted) if width <= MAX_DIGITS else (None, None)
        self.codes = codes if ok is not None and ok.all() else None

    def duplicated(self) -> np.ndarray:
        """Mask of the rows whose pnr occurs more than once (all of them)."""
        same = self.sorted[1:] == self.sorted[:-1]
        out = np.zeros(self.n, dtype=bool)
        out[self.order[1:][same]] = True
        out[self.order[:-1][same]] = True
        return out

    def distinct_duplicates(self) -> int:
        """How many pnr occur more than once."""
        same = self.sorted[1:] == self.sorted[:-1]
        return int(np.sum(same & ~np.r_[False, same[:-1]]))

    def rows(self, values) -> np.ndarray:
        """DREAM row of each value (-1 where absent); dictionary arrays are looked up per value."""
        if isinstance(values, pa.ChunkedArray):
            values = values.combine_chunks()
        if pa.types.is_dictionary(values.type):
            found = self.rows(values.dictionary)
            idx = values.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64) \
                if values.null_count else values.indices.to_numpy(zero_copy_only=False).astype(np.int64)
            return np.append(found, -1)[idx]
        q = as_bytes(values)
        too_long = np.zeros(len(q), bool)
        if q.dtype.itemsize > self.width:      # longer than every pnr: cannot match
            too_long = np.char.str_len(q) > self.width
            q = q.astype(f"S{self.width}")
        if self.n == 0:
            return np.full(len(q), -1, dtype=np.int64)
        # a register sorted by person repeats a pnr over its rows: each run is looked up once
        # (bef at 10^6 persons: 9.4 million rows, 1 million runs)
        start = np.flatnonzero(np.r_[True, (q[1:] != q[:-1]) | (too_long[1:] != too_long[:-1])]) \
            if len(q) > 1 else np.arange(len(q))
        pos = np.minimum(self._positions(q[start]), self.n - 1)
        hit = (self.sorted[pos] == q[start]) & ~too_long[start]
        out = np.where(hit, self.order[pos], -1).astype(np.int64)
        if len(start) < len(q):
            out = np.repeat(out, np.diff(np.r_[start, len(q)]))
        if values.null_count:
            out[~values.is_valid().to_numpy(zero_copy_only=False)] = -1
        return out

    def _positions(self, keys: np.ndarray) -> np.ndarray:
        """np.searchsorted(self.sorted, keys) for a key that may be a pnr of the index (for one
        that cannot, any position). Many keys in no order (a register sorted by month: a million
        pnr a chunk) are looked up sorted, each search starting where the last ended: the same
        positions in about 55 % of the time (a million random keys)."""
        if self.codes is not None and len(keys) and keys.dtype.itemsize <= self.width:
            codes, ok = digit_codes(keys.astype(f"S{self.width}", copy=False))
            # a key with another byte matches no pnr: any position does (the bytes are compared)
            return np.where(ok, self._search(self.codes, codes), 0)
        return self._search(self.sorted, keys)

    @staticmethod
    def _search(ordered: np.ndarray, keys: np.ndarray) -> np.ndarray:
        if len(keys) < SORTED_LOOKUP or not (keys[1:] < keys[:-1]).any():
            return np.searchsorted(ordered, keys)
        order = np.argsort(keys, kind="stable")
        pos = np.empty(len(keys), dtype=np.intp)
        pos[order] = np.searchsorted(ordered, keys[order])
        return pos


class EindkomstBlocks:
    """eIndkomst split by block of DREAM persons as normalise_extract checks it: each block's
    rows as (row within the block, month number, wage, hours), each piece (ROW_GROUP_ROWS
    rows of a chunk of the file) kept apart, so build_panel sums them piece by piece. It is
    the normalised form of eIndkomst: nothing else reads the file's rows. Rows of persons not
    in DREAM are left out (the panel has no row for them; the QC summary counts them).

    Two processes may split the file's row groups between them: each writes its own `part`
    of the files (``<block>.bin``, ``<block>.<part>.bin``) and notes each piece's row group;
    `absorb` takes the other part's pieces, and the manifest lists every block's pieces in
    the order of the file."""

    MANIFEST = "blocks.json"
    ROW = np.dtype([("row", "<i4"), ("month", "<i4"), ("loen", "<f8"), ("timer", "<f8")])

    def __init__(self, folder: Path, persons: int, block_persons: int = BLOCK_PERSONS,
                 segments: dict[int, list[tuple[int, int]]] | None = None, rows: int = 0, part: int = 0):
        self.folder, self.persons, self.block_persons = Path(folder), int(persons), int(block_persons)
        self.segments = segments if segments is not None else {}    # block -> [(part, rows)], file order
        self.rows = rows        # of the file, persons not in DREAM included: tells a split of another file
        self.part = part
        self.pieces: dict[int, list[tuple[int, int, int, int]]] = {}   # block -> [(group, seq, part, rows)]
        self._seq = 0

    @classmethod
    def create(cls, folder: Path, persons: int, block_persons: int = BLOCK_PERSONS, part: int = 0) -> EindkomstBlocks:
        """A new split (its `part`) in `folder`; the other part's may be there already."""
        Path(folder).mkdir(parents=True, exist_ok=True)
        out = cls(folder, persons, block_persons, part=part)
        mine = "*.bin" if part == 0 else f"*.{part}.bin"
        # pieces are appended: a part's earlier files would be read as its first pieces
        if (out.folder / cls.MANIFEST).exists() or any(f.name.count(".") == mine.count(".")
                                                          for f in out.folder.glob(mine)):
            raise FileExistsError(f"{folder} already holds a split (part {part})")
        return out

    def file(self, k: int, part: int) -> Path:
        return self.folder / (f"{k}.bin" if part == 0 else f"{k}.{part}.bin")

    def add(self, rows: np.ndarray, maaned, loen: np.ndarray, timer: np.ndarray, group: int = 0) -> None:
        """One piece of the file (of row group `group`, after this part's earlier pieces): its
        rows' DREAM rows (-1: not in DREAM) and columns."""
        self.rows += len(rows)
        at, runs = block_runs(rows, self.block_persons)
        rows, month = rows[at], month_numbers(maaned)[at]
        loen, timer = np.asarray(loen)[at], np.asarray(timer)[at]
        for k, a, b in runs:
            rec = np.empty(b - a, dtype=self.ROW)
            rec["row"], rec["month"] = rows[a:b] - k * self.block_persons, month[a:b]
            rec["loen"], rec["timer"] = loen[a:b], timer[a:b]
            with open(self.file(k, self.part), "ab") as fh:
                rec.tofile(fh)
            self.pieces.setdefault(k, []).append((group, self._seq, self.part, int(b - a)))
        self._seq += 1

    def absorb(self, pieces: dict, rows: int) -> None:
        """Another part's pieces (its `pieces`) and rows, written into this folder."""
        for k, v in pieces.items():
            self.pieces.setdefault(k, []).extend(v)
        self.rows += rows

    def close(self) -> None:
        for k, v in self.pieces.items():
            self.segments[k] = [(part, n) for _, _, part, n in sorted(v)]
        (self.folder / self.MANIFEST).write_text(json.dumps(
            {"persons": self.persons, "block_persons": self.block_persons, "rows": self.rows,
             "segments": {str(k): [list(x) for x in v] for k, v in sorted(self.segments.items())}}))

    @classmethod
    def read(cls, folder: Path) -> EindkomstBlocks | None:
        """The split in `folder`, or None where there is none (a folder normalised before it)."""
        f = Path(folder) / cls.MANIFEST
        if not f.is_file():
            return None
        m = json.loads(f.read_text())
        # a piece is [part, rows]; a split of one process before parts was its rows alone
        segments = {int(k): [(0, x) if isinstance(x, int) else (int(x[0]), int(x[1])) for x in v]
                    for k, v in m["segments"].items()}
        return cls(folder, m["persons"], m["block_persons"], segments, m.get("rows", -1))

    def sums(self, k: int, size: int, months: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Block k's wage and hours per (row, month) cell, summed piece by piece."""
        M = len(months)
        loen, timer = np.zeros(size * M), np.zeros(size * M)
        if k not in self.segments:
            return loen, timer
        recs = {p: np.fromfile(self.file(k, p), dtype=self.ROW) for p in {p for p, _ in self.segments[k]}}
        at = dict.fromkeys(recs, 0)
        for p, n in self.segments[k]:
            seg = recs[p][at[p]:at[p] + n]
            at[p] += n
            mo = seg["month"].astype(np.int64) - months[0]
            ok = (mo >= 0) & (mo < M)
            add_sums((loen, timer), seg["row"][ok].astype(np.int64) * M + mo[ok], (seg["loen"][ok], seg["timer"][ok]))
        return loen, timer


def _events(folder: Path, name: str, columns: list[str], index: PersonIndex):
    """A small normalised register (vnds, dod) as DREAM rows plus its columns, or None."""
    f = folder / f"{name}.parquet"
    t = pq.read_table(f, columns=["pnr", *columns])
    if t.num_rows == 0:          # not delivered: normalise_extract wrote it empty
        return None
    cols = {}
    for c in columns:
        col = t.column(c).combine_chunks()
        if pa.types.is_dictionary(col.type):
            col = col.cast(col.type.value_type)
        cols[c] = col.to_numpy(zero_copy_only=False)
    return index.rows(t.column("pnr")), cols


def build_panel_file(folder, codes: CodeTable, out, block_persons: int = BLOCK_PERSONS,
                     persons_per_group: int = 20_000, threads: int = 1) -> dict:
    """Build the panel of the normalised extract in `folder` and write it to `out`, with
    `threads` blocks of persons built at a time (the file is the same).

    Returns {persons, months, blocks}.
    """
    if block_persons % persons_per_group:
        raise ValueError(f"block_persons={block_persons} must be a multiple of persons_per_group="
                         f"{persons_per_group} (the panel file's row groups)")
    folder, out = Path(folder), Path(out)
    dream = DreamStore(folder / "dream.parquet")
    week_months = np.array([week_month(*w) for w in dream.weeks], dtype=np.int64)
    months, covered = month_cover(week_months)
    M = len(months)
    pnr = dream.pnr()
    n = len(pnr)
    index = PersonIndex(pnr)
    pa.default_memory_pool().release_unused()     # what reading the pnr column left (150 MB at 6x10^6)

    t0 = time.perf_counter()
    sums = _eindkomst_split(folder, n, block_persons).sums
    vnds = _events(folder, "vnds", ["haend_dato", "indud_kode"], index)
    dod = _events(folder, "dod", ["doddato"], index)
    del index           # (110 MB at 6x10^6) not needed by the blocks
    pa.default_memory_pool().release_unused()

    stores = threading.local()       # a DREAM reader per thread (a ParquetFile is not shared)

    def block(k: int, lo: int):
        if not hasattr(stores, "dream"):
            stores.dream = DreamStore(folder / "dream.parquet")
        hi = min(n, lo + block_persons)
        size = hi - lo
        _, group, _ = month_groups(stores.dream.groups(lo, hi, codes), week_months)
        loen, timer = sums(k, size, months)
        rows, v = _block_events(vnds, lo, hi)
        resident = residence(rows, v.get("haend_dato", []), v.get("indud_kode", []), size, months)
        rows, v = _block_events(dod, lo, hi)
        dead = deaths(group, rows, v.get("doddato", []), codes, months)
        return assemble(pnr.slice(lo, size).to_numpy(zero_copy_only=False), months, covered,
                        group, loen.reshape(size, M), timer.reshape(size, M), resident, dead, codes)

    # `threads` blocks at a time (numpy and Arrow release the GIL for most of a block's work),
    # written in order: 10^6 persons on two threads, 7.6-8.0 s against 9.5-10.1 s (bench/README.md)
    threads = max(1, threads)
    with PanelWriter(out, months, covered, codes.groups, n, persons_per_group) as writer, \
            ThreadPoolExecutor(threads) as pool:
        ahead: deque = deque()
        for k, lo in enumerate(range(0, n, block_persons)):
            ahead.append(pool.submit(block, k, lo))
            if len(ahead) >= threads:
                writer.write(ahead.popleft().result())
        while ahead:
            writer.write(ahead.popleft().result())
    log.info("panel of %d persons x %d months written (%.1f s)", n, M, time.perf_counter() - t0)
    return {"persons": n, "months": M, "blocks": -(-n // block_persons)}


def _eindkomst_split(folder: Path, persons: int, block_persons: int) -> EindkomstBlocks:
    """normalise_extract's split of eIndkomst in `folder`, checked to be of this extract's
    file (its rows), of DREAM's persons and of this block size."""
    split = EindkomstBlocks.read(folder / EINDKOMST_BLOCKS)
    s = read_summary(folder)
    rows = s.loc[(s["file"] == "eindkomst") & (s["item"] == "rows"), "value"]
    want = (block_persons, persons, int(rows.iloc[0]) if len(rows) else -1)
    if split is None or (split.block_persons, split.persons, split.rows) != want:
        found = "no split" if split is None else \
            f"a split of {split.rows} rows, {split.persons} persons in blocks of {split.block_persons}"
        raise SibevalError(
            f"{folder / EINDKOMST_BLOCKS} holds {found}; the panel needs normalise_extract's split of "
            f"this extract ({want[2]} rows, {persons} persons in blocks of {block_persons}). Fix: run "
            "normalise_extract again (snakemake --forcerun normalise_extract)")
    return split


def _block_events(events, lo: int, hi: int) -> tuple[np.ndarray, dict]:
    """A register's events of persons lo..hi: (rows within the block, columns)."""
    if events is None:
        return np.zeros(0, dtype=np.int64), {}
    rows, cols = events
    keep = (rows >= lo) & (rows < hi)
    return rows[keep] - lo, {c: v[keep] for c, v in cols.items()}
