"""Normalised DREAM (one string of code numbers per person) reads as the delivered file does.

Every reading of the normalised file (group ids by block and by week, code counts, unknown
codes) is compared with `Extract.dream` of the raw file, on generated deliveries with what
real ones have: empty weeks, codes padded with blanks or given as numbers, blank codes, codes
the table does not map, and more distinct codes than one byte holds.
"""

import numpy as np
import pandas as pd
import pytest

from conftest import dream_frame, write_extract
from sibeval.errors import ExtractError, SibevalError
from sibeval.extract import dream_store
from sibeval.extract.codes import CodeTable
from sibeval.extract.dream_store import DreamStore
from sibeval.extract.normalise import normalise_dream
from sibeval.extract.readers import Extract


def _delivery(tmp_path, seed: int, n: int = 60, extra_codes: int = 0):
    """A raw extract whose DREAM draws codes from the table, padded or blank variants, and
    `extra_codes` codes of its own (unknown to the table)."""
    rng = np.random.default_rng(seed)
    known = ["130", "132", "140", "651", "621", "890", " 130", "132  ", "   ", ""]
    pool = known + [f"9{i:03d}" for i in range(extra_codes)]
    weeks = [(2020, w) for w in range(1, 30)]
    rows = {}
    for i in range(n):
        picks = rng.integers(0, len(pool), len(weeks))
        empty = rng.random(len(weeks)) < 0.3
        rows[f"{i:010d}"] = {w: pool[p] for w, p, e in zip(weeks, picks, empty) if not e}
    return write_extract(tmp_path / "ex", dream=dream_frame(rows, years=(2020, 2020)))


def _same(a, b) -> None:
    assert a.weeks == b.weeks and list(a.pnr) == list(b.pnr)
    np.testing.assert_array_equal(a.groups, b.groups)
    assert a.code_counts == b.code_counts and a.unknown_counts == b.unknown_counts


@pytest.mark.parametrize("seed", range(4))
def test_the_normalised_file_reads_as_the_delivery(tmp_path, codes, seed):
    raw = _delivery(tmp_path, seed)
    facts = normalise_dream(Extract(raw), codes, tmp_path / "dream.parquet", chunk_rows=7)
    store = DreamStore(tmp_path / "dream.parquet")
    assert store.width == 1 and store.n == facts["persons"] == 60
    whole = Extract(raw).dream(codes)
    _same(store.data(codes), whole)
    assert facts["code_counts"] == whole.code_counts
    some = [store.weeks[j] for j in (0, 3, 17, 28)]
    _same(store.data(codes, weeks=some), Extract(raw).dream(codes, weeks=some))
    for lo, hi in ((0, 60), (5, 23), (59, 60), (60, 60)):      # by block, as the panel reads it
        np.testing.assert_array_equal(store.groups(lo, hi, codes), whole.groups[lo:hi])
        np.testing.assert_array_equal(store.groups(lo, hi, codes, weeks=some),
                                      whole.groups[lo:hi][:, [whole.weeks.index(w) for w in some]])


def test_more_codes_than_a_byte_holds_take_two_bytes_a_week(tmp_path):
    codes = CodeTable.from_config({"groups": {"ledig": ["130"], "none": [""]}, "unknown_codes": "none",
                                   "classification": {}})
    raw = _delivery(tmp_path, 7, n=300, extra_codes=400)
    normalise_dream(Extract(raw), codes, tmp_path / "dream.parquet", chunk_rows=50)
    store = DreamStore(tmp_path / "dream.parquet")
    assert store.width == 2 and len(store.codes) > 256
    _same(store.data(codes), Extract(raw).dream(codes))


def test_unknown_codes_stop_the_reading_as_they_stop_the_delivery(tmp_path, codes):
    lenient = CodeTable(codes.groups, codes.code_to_group, "none", codes.classification)
    raw = _delivery(tmp_path, 3, extra_codes=5)
    normalise_dream(Extract(raw), lenient, tmp_path / "dream.parquet")
    with pytest.raises(ExtractError) as raw_error:
        Extract(raw).dream(codes)
    with pytest.raises(ExtractError) as store_error:
        DreamStore(tmp_path / "dream.parquet").data(codes)
    assert str(store_error.value).split(":", 1)[1] == str(raw_error.value).split(":", 1)[1]


def test_a_file_of_the_older_layout_is_refused_with_the_fix(tmp_path):
    dream_frame({"A": {(2020, 2): "130"}}).to_parquet(tmp_path / "dream.parquet", index=False)
    with pytest.raises(SibevalError, match="older version of the workflow. Fix: delete it"):
        DreamStore(tmp_path / "dream.parquet")
    assert dream_store.LAYOUT == "codes"


def test_a_week_column_of_numbers_is_read_as_its_code_text(tmp_path, codes):
    dream = pd.DataFrame({"pnr": ["A", "B"], "y_2002": [130.0, np.nan], "y_2003": [621.0, 130.0]})
    raw = write_extract(tmp_path / "ex", dream=dream)
    normalise_dream(Extract(raw), codes, tmp_path / "dream.parquet")
    _same(DreamStore(tmp_path / "dream.parquet").data(codes), Extract(raw).dream(codes))


def test_more_codes_than_two_bytes_hold_stop_with_an_error_naming_the_file(tmp_path):
    lenient = CodeTable.from_config({"groups": {"ledig": ["130"], "none": [""]}, "unknown_codes": "none",
                                     "classification": {}})
    n = 70_000
    dream = pd.DataFrame({"pnr": [f"{i:07d}" for i in range(n)], "y_2002": [f"{i:06d}" for i in range(n)]})
    raw = write_extract(tmp_path / "ex", dream=dream)
    with pytest.raises(ExtractError) as e:
        normalise_dream(Extract(raw), lenient, tmp_path / "dream.parquet")
    assert "ex/dream.parquet" in str(e.value) and "more than 65,535 distinct codes" in str(e.value)
    assert "'065535'" in str(e.value) and "Fix:" in str(e.value)


@pytest.mark.parametrize("blank", [False, True])
def test_an_empty_week_is_no_code_where_the_table_does_not_map_blank(tmp_path, blank):
    """Without '' in the table an empty week is still `none` and no unknown code; a blank
    code ('   ') is the code '', unknown there: both readings and the QC facts agree."""
    strict = CodeTable.from_config({"groups": {"ledig": ["130"], "none": ["121"]}, "unknown_codes": "error",
                                    "classification": {}})
    rows = {"A": {(2020, 2): "130"}, "B": {(2020, 3): "121", (2020, 4): "   " if blank else None}}
    raw = write_extract(tmp_path / "ex", dream=dream_frame(rows, years=(2020, 2020)))
    if not blank:
        facts = normalise_dream(Extract(raw), strict, tmp_path / "dream.parquet")
        assert facts["unknown_counts"] == {}
        _same(DreamStore(tmp_path / "dream.parquet").data(strict), Extract(raw).dream(strict))
        return
    errors = []
    for read in (lambda: normalise_dream(Extract(raw), strict, tmp_path / "dream.parquet"),
                 lambda: Extract(raw).dream(strict)):
        with pytest.raises(ExtractError) as e:
            read()
        errors.append(str(e.value))
    assert errors[0] == errors[1] and "'' (1 person-weeks)" in errors[0]
