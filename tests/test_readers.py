"""Readers: the four formats, case-insensitive names, renames, projection, and every bad
input of the foundation issue with a message naming file, column, count and example."""

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from conftest import dream_frame, questionnaire_rows, write_extract
from sibeval.errors import ExtractError
from sibeval.extract.codes import CodeTable
from sibeval.extract.qc import extract_summary
from sibeval.extract.readers import Extract, read_raw

FIX = Path(__file__).parent / "fixtures" / "formats"
EXPECTED = pd.DataFrame(
    {
        "pnr": ["0000000001", "0000000001", "0000000002"],
        "maaned": ["2020-01", "2020-01", "2021-12"],
        "loen": [1000.5, 250.0, 0.0],
        "timer": [10.0, 2.5, 0.0],
    }
)


def _ek(folder: Path):
    return Extract(folder).eindkomst()


@pytest.mark.parametrize("fmt", ["parquet", "csv_semicolon", "csv_comma", "sas7bdat", "dta"])
def test_all_four_formats_read_the_same(tmp_path, fmt):
    ex = write_extract(tmp_path / "ex")
    (ex / "eindkomst.parquet").unlink()
    upper = EXPECTED.rename(columns=str.upper)  # SAS exports are often upper case
    if fmt == "parquet":
        upper.to_parquet(ex / "eindkomst.parquet", index=False)
    elif fmt.startswith("csv"):
        upper.to_csv(ex / "eindkomst.csv", sep=";" if fmt == "csv_semicolon" else ",", index=False)
    else:  # written by R's haven (tests/fixtures/formats_reference.R)
        (ex / f"eindkomst.{fmt}").write_bytes((FIX / f"eindkomst.{fmt}").read_bytes())
    pd.testing.assert_frame_equal(_ek(ex), EXPECTED, check_dtype=False)


def test_sas_file_written_by_sas_reads_with_lower_case_names():
    df = read_raw(FIX / "iris.sas7bdat")
    assert list(df.columns)[:2] == ["sepal_length", "sepal_width"]
    assert len(df) == 150


def test_rename_map_from_cohort_config(tmp_path):
    ex = write_extract(tmp_path / "ex", eindkomst=EXPECTED.rename(columns={"loen": "LOENBELOB"}))
    e = Extract(ex, rename={"eindkomst": {"LOENBELOB": "loen"}})
    assert e.eindkomst()["loen"].tolist() == [1000.5, 250.0, 0.0]


def test_dream_column_projection_reads_only_requested_weeks(extract_dir, codes):
    d = Extract(extract_dir).dream(codes, weeks=[(2020, 2), (2020, 3)])
    assert d.weeks == ((2020, 2), (2020, 3))
    assert d.groups.shape == (2, 2)
    assert [codes.groups[g] for g in d.groups[0]] == ["kontanthjaelp", "none"]


def test_summary_counts_rows_persons_and_codes(extract_dir, codes):
    s = extract_summary(Extract(extract_dir), codes).set_index(["file", "item"])["value"]
    assert s[("participants", "rows")] == "2"
    assert s[("dream", "code:132")] == "1"
    assert s[("dream", "weeks")] == str(52 + 53 + 52)


# --------------------------------------------------------------------------- bad input
def _raises(fn, *needles):
    with pytest.raises(ExtractError) as exc:
        fn()
    msg = str(exc.value)
    for n in needles:
        assert n in msg, f"{n!r} not in: {msg}"
    return msg


def test_missing_file(tmp_path, codes):
    ex = write_extract(tmp_path / "ex")
    (ex / "bef.parquet").unlink()
    _raises(lambda: extract_summary(Extract(ex), codes), "bef", "missing")


def test_misspelled_column_names_the_column_and_the_fix(tmp_path):
    ek = pd.DataFrame({"pnr": ["A"], "maaned": ["2020-01"], "loenn": [1.0], "timer": [1.0]})
    ex = write_extract(tmp_path / "ex", eindkomst=ek)
    msg = _raises(lambda: _ek(ex), "eindkomst.parquet", "loen", "missing")
    assert "loenn" in msg and "rename" in msg


def test_text_in_loen(tmp_path):
    ek = pd.DataFrame(
        {
            "pnr": ["A", "B", "C"],
            "maaned": ["2020-01"] * 3,
            "loen": ["100", "12.000,50 kr", "n/a"],
            "timer": [1.0, 1.0, 1.0],
        }
    )
    ex = write_extract(tmp_path / "ex", eindkomst=ek)
    _raises(lambda: _ek(ex), "eindkomst.parquet", "column 'loen'", "not numbers", "(2 row(s)", "12.000,50 kr")


def test_duplicate_pnr_in_participants(tmp_path):
    p = pd.DataFrame(
        {
            "pnr": ["A", "A", "B"],
            "kommune": [657, 657, 791],
            "visitation_dato": ["2020-01-02"] * 3,
            "start_dato": ["2020-01-06"] * 3,
            "slut_dato": ["2020-06-30"] * 3,
        }
    )
    ex = write_extract(tmp_path / "ex", participants=p)
    _raises(lambda: Extract(ex).participants(), "participants.csv", "pnr", "duplicate", "(1 row(s)/person(s))", "row 2")


def test_end_before_start(tmp_path):
    p = pd.DataFrame(
        {
            "pnr": ["A", "B"],
            "kommune": [657, 791],
            "visitation_dato": ["2020-01-02"] * 2,
            "start_dato": ["2020-01-06", "2020-03-01"],
            "slut_dato": ["2020-06-30", "2020-02-01"],
        }
    )
    ex = write_extract(tmp_path / "ex", participants=p)
    _raises(lambda: Extract(ex).participants(), "participants.csv", "slut_dato", "before start_dato", "row 3")


