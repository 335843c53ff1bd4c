"""The person-level registers (bef, vnds, udda, lpr) split by block of DREAM persons, the
folder every cohort's candidate search walks (:func:`sibeval.extract.person_blocks.person_blocks`):
<register>/<block>.parquet with each row's DREAM row (column ``_row``), file order kept within
a block, and a manifest. normalise_extract writes it as it checks each register
(:class:`RegisterSplit` fed chunk by chunk); :func:`sibeval.extract.person_blocks.split_registers`
splits a normalised folder again (another block size: the tests' small blocks).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

SPLIT_REGISTERS = ("bef", "vnds", "udda", "lpr")
MANIFEST = "blocks.json"
BLOCKS = "blocks"       # the folder's name in a normalised extract
ROW = "_row"            # the person's row: in DREAM (a split file), in the block (a PersonBlock's frames)


class RegisterSplit:
    """One register's rows written into `folder`/<block>.parquet by the DREAM block of their
    person, piece by piece as they come (rows of persons not in DREAM are dropped: no block
    uses them). `close()` gives the blocks written."""

    def __init__(self, folder, block_persons: int):
        self.folder, self.block_persons = Path(folder), int(block_persons)
        shutil.rmtree(self.folder, ignore_errors=True)     # (a failed attempt's pieces)
        self.writers: dict[int, pq.ParquetWriter] = {}

    def add(self, t: pa.Table, rows: np.ndarray) -> None:
        """Rows of the register (`t`) with each one's DREAM row (-1: not in DREAM)."""
        at, runs = block_runs(rows, self.block_persons)
        if len(at) != t.num_rows or not np.array_equal(at, np.arange(len(at))):
            t = t.take(pa.array(at))
        t = t.append_column(ROW, pa.array(rows[at], type=pa.int64()))
        for k, a, b in runs:
            if k not in self.writers:
                self.folder.mkdir(parents=True, exist_ok=True)
                # no dictionary for the row column: its encoder's table (a value per person)
                # stayed with each of the open writers, 300 MB over bef's 61 blocks; no
                # statistics (a block is read whole), LZ4 (as the normalised registers)
                self.writers[k] = pq.ParquetWriter(self.folder / f"{k}.parquet", t.schema,
                                                   use_dictionary=[c for c in t.column_names if c != ROW],
                                                   write_statistics=False, compression="lz4")
            self.writers[k].write_table(t.slice(a, b - a))

    def close(self) -> list[int]:
        for w in self.writers.values():
            w.close()
        return sorted(self.writers)


def block_runs(rows: np.ndarray, block_persons: int) -> tuple[np.ndarray, list[tuple[int, int, int]]]:
    """The positions of the rows of persons in DREAM (`rows` >= 0) ordered by their block of
    `block_persons`, file order kept within a block, and each block's run over them:
    (positions, [(block, start, end), ...])."""
    at = np.flatnonzero(rows >= 0)
    block = rows[at] // block_persons
    if len(block) > 1 and (block[1:] < block[:-1]).any():     # (a file sorted by person: in order)
        order = np.argsort(block, kind="stable")
        at, block = at[order], block[order]
    cuts = np.flatnonzero(np.r_[True, block[1:] != block[:-1], True]) if len(block) else []
    return at, [(int(block[a]), int(a), int(b)) for a, b in zip(cuts[:-1], cuts[1:])]


def write_manifest(out, block_persons: int, persons: int, registers: dict) -> dict:
    """out/blocks.json: the block size, DREAM's persons and each register's blocks (None: not
    delivered; [] delivered without rows of persons in DREAM)."""
    manifest = {"block_persons": int(block_persons), "persons": int(persons),
                "registers": {r: None if registers.get(r) is None else sorted(registers[r]) for r in SPLIT_REGISTERS}}
    Path(out).mkdir(parents=True, exist_ok=True)
    (Path(out) / MANIFEST).write_text(json.dumps(manifest, sort_keys=True) + "\n", encoding="utf-8")
    return manifest


def read_manifest(out) -> dict:
    return json.loads((Path(out) / MANIFEST).read_text(encoding="utf-8"))
