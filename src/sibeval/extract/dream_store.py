"""Normalised DREAM on disk: each person's weeks as one string of code numbers.

DREAM arrives wide, a text column per week (about 470 of them). Kept that way, every pass
over it decodes 470 Parquet columns: 11 s of CPU to read and 15 s to write at 10^6 persons.
The normalised file holds the same content as two columns, ``pnr`` and ``weeks``, a
fixed-width binary value per person with one number per week (1 byte, or 2 when the file
has more than 255 distinct codes). The number is the code's position in the code list
kept in the file's metadata with the week columns' names; 0 is an empty week. That file
is read and written in about a second.
"""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from sibeval.errors import SibevalError
from sibeval.extract import layouts
from sibeval.extract.codes import CodeTable
from sibeval.extract.panel_io import binary_rows, read_rows
from sibeval.extract.readers import DreamData, check_unknown_codes, index_values, valid_mask
from sibeval.extract.timegrid import parse_week_column

META = b"sibeval.dream"
LAYOUT = layouts.DREAM     # the rule's params carry it: a file of an older layout is made again
WEEKS = "weeks"
_EMPTY = None            # code 0: an empty week (null in the delivery)


class TooManyCodes(Exception):
    """More distinct codes than the writer's width holds (the caller writes again, wider)."""


class DreamWriter:
    """Writes normalised DREAM batch by batch: pnr plus the week columns as dictionary text."""

    def __init__(self, path, week_names: list[str], width: int = 1):
        self.path, self.names, self.width = path, list(week_names), width
        self.codes: list[str | None] = [_EMPTY]
        self._number: dict[str, int] = {}
        self._dtype = _number_dtype(width)
        self._per_number = np.zeros(0, dtype=np.int64)
        self._writer = None

    def write(self, pnr: pa.Array, week_cols: list[pa.DictionaryArray]) -> None:
        n, W = len(pnr), len(week_cols)
        matrix = np.empty((W, n), dtype=self._dtype)        # week by week, then one transpose
        for j, col in enumerate(week_cols):
            row, idx = matrix[j], col.indices
            if len(col.dictionary) == 0:          # every week of the column empty
                row[:] = 0
                continue
            numbers = self._numbers(col.dictionary.to_pylist()).astype(self._dtype)
            # a null's slot holds any index (clipped), and an empty week (null) is 0
            np.take(numbers, index_values(idx), out=row, mode="clip")
            if idx.null_count:
                row *= valid_mask(idx)
        self._per_number = np.r_[self._per_number, np.zeros(len(self.codes) - len(self._per_number), np.int64)]
        self._per_number += _per_number(matrix, len(self.codes))
        data = np.ascontiguousarray(matrix.T)
        weeks = pa.FixedSizeBinaryArray.from_buffers(pa.binary(W * self.width), n, [None, pa.py_buffer(data)])
        table = pa.table({"pnr": pnr, WEEKS: weeks})
        if self._writer is None:
            # no dictionaries: a pnr is in one row, and a person's weeks rarely repeat another's
            self._writer = pq.ParquetWriter(self.path, table.schema, write_statistics=["pnr"],
                                            use_dictionary=False)
        self._writer.write_table(table)

    def counts(self) -> dict[str, int]:
        """Person-weeks per code written so far (an empty week counts as '', as a blank code)."""
        return code_counts(self.codes, self._per_number)

    def unknown(self, table: CodeTable) -> dict[str, int]:
        """Person-weeks per code written so far that `table` does not know."""
        return unknown_counts(self.codes, self._per_number, table)

    def _numbers(self, values: list) -> np.ndarray:
        out = np.empty(len(values), dtype=np.int64)
        for i, v in enumerate(values):
            if v is None:
                out[i] = 0
                continue
            number = self._number.get(v)
            if number is None:
                number = self._number[v] = len(self.codes)
                if number >= 1 << (8 * self.width):
                    raise TooManyCodes(number, self.codes[-3:] + [v])
                self.codes.append(v)
            out[i] = number
        return out

    def close(self) -> None:
        if self._writer is None:
            return
        self._writer.add_key_value_metadata(
            {META: json.dumps({"layout": LAYOUT, "weeks": self.names, "codes": self.codes, "width": self.width})})
        self._writer.close()
        self._writer = None


