"""The extract stage by blocks of persons gives what the whole population in memory gives.

Property checks over generated extracts with the pathologies of real deliveries: files in
no particular order, income and event rows of persons DREAM does not hold, pnr of
several widths and non-ASCII, a register not delivered; each compared, block by block
(small blocks, so every extract spans many), against the in-memory functions.
"""

import dataclasses
import shutil
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sibeval.adapters import atomic_dir, write_parquet_pieces
from sibeval.demo.generate import generate
from sibeval.design import candidate_process
from sibeval.design.candidate_process import CandidateProcess
from sibeval.design.candidates import (
    _snapshot,
    build_candidates,
    build_candidates_blocks,
    candidate_blocks,
    candidate_pieces,
    index_weeks_needed,
    week_lookup,
)
from sibeval.design.cohort import participant_flow
from sibeval.design.month_stores import SpilledMonths
from sibeval.errors import ExtractError, SibevalError
from sibeval.extract.normalise import NormalisedExtract, delivered, normalise, read_summary, retype
from sibeval.extract.panel import build_panel
from sibeval.extract.panel_blocks import ROW_GROUP_ROWS, EindkomstBlocks, PersonIndex, build_panel_file
from sibeval.extract.panel_io import read_panel, write_panel
from sibeval.extract.person_blocks import ROW, _Snapshots, person_blocks, rows_of_persons, split_registers
from sibeval.extract.readers import Extract
from sibeval.extract.register_blocks import read_manifest

# one pytest-xdist worker runs the whole module: its module fixture is built once
pytestmark = pytest.mark.xdist_group("test_person_blocks")

ELIGIBILITY = {"sex": [1], "non_western": True, "age_min": 25, "age_max": 64,
               "benefit_groups": ["kontanthjaelp", "shy"], "exclude_participant_municipalities": False,
               "no_employment_in_index_month": True, "referred_later_as_controls": False}


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    out = tmp_path_factory.mktemp("blocks_base")
    generate(out, seed=20221101, pool_size=1500)
    return out


def _scrambled(base, folder, seed):
    """A copy of the demo extract with its registers shuffled, foreign and odd pnr added."""
    rng = np.random.default_rng(seed)
    folder.mkdir()
    for f in base.iterdir():
        if f.suffix == ".csv":
            (folder / f.name).write_bytes(f.read_bytes())
    dream = pd.read_parquet(base / "dream.parquet")
    # a few persons with long and non-ASCII pnr, in DREAM and in every register
    odd = dream.sample(3, random_state=seed)
    renamed = dict(zip(odd["pnr"], [f"{p}-{'x' * int(rng.integers(1, 9))}" for p in odd["pnr"][:2]] + ["ÆØÅ-1"]))
    dream["pnr"] = dream["pnr"].replace(renamed)
    dream.sample(frac=1, random_state=seed).to_parquet(folder / "dream.parquet", index=False, row_group_size=400)
    for name in ("bef", "eindkomst", "vnds", "dod", "udda", "lpr"):
        df = pd.read_parquet(base / f"{name}.parquet")
        df["pnr"] = df["pnr"].astype(object).replace(renamed)
        if name in ("eindkomst", "vnds", "dod", "lpr") and len(df):
            k = min(len(df), 5)
            alien = df.sample(k, random_state=seed).assign(pnr=[f"NOT{i}" for i in range(k)])
            df = pd.concat([df, alien], ignore_index=True)
        if name == "lpr" and seed % 2:
            continue                            # not delivered
        df.sample(frac=1, random_state=seed + 1).to_parquet(folder / f"{name}.parquet", index=False,
                                                           row_group_size=int(rng.integers(500, 5000)))
    return folder


@pytest.fixture(scope="module", params=[1, 2, 3])
def extract(request, base, tmp_path_factory, codes):
    raw = _scrambled(base, tmp_path_factory.mktemp(f"scr{request.param}") / "raw", request.param)
    norm = raw.parent / "norm"
    normalise(Extract(raw), codes, norm)
    return SimpleNamespace(raw=raw, norm=norm, ex=NormalisedExtract(norm, raw), seed=request.param)


