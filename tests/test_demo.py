"""The demo extract generator: determinism and conformance with DATA_CONTRACT.md."""

import hashlib

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sibeval.demo import generate as gen
from sibeval.demo.generate import generate
from sibeval.extract.contract import BIP_ITEMS, SCHEMAS, WHO5_ITEMS
from sibeval.extract.qc import extract_summary
from sibeval.extract.readers import Extract
from sibeval.extract.timegrid import parse_week_column

# one pytest-xdist worker runs the whole module: its module fixture is built once
pytestmark = pytest.mark.xdist_group("test_demo")


def _digests(folder):
    return {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in sorted(folder.iterdir())}


def test_same_seed_gives_byte_identical_files(tmp_path, small_demo):
    again = tmp_path / "again"
    generate(again, seed=20221101, pool_size=2000)
    assert _digests(again) == _digests(small_demo)


def _content_digest(folder):
    """sha256 over every file's content (parquet: its values as CSV, whatever the writer's version)."""
    h = hashlib.sha256()
    for f in sorted(folder.iterdir()):
        data = f.read_bytes() if f.suffix == ".csv" else pq.read_table(f).to_pandas().to_csv(index=False).encode()
        h.update(f.name.encode() + hashlib.sha256(data).digest())
    return h.hexdigest()


# computed with the generator before it wrote large pools in blocks (issue 26): a pool up to
# the block size must keep its bytes (the default demos)
SMALL_DEMO_CONTENT = "f1d3a6e7c94693603aeeb428677dd3415fdf8c7c0cd317e3ad638bfc72d19110"
SMALL_DEMO_BYTES = ("26.0.1", "68c9d33c0114bed498bab2d1c7ecfabb7e5a603ee372a081e7ce9e2324f3a15d")


def test_single_block_extract_is_unchanged(small_demo):
    assert _content_digest(small_demo) == SMALL_DEMO_CONTENT
    if pa.__version__ == SMALL_DEMO_BYTES[0]:   # the bytes name the writer's version
        h = hashlib.sha256()
        for name, digest in _digests(small_demo).items():
            h.update(name.encode() + bytes.fromhex(digest))
        assert h.hexdigest() == SMALL_DEMO_BYTES[1]


@pytest.fixture(scope="module")
def blocks(tmp_path_factory):
    """A pool of 2,500 in blocks of 1,000 (1,057 with the participants, 1,000, 500), DREAM in
    row groups of 400 persons; twice, and the single block of 1,000 it starts with."""
    root = tmp_path_factory.mktemp("blocks")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(gen, "DREAM_ROW_GROUP", 400)
        for name in ("a", "b"):
            generate(root / name, seed=20221101, pool_size=2500, block_persons=1000)
    generate(root / "first", seed=20221101, pool_size=1000)
    return root


def test_blocks_are_deterministic_and_whole(blocks, small_demo):
    assert _digests(blocks / "a") == _digests(blocks / "b")
    single = {f.name: pq.read_schema(f) for f in small_demo.glob("*.parquet")}
    for f in (blocks / "a").glob("*.parquet"):
        assert pq.read_schema(f).equals(single[f.name], check_metadata=True), f.name
        pnr = pq.read_table(f, columns=["pnr"]).column(0).to_pandas().astype(str)
        assert pnr.is_monotonic_increasing, f.name     # sorted by pnr across blocks
    dream = pq.ParquetFile(blocks / "a" / "dream.parquet")
    assert [dream.metadata.row_group(i).num_rows for i in range(dream.num_row_groups)] == [400] * 6 + [157]
    udda = pq.read_table(blocks / "a" / "udda.parquet").to_pandas()
    assert len(udda) == 57 + 2500 and udda["pnr"].is_unique
    assert set(udda["pnr"]) == set(dream.read(columns=["pnr"]).column(0).to_pylist())


def test_first_block_is_the_single_block_of_its_size(blocks):
    """The participants and the first block's pool are those of a pool of block_persons."""
    for name in ("participants.csv", "questionnaires.csv"):
        assert (blocks / "a" / name).read_bytes() == (blocks / "first" / name).read_bytes()
    for name in ("bef", "lpr", "eindkomst"):
        one = pd.read_parquet(blocks / "first" / f"{name}.parquet")
        many = pd.read_parquet(blocks / "a" / f"{name}.parquet")
        many = many[many["pnr"].isin(set(one["pnr"].astype(str)))].reset_index(drop=True)
        pd.testing.assert_frame_equal(many.astype({"pnr": str}), one.astype({"pnr": str}), check_categorical=False)


def test_later_blocks_draw_the_same_population(blocks):
    e = Extract(blocks / "a")
    p = e.participants()
    assert len(p) == 57 and (~p["pnr"].isin(set(e.bef()["pnr"]))).sum() == 1
    bef = e.bef()
    last = bef[bef["aar"] == 2020].drop_duplicates("pnr")
    first = set(pd.read_parquet(blocks / "first" / "udda.parquet")["pnr"])
    later = last[~last["pnr"].isin(first)]
    assert len(later) > 1000
    for part in (last[last["pnr"].isin(first)], later):
        assert 0.4 < (part["koen"] == 2).mean() < 0.6
        assert 0.35 < (part["opr_land"] == "DNK").mean() < 0.5