class DreamStore:
    """A normalised DREAM file: its persons, weeks and codes, read by rows of persons."""

    def __init__(self, path):
        self.path = path
        self.pf = pq.ParquetFile(path)
        meta = json.loads((self.pf.metadata.metadata or {}).get(META, b"{}"))
        if meta.get("layout") != LAYOUT:
            _not_normalised(path)
        self.names: list[str] = meta["weeks"]
        self.weeks: list[tuple[int, int]] = [parse_week_column(c) for c in self.names]
        self.codes: list[str | None] = meta["codes"]
        self.width: int = meta["width"]
        self.n: int = self.pf.metadata.num_rows

    def pnr(self) -> pa.Array:
        """Every person's pnr, in file order."""
        return pq.read_table(self.path, columns=["pnr"]).column(0).combine_chunks()

    def numbers(self, lo: int, hi: int) -> np.ndarray:
        """Code numbers of persons lo..hi: an array (persons, weeks) indexing `codes`."""
        return binary_rows(read_rows(self.pf, lo, hi, [WEEKS]).column(0), _number_dtype(self.width),
                           len(self.names))

    def group_table(self, codes: CodeTable) -> np.ndarray:
        """The group id of each code number (an empty week is `none`, as in the delivery)."""
        ids, _ = codes.lookup(["" if c is None else c for c in self.codes])
        ids[0] = codes.none_id
        return ids

    def groups(self, lo: int, hi: int, codes: CodeTable, weeks=None) -> np.ndarray:
        """Group ids (int8) of persons lo..hi by week: every week, or those of `weeks`
        ((year, week) pairs) in file order."""
        numbers = self.numbers(lo, hi)
        if weeks is not None:
            wanted = set(map(tuple, weeks))
            numbers = numbers[:, [j for j, w in enumerate(self.weeks) if w in wanted]]
        return self.group_table(codes)[numbers]

    def data(self, codes: CodeTable, weeks=None) -> DreamData:
        """The whole file as :class:`DreamData` (group ids, code counts, unknown codes), as
        :meth:`Extract.dream` reads a delivered DREAM; `weeks` projects to those weeks."""
        use = self.weeks if weeks is None else [w for w in self.weeks if w in set(map(tuple, weeks))]
        numbers = self.numbers(0, self.n)
        if weeks is not None:
            numbers = numbers[:, [self.weeks.index(w) for w in use]]
        per_code = _per_number(numbers.T, len(self.codes))
        unknown = unknown_counts(self.codes, per_code, codes)
        check_unknown_codes(self.path, unknown, codes)
        pnr = np.asarray(self.pnr().to_numpy(zero_copy_only=False), dtype=object)
        return DreamData(pnr, tuple(use), self.group_table(codes)[numbers], code_counts(self.codes, per_code),
                         unknown)


def _number_dtype(width: int) -> np.dtype:
    return np.dtype(np.uint8 if width == 1 else "<u2")


def _per_number(by_week, k: int) -> np.ndarray:
    """How often each of the `k` code numbers occurs in an array of weeks (one week a row);
    week by week, as bincount makes an 8-byte index of its input."""
    out = np.zeros(k, dtype=np.int64)
    for week in by_week:
        out += np.bincount(week, minlength=k)
    return out


def code_counts(codes: list, per_number) -> dict[str, int]:
    """Person-weeks per code from the count of each code number (empty weeks under '')."""
    out: dict[str, int] = {}
    for code, m in zip(codes, per_number):
        if m:
            key = "" if code is None else code
            out[key] = out.get(key, 0) + int(m)
    return out


def unknown_counts(codes: list, per_number, table: CodeTable) -> dict[str, int]:
    """Person-weeks per code that `table` does not know; an empty week is no code (a blank
    code is the code '', unknown unless the table maps it)."""
    unknown = set(table.lookup(codes[1:])[1])
    out: dict[str, int] = {}
    for code, m in zip(codes[1:], per_number[1:]):
        if m and code.strip() in unknown:
            out[code.strip()] = out.get(code.strip(), 0) + int(m)
    return out


def _not_normalised(path):
    raise SibevalError(f"{path} is not a normalised DREAM file (it has no {META.decode()} metadata): it comes "
                       "from an older version of the workflow. Fix: delete it and run the workflow again")
