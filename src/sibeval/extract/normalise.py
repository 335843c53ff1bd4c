"""The extract stage: validate a delivery once and keep it as typed, column-pruned Parquet.

`normalise()` reads every register file of an extract folder (any format, in chunks, only
the contract's columns), validates it with the readers of :mod:`sibeval.extract.readers` and
writes one Parquet file per contract file plus the register part of the QC summary and
the raw files' checksums; the person-level registers are also split by block of persons
(blocks/), and eIndkomst, which only the panel reads, is kept as that split alone
(eindkomst_blocks/). :class:`NormalisedExtract` reads that folder back with the
interface of :class:`~sibeval.extract.readers.Extract` (eIndkomst aside), so analysis rules
never touch raw files.
Participant lists and questionnaires belong to a cohort (each may name its own file) and
are still read, small as they are, from the raw folder.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from sibeval.child import ChildProcess
from sibeval.errors import ExtractError, SibevalError, file_rows
from sibeval.extract.codes import CodeTable
from sibeval.extract.dream_store import DreamStore, DreamWriter, TooManyCodes
from sibeval.extract.panel_blocks import (
    BLOCK_PERSONS,
    EINDKOMST_BLOCKS,
    ROW_GROUP_ROWS,
    EindkomstBlocks,
    PersonIndex,
    as_bytes,
)
from sibeval.extract.qc import SUMMARY, delivered, read_summary
from sibeval.extract.readers import (
    SCHEMAS,
    Extract,
    batch_frame,
    check_columns,
    check_unknown_codes,
    check_weeks,
    chunked_error,
    codes_as_text,
    coerce,
    dictionary_indices,
    iter_raw,
    parquet_batches,
    raw_columns,
    resolve_columns,
    typed_table,
)
from sibeval.extract.register_blocks import BLOCKS, SPLIT_REGISTERS, RegisterSplit, write_manifest
from sibeval.extract.timegrid import parse_week_column, week_column

log = logging.getLogger("sibeval")

REGISTERS = ("dream", "bef", "eindkomst", "vnds", "dod", "udda", "lpr")
OPTIONAL = ("vnds", "dod", "udda", "lpr")
SPANS = {"bef": "aar", "eindkomst": "maaned", "vnds": "haend_dato", "dod": "doddato", "udda": None, "lpr": "dato"}
SPAN_ITEMS = {"bef": "year", "eindkomst": "month", "vnds": "date", "dod": "date", "lpr": "date"}
CHECKSUMS = "checksums.csv"


def checksums(folder) -> pd.DataFrame:
    """sha256 of every extract file in a raw folder (provenance)."""
    rows = []
    for f in sorted(Path(folder).iterdir()):
        if f.is_file() and f.suffix.lower() in (".parquet", ".csv", ".sas7bdat", ".dta"):
            h = hashlib.sha256()
            with open(f, "rb") as fh:
                for block in iter(lambda: fh.read(1 << 22), b""):
                    h.update(block)
            rows.append({"file": f.name, "sha256": h.hexdigest()})
    return pd.DataFrame(rows, columns=["file", "sha256"])


# ----------------------------------------------------------------------------- DREAM
def _code_column(col) -> pa.Array:
    """A week column as dictionary-encoded, stripped code text (numbers 130.0 -> '130')."""
    if isinstance(col, pa.ChunkedArray):
        col = col.chunk(0) if col.num_chunks == 1 else col.combine_chunks()
    if pa.types.is_dictionary(col.type):
        values = col.dictionary
        if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
            values = codes_as_text(values)
        values = pc.utf8_trim_whitespace(values.cast(pa.string()))
        # the same values one for one: the indices need no range check
        return pa.DictionaryArray.from_arrays(col.indices.cast(pa.int32()), values, safe=False)
    if pa.types.is_null(col.type):
        col = col.cast(pa.string())
    elif not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
        col = codes_as_text(col)
    return pc.utf8_trim_whitespace(col.cast(pa.string())).dictionary_encode()


def _dream_batches(f: Path, cols: list[str], rename, chunk_rows: int):
    """Raw DREAM in row batches as Arrow tables with the (renamed) columns `cols`."""
    if f.suffix.lower() == ".parquet":
        pf = pq.ParquetFile(f)
        by_final = {}
        for n in pf.schema_arrow.names:
            by_final.setdefault({k.lower(): v.lower() for k, v in (rename or {}).items()}.get(n.lower(), n.lower()), n)
        for batch in parquet_batches(pf, [by_final[c] for c in cols], chunk_rows):
            yield pa.Table.from_batches([batch]).rename_columns(cols)
        return
    for chunk in iter_raw(f, columns=cols, rename=rename, chunk_rows=chunk_rows):
        yield pa.Table.from_pandas(chunk[cols].astype(object), preserve_index=False)


def normalise_dream(ex: Extract, codes: CodeTable, out: Path, chunk_rows: int = 100_000) -> dict:
    """Stream DREAM into `out` (pnr + weeks in calendar order as code numbers, see
    :mod:`sibeval.extract.dream_store`) and check it.

    Returns the QC facts: persons, weeks, code counts, unknown codes.
    """
    try:
        return _normalise_dream(ex, codes, out, chunk_rows, width=1)
    except TooManyCodes:          # over 255 distinct codes: two bytes a week
        try:
            return _normalise_dream(ex, codes, out, chunk_rows, width=2)
        except TooManyCodes as e:
            raise ExtractError(ex.file("dream"), f"more than 65,535 distinct codes in the week columns "
                               f"(e.g. {', '.join(repr(c) for c in e.args[1])})", column="y_*",
                               fix="the week columns must hold benefit codes; check the delivery") from None


def _normalise_dream(ex: Extract, codes: CodeTable, out: Path, chunk_rows: int, width: int) -> dict:
    f = ex.file("dream")
    rename = ex.rename.get("dream")
    names = list(resolve_columns(raw_columns(f), None, rename))
    weeks = check_weeks(f, names)
    by_week = {parse_week_column(n): n for n in names if n != "pnr"}
    cols = ["pnr"] + [by_week[w] for w in weeks]
    seen: list[pa.Array] = []
    writer = DreamWriter(out, [week_column(y, w) for y, w in weeks], width)
    n_rows = 0
    try:
        for raw in _dream_batches(f, cols, rename, chunk_rows):
            pnr = raw.column("pnr")
            if pnr.null_count:
                raise ExtractError(f, "empty pnr", column="pnr", n=pnr.null_count)
            pnr = pc.cast(pnr, pa.string()).combine_chunks()
            week_cols = [_code_column(raw.column(c)) for c in cols[1:]]
            del raw
            seen.append(pnr)
            writer.write(pnr, week_cols)
            n_rows += len(pnr)
    finally:
        writer.close()
    counts = writer.counts()
    if n_rows == 0:
        raise ExtractError(f, "the file has no rows", n=0)
    index = PersonIndex(pa.chunked_array(seen, type=pa.string()))
    del seen
    dup = index.duplicated()
    if dup.any():
        raise ExtractError(f, "duplicate pnr (one row per person expected)", column="pnr",
                           n=index.distinct_duplicates(), examples=file_rows(f, np.flatnonzero(dup)))
    unknown_counts = writer.unknown(codes)      # an empty week is no code, known or not
    check_unknown_codes(f, unknown_counts, codes)
    return {"persons": index.n, "weeks": weeks, "code_counts": counts, "unknown_counts": unknown_counts,
            "index": index}


class _Persons:
    """Distinct persons of a register, counted on DREAM's rows (a bit per person) plus the
    few not in DREAM; with `years`, also (person, year) pairs seen twice (bef's rule)."""

    def __init__(self, index: PersonIndex, years: bool = False):
        self.index = index
        self.seen = np.zeros(index.n, dtype=bool)
        self.others: list[np.ndarray] = []
        self.year_bits = np.zeros(index.n, dtype=np.uint64) if years else None
        self.dup_bits = np.zeros(index.n, dtype=np.uint64) if years else None    # pairs seen twice
        self.other_years: list[np.ndarray] = []
        self.duplicate = False

    def add(self, col: pa.Array, aar: np.ndarray | None = None) -> np.ndarray:
        """Count the persons of `col`; returns each row's DREAM row (-1: not in DREAM)."""
        rows = self.index.rows(col)
        found = rows >= 0
        self.seen[rows[found]] = True
        if not found.all():
            self.others.append(np.unique(as_bytes(col.filter(pa.array(~found)))))
        if self.year_bits is None:
            return rows
        aar = np.asarray(aar, dtype=np.int64)
        fits, r, mask = self._pairs(rows, aar)
        key = r * 64 + (aar[fits] - YEAR0)
        order = np.argsort(key, kind="stable")
        again = (self.year_bits[r] & mask) != 0                 # seen in an earlier chunk
        again[order[1:][key[order][1:] == key[order][:-1]]] = True      # or earlier in this one
        if again.any():
            self.duplicate = True
            np.bitwise_or.at(self.dup_bits, r[again], mask[again])
        np.bitwise_or.at(self.year_bits, r, mask)
        if not fits.all():       # persons outside DREAM or years outside the bit window
            self.other_years.append((as_bytes(col.filter(pa.array(~fits))), aar[~fits]))
        return rows

    @staticmethod
    def _pairs(rows: np.ndarray, aar: np.ndarray):
        """Which rows' (person, year) pair is kept as a bit (a DREAM person, a year of the
        window), their DREAM rows and bits."""
        bit = aar - YEAR0
        fits = (rows >= 0) & (bit >= 0) & (bit < 64)
        return fits, rows[fits], np.uint64(1) << bit[fits].astype(np.uint64)

    def count(self) -> int:
        others = np.unique(np.concatenate(self.others)) if self.others else []
        return int(self.seen.sum()) + len(others)

    def has_duplicates(self) -> bool:
        return self.duplicate or bool(self.other_duplicates())

    def other_duplicates(self) -> set:
        """The (pnr, year) pairs seen twice among those kept as keys (outside DREAM or the window)."""
        if not self.other_years:     # sorted, a pair equal to the next is a duplicate
            return set()
        width = max(p.dtype.itemsize for p, _ in self.other_years)
        pnr = np.concatenate([p.astype(f"S{width}") for p, _ in self.other_years])
        aar = np.concatenate([a for _, a in self.other_years])
        o = np.lexsort((aar, pnr))
        same = np.flatnonzero((pnr[o][1:] == pnr[o][:-1]) & (aar[o][1:] == aar[o][:-1]))
        return {(bytes(pnr[o][i]), int(aar[o][i])) for i in same}

    def duplicate_error(self, f: Path, chunks) -> ExtractError | None:
        """bef's "more than one row per person and year" as the whole file's reading gives it
        (persons counted, the file's first two rows of a pair seen twice), from `chunks`, the
        file's typed chunks read again (pnr and aar), in bounded memory. None when a pnr holds
        a NUL: as fixed-width bytes "X" and "X\\0" are one key, as text two (the caller then
        reads the file whole)."""
        others, persons, other_pnr, first, row0 = self.other_duplicates(), np.zeros(self.index.n, bool), set(), [], 0
        for pnr, aar in chunks:
            values = pnr.dictionary if pa.types.is_dictionary(pnr.type) else pnr
            if pc.any(pc.match_substring(values, "\x00")).as_py():
                return None
            rows = self.index.rows(pnr)
            aar = np.asarray(aar, dtype=np.int64)
            fits, r, mask = self._pairs(rows, aar)
            dup = np.zeros(len(rows), dtype=bool)
            dup[np.flatnonzero(fits)[(self.dup_bits[r] & mask) != 0]] = True
            if others and not fits.all():       # pairs kept as keys: (pnr, year) looked up
                out = np.flatnonzero(~fits)
                for i, k in zip(out, as_bytes(pnr.filter(pa.array(~fits)))):
                    if (bytes(k), int(aar[i])) in others:
                        dup[i] = True
                        if rows[i] < 0:
                            other_pnr.add(bytes(k))
            persons[rows[dup & (rows >= 0)]] = True
            if len(first) < 2:
                first += list(row0 + np.flatnonzero(dup)[:2])
            row0 += len(rows)
        return ExtractError(f, "more than one row per person and year", column="aar",
                            n=int(persons.sum()) + len(other_pnr), examples=file_rows(f, first))


YEAR0 = 1970     # bef years 1970-2033 are kept as bits per person; others as keys


def normalise_chunked(ex: Extract, name: str, out: Path, index: PersonIndex | None = None,
                      span: str | None = None, chunk_rows: int = 2_000_000,
                      blocks: EindkomstBlocks | None = None, split: RegisterSplit | None = None,
                      claim=None, recheck: bool = True) -> dict | None:
    """Validate and write a long register chunk by chunk; returns its QC facts (rows,
    persons, and the smallest and largest value of `span`), or None when an optional file
    was not delivered. `blocks` (eIndkomst): the rows are split by block of DREAM persons
    there, in pieces of a row group, for build_panel, instead of written to `out` (nothing
    else reads them). `split` (the person-level registers): each chunk written is also split
    by block of DREAM persons there, for the candidate search.

    Every check of the contract is row-local, so chunks are checked as they come (bef's
    one-row-per-person-and-year is kept as a bit per person and year); when one fails, the
    file is checked once more chunk by chunk (:func:`readers.chunked_error`; bef's pairs seen
    twice: :meth:`_Persons.duplicate_error`), so the error is the whole file's, every bad row
    counted, in bounded memory.

    With `claim` (a Parquet eIndkomst split with `blocks` by two processes), only the row
    groups g with ``claim(g)`` are read, and the result is this part's (:func:`_parts_facts`
    adds the parts up). Without `recheck`, a failed chunk's error is raised as it is (the
    second process: its parent reads the file again for the whole-file error).
    """
    f = ex.file(name, required=name not in OPTIONAL)
    if f is None:
        return None
    rename = ex.rename.get(name)
    wanted = list(SCHEMAS[name])
    check_columns(f, name, rename)      # the whole file's error, from its column names alone
    persons = _Persons(index or PersonIndex(pa.array([], pa.string())), years=name == "bef")
    rows, lows, highs, writer, schema, read = 0, [], [], None, None, False
    try:
        for item in iter_raw(f, columns=wanted, rename=rename, chunk_rows=chunk_rows, arrow=True, claim=claim):
            group, chunk = item if claim is not None else (0, item)
            if not len(chunk):
                continue
            table = _typed_chunk(chunk, f, name)
            del chunk
            rows += table.num_rows
            at = persons.add(_array(table.column("pnr")),
                             _array(table.column("aar")).to_numpy() if name == "bef" else None)
            if span is not None:
                low, high = _value_range(table.column(span))
                lows.append(low)
                highs.append(high)
            if schema is None:
                schema = table.schema if table.schema.metadata else _pandas_schema(table)
            table = table.cast(schema)
            if blocks is not None:
                for a in range(0, table.num_rows, ROW_GROUP_ROWS):     # pieces of a row group
                    piece = table.slice(a, ROW_GROUP_ROWS)
                    blocks.add(at[a:a + piece.num_rows], piece.column("maaned").to_pandas(),
                               piece.column("loen").to_numpy(), piece.column("timer").to_numpy(), group)
                continue
            if writer is None:
                # statistics only for pnr (nothing filters on the others; they were a quarter of
                # the write time) and LZ4 (eIndkomst at 10^6: 3.6 s to write, 2.7 to read, were 5.9, 3.9)
                writer = pq.ParquetWriter(out, schema, write_statistics=["pnr"], compression="lz4")
            writer.write_table(table)
            if split is not None:
                split.add(table, at)
        read = True
        if persons.has_duplicates():
            raise ExtractError(f, "more than one row per person and year")   # counted below
    except ExtractError:
        if writer is not None:
            writer.close()
            writer = None
        if recheck:     # the whole file's error (every bad row counted), chunk by chunk
            if read:      # every chunk passed its checks: bef's pairs seen twice, found again
                err = persons.duplicate_error(f, _pnr_and_year(f, name, wanted, rename, chunk_rows))
            else:
                err = chunked_error(f, name, rename, chunk_rows)
            if err is not None:
                raise err from None
            getattr(ex, name)()                   # what the file read whole says
        raise
    finally:
        if writer is not None:
            writer.close()
    part = {"rows": rows, "seen": persons.seen, "others": persons.others, "lows": lows, "highs": highs}
    return part if claim is not None else _parts_facts(ex, name, persons.index, [part])   # the file whole


def _pnr_and_year(f: Path, name: str, wanted: list, rename, chunk_rows: int):
    """bef's pnr and aar, chunk by chunk, typed as normalising types them."""
    for chunk in iter_raw(f, columns=wanted, rename=rename, chunk_rows=chunk_rows, arrow=True):
        if len(chunk):
            table = _typed_chunk(chunk, f, name)
            yield _array(table.column("pnr")), _array(table.column("aar")).to_numpy()


def _parts_facts(ex: Extract, name: str, index: PersonIndex, parts: list[dict]) -> dict:
    """The QC facts of a register read whole, or in parts (normalise_chunked with `claim`)."""
    rows = sum(p["rows"] for p in parts)
    if rows == 0:
        getattr(ex, name)()                       # raises "the file has no rows"
    persons = _Persons(index)
    for p in parts:
        persons.seen |= p["seen"]
        persons.others += p["others"]
    lows, highs = [x for p in parts for x in p["lows"]], [x for p in parts for x in p["highs"]]
    return {"rows": rows, "persons": persons.count(),
            "first": min(lows) if lows else None, "last": max(highs) if highs else None}


def _row_groups(f: Path) -> int:
    return pq.ParquetFile(f).metadata.num_row_groups


def _claim_the_rest(ex: Extract, tmp: Path) -> None:
    """Claim every optional register and row group of eIndkomst not yet claimed: after a
    failure here, the second process has nothing to do after DREAM (whose error comes first)."""
    claims = Claims(tmp)
    for name in SECOND_PROCESS:
        claims(name)
    try:
        groups = _row_groups(ex.file("eindkomst")) if shares_eindkomst(ex) else 0
    except Exception:           # noqa: BLE001 - a file that cannot be read: its error comes in turn
        groups = 0
    for g in range(groups):
        claims(f"eindkomst.{g}")


def shares_eindkomst(ex: Extract) -> bool:
    """Whether normalise's two processes split eIndkomst's row groups (a Parquet delivery)."""
    f = ex.file("eindkomst", required=False)     # (a missing one is reported in its turn)
    return f is not None and f.suffix.lower() == ".parquet"


def eindkomst_part(ex: Extract, tmp: Path, index: PersonIndex, part: int, block_persons: int,
                   t0: float) -> tuple[EindkomstBlocks, dict]:
    """The row groups of a Parquet eIndkomst this process claims first, checked and split into
    its `part` of tmp/eindkomst_blocks: (the split, the part's facts, with `groups`, the row
    groups it read). Part 0 (normalise's own process) raises the whole file's error."""
    claims, groups = Claims(tmp), []

    def claim(g: int) -> bool:
        if claims(f"eindkomst.{g}"):
            groups.append(g)
            return True
        return False
    blocks = EindkomstBlocks.create(tmp / EINDKOMST_BLOCKS, index.n, block_persons, part=part)
    facts = normalise_chunked(ex, "eindkomst", tmp / "eindkomst.parquet", index, SPANS["eindkomst"],
                              blocks=blocks, claim=claim, recheck=part == 0)
    facts["groups"] = groups
    log.info("eindkomst: %d rows of %s in this process (%.1f s)", facts["rows"], ex.file("eindkomst").name,
             time.perf_counter() - t0)
    return blocks, facts


def _typed_chunk(chunk, f: Path, name: str) -> pa.Table:
    """A chunk as the typed table written: in Arrow for Parquet's usual types, else (other
    types, or a check fails and its error must name the rows) through ``coerce``."""
    table = typed_table(chunk, name) if isinstance(chunk, pa.RecordBatch) else None
    if table is None:
        table = pa.Table.from_pandas(coerce(batch_frame(chunk, f), f, name), preserve_index=False)
    return table


_DTYPES = {pa.string(): object, pa.int64(): "Int64", pa.float64(): "float64", pa.timestamp("ns"): "datetime64[ns]"}


def _pandas_schema(table: pa.Table) -> pa.Schema:
    """The schema, pandas metadata included, that ``pa.Table.from_pandas`` gives the
    DataFrame ``coerce`` makes of a chunk typed like `table` (the files keep that metadata)."""
    empty = {
        f.name: pd.Categorical([], categories=_array(c).dictionary.to_pylist()) if pa.types.is_dictionary(f.type)
        else pd.Series(dtype=_DTYPES[f.type])
        for f, c in zip(table.schema, table.columns)
    }
    return pa.Table.from_pandas(pd.DataFrame(empty), schema=table.schema, preserve_index=False).schema


def _array(col) -> pa.Array:
    if isinstance(col, pa.ChunkedArray):
        return col.chunk(0) if col.num_chunks == 1 else col.combine_chunks()
    return col


def _value_range(col) -> tuple:
    """The smallest and largest value of a column (of a dictionary column: of the values
    its rows use); dates as pandas Timestamps."""
    col = _array(col)
    if pa.types.is_dictionary(col.type):
        k = len(col.dictionary)
        used = np.bincount(dictionary_indices(col, k), minlength=k + 1)[:k] > 0
        col = col.dictionary.filter(pa.array(used))
    m = pc.min_max(col)
    low, high = m["min"].as_py(), m["max"].as_py()
    return (pd.Timestamp(low), pd.Timestamp(high)) if pa.types.is_timestamp(col.type) else (low, high)


# ----------------------------------------------------------------------------- the extract
def normalise(ex: Extract, codes: CodeTable, out_dir, workers: int = 1,
              block_persons: int = BLOCK_PERSONS) -> pd.DataFrame:
    """Validate every register file of `ex` and write it into `out_dir`: DREAM and the
    registers but eIndkomst as typed Parquet, the person-level ones (bef, vnds, udda, lpr) also
    split by block of `block_persons` DREAM persons (blocks/, for the candidate search), and
    eIndkomst only as its split by the same blocks (eindkomst_blocks/, what build_panel reads).

    Returns the register part of the QC summary (unsuppressed counts: it stays in the
    secure area; each cohort's published summary is built from it and suppressed). With
    `workers` > 1 and DREAM in Parquet, DREAM and then the optional registers are normalised
    in a second process while this one does bef, eIndkomst and then the optional registers
    from the back (each register is claimed by one process); the files, the summary and every
    error are the same.
    """
    out_dir = Path(out_dir)
    tmp = out_dir.parent / f".{out_dir.name}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        t0 = time.perf_counter()
        index = _pnr_index(ex) if workers > 1 else None
        sums = None
        if index is None:
            dream = normalise_dream(ex, codes, tmp / "dream.parquet")
            _log_dream(dream, t0)
            others = _other_registers(ex, tmp, dream.pop("index"), t0, block_persons=block_persons)
        else:
            # DREAM and then the optional registers in the second process, bef and eIndkomst
            # (split by block as they are checked) here, each process on one Arrow thread
            shared = shares_eindkomst(ex)
            with _arrow_threads(1), _dream_process(ex, codes, tmp, block_persons) as worker:
                others, failed, stolen, eind = {}, None, None, None
                try:
                    others = _other_registers(ex, tmp, index, t0, skip=SECOND_PROCESS + (("eindkomst",) * shared),
                                              block_persons=block_persons)
                    if shared:
                        # its row groups, while the second process (after DREAM and its
                        # registers) takes those left: by month or in no order, eIndkomst
                        # alone takes longer than everything the second process does
                        eind = eindkomst_part(ex, tmp, index, 0, block_persons, t0)
                except Exception as e:          # noqa: BLE001 - raised in the order of one process
                    failed = e
                    _claim_the_rest(ex, tmp)    # the second process stops after DREAM
                if failed is None:
                    # the second process's registers from the back while it takes them from the
                    # front, each claimed by one process: the process a delivery makes shorter
                    # takes more of them
                    try:
                        others |= _other_registers(ex, tmp, index, t0, keep=SECOND_PROCESS[::-1],
                                                   block_persons=block_persons, claim=Claims(tmp))
                    except Exception as e:      # noqa: BLE001 - raised in the order of one process
                        stolen = e
                # while the second process ends
                sums = checksums(ex.path) if failed is None and stolen is None else None
                result = worker.result()
            if result is None:     # the worker failed: DREAM again here, for its error
                dream = normalise_dream(ex, codes, tmp / "dream.parquet")
                log.warning("the second process stopped (%s); DREAM and its registers were normalised "
                            "in this process instead", worker.why)
                _log_dream(dream, t0)
                # one process's order: bef and eIndkomst come before the optional registers,
                # which are all done again here, in their order (the first error is theirs);
                # eIndkomst too when the second process took part of it
                if failed is not None:
                    raise failed
                others = {k: v for k, v in others.items() if k not in SECOND_PROCESS}
                again = SECOND_PROCESS
                if shared and len(eind[1]["groups"]) == _row_groups(ex.file("eindkomst")):
                    eind[0].close()             # every row group was read here
                    others["eindkomst"] = _parts_facts(ex, "eindkomst", index, [eind[1]])
                elif shared:
                    shutil.rmtree(tmp / EINDKOMST_BLOCKS, ignore_errors=True)
                    again = ("eindkomst", *again)
                mine = _other_registers(ex, tmp, dream.pop("index"), t0, keep=again, block_persons=block_persons)
            else:
                dream, mine, theirs = result
                _log_dream(dream, t0)
                # the second process's registers come before those this one claimed, and passed
                if failed is not None:
                    raise failed
                if shared:
                    blocks, part = eind
                    blocks.absorb(theirs["pieces"], theirs["part"]["rows"])
                    blocks.close()
                    others["eindkomst"] = _parts_facts(ex, "eindkomst", index, [part, theirs["part"]])
                    log.info("eindkomst: %d rows (%d in the second process)", others["eindkomst"]["rows"],
                             theirs["part"]["rows"])
                if stolen is not None:
                    raise stolen
                for name, facts in mine.items():
                    if facts is not None:
                        log.info("%s: %d rows (second process; %.1f s)", name, facts["rows"],
                                 time.perf_counter() - t0)
            both = mine | others
            others = {name: both[name] for name in AFTER_DREAM}
        write_manifest(tmp / BLOCKS, block_persons, dream["persons"],
                       {r: None if others.get(r) is None else others[r]["blocks"] for r in SPLIT_REGISTERS})
        summary = _summary(dream, others)
        summary.to_csv(tmp / SUMMARY, index=False, lineterminator="\n")
        (checksums(ex.path) if sums is None else sums).to_csv(tmp / CHECKSUMS, index=False, lineterminator="\n")
        out_dir.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(tmp / CLAIMS, ignore_errors=True)
        for f in tmp.iterdir():
            if (out_dir / f.name).is_dir():         # a folder (a split) of an earlier run
                shutil.rmtree(out_dir / f.name)
            os.replace(f, out_dir / f.name)
        (out_dir / "eindkomst.parquet").unlink(missing_ok=True)     # written by older versions only
        return summary
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _log_dream(d: dict, t0: float) -> None:
    log.info("dream: %d persons x %d weeks (%.1f s)", d["persons"], len(d["weeks"]), time.perf_counter() - t0)


AFTER_DREAM = ("bef", "eindkomst", *OPTIONAL)   # in this order in one process
# normalised after DREAM in its process: the last of AFTER_DREAM, so that their errors come
# after this process's, as in one process
SECOND_PROCESS = AFTER_DREAM[2:]


@contextmanager
def _arrow_threads(n: int):
    """Arrow's CPU pool at `n` threads for the block (two processes share the cores)."""
    before = pa.cpu_count()
    pa.set_cpu_count(n)
    try:
        yield
    finally:
        pa.set_cpu_count(before)


def _other_registers(ex: Extract, tmp: Path, index: PersonIndex, t0: float, skip=(), keep=None,
                     block_persons: int = BLOCK_PERSONS, claim=None) -> dict:
    """The registers but DREAM (those of `keep`, in its order, if given, less those of `skip`),
    normalised into `tmp`: their QC facts by name (None: not delivered), with the blocks each
    person-level register was split into (`blocks`). eIndkomst is split by block of
    `block_persons` DREAM persons for build_panel (EindkomstBlocks, tmp/eindkomst_blocks), the
    person-level registers for the candidate search (RegisterSplit, tmp/blocks/<register>).
    With `claim` (Claims), it stops at the first register another process claimed."""
    out = {}
    for name in AFTER_DREAM if keep is None else keep:
        if name in skip:
            continue
        if claim is not None and not claim(name):
            break
        blocks = EindkomstBlocks.create(tmp / EINDKOMST_BLOCKS, index.n, block_persons) \
            if name == "eindkomst" else None
        split = RegisterSplit(tmp / BLOCKS / name, block_persons) if name in SPLIT_REGISTERS else None
        out[name] = facts = normalise_chunked(ex, name, tmp / f"{name}.parquet", index, SPANS[name],
                                              blocks=blocks, split=split)
        if blocks is not None:
            blocks.close()
        if split is not None:
            written = split.close()
            if facts is not None:
                facts["blocks"] = written
        if facts is None:
            _write(_empty(name), tmp / f"{name}.parquet")
        else:
            log.info("%s: %d rows (%.1f s)", name, facts["rows"], time.perf_counter() - t0)
    return out


class Claims:
    """Which of normalise's two processes normalises a register: the first to call
    ``Claims(folder)(name)`` gets True (an exclusive create of a file in `folder`/.claims)."""

    def __init__(self, folder: Path):
        self.folder = Path(folder) / CLAIMS

    def __call__(self, name: str) -> bool:
        self.folder.mkdir(exist_ok=True)
        try:
            os.close(os.open(self.folder / name, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return False
        return True


CLAIMS = ".claims"


def _summary(d: dict, others: dict) -> pd.DataFrame:
    rows = []

    def add(file, item, value):
        rows.append({"file": file, "item": item, "value": value})

    add("dream", "rows", d["persons"])
    add("dream", "persons", d["persons"])
    add("dream", "first_week", f"{d['weeks'][0][0]}-W{d['weeks'][0][1]:02d}")
    add("dream", "last_week", f"{d['weeks'][-1][0]}-W{d['weeks'][-1][1]:02d}")
    add("dream", "weeks", len(d["weeks"]))
    for code, n in sorted(d["code_counts"].items()):
        add("dream", f"code:{code or '(empty)'}", n)
    for code, n in sorted(d["unknown_counts"].items()):
        add("dream", f"unknown_code:{code}", n)
    for name, facts in others.items():
        if facts is None:
            add(name, "present", "no")
            continue
        add(name, "rows", facts["rows"])
        add(name, "persons", facts["persons"])
        if SPANS[name]:
            first, last = (_span_text(name, facts[k]) for k in ("first", "last"))
            add(name, f"first_{SPAN_ITEMS[name]}", first)
            add(name, f"last_{SPAN_ITEMS[name]}", last)
    summary = pd.DataFrame(rows)
    summary["value"] = summary["value"].astype(str)
    return summary


def _pnr_index(ex: Extract) -> PersonIndex | None:
    """DREAM's persons, read ahead from a Parquet DREAM's pnr column, as normalise_dream
    reads them; None when DREAM is another format or its pnr would fail a check (then DREAM
    is normalised first, as its errors come first)."""
    f = ex.file("dream")
    rename = ex.rename.get("dream")
    if f.suffix.lower() != ".parquet" or "pnr" not in resolve_columns(raw_columns(f), None, rename):
        return None
    pnr = pa.chunked_array([t.column("pnr") for t in _dream_batches(f, ["pnr"], rename, 1_000_000)])
    if len(pnr) == 0 or pnr.null_count:
        return None
    index = PersonIndex(pc.cast(pnr, pa.string()))
    return None if index.duplicated().any() else index


_WORKER = ["-m", "sibeval.extract.dream_worker"]


def _dream_process(ex: Extract, codes: CodeTable, out: Path, block_persons: int) -> ChildProcess:
    """normalise_dream and the registers of SECOND_PROCESS in a child Python (`python -m
    sibeval.extract.dream_worker`), written to the folder `out` (split by block of
    `block_persons`); its result() is (DREAM's QC facts, the other registers' by name), or None
    when it failed (DREAM is then redone here)."""
    return ChildProcess(_WORKER, (ex, codes, out, block_persons))


def _span_text(name: str, value) -> str:
    """A span's end as the summary writes it: a year, a month label or a date."""
    if name == "bef":
        return str(int(value))
    if name == "eindkomst":
        return value
    return str(pd.Timestamp(value).date())


def _empty(name: str) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="Int64" if "int" in t else "datetime64[ns]" if "date" in t else object)
                         for c, t in SCHEMAS[name].items()})


