"""The demo extract generator: determinism and conformance with DATA_CONTRACT.md."""

import hashlib

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from sibeval.demo.generate import generate
from sibeval.extract.contract import BIP_ITEMS, SCHEMAS, WHO5_ITEMS
from sibeval.extract.qc import extract_summary
from sibeval.extract.readers import Extract
from sibeval.extract.timegrid import parse_week_column


def _digests(folder):
    return {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in sorted(folder.iterdir())}


def test_same_seed_gives_byte_identical_files(tmp_path, small_demo):
    again = tmp_path / "again"
    generate(again, seed=20221101, pool_size=2000)
    assert _digests(again) == _digests(small_demo)


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


@pytest.mark.parametrize("bad", [{"pool_size": 10}, {"profile": "nope"}])
def test_bad_arguments_name_the_argument(tmp_path, bad):
    with pytest.raises(ValueError, match=list(bad)[0]):
        generate(tmp_path / "x", **bad)
