"""The extract stage: normalised Parquet reads back exactly like the raw files, DREAM in
SAS/Stata/CSV is converted in chunks, errors still name the raw file, and the panel file
is read with column projection and a person filter."""

import numpy as np
import pandas as pd
import pytest

from conftest import dream_frame, write_extract
from sibeval.errors import ExtractError, SibevalError
from sibeval.extract.dream_store import DreamStore
from sibeval.extract.normalise import NormalisedExtract, normalise
from sibeval.extract.panel import build_panel
from sibeval.extract.panel_blocks import EindkomstBlocks, build_panel_file
from sibeval.extract.panel_io import read_panel, write_panel
from sibeval.extract.qc import cohort_summary, extract_summary
from sibeval.extract.readers import Extract

# one pytest-xdist worker runs the whole module: its module fixture is built once
pytestmark = pytest.mark.xdist_group("test_normalise")


@pytest.fixture(scope="module")
def normalised_demo(small_demo, codes, tmp_path_factory):
    out = tmp_path_factory.mktemp("norm") / "demo"
    normalise(Extract(small_demo), codes, out)
    return NormalisedExtract(out, small_demo)


@pytest.mark.parametrize("name", ["bef", "vnds", "dod", "udda", "lpr"])
def test_normalised_files_read_back_like_the_raw_ones(small_demo, normalised_demo, name):
    raw, new = getattr(Extract(small_demo), name)(), getattr(normalised_demo, name)()
    # dictionary-encoded columns stay categorical; the chunked writer keeps only the
    # categories its rows use, so they are compared by value
    assert [type(t) for t in new.dtypes] == [type(t) for t in raw.dtypes]
    pd.testing.assert_frame_equal(_by_value(new), _by_value(raw))


def _by_value(df):
    return df.assign(**{c: df[c].astype(object) for c in df.columns
                        if isinstance(df[c].dtype, pd.CategoricalDtype)})


def test_normalised_dream_and_qc_summary_equal_the_raw_reading(small_demo, normalised_demo, codes):
    a, b = Extract(small_demo).dream(codes), normalised_demo.dream(codes)
    assert a.weeks == b.weeks and (a.pnr == b.pnr).all() and (a.groups == b.groups).all()
    assert a.code_counts == b.code_counts
    part = normalised_demo.participants()
    new = cohort_summary(normalised_demo.summary(), part, normalised_demo.questionnaires(part),
                         normalised_demo.bef(columns=["pnr"])["pnr"])
    pd.testing.assert_frame_equal(new, extract_summary(Extract(small_demo), codes))
    assert set(normalised_demo.checksums()) >= {"dream.parquet", "participants.csv"}


def test_optional_file_absent_stays_absent(tmp_path, codes):
    ex = write_extract(tmp_path / "ex")
    normalise(Extract(ex), codes, tmp_path / "norm")
    n = NormalisedExtract(tmp_path / "norm", ex)
    assert n.vnds() is None and n.lpr() is None
    assert len(n.bef()) == 2


@pytest.mark.parametrize("fmt", ["csv", "dta"])
def test_dream_in_other_formats_is_converted_in_chunks(tmp_path, codes, fmt):
    rows = {f"{i:010d}": {(2020, 2): "132", (2020, 3): 140 if fmt == "dta" else "140 "} for i in range(7)}
    dream = dream_frame(rows).rename(columns=str.upper)
    ex = write_extract(tmp_path / "ex")
    (ex / "dream.parquet").unlink()
    if fmt == "csv":
        dream.to_csv(ex / "dream.csv", sep=";", index=False)
    else:
        dream.astype({c: "float64" for c in dream.columns if c != "PNR"}).to_stata(ex / "dream.dta", write_index=False)
    from sibeval.extract.normalise import normalise_dream
    facts = normalise_dream(Extract(ex), codes, tmp_path / "dream.parquet", chunk_rows=3)
    assert facts["persons"] == 7 and facts["code_counts"]["132"] == 7 and facts["code_counts"]["140"] == 7
    d = DreamStore(tmp_path / "dream.parquet").data(codes)
    for week, code in (((2020, 2), "132"), ((2020, 3), "140"), ((2020, 4), "")):
        assert codes.groups[d.groups[6, d.weeks.index(week)]] == codes.code_to_group.get(code, "none")


def test_an_error_names_the_raw_file_not_the_normalised_one(tmp_path, codes):
    dream = dream_frame({"A": {(2020, 2): "777"}, "B": {}})
    ex = write_extract(tmp_path / "ex", dream=dream)
    with pytest.raises(ExtractError) as e:
        normalise(Extract(ex), codes, tmp_path / "norm")
    assert "ex/dream.parquet" in str(e.value) and "'777'" in str(e.value)
    assert not (tmp_path / "norm").exists()       # nothing half-written


def test_a_duplicated_dream_person_is_named_by_row_never_by_pnr(tmp_path, codes):
    dream = dream_frame({"A": {}, "B": {}})
    dream = pd.concat([dream, dream.iloc[[1]]], ignore_index=True)
    ex = write_extract(tmp_path / "ex", dream=dream)
    with pytest.raises(ExtractError) as e:
        normalise(Extract(ex), codes, tmp_path / "norm")
    msg = str(e.value)
    assert "duplicate pnr" in msg and "row 2" in msg and "row 3" in msg
    assert not any(p in msg for p in dream["pnr"].astype(str))