def _write(df: pd.DataFrame, path: Path) -> None:
    df.to_parquet(path, index=False, row_group_size=1_000_000)


def retype(df: pd.DataFrame, name: str) -> pd.DataFrame:
    """The dtypes the raw readers return (text as object with None, Int64, datetime64[ns])."""
    for col, typ in SCHEMAS[name].items():
        if col not in df.columns:
            continue
        s = df[col]
        base = typ.rstrip("?")
        if base in ("str", "month") and not isinstance(s.dtype, pd.CategoricalDtype):
            df[col] = s.astype(object).where(s.notna(), None)
        elif base == "int":
            df[col] = s.astype("Int64")
        elif base == "date":
            df[col] = s.astype("datetime64[ns]")
    return df


class NormalisedExtract(Extract):
    """An extract read from its normalised folder (`results/extracts/interim/<extract>/`).

    Register files come from the typed Parquet of the extract stage (already validated);
    the cohort's participant list and questionnaires are read from the raw folder.
    """

    def __init__(self, folder, raw_path, rename=None, filenames=None):
        super().__init__(raw_path, rename, filenames)
        self.folder = Path(folder)
        self._summary = None

    def summary(self) -> pd.DataFrame:
        if self._summary is None:
            self._summary = read_summary(self.folder)
        return self._summary

    def _present(self, name: str) -> bool:
        return delivered(self.summary(), name)

    def _read(self, name, required=True, columns=None, filters=None):
        if name not in REGISTERS:
            return super()._read(name, required)
        if not self._present(name):
            return None
        df = pq.read_table(self.folder / f"{name}.parquet", columns=columns, filters=filters).to_pandas()
        return retype(df, name)

    def bef(self, columns=None) -> pd.DataFrame:
        return self._read("bef", columns=columns)

    def eindkomst(self, columns=None) -> pd.DataFrame:
        raise SibevalError(f"{self.folder} keeps eIndkomst only split by block of persons for the "
                           "panel (eindkomst_blocks/); read it from the raw extract instead")

    def dream(self, codes: CodeTable, weeks=None):
        return DreamStore(self.folder / "dream.parquet").data(codes, weeks)

    def dream_weeks(self):
        return DreamStore(self.folder / "dream.parquet").weeks

    def checksums(self) -> dict:
        c = pd.read_csv(self.folder / CHECKSUMS, dtype=str)
        return dict(zip(c["file"], c["sha256"]))
