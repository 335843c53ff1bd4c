"""A normalised extract one block of persons at a time (DREAM's order, as the panel).

normalise_extract splits the person-level registers (bef, vnds, udda, lpr) by block as it
checks them (:mod:`sibeval.extract.register_blocks`; :func:`split_registers` splits a
normalised folder again, for another block size); :func:`person_blocks` then
yields each block's panel rows, register rows (file order kept) and DREAM weeks. A rule
that walks the population this way holds one block, whatever the number of persons.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from sibeval.errors import SibevalError
from sibeval.extract.codes import CodeTable
from sibeval.extract.dream_store import DreamStore
from sibeval.extract.normalise import delivered, read_summary, retype
from sibeval.extract.panel import Panel
from sibeval.extract.panel_blocks import BLOCK_PERSONS, PersonIndex
from sibeval.extract.panel_io import read_panel_rows
from sibeval.extract.readers import DreamData
from sibeval.extract.register_blocks import ROW, SPLIT_REGISTERS, RegisterSplit, read_manifest, write_manifest


@dataclass(frozen=True)
class PersonBlock:
    """One block of persons: their panel rows and register rows, and DREAM's chosen weeks.

    bef comes as `snapshot(year)`: each person's bef row of `year`, else the latest earlier
    one, in the panel's row order (indexed by pnr; no row: missing values, None for text),
    the values ``design.candidates._snapshot(bef, year).reindex(panel.pnr)`` gives. The rows
    of vnds, udda and lpr carry their person's row in `panel` (column `_row`).
    """

    panel: Panel
    snapshot: Callable[[int], pd.DataFrame]
    vnds: pd.DataFrame | None
    udda: pd.DataFrame | None
    lpr: pd.DataFrame | None
    dream: DreamData
    index: int = 0          # the block's number: its persons are DREAM's from index * block size


def split_registers(folder, out, block_persons: int = BLOCK_PERSONS) -> dict:
    """Split the person-level registers (bef, vnds, udda, lpr) of the normalised extract in
    `folder` by block of persons in DREAM's order again, for another block size than the one
    normalise_extract split them by (folder/blocks): out/<register>/<block>.parquet (file order
    kept within a block) and out/blocks.json, what :func:`person_blocks` reads."""
    folder, out = Path(folder), Path(out)
    pnr = DreamStore(folder / "dream.parquet").pnr()
    index, n = PersonIndex(pnr), len(pnr)
    del pnr
    out.mkdir(parents=True, exist_ok=True)
    # a register not delivered (normalise_extract wrote it empty) is None, as NormalisedExtract
    # reads it; one delivered with no rows is there, without rows (no contacts, not unknown)
    summary = read_summary(folder)
    present = {}
    for r in SPLIT_REGISTERS:
        if not delivered(summary, r):
            present[r] = None
            continue
        split = RegisterSplit(out / r, block_persons)
        pf = pq.ParquetFile(folder / f"{r}.parquet")
        for i in range(pf.num_row_groups):
            t = pf.read_row_group(i)
            split.add(t, index.rows(t.column("pnr")))
        present[r] = split.close()
    return write_manifest(out, block_persons, n, present)


def person_blocks(folder, panel_path, codes: CodeTable, weeks, blocks,
                  arrays=("group", "ordinary", "resident", "dead"), share=(0, 1), below=None) -> Iterator[PersonBlock]:
    """Yield the extract in `folder` block by block of persons, from the registers split by
    block into the folder `blocks` (normalise_extract's, or :func:`split_registers`'); `weeks`
    ((year, week), ...) are the DREAM weeks each block carries. `share` (i, n): only the blocks
    whose number is i modulo n (one process's share of n); `below`: only blocks numbered below it. Alone (n = 1), the
    next block is read on a thread while the caller works on this one; with a share the other
    process keeps the cores busy (build_candidates at 10^6 persons in two processes: 8.0 s with
    the thread, 7.2-7.5 s without; bench/README.md)."""
    blocks = _person_blocks(folder, panel_path, codes, weeks, blocks, arrays, share, below)
    return _read_ahead(blocks) if share[1] == 1 else blocks


def block_count(blocks) -> int:
    """The number of blocks of persons the registers in the folder `blocks` are split into."""
    manifest = read_manifest(blocks)
    return -(-manifest["persons"] // manifest["block_persons"])


_END = object()


def _read_ahead(items: Iterator) -> Iterator:
    """The items of `items`, the next one made on a thread while the caller has this one
    (Arrow's reads release the GIL); an error comes when its item is reached."""
    with ThreadPoolExecutor(1) as pool:
        ahead = pool.submit(next, items, _END)
        while (item := ahead.result()) is not _END:
            ahead = pool.submit(next, items, _END)
            yield item


def _person_blocks(folder, panel_path, codes, weeks, blocks, arrays, share, below) -> Iterator[PersonBlock]:
    folder, blocks = Path(folder), Path(blocks)
    manifest = read_manifest(blocks)
    block_persons = manifest["block_persons"]
    store = DreamStore(folder / "dream.parquet")
    pnr = store.pnr()
    n = len(pnr)
    if manifest["persons"] != n:
        raise SibevalError(f"{blocks} splits {manifest['persons']} persons but {folder / 'dream.parquet'} "
                           f"has {n}: it comes from another run of the extract. Fix: delete {blocks} "
                           "and run the workflow again")
    present = {r: None if b is None else set(b) for r, b in manifest["registers"].items()}
    wanted = set(map(tuple, weeks))
    use = [w for w in store.weeks if w in wanted]
    for k, lo in enumerate(range(0, n, block_persons)):
        if below is not None and k >= below:
            break
        if k % share[1] != share[0]:
            continue
        hi = min(n, lo + block_persons)
        tables = {}
        for r, have in present.items():
            if have is None:
                tables[r] = None
            elif k in have:
                tables[r] = pq.read_table(blocks / r / f"{k}.parquet")
            else:
                empty = pq.read_schema(folder / f"{r}.parquet").empty_table()
                tables[r] = empty.append_column(ROW, pa.array([], type=pa.int64()))
        frames = {r: None if t is None else retype(_block_rows(t, lo, r).to_pandas(), r)
                  for r, t in tables.items() if r != "bef"}
        groups = store.groups(lo, hi, codes, use)
        block_pnr = np.asarray(pnr.slice(lo, hi - lo).to_numpy(zero_copy_only=False), dtype=object)
        dream = DreamData(block_pnr, tuple(use), groups, {}, {})
        panel = read_panel_rows(panel_path, lo, hi, arrays)
        if not np.array_equal(panel.pnr, block_pnr):     # rows are matched by position from here on
            raise SibevalError(f"{panel_path} does not hold DREAM's persons in DREAM's order (persons "
                               f"{lo + 1}-{hi}): it comes from another run of the extract. Fix: delete "
                               f"{panel_path} and {blocks} and run the workflow again")
        yield PersonBlock(panel, _Snapshots(tables["bef"], lo, block_pnr),
                          frames["vnds"], frames["udda"], frames["lpr"], dream, k)


# registers whose rows are matched to persons by their row in the block alone (no pnr needed:
# turning it into Python text was a tenth of build_candidates at 10^6 persons)
ROW_ONLY = ("lpr",)


def _block_rows(t: pa.Table, lo: int, register: str) -> pa.Table:
    """A register's block with each row's person as its row in the block."""
    t = t.set_column(t.schema.get_field_index(ROW), ROW, pc.subtract(t.column(ROW), lo))
    return t.drop_columns(["pnr"]) if register in ROW_ONLY else t


def latest_rows(person: np.ndarray, year: np.ndarray) -> np.ndarray:
    """Positions of each person's row with the latest year (persons as integer codes; one
    row per person and year), in the order of the persons."""
    order = np.lexsort((year, person))        # by person, then year
    return order[np.r_[person[order][1:] != person[order][:-1], True]] if len(order) else order


class _Snapshots:
    """A block's bef snapshots, picked in Arrow by the persons' rows (bef holds a row per
    person and year: only the picked rows become pandas objects)."""

    def __init__(self, bef: pa.Table, lo: int, pnr: np.ndarray):
        self.bef, self.pnr = bef.drop_columns([ROW, "pnr"]), pnr      # the block's pnr stand for it
        self.person = bef.column(ROW).to_numpy() - lo
        self.year = bef.column("aar").to_numpy()

    def __call__(self, year: int) -> pd.DataFrame:
        ok = np.flatnonzero(self.year <= year)
        last = ok[latest_rows(self.person[ok], self.year[ok])]
        at = np.full(len(self.pnr), -1, dtype=np.int64)
        at[self.person[last]] = last
        snap = retype(self.bef.take(pa.array(at, mask=at < 0)).to_pandas(), "bef")
        return snap.set_index(pd.Index(self.pnr, dtype=object, name="pnr"))


def rows_of_persons(path, pnr, columns=None) -> pd.DataFrame:
    """The rows of a normalised register whose pnr is in `pnr`, indexed by their row in the
    file (for messages), scanning one row group at a time."""
    pf = pq.ParquetFile(path)
    keep = pa.array(sorted({str(p) for p in pnr}), type=pa.string())
    parts, at = [], 0
    for i in range(pf.num_row_groups):
        t = pf.read_row_group(i, columns=columns)
        col = t.column("pnr")
        if pa.types.is_dictionary(col.type):
            col = col.cast(col.type.value_type)
        hit = pc.is_in(col, value_set=keep).to_numpy(zero_copy_only=False)
        if hit.any():
            part = t.filter(pa.array(hit)).to_pandas()
            part.index = at + np.flatnonzero(hit)
            parts.append(part)
        at += t.num_rows
    if not parts:
        return pf.schema_arrow.empty_table().select(columns or pf.schema_arrow.names).to_pandas()
    return pd.concat(parts)