def test_dream_week_gap(tmp_path, codes):
    d = dream_frame({"A": {}, "B": {}}).drop(columns=["y_2010", "y_2011"])
    ex = write_extract(tmp_path / "ex", dream=d)
    _raises(lambda: Extract(ex).dream(codes), "dream.parquet", "gap", "y_2009 -> y_2012")


def test_unknown_dream_codes_listed_with_counts(tmp_path, codes):
    d = dream_frame({"A": {(2020, 2): "999X", (2020, 3): "999X", (2020, 4): "132"}, "B": {(2020, 2): "777"}})
    ex = write_extract(tmp_path / "ex", dream=d)
    msg = _raises(
        lambda: Extract(ex).dream(codes),
        "dream.parquet",
        "'777' (1 person-weeks)",
        "'999X' (2 person-weeks)",
        "dream_codes.yaml",
    )
    assert "132" not in msg.split("unknown")[1].split("Fix")[0]


def test_unknown_codes_mapped_by_config_are_counted(tmp_path, codes):
    cfg = {
        "groups": {g: list(v) for g, v in _groups_cfg().items()},
        "unknown_codes": "none",
        "classification": {k: list(v) for k, v in codes.classification.items()},
    }
    lenient = CodeTable.from_config(cfg)
    d = dream_frame({"A": {(2020, 2): "777"}, "B": {}})
    ex = write_extract(tmp_path / "ex", dream=d)
    dd = Extract(ex).dream(lenient)
    assert dd.unknown_counts == {"777": 1}


def _groups_cfg():
    from conftest import ROOT
    from sibeval.config import load_yaml

    return load_yaml(ROOT / "config" / "dream_codes.yaml")["groups"]


@pytest.mark.parametrize("item,value,needle", [("who5_2", 6, "outside 0-5"), ("bip_motivation", 0, "outside 1-5")])
def test_questionnaire_items_out_of_range(tmp_path, item, value, needle):
    q = pd.DataFrame([questionnaire_rows("A", "start"), questionnaire_rows("A", "slut", **{item: value})])
    ex = write_extract(tmp_path / "ex", questionnaires=q)
    e = Extract(ex)
    _raises(lambda: e.questionnaires(e.participants()), "questionnaires.csv", item, needle, "row 3")


def test_questionnaire_for_unknown_person(tmp_path):
    q = pd.DataFrame([questionnaire_rows("A", "start"), questionnaire_rows("ZZZ", "start")])
    ex = write_extract(tmp_path / "ex", questionnaires=q)
    e = Extract(ex)
    _raises(
        lambda: e.questionnaires(e.participants()),
        "questionnaires.csv",
        "not in the participant list",
        "(1 row(s)/person(s))",
    )


def test_empty_file(tmp_path):
    ex = write_extract(tmp_path / "ex")
    (ex / "participants.csv").write_text("")
    _raises(lambda: Extract(ex).participants(), "participants.csv", "empty")


def test_header_only_file(tmp_path):
    ex = write_extract(tmp_path / "ex")
    (ex / "participants.csv").write_text("pnr;kommune;visitation_dato;start_dato;slut_dato\n")
    _raises(lambda: Extract(ex).participants(), "participants.csv", "no rows")


def test_reading_never_modifies_the_extract(extract_dir, codes):
    before = {f.name: f.read_bytes() for f in extract_dir.iterdir()}
    extract_summary(Extract(extract_dir), codes)
    assert {f.name: f.read_bytes() for f in extract_dir.iterdir()} == before


def test_configured_file_names_for_participants_and_questionnaires(tmp_path, codes):
    q = pd.DataFrame([questionnaire_rows("A", "start"), questionnaire_rows("A", "slut")])
    ex = write_extract(tmp_path / "ex", questionnaires=q)
    (ex / "participants.csv").rename(ex / "henvisninger_2022.csv")
    (ex / "questionnaires.csv").rename(ex / "skemaer.csv")
    e = Extract(ex, filenames={"participants": "henvisninger_2022.csv", "questionnaires": "skemaer.csv"})
    assert len(e.questionnaires(e.participants())) == 2
    s = extract_summary(e, codes).set_index(["file", "item"])["value"]
    assert s[("questionnaires", "rows")] == "2"  # the QC summary reads the same file
    assert Extract(ex).questionnaires() is None  # without the name it is not found


def test_has_duplicates_is_count_distinct_below_the_length():
    """The dictionary check of typed_table (values that trimming makes equal turn a
    categorical into plain text) by sorting: the same answer as counting distinct values."""
    import pyarrow.compute as pc

    from sibeval.extract.readers import _has_duplicates

    rng = np.random.default_rng(11)
    seen = set()
    for _ in range(300):
        n = int(rng.integers(0, 60))
        pool = [f"{int(v):0{int(w)}d}" for v, w in zip(rng.integers(0, 10 ** 6, 20), rng.integers(1, 7, 20))]
        text = pa.string() if rng.random() < 0.5 else pa.large_string()
        values = pa.array([pool[int(i)] for i in rng.integers(0, 20, n)], type=text)
        if rng.random() < 0.5:
            values = pc.unique(values)
        want = pc.count_distinct(values).as_py() < len(values)
        assert _has_duplicates(values) == want, values
        seen.add(want)
    assert seen == {True, False}