def test_eindkomst_is_kept_only_as_its_split_for_the_panel(small_demo, normalised_demo):
    """Nothing but the panel reads eIndkomst's rows: no Parquet copy, its split by block holds
    every row of a person in DREAM, and reading it as a table names where it is instead."""
    folder = normalised_demo.folder
    assert not (folder / "eindkomst.parquet").exists()
    split = EindkomstBlocks.read(folder / "eindkomst_blocks")
    raw = Extract(small_demo).eindkomst()
    in_dream = raw["pnr"].isin(set(DreamStore(folder / "dream.parquet").pnr().to_pylist()))
    assert split.rows == len(raw) and sum(n for v in split.segments.values() for _, n in v) == int(in_dream.sum())
    with pytest.raises(SibevalError, match="eindkomst_blocks"):
        normalised_demo.eindkomst()


def test_a_rename_map_applies_when_normalising(tmp_path, codes):
    ek = pd.DataFrame({"PNR": ["A"], "MND": ["2020-03"], "LOENBELOB": [1000.0], "TIMER": [10.0]})
    ex = write_extract(tmp_path / "ex", eindkomst=ek)
    normalise(Extract(ex, rename={"eindkomst": {"MND": "maaned", "LOENBELOB": "loen"}}), codes, tmp_path / "n")
    build_panel_file(tmp_path / "n", codes, tmp_path / "panel.parquet")
    panel = read_panel(tmp_path / "panel.parquet")
    assert panel.loen.sum() == 1000.0 and panel.loen[list(panel.pnr).index("A")].sum() == 1000.0


def test_panel_file_round_trip_projection_and_person_filter(small_demo, normalised_demo, codes, tmp_path):
    n = normalised_demo
    p = build_panel(n.dream(codes), Extract(small_demo).eindkomst(), codes, n.vnds(), n.dod())
    write_panel(p, tmp_path / "panel.parquet", persons_per_group=300)
    full = read_panel(tmp_path / "panel.parquet")
    for f in ("pnr", "months", "covered", "group", "loen", "timer", "ordinary", "resident", "dead"):
        assert np.array_equal(getattr(full, f), getattr(p, f)), f
    pd.testing.assert_frame_equal(full.to_frame(), p.to_frame())
    some = [p.pnr[3], p.pnr[1500], p.pnr[-1], "not-a-person"]
    sub = read_panel(tmp_path / "panel.parquet", arrays=("group", "dead"), pnr=some)
    assert list(sub.pnr) == [p.pnr[3], p.pnr[1500], p.pnr[-1]]
    assert np.array_equal(sub.group, p.group[[3, 1500, len(p.pnr) - 1]]) and sub.loen is None
    assert read_panel(tmp_path / "panel.parquet", pnr=["nobody"]).group.shape == (0, len(p.months))


def test_chunked_eindkomst_counts_every_bad_row_and_sums_like_the_whole_file(tmp_path, codes):
    from sibeval.extract.normalise import normalise_chunked
    ek = pd.DataFrame({"pnr": ["A", "B", "A", "B"], "maaned": ["2020-03", "2020-04", "2020-05", "2020-13"],
                       "loen": [1.0, 2.0, 3.0, 4.0], "timer": [1.0, 1.0, 1.0, 1.0]})
    ex = write_extract(tmp_path / "ex", eindkomst=ek)
    out = tmp_path / "ek.parquet"
    bad = ek.assign(maaned=["2020-03", "x", "2020-05", "y"])
    bad.to_parquet(ex / "eindkomst.parquet", index=False)
    with pytest.raises(ExtractError) as e:
        normalise_chunked(Extract(ex), "eindkomst", out, chunk_rows=1)
    assert "(2 row(s)/person(s))" in str(e.value) and "'x'" in str(e.value)
    ek.iloc[:3].to_parquet(ex / "eindkomst.parquet", index=False)
    facts = normalise_chunked(Extract(ex), "eindkomst", out, span="maaned", chunk_rows=2)
    assert facts == {"rows": 3, "persons": 2, "first": "2020-03", "last": "2020-05"}
    pd.testing.assert_frame_equal(pd.read_parquet(out).astype({"pnr": object, "maaned": object}),
                                  Extract(ex).eindkomst().astype({"pnr": object, "maaned": object}))


def test_chunks_of_a_dictionary_column_carry_only_the_values_they_use(tmp_path):
    from sibeval.extract.normalise import normalise_chunked
    from sibeval.extract.readers import iter_raw
    # pandas writes the whole dictionary into every row group: a million pnr per chunk at scale
    pnr = pd.Categorical(["A", None, "C", "B", "C"], categories=["A", "B", "C", "D"])
    ek = pd.DataFrame({"pnr": pnr, "maaned": ["2020-03"] * 5, "loen": [1.0] * 5, "timer": [1.0] * 5})
    ex = write_extract(tmp_path / "ex", eindkomst=ek)
    chunks = list(iter_raw(ex / "eindkomst.parquet", chunk_rows=2))
    assert [list(c["pnr"].cat.categories) for c in chunks] == [["A"], ["B", "C"], ["C"]]
    assert chunks[0]["pnr"].isna().tolist() == [False, True] and chunks[0]["pnr"].iloc[0] == "A"
    assert [c["pnr"].tolist() for c in chunks[1:]] == [["C", "B"], ["C"]]
    with pytest.raises(ExtractError) as e:
        normalise_chunked(Extract(ex), "eindkomst", tmp_path / "ek.parquet", chunk_rows=2)
    assert "empty values where a value is required" in str(e.value) and "(1 row(s)" in str(e.value)
