"""Where candidate_pieces puts each block's control rows, month by month, until the
candidates file is written: in memory (`MonthStore`) or, at national scale, spilled to
Parquet (`SpilledMonths`). Either gives back a month's rows one block's at a time."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq


class MonthStore:
    """Each index month's control rows, block by block, kept in memory."""

    def __init__(self):
        self.parts: dict[int, list] = {}

    def add(self, month: int, block: int, rows: pd.DataFrame) -> None:
        self.parts.setdefault(month, []).append((block, rows))

    def blocks(self, month: int) -> list[int]:
        """The blocks of the rows added for `month`, in the order added."""
        return [k for k, _ in self.parts.get(month, [])]

    def read(self, month: int, i: int) -> pd.DataFrame:
        """The `i`-th rows added for `month` (given once: the store lets them go)."""
        k, rows = self.parts[month][i]
        self.parts[month][i] = (k, None)
        return rows


class SpilledMonths:
    """Each index month's control rows spilled to ``folder/<month>.parquet`` as blocks
    finish (`add`: a row group each), read back one block's rows at a time (`read`); the
    folder is removed with `close()`. The store :func:`candidate_pieces` takes at national
    scale: millions of control rows never in memory at once."""

    def __init__(self, folder, order: dict | None = None):
        """A new, empty store in `folder`; with `order` (another process's :attr:`order`), the
        store that process left there, to read."""
        self.folder = Path(folder)
        self.writers: dict = {}
        self._file = (None, None)       # the month being read, and its file
        self.order: dict[int, list[int]] = {} if order is None else order   # month -> blocks, as added
        if order is None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder.mkdir(parents=True)

    def add(self, month: int, block: int, rows) -> None:
        w = self.writers.get(month)
        table = pa.Table.from_pandas(rows, schema=w.schema if w else None, preserve_index=False)
        if w is None:
            w = self.writers[month] = pq.ParquetWriter(self.folder / f"{month}.parquet", table.schema)
        w.write_table(table, row_group_size=max(1, len(table)))      # one row group: read(month, i)
        self.order.setdefault(month, []).append(block)

    def finish(self) -> dict[int, list[int]]:
        """Close the files (nothing more is added); returns :attr:`order`."""
        for w in self.writers.values():
            w.close()
        self.writers = {}
        return self.order

    def blocks(self, month: int) -> list[int]:
        return self.order.get(month, [])

    def read(self, month: int, i: int):
        self.finish()
        if self._file[0] != month:
            self._file = (month, pq.ParquetFile(self.folder / f"{month}.parquet"))
        return self._file[1].read_row_group(i).to_pandas()

    def close(self) -> None:
        self.finish()
        self._file = (None, None)
        shutil.rmtree(self.folder, ignore_errors=True)