def test_cli_block_persons(tmp_path):
    from sibeval.cli import main
    assert main(["demo", "--out", str(tmp_path / "d"), "--pool-size", "1200", "--block-persons", "500"]) == 0
    udda = pd.read_parquet(tmp_path / "d" / "udda.parquet")
    assert len(udda) == 57 + 1200 and udda["pnr"].is_unique


def test_other_seed_gives_other_data(tmp_path, small_demo):
    other = tmp_path / "other"
    generate(other, seed=1, pool_size=2000)
    assert _digests(other)["dream.parquet"] != _digests(small_demo)["dream.parquet"]


def test_every_contract_file_and_column_is_written(small_demo):
    names = {f.name for f in small_demo.iterdir()}
    assert names == {"participants.csv", "dream.parquet", "bef.parquet", "eindkomst.parquet",
                     "vnds.parquet", "dod.parquet", "udda.parquet", "lpr.parquet", "questionnaires.csv"}
    for name, schema in SCHEMAS.items():
        f = next(small_demo.glob(f"{name}.*"))
        cols = pq.read_schema(f).names if f.suffix == ".parquet" else pd.read_csv(f, sep=";", nrows=1).columns
        assert set(schema) <= set(cols), name


def test_extract_validates_and_codes_are_known(small_demo, codes):
    s = extract_summary(Extract(small_demo), codes).set_index(["file", "item"])["value"]
    assert s[("dream", "first_week")] == "2015-W01" and s[("dream", "last_week")] == "2023-W52"
    assert s[("bef", "first_year")] == "2015" and s[("bef", "last_year")] == "2024"
    assert s[("eindkomst", "first_month")] == "2015-01" and s[("eindkomst", "last_month")] == "2023-12"
    used = {i.split(":", 1)[1] for i in s.index.get_level_values(1) if i.startswith("code:")}
    assert used - {"(empty)"} <= set(codes.code_to_group)


def test_dream_weeks_cover_2015_to_2023_with_iso_week_53(small_demo):
    weeks = [parse_week_column(c) for c in pq.read_schema(small_demo / "dream.parquet").names[1:]]
    assert weeks[0] == (2015, 1) and weeks[-1] == (2023, 52)
    assert (2015, 53) in weeks and (2020, 53) in weeks and len(weeks) == 470


def test_types_follow_the_contract(small_demo):
    e = Extract(small_demo)
    bef = e.bef()
    assert set(bef["koen"]) <= {1, 2} and set(bef["ie_type"]) <= {1, 2, 3}
    assert set(bef["civst"]) <= set("UGFEPOL") and set(bef["samlev"]) <= {0, 1}
    assert bef["opr_land"].str.fullmatch(r"[A-Z]{3}").all()
    assert bef["pnr"].map(type).eq(str).all()
    assert set(e.vnds()["indud_kode"]) == {"I", "U"}
    assert set(e.lpr()["psyk"]) == {0, 1}
    assert e.udda()["hfaudd"].str.fullmatch(r"\d{4}").all()
    ek = e.eindkomst()
    assert (ek["loen"] >= 0).all() and (ek["timer"] >= 0).all()


def test_sib_cohort_flow_and_questionnaires(small_demo):
    e = Extract(small_demo)
    p = e.participants()
    assert len(p) == 57 and p["kommune"].value_counts().to_dict() == {657: 29, 791: 28}
    assert p["start_dato"].notna().sum() == 56
    assert p["visitation_dato"].min() >= pd.Timestamp("2020-08-01")
    assert p["slut_dato"].max() <= pd.Timestamp("2022-07-31")
    assert (~p["pnr"].isin(set(e.bef()["pnr"]))).sum() == 1
    q = e.questionnaires(p)
    wide = q.pivot(index="pnr", columns="runde", values=list(BIP_ITEMS + WHO5_ITEMS))
    complete = wide.notna().all(axis=1)
    kom = p.set_index("pnr")["kommune"]
    assert kom[complete[complete].index].value_counts().to_dict() == {657: 24, 791: 20}
    assert (~complete).sum() > 0                      # incomplete ones are there too


def test_population_is_realistic_for_selection(small_demo):
    bef = Extract(small_demo).bef()
    last = bef.sort_values("aar").drop_duplicates("pnr", keep="last")
    assert 0.3 < (last["koen"] == 2).mean() < 0.7
    assert (last["opr_land"] == "DNK").mean() > 0.3
    assert np.isin(last["ie_type"], [1, 2, 3]).all()


@pytest.mark.parametrize("bad", [{"pool_size": 10}, {"profile": "nope"}, {"block_persons": 0}])
def test_bad_arguments_name_the_argument(tmp_path, bad):
    with pytest.raises(ValueError, match=list(bad)[0]):
        generate(tmp_path / "x", **bad)