@pytest.mark.parametrize("piece", [97, None])
def test_panel_file_by_blocks_is_the_in_memory_panel_byte_for_byte(extract, codes, tmp_path, monkeypatch, piece):
    """eIndkomst split by normalise_extract as it checks the file, in pieces of a row group's
    rows (here also 97 rows, so a raw chunk gives several): the panel is the in-memory one's
    over the file in those pieces, byte for byte."""
    block = [300, 700, 2000][extract.seed - 1]
    raw = extract.raw
    if piece:
        from sibeval.extract import normalise as normalise_module
        monkeypatch.setattr(normalise_module, "ROW_GROUP_ROWS", piece)
        raw = _wages_across_pieces(extract.raw, tmp_path / "raw")
    norm = tmp_path / "norm"
    normalise(Extract(raw), codes, norm, block_persons=block)
    ex = NormalisedExtract(norm, raw)
    whole = build_panel(ex.dream(codes), _eindkomst_pieces(raw, piece or ROW_GROUP_ROWS), codes, ex.vnds(), ex.dod())
    if piece:    # the sum depends on the pieces: (0.1) + (0.2 + 0.3) is not 0.1 + 0.2 + 0.3
        assert 0.6 in whole.loen and (0.1 + 0.2) + 0.3 not in whole.loen
    write_panel(whole, tmp_path / "whole.parquet", persons_per_group=100)
    for threads in (1, 3):      # blocks built side by side are written in order
        info = build_panel_file(norm, codes, tmp_path / f"blocks{threads}.parquet", block_persons=block,
                                persons_per_group=100, threads=threads)
        assert info["blocks"] == -(-len(whole.pnr) // block)
        assert (tmp_path / f"blocks{threads}.parquet").read_bytes() == (tmp_path / "whole.parquet").read_bytes()
    if piece:    # several pieces per raw chunk
        segments = EindkomstBlocks.read(norm / "eindkomst_blocks").segments
        assert sum(map(len, segments.values())) > pq.ParquetFile(raw / "eindkomst.parquet").metadata.num_row_groups


def test_a_split_in_two_parts_sums_its_pieces_in_the_order_of_the_file(tmp_path):
    """eIndkomst's row groups read by two processes, each into its part of the split: every
    block sums its pieces in the order of the file, bit for bit as one process's split (wages
    of many magnitudes in one cell, so that another order gives other bits)."""
    rng = np.random.default_rng(5)
    one = EindkomstBlocks.create(tmp_path / "one", 30, 10)
    parts = [EindkomstBlocks.create(tmp_path / "two", 30, 10, part=p) for p in (0, 1)]
    for g in range(8):
        owner = parts[g % 2]        # alternate row groups, as two processes claim them
        for _ in range(2):          # two pieces of each row group
            rows = rng.integers(-1, 30, 50)           # -1: a person not in DREAM
            months = 24200 + rng.integers(0, 3, 50)
            maaned = pd.Series([f"{m // 12}-{m % 12 + 1:02d}" for m in months])
            loen, timer = rng.random(50) * 10.0 ** rng.integers(0, 9, 50), rng.random(50)
            one.add(rows, maaned, loen, timer, g)
            owner.add(rows, maaned, loen, timer, g)
    parts[0].absorb(parts[1].pieces, parts[1].rows)
    parts[0].close()
    one.close()
    a, b = EindkomstBlocks.read(tmp_path / "one"), EindkomstBlocks.read(tmp_path / "two")
    assert a.rows == b.rows == 800 and {p for v in b.segments.values() for p, _ in v} == {0, 1}
    months = np.arange(24195, 24210)
    part_major = EindkomstBlocks.read(tmp_path / "two")
    part_major.segments = {k: sorted(v, key=lambda x: x[0]) for k, v in part_major.segments.items()}
    differs = False
    for k in range(3):
        assert [x.tobytes() for x in a.sums(k, 10, months)] == [x.tobytes() for x in b.sums(k, 10, months)], k
        differs |= a.sums(k, 10, months)[0].tobytes() != part_major.sums(k, 10, months)[0].tobytes()
    assert differs          # the data tells the order apart
    with pytest.raises(FileExistsError):        # a part's files are appended to: never reused
        EindkomstBlocks.create(tmp_path / "two", 30, 10, part=1)


def _eindkomst_pieces(raw: Path, rows: int):
    """The raw eIndkomst as the in-memory panel sums it: each row group of the file (a chunk
    as normalise_extract reads it) in pieces of `rows` rows."""
    ek = Extract(raw).eindkomst()
    meta = pq.ParquetFile(raw / "eindkomst.parquet").metadata
    at = 0
    for i in range(meta.num_row_groups):
        n = meta.row_group(i).num_rows
        for a in range(0, n, rows):
            yield ek.iloc[at + a:at + min(a + rows, n)]
        at += n


@pytest.mark.parametrize("change", ["rows", "persons", "block_persons"])
def test_a_split_of_another_run_stops_the_panel_with_a_fix(extract, codes, tmp_path, change):
    """The split names its file's rows, DREAM's persons and its block size: one left from
    another run (another file, another DREAM, another block size) is not summed."""
    norm = tmp_path / "norm"
    normalise(Extract(extract.raw), codes, norm, block_persons=500)
    manifest = norm / "eindkomst_blocks" / "blocks.json"
    manifest.write_text(manifest.read_text().replace(f'"{change}": ', f'"{change}": 1'))
    with pytest.raises(SibevalError, match=r"eindkomst_blocks holds a split of .*Fix: run normalise_extract again"):
        build_panel_file(norm, codes, tmp_path / "blocks.parquet", block_persons=500, persons_per_group=100)
    assert not (tmp_path / "blocks.parquet").exists()


def _wages_across_pieces(raw: Path, out: Path) -> Path:
    """A copy of `raw` whose eIndkomst has three wages of one person and month at rows 96-98,
    across the border of two 97-row pieces: their sum tells in which pieces it was added."""
    shutil.copytree(raw, out)
    ek = pq.read_table(out / "eindkomst.parquet").to_pandas()
    first = ek.iloc[0]
    for col in ("pnr", "maaned"):
        if isinstance(ek[col].dtype, pd.CategoricalDtype):
            ek[col] = ek[col].astype(str)
    ek = ek[~((ek["pnr"] == str(first["pnr"])) & (ek["maaned"] == str(first["maaned"])))]
    extra = pd.DataFrame({"pnr": [str(first["pnr"])] * 3, "maaned": [str(first["maaned"])] * 3,
                          "loen": [0.1, 0.2, 0.3], "timer": [1.0, 1.0, 1.0]})
    ek = pd.concat([ek.iloc[:96], extra, ek.iloc[96:]], ignore_index=True)
    pq.write_table(pa.Table.from_pandas(ek, preserve_index=False), out / "eindkomst.parquet", row_group_size=1000)
    return out


def test_candidates_by_blocks_equal_the_whole_population(extract, codes, tmp_path, monkeypatch):
    ex = extract.ex
    files = {n: ex.file(n) for n in ("participants", "bef", "dream")}
    part = ex.participants()
    bef = ex.bef()
    analysed, _ = participant_flow(part, bef, [657, 791], "stop", files)
    panel = build_panel(ex.dream(codes), _eindkomst_pieces(extract.raw, ROW_GROUP_ROWS), codes, ex.vnds(), ex.dod())
    write_panel(panel, tmp_path / "panel.parquet")
    weeks = index_weeks_needed(analysed)
    args = (codes, ELIGIBILITY, {"DNK"})
    whole, f_whole = build_candidates(analysed, set(part["pnr"]), panel, bef, *args, ex.vnds(), ex.udda(),
                                      ex.lpr(), week_lookup(ex.dream(codes, weeks)), municipalities=[657, 791],
                                      files=files)
    # hospital contacts in the two calendar years before the index year, counted the plain way
    lpr = ex.lpr()
    if lpr is not None and len(lpr):
        contacts = {(str(p), int(d.year), int(k)) for p, d, k in zip(lpr["pnr"], pd.to_datetime(lpr["dato"]),
                                                                     lpr["psyk"])}
        for name, psyk in (("somatic_2y", 0), ("psych_2y", 1)):
            plain = [float(any((str(p), m // 12 - back, psyk) in contacts for back in (1, 2)))
                     for p, m in zip(whole["pnr"], whole["index_month"])]
            assert whole[name].tolist() == plain
            assert 0 < sum(plain) < len(plain)

    split = split_registers(extract.norm, tmp_path / "blocks", block_persons=[211, 499, 1000][extract.seed - 1])
    assert split["persons"] == len(panel.pnr) and set(split["registers"]) == {"bef", "vnds", "udda", "lpr"}

    def blocks(share=(0, 1)):
        return candidate_blocks(extract.norm, tmp_path / "panel.parquet", codes, weeks, tmp_path / "blocks", share)
    check = read_panel(tmp_path / "panel.parquet", arrays=("dead",), pnr=analysed["pnr"])
    cand, funnel = build_candidates_blocks(analysed, set(part["pnr"]), check, blocks(), *args,
                                           municipalities=[657, 791], files=files)
    assert len(cand) > len(analysed) and (cand["treated"] == 0).any()
    pd.testing.assert_frame_equal(cand, whole)
    pd.testing.assert_frame_equal(funnel, f_whole)
    # as the workflow writes it: each block's control rows spilled by month, then written month by month
    store = SpilledMonths(tmp_path / "months")
    pieces, funnel = candidate_pieces(analysed, set(part["pnr"]), check, blocks(), *args,
                                      municipalities=[657, 791], files=files, store=store)
    write_parquet_pieces(pieces, tmp_path / "cand.parquet", group_rows=300)
    store.close()
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "cand.parquet"), whole)
    pd.testing.assert_frame_equal(funnel, f_whole)
    assert not (tmp_path / "months").exists()
    # half the blocks in a second process (rule build_candidates with two threads): the same
    # bytes, also when that process fails at once, or after spilling all its months, and its
    # blocks are redone here
    failing_late = ("from sibeval.child import serve; from sibeval.design import candidate_process as c; "
                    "serve(lambda job: (c._child(job), 1 / 0))")
    for worker in (None, ["-c", "import sys; sys.exit(3)"], ["-c", failing_late]):
        if worker:
            monkeypatch.setattr(candidate_process, "_WORKER", worker)
        store = SpilledMonths(tmp_path / "months")
        with CandidateProcess(tmp_path / "months.1") as helper:
            helper.reading(extract.norm, tmp_path / "panel.parquet", codes, weeks, tmp_path / "blocks")
            pieces, funnel = candidate_pieces(analysed, set(part["pnr"]), check, blocks(helper.share), *args,
                                              municipalities=[657, 791], files=files, store=store, helper=helper)
            write_parquet_pieces(pieces, tmp_path / "two.parquet", group_rows=300)
            assert (helper.child.proc.returncode == 0) == (worker is None)
            assert helper.store.order and all(k % 2 == 1 for ks in helper.store.order.values() for k in ks)
            assert "ZeroDivisionError" in helper.child.why if worker == ["-c", failing_late] else True
        store.close()
        assert (tmp_path / "two.parquet").read_bytes() == (tmp_path / "cand.parquet").read_bytes()
        pd.testing.assert_frame_equal(funnel, f_whole)
        assert not (tmp_path / "months.1").exists() and not (tmp_path / "months").exists()


@pytest.mark.parametrize("broken", [(1, 2), (2,), (3,), (0, 1)])
def test_two_processes_stop_with_the_error_of_one(extract, codes, tmp_path, broken):
    """The first broken block in the population's order names the error, whichever process
    has it; a failure in this process's block stops the child and leaves no spilled rows."""
    ex = extract.ex
    files = {n: ex.file(n) for n in ("participants", "bef", "dream")}
    part = ex.participants()
    analysed, _ = participant_flow(part, ex.bef(), [657, 791], "stop", files)
    panel = build_panel(ex.dream(codes), _eindkomst_pieces(extract.raw, ROW_GROUP_ROWS), codes, ex.vnds(), ex.dod())
    write_panel(panel, tmp_path / "panel.parquet")
    split = split_registers(extract.norm, tmp_path / "blocks", block_persons=211)
    assert split["persons"] > 211 * 4
    for k in broken:
        (tmp_path / "blocks" / "bef" / f"{k}.parquet").write_bytes(b"not parquet")
    weeks = index_weeks_needed(analysed)
    check = read_panel(tmp_path / "panel.parquet", arrays=("dead",), pnr=analysed["pnr"])
    args = (analysed, set(part["pnr"]), check)
    rest = dict(codes=codes, eligibility=ELIGIBILITY, western={"DNK"}, municipalities=[657, 791], files=files)
    source = (extract.norm, tmp_path / "panel.parquet", codes, weeks, tmp_path / "blocks")
    with pytest.raises(Exception) as one:
        list(candidate_pieces(*args, blocks=candidate_blocks(*source), **rest)[0])
    with pytest.raises(Exception) as two, CandidateProcess(tmp_path / "months.1") as helper:
        helper.reading(*source)
        candidate_pieces(*args, blocks=candidate_blocks(*source, share=helper.share), helper=helper, **rest)
    assert f"{min(broken)}.parquet" in str(one.value)
    assert type(two.value) is type(one.value) and str(two.value) == str(one.value)
    assert helper.child.proc.poll() is not None and not (tmp_path / "months.1").exists()


def test_split_registers_keeps_every_row_of_a_person_in_dream_in_its_block(extract, tmp_path):
    split = split_registers(extract.norm, tmp_path / "blocks", block_persons=300)
    dream = pq.read_table(extract.norm / "dream.parquet", columns=["pnr"]).column(0).to_pylist()
    block_of = {p: i // 300 for i, p in enumerate(dream)}
    for r, have in split["registers"].items():
        full = pq.read_table(extract.norm / f"{r}.parquet").to_pandas()
        if not have:                        # not delivered (None), or delivered without rows
            assert len(full) == 0 and not (tmp_path / "blocks" / r).exists()
            continue
        full = full[full["pnr"].astype(str).isin(block_of)]
        got = {k: pq.read_table(tmp_path / "blocks" / r / f"{k}.parquet").to_pandas() for k in have}
        assert sum(map(len, got.values())) == len(full) > 0
        for k, part in got.items():
            mine = full[full["pnr"].astype(str).map(block_of) == k].reset_index(drop=True)
            pd.testing.assert_frame_equal(part.drop(columns="_row"), mine)     # file order kept within a block
            assert list(part["_row"]) == [dream.index(p) for p in part["pnr"].astype(str)]


@pytest.mark.parametrize("text", ["plain", "dictionary"])
def test_normalise_splits_the_registers_as_the_normalised_files_split(extract, codes, tmp_path, text):
    """The blocks normalise_extract writes from each chunk as it checks it (persons not in DREAM
    among the rows, some registers not delivered; text columns plain or dictionary-encoded, as
    deliveries come) are those split_registers makes by reading the normalised files back (the
    separate rule's way): the same manifest, and each block the same table, rows in file order,
    dictionaries and schema metadata included."""
    raw = extract.raw
    if text == "dictionary":
        raw = tmp_path / "raw"
        shutil.copytree(extract.raw, raw)
        for r in ("bef", "vnds", "udda", "lpr"):
            if (raw / f"{r}.parquet").exists():
                df = pd.read_parquet(raw / f"{r}.parquet")
                df = df.astype({c: "category" for c in df.columns if pd.api.types.is_string_dtype(df[c])})
                df.to_parquet(raw / f"{r}.parquet", index=False, row_group_size=700)
                assert pa.types.is_dictionary(pq.read_schema(raw / f"{r}.parquet").field("pnr").type)
    norm = tmp_path / "norm"
    normalise(Extract(raw), codes, norm, block_persons=300)
    again = split_registers(norm, tmp_path / "again", block_persons=300)
    assert read_manifest(norm / "blocks") == again
    assert sum(map(len, filter(None, again["registers"].values()))) > 8
    for r, have in again["registers"].items():
        assert sorted(p.name for p in (norm / "blocks" / r).glob("*")) == sorted(f"{k}.parquet" for k in have or [])
        for k in have or []:
            made, split = (pq.read_table(d / f"{k}.parquet") for d in (norm / "blocks" / r, tmp_path / "again" / r))
            assert made.equals(split, check_metadata=True), (r, k)
            pd.testing.assert_frame_equal(retype(made.to_pandas(), r), retype(split.to_pandas(), r))


def test_a_register_delivered_without_rows_is_there_without_rows(extract, codes, tmp_path):
    """No rows is not "not delivered": the block path, like the whole population's, gives
    an empty register (its covariates 0, no contact), not None (unknown)."""
    norm = tmp_path / "norm"
    shutil.copytree(extract.norm, norm)
    summary = read_summary(norm)
    name = next(r for r in ("lpr", "udda", "vnds") if delivered(summary, r))
    pq.write_table(pq.read_schema(norm / f"{name}.parquet").empty_table(), norm / f"{name}.parquet")
    split = split_registers(norm, tmp_path / "blocks", block_persons=300)
    assert split["registers"][name] == []
    build_panel_file(norm, codes, tmp_path / "panel.parquet", persons_per_group=100)
    block = next(person_blocks(norm, tmp_path / "panel.parquet", codes, [], tmp_path / "blocks"))
    frame = getattr(block, name)
    assert frame is not None and len(frame) == 0 and ROW in frame.columns      # persons by their row
    for r in ("lpr", "udda", "vnds"):            # not delivered: None, as NormalisedExtract reads it
        assert (getattr(block, r) is None) == (not delivered(summary, r)) or r == name


def test_blocks_of_another_run_of_the_extract_stop_with_a_fix(extract, codes, tmp_path):
    split_registers(extract.norm, tmp_path / "blocks")
    manifest = tmp_path / "blocks" / "blocks.json"
    manifest.write_text(manifest.read_text().replace('"persons": ', '"persons": 1'))
    with pytest.raises(SibevalError, match=r"splits 1\d+ persons but .*dream.parquet has \d+.*Fix: delete"):
        next(person_blocks(extract.norm, tmp_path / "panel.parquet", codes, [], tmp_path / "blocks"))


def test_block_snapshots_are_the_bef_snapshots_of_the_whole_population():
    """_Snapshots (picked in Arrow by person row) against _snapshot + reindex, on bef rows
    with the awkward cases: no row at all, rows only after the year, missing text."""
    rng = np.random.default_rng(11)
    n = 400
    pnr = np.array([f"P{i:04d}" for i in range(n)], dtype=object)
    rows = [(i, y) for i in range(n) for y in range(2014, 2023) if rng.random() < 0.6 and i % 37]
    rows = [rows[k] for k in rng.permutation(len(rows))]             # file order is not sorted
    bef = pd.DataFrame({
        "pnr": [pnr[i] for i, _ in rows], "aar": [y for _, y in rows],
        "koen": rng.integers(1, 3, len(rows)), "foed_dag": pd.to_datetime("1970-01-01")
        + pd.to_timedelta(rng.integers(0, 9000, len(rows)), unit="D"),
        "opr_land": np.where(rng.random(len(rows)) < 0.1, None, "DNK").astype(object),
        "samlev": rng.integers(0, 2, len(rows)), "kom": rng.choice([657, 791, 101], len(rows)),
    })
    table = pa.Table.from_pandas(bef, preserve_index=False).append_column(
        "_row", pa.array([i + 1000 for i, _ in rows], type=pa.int64()))      # DREAM rows of a block from 1000
    snaps = _Snapshots(table, 1000, pnr)
    for year in (2013, 2016, 2022):
        got = snaps(year)
        want = _snapshot(retype(bef.copy(), "bef"), year).reindex(pnr)
        assert list(got.index) == list(pnr) and list(got.columns) == list(want.columns)
        for col in want.columns:
            assert got[col].isna().tolist() == want[col].isna().tolist(), (year, col)
            ok = want[col].notna().to_numpy()
            assert got[col][ok].tolist() == want[col][ok].tolist(), (year, col)
        assert want["koen"].isna().sum() >= n // 37          # persons without a row in or before the year


def test_a_panel_from_another_run_of_the_extract_stops_the_blocks(extract, codes, tmp_path):
    ex = extract.ex
    panel = build_panel(ex.dream(codes), _eindkomst_pieces(extract.raw, ROW_GROUP_ROWS), codes, ex.vnds(), ex.dod())
    order = np.r_[1, 0, np.arange(2, len(panel.pnr))]            # two persons swapped
    swapped = dataclasses.replace(panel, pnr=panel.pnr[order], **{
        a: getattr(panel, a)[order] for a in ("group", "loen", "timer", "ordinary", "resident", "dead")})
    write_panel(swapped, tmp_path / "panel.parquet")
    split_registers(extract.norm, tmp_path / "blocks")
    with pytest.raises(SibevalError, match=r"does not hold DREAM's persons in DREAM's order \(persons 1-"):
        next(person_blocks(extract.norm, tmp_path / "panel.parquet", codes, [], tmp_path / "blocks"))


def test_a_folder_output_appears_whole_or_not_at_all(tmp_path):
    out = tmp_path / "blocks"
    (tmp_path / ".blocks.killed").mkdir()              # left by a job killed inside atomic_dir
    ((tmp_path / ".blocks.killed") / "bef").write_text("x")
    with pytest.raises(RuntimeError), atomic_dir(out) as tmp:
        (tmp / "half.parquet").write_text("x")
        raise RuntimeError("failed")
    assert list(tmp_path.iterdir()) == []
    out.mkdir()
    (out / "old").write_text("old")
    with atomic_dir(out) as tmp:
        (tmp / "new").write_text("new")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blocks"] and [p.name for p in out.iterdir()] == ["new"]


def test_participants_bef_rows_keep_their_file_rows(extract):
    ex = extract.ex
    part = ex.participants()
    some = rows_of_persons(extract.norm / "bef.parquet", part["pnr"])
    full = ex.bef()
    hit = full[full["pnr"].isin(set(part["pnr"]))]
    assert list(some.index) == list(hit.index)
    assert list(some["pnr"].astype(str)) == list(hit["pnr"].astype(str))


def test_person_index_finds_every_row_and_nothing_else():
    rng = np.random.default_rng(5)
    pnr = np.unique(rng.integers(0, 10**9, 3000).astype(str))
    pnr = np.r_[pnr, ["ÆØÅ", "a" * 25]]
    rng.shuffle(pnr)
    ix = PersonIndex(pa.array(pnr))
    q = np.r_[pnr[::-1], ["nobody", "a" * 26, "ÆØ"]]
    want = np.r_[np.arange(len(pnr))[::-1], [-1, -1, -1]]
    assert (ix.rows(pa.array(q)) == want).all()
    assert (ix.rows(pa.array(q).dictionary_encode()) == want).all()
    assert (ix.rows(pa.array([None, pnr[0]])) == [-1, 0]).all()
    assert not ix.duplicated().any()
    dup = PersonIndex(pa.array(["b", "a", "b", "c", "a", "b"]))
    assert list(np.flatnonzero(dup.duplicated())) == [0, 1, 2, 4, 5] and dup.distinct_duplicates() == 2


@pytest.mark.parametrize("seed", range(5))
def test_digit_codes_order_pnr_as_their_bytes(seed):
    """pnr of digits are searched as integers: for keys of digits and NUL padding (shorter
    pnr), the numbers sort and compare exactly as the bytes; a key with another byte is told
    apart, and the index's lookups equal a search on the bytes."""
    from sibeval.extract.panel_blocks import MAX_DIGITS, digit_codes
    rng = np.random.default_rng(seed)
    width = int(rng.integers(1, MAX_DIGITS + 1))
    digits = np.frombuffer(b"0123456789", np.uint8)
    raw = [bytes(rng.choice(digits, int(rng.integers(0, width + 1)))) for _ in range(3000)]
    raw += [b"0" * width, b"9" * width, b"", b"0", b"00"[:width]]
    keys = np.array(raw, dtype=f"S{width}")
    codes, ok = digit_codes(keys)
    assert ok.all()
    assert (np.argsort(codes, kind="stable") == np.argsort(keys, kind="stable")).all()
    i, j = rng.integers(0, len(keys), (2, 5000))
    assert ((codes[i] == codes[j]) == (keys[i] == keys[j])).all()
    assert ((codes[i] < codes[j]) == (keys[i] < keys[j])).all()
    odd = np.array([b"12a", b"\xc3\x86", b"1 2", b"-1"], dtype=f"S{max(width, 3)}")
    assert not digit_codes(odd)[1].any()
    index = PersonIndex(pa.array([k.decode() for k in dict.fromkeys(raw) if k]))
    assert index.codes is not None
    q = np.r_[keys, odd.astype(f"S{width}")]
    hit = index.sorted[np.minimum(index._positions(q), index.n - 1)] == q
    assert (hit == np.isin(q, index.sorted)).all()


@pytest.mark.parametrize("sorted_lookup", [None, 0])
@pytest.mark.parametrize("seed", range(6))
def test_person_index_rows_of_registers_sorted_repeated_and_not(seed, sorted_lookup, monkeypatch):
    """Runs of one pnr (a register sorted by person) are looked up once: every row still gets
    its person's row, against a plain lookup, with nulls, blanks, unknown and over-long pnr
    (one that only its truncation would match), sorted or shuffled, sliced or not; also with
    every lookup of keys in no order made sorted (what a month-sorted register's chunks get)."""
    import sibeval.extract.panel_blocks as pb

    if sorted_lookup is not None:
        monkeypatch.setattr(pb, "SORTED_LOOKUP", sorted_lookup)
    rng = np.random.default_rng(seed)
    pnr = list(dict.fromkeys(f"{int(v):010d}"[:int(w)] for v, w in zip(rng.integers(0, 10**10, 400),
                                                                         rng.integers(6, 11, 400))))
    pnr += [""] * (seed % 2)        # a blank pnr in the index: a null must still find nobody
    row = {p: i for i, p in enumerate(pnr)}
    pool = pnr + ["", None, "nobody", pnr[0] + "9", "ÆØÅ"]
    for _ in range(20):
        vals = [pool[int(i)] for i in rng.integers(0, len(pool), int(rng.integers(0, 300)))]
        if rng.random() < 0.6:
            vals = sorted(vals, key=lambda v: (v is None, v or ""))
        vals = [v for v in vals for _ in range(int(rng.integers(1, 5)))]
        arr = pa.array(vals, pa.string())
        lo = int(rng.integers(0, 3)) if len(arr) > 3 else 0
        want = np.array([row.get(v, -1) if v is not None else -1 for v in vals[lo:]], dtype=np.int64)
        index = PersonIndex(pa.array(pnr))
        assert index.codes is not None          # pnr of digits: searched as integers
        got = index.rows(arr.slice(lo))
        assert got.dtype == np.int64 and (got == want).all()


def _copy(base, folder):
    folder.mkdir()
    for f in base.iterdir():
        folder.joinpath(f.name).write_bytes(f.read_bytes())
    return folder


@pytest.mark.parametrize("where", ["in_dream", "old_year", "not_in_dream"])
def test_bef_duplicates_spread_over_chunks_stop_with_every_row_counted(base, tmp_path, where):
    from sibeval.extract.normalise import normalise_chunked
    raw = _copy(base, tmp_path / "raw")
    bef = pd.read_parquet(base / "bef.parquet")
    bef["pnr"] = bef["pnr"].astype(object)
    if where == "old_year":            # outside the years kept as bits
        bef.loc[[5, 900], "aar"] = np.array([1950, 2090], dtype=bef["aar"].dtype)
    if where == "not_in_dream":
        bef.loc[[5, 900], "pnr"] = ["NOT1", "NOT2"]
    pq.write_table(pa.Table.from_pandas(bef, preserve_index=False), raw / "bef.parquet")
    index = PersonIndex(pa.array(pd.read_parquet(base / "dream.parquet")["pnr"].astype(str)))
    facts = normalise_chunked(Extract(raw), "bef", tmp_path / "ok.parquet", index, "aar", chunk_rows=1000)
    assert facts["rows"] == len(bef) and facts["persons"] == bef["pnr"].nunique()
    twice = pd.concat([bef, bef.iloc[[5, 900]]], ignore_index=True)      # the copies land in a later chunk
    pq.write_table(pa.Table.from_pandas(twice, preserve_index=False), raw / "bef.parquet")
    with pytest.raises(ExtractError) as e:
        normalise_chunked(Extract(raw), "bef", tmp_path / "bad.parquet", index, "aar", chunk_rows=1000)
    assert "more than one row per person and year" in str(e.value) and "(2 row(s)/person(s))" in str(e.value)


def test_normalise_stops_on_duplicate_dream_persons_and_leaves_nothing(base, tmp_path, codes):
    raw = _copy(base, tmp_path / "raw")
    dream = pd.read_parquet(base / "dream.parquet")
    pd.concat([dream, dream.iloc[[7]]]).to_parquet(raw / "dream.parquet", index=False, row_group_size=500)
    with pytest.raises(ExtractError) as e:
        normalise(Extract(raw), codes, tmp_path / "norm")
    assert "duplicate pnr" in str(e.value) and "(1 row(s)/person(s))" in str(e.value)
    assert f"row {len(dream) + 1}" in str(e.value) or "row 8" in str(e.value)
    assert not (tmp_path / "norm").exists()


class _Spy:
    """Counts the second processes normalise() starts."""

    def __init__(self, monkeypatch):
        from sibeval.extract import normalise as norm
        self.started = 0
        real = norm._dream_process

        def start(*a):
            self.started += 1
            return real(*a)
        monkeypatch.setattr(norm, "_dream_process", start)


def _split_optional(monkeypatch, mine: int, eind=None) -> None:
    """Make normalise's second process take the optional registers but the last `mine`, which
    this process takes, and the row groups of a Parquet eIndkomst but those g with `eind(g)`
    (which it gets otherwise depends on the two processes' timing): this process's are
    claimed for it before the second one starts."""
    from sibeval.extract import normalise as norm
    ours = set(norm.SECOND_PROCESS[len(norm.SECOND_PROCESS) - mine:])
    real, claims = norm._dream_process, norm.Claims

    def start(ex, codes, out, *a):
        f = ex.file("eindkomst", required=False)
        groups = pq.ParquetFile(f).num_row_groups if f is not None and f.suffix == ".parquet" else 0
        ours.update(f"eindkomst.{g}" for g in range(groups) if eind is not None and eind(g))
        for name in ours:
            assert claims(out)(name)
        return real(ex, codes, out, *a)

    class Ours(claims):
        def __call__(self, name):
            return name in ours          # the rest is the second process's
    monkeypatch.setattr(norm, "_dream_process", start)
    monkeypatch.setattr(norm, "Claims", Ours)


EIND_SPLITS = {"none": None, "all": lambda g: True, "odd": lambda g: g % 2 == 1, "first": lambda g: g < 4}


@pytest.mark.parametrize("mine,eind", [(0, "none"), (1, "odd"), (4, "all")])
def test_normalise_with_dream_in_a_second_process_writes_the_same_files(extract, codes, tmp_path, monkeypatch,
                                                                        mine, eind):
    """DREAM and the optional registers (lpr, udda, vnds split by block) in the second process,
    bef and the optional registers it has not taken (`mine` of them, from the back) here, and
    eIndkomst's row groups split between them (`eind`: those this one takes): the same files
    as one process writes, eIndkomst's split the same sums, with blocks small enough that
    every register spans several."""
    normalise(Extract(extract.raw), codes, tmp_path / "one", block_persons=300)
    _split_optional(monkeypatch, mine, EIND_SPLITS[eind])
    spy, threads = _Spy(monkeypatch), pa.cpu_count()
    normalise(Extract(extract.raw), codes, tmp_path / "two", workers=2, block_persons=300)
    assert spy.started == 1 and pa.cpu_count() == threads      # Arrow's threads given back
    split = EindkomstBlocks.read(tmp_path / "two" / "eindkomst_blocks")
    parts = {p for v in split.segments.values() for p, _ in v}
    assert parts == {"none": {1}, "all": {0}}.get(eind, {0, 1})     # the file read in those parts
    _same_files(tmp_path / "two", tmp_path / "one")
    assert len(list((tmp_path / "two" / "blocks" / "bef").iterdir())) > 3
    assert len(list((tmp_path / "two" / "blocks" / "udda").iterdir())) > 3


def _same_files(a: Path, b: Path) -> None:
    """The same files (the splits' folders included), byte for byte; eIndkomst's split (its
    pieces in one or two parts' files) the same sums of every block, bit for bit."""
    def files(x):
        return sorted(str(f.relative_to(x)) for f in x.rglob("*") if f.is_file()
                      and not str(f.relative_to(x)).startswith("eindkomst_blocks/"))
    names = files(b)
    assert files(a) == names and any(n.startswith("blocks/bef/") for n in names)
    for name in names:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    ea, eb = (EindkomstBlocks.read(x / "eindkomst_blocks") for x in (a, b))
    assert (ea.rows, ea.persons, ea.block_persons, sorted(ea.segments)) == \
        (eb.rows, eb.persons, eb.block_persons, sorted(eb.segments))
    months = np.arange(24000, 24400)
    for k in eb.segments:
        assert [sum(n for _, n in ea.segments[k])] == [sum(n for _, n in eb.segments[k])]
        for x, y in zip(ea.sums(k, eb.block_persons, months), eb.sums(k, eb.block_persons, months)):
            assert x.tobytes() == y.tobytes(), k


def test_a_second_process_that_fails_is_redone_here(extract, codes, tmp_path, monkeypatch):
    """A worker that dies for a reason of its own (memory, a broken interpreter) costs time,
    not the run: DREAM is normalised again in this process and the files are the same."""
    from sibeval.extract import normalise as norm
    monkeypatch.setattr(norm, "_WORKER", ["-c", "import sys; sys.exit(3)"])
    spy = _Spy(monkeypatch)
    normalise(Extract(extract.raw), codes, tmp_path / "two", workers=2)
    assert spy.started == 1
    _same_files(tmp_path / "two", extract.norm)


def test_dream_s_error_comes_before_any_failure_of_another_register(base, codes, tmp_path, monkeypatch):
    """In one process DREAM fails first; with two, another register's failure of any kind
    (here an unexpected one) waits for DREAM's result and gives way to DREAM's error."""
    from sibeval.extract import normalise as norm
    raw = _copy(base, tmp_path / "raw")
    _bad_code(raw)
    real = norm.normalise_chunked

    def broken(ex, name, *a, **k):
        if name == "eindkomst":
            raise RuntimeError("a corrupt page")
        return real(ex, name, *a, **k)
    monkeypatch.setattr(norm, "normalise_chunked", broken)
    spy = _Spy(monkeypatch)
    with pytest.raises(ExtractError) as e:
        normalise(Extract(raw), codes, tmp_path / "norm", workers=2)
    assert spy.started == 1 and "'777'" in str(e.value) and not (tmp_path / "norm").exists()


def _bad_code(raw):
    dream = pd.read_parquet(raw / "dream.parquet")
    col = dream.columns[30]
    dream[col] = dream[col].astype(object)
    dream.loc[dream.index[11], col] = "777"
    dream.to_parquet(raw / "dream.parquet", index=False, row_group_size=500)


def _bef_twice(raw):
    bef = pd.read_parquet(raw / "bef.parquet")
    pd.concat([bef, bef.iloc[[3]]]).to_parquet(raw / "bef.parquet", index=False)


def _dream_twice(raw):
    dream = pd.read_parquet(raw / "dream.parquet")
    pd.concat([dream, dream.iloc[[7]]]).to_parquet(raw / "dream.parquet", index=False)


def _month_text(raw):
    ek = pd.read_parquet(raw / "eindkomst.parquet")
    ek["maaned"] = ek["maaned"].astype(str)
    ek.loc[ek.index[-2:], "maaned"] = "2021-13"
    ek.to_parquet(raw / "eindkomst.parquet", index=False)


def _lpr_date(raw):
    lpr = pd.read_parquet(raw / "lpr.parquet")
    lpr["dato"] = lpr["dato"].astype(str)
    lpr.loc[lpr.index[-1], "dato"] = "2021-02-30"
    lpr.to_parquet(raw / "lpr.parquet", index=False)


def _vnds_date(raw):
    vnds = pd.read_parquet(raw / "vnds.parquet")
    vnds["haend_dato"] = vnds["haend_dato"].astype(str)
    vnds.loc[vnds.index[3], "haend_dato"] = "2020-02-31"
    vnds.to_parquet(raw / "vnds.parquet", index=False)


def _udda_year(raw):
    udda = pd.read_parquet(raw / "udda.parquet")
    udda["aar"] = udda["aar"].astype(str)
    udda.loc[udda.index[5], "aar"] = "tyve"
    udda.to_parquet(raw / "udda.parquet", index=False)


def _eind_groups(raw):
    """eIndkomst in row groups of 5,000 rows (the demo writes one)."""
    ek = pq.read_table(raw / "eindkomst.parquet")
    pq.write_table(ek, raw / "eindkomst.parquet", row_group_size=5000)


def test_after_a_failure_here_the_second_process_finds_everything_claimed(base, tmp_path):
    """bef or this process's share of eIndkomst failed: its error comes before anything the
    second process does after DREAM, so every optional register and row group is claimed for
    it to skip (it read them all before, a whole eIndkomst for nothing)."""
    from sibeval.extract.normalise import SECOND_PROCESS, Claims, _claim_the_rest
    raw = _copy(base, tmp_path / "raw")
    _eind_groups(raw)
    (tmp_path / "tmp").mkdir()
    assert Claims(tmp_path / "tmp")("lpr")          # one the second process had already taken
    _claim_the_rest(Extract(raw), tmp_path / "tmp")
    groups = pq.ParquetFile(raw / "eindkomst.parquet").metadata.num_row_groups
    assert groups > 10
    again = Claims(tmp_path / "tmp")
    assert not any(again(n) for n in SECOND_PROCESS) and not any(again(f"eindkomst.{g}") for g in range(groups))


FAULTS = [
    (_lpr_date, _vnds_date),                # vnds's error first, whichever process had either
    (_lpr_date, _udda_year),
    (_udda_year,),
    (_lpr_date, _udda_year, _bef_twice),    # bef's first
    (_lpr_date, _bad_code),                 # DREAM's first
    (_month_text, _udda_year),              # eIndkomst's (its last rows) before udda's
    (_month_text, _bad_code),               # DREAM's first
    (_month_text, _bef_twice),              # bef's first
]
_FAULTY = {_lpr_date: "lpr", _vnds_date: "vnds", _udda_year: "udda"}


def _splits_that_happen(faults):
    """The splits of the optional registers a run can make: this process claims them one by
    one from the back and stops at the first that fails, so it never holds one in front of a
    failed one (the test claims them all for it at the start). After a failure in bef or its
    share of eIndkomst it claims everything left, so there any split can happen. (The splits
    are made before the second process starts: two processes racing for a claim is
    `Claims`' exclusive create, not tested here.)"""
    from sibeval.extract.normalise import SECOND_PROCESS as order
    out = []
    for mine, eind in [(0, "odd"), (1, "all"), (2, "first")]:
        ours = order[len(order) - mine:]
        failing = [order.index(_FAULTY[f]) for f in faults if _FAULTY.get(f) in ours]
        if not failing or max(failing) == order.index(ours[0]):
            out.append((faults, mine, eind))
    return out


@pytest.mark.parametrize("faults,mine,eind", [c for f in FAULTS for c in _splits_that_happen(f)])
def test_the_optional_registers_split_either_way_stop_with_one_process_s_error(base, codes, tmp_path, monkeypatch,
                                                                               faults, mine, eind):
    """The two processes share the optional registers (the second from the front after DREAM,
    this one from the back after eIndkomst) and eIndkomst's row groups: however they split
    them, the error is the one a single process stops with."""
    raw = _copy(base, tmp_path / "raw")
    for fault in faults:
        fault(raw)
    _eind_groups(raw)
    with pytest.raises(ExtractError) as one:
        normalise(Extract(raw), codes, tmp_path / "norm1", workers=1)
    _split_optional(monkeypatch, mine, EIND_SPLITS[eind])
    spy = _Spy(monkeypatch)
    with pytest.raises(ExtractError) as two:
        normalise(Extract(raw), codes, tmp_path / "norm2", workers=2)
    assert spy.started == 1 and str(two.value) == str(one.value)
    assert not (tmp_path / "norm2").exists() and not list(tmp_path.glob(".norm*"))


@pytest.mark.parametrize("faults,second", [
    ((_bad_code,), True),                   # DREAM's error from the second process, redone here
    ((_bad_code, _bef_twice), True),        # both wrong: DREAM's error first, as in one process
    ((_bef_twice,), True),                  # a register of this process
    ((_month_text,), True),
    ((_lpr_date,), True),                   # a register of the second process, after DREAM, redone here
    ((_lpr_date, _month_text), True),       # eIndkomst's error (this one) before lpr's (the second)
    ((_lpr_date, _bad_code), True),         # DREAM's error first
    ((_bef_twice, _month_text), True),      # bef's before eIndkomst's (both this process)
    ((_bef_twice, _lpr_date), True),        # bef's (this one) before lpr's (the second)
    ((_bef_twice, _bad_code, _lpr_date), True),     # DREAM's first, though this process's fails too
    ((_dream_twice,), False),               # duplicate persons: DREAM first, in this process
])
def test_normalise_with_a_second_process_stops_with_the_same_error(base, codes, tmp_path, monkeypatch,
                                                                    faults, second):
    raw = _copy(base, tmp_path / "raw")
    for fault in faults:
        fault(raw)
    errors = []
    for workers in (1, 2):
        spy = _Spy(monkeypatch)
        with pytest.raises(ExtractError) as e:
            normalise(Extract(raw), codes, tmp_path / f"norm{workers}", workers=workers)
        errors.append(str(e.value))
        assert not (tmp_path / f"norm{workers}").exists() and not list(tmp_path.glob(".norm*"))
        assert spy.started == (second and workers == 2)
    assert errors[0] == errors[1]


def test_candidates_written_piece_by_piece_are_the_file_of_the_whole_table(tmp_path):
    """write_parquet_pieces writes the bytes pd.concat(pieces).to_parquet writes (pieces of
    any sizes; the participants' first), and in smaller row groups the same rows."""
    import pyarrow.parquet as pq

    from sibeval.adapters import write_parquet_pieces
    from sibeval.design.candidates import format_candidates

    rng = np.random.default_rng(5)

    def piece(n, treated):
        return pd.DataFrame({"pnr": np.array([f"{x:010d}" for x in rng.integers(0, 10**9, n)], dtype=object),
                             "index_month": np.sort(rng.integers(600, 612, n)),
                             "index_week": [(2021, int(w)) for w in rng.integers(1, 53, n)],
                             "treated": treated, "age": rng.normal(40, 9, n)})

    pieces = [piece(5, 1)] + [piece(int(n), 0) for n in rng.integers(0, 40, 12)]
    whole = format_candidates(pd.concat(pieces, ignore_index=True))
    whole.to_parquet(tmp_path / "whole.parquet", index=False)
    write_parquet_pieces(list(pieces), tmp_path / "pieces.parquet", prepare=format_candidates)
    assert (tmp_path / "pieces.parquet").read_bytes() == (tmp_path / "whole.parquet").read_bytes()
    write_parquet_pieces(list(pieces), tmp_path / "small.parquet", prepare=format_candidates, group_rows=7)
    f = pq.ParquetFile(tmp_path / "small.parquet")
    assert [f.metadata.row_group(i).num_rows for i in range(f.num_row_groups)][:-1] == [7] * (f.num_row_groups - 1)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "small.parquet"), whole)
