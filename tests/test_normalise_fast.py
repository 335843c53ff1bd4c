"""The extract stage's Arrow path writes what the pandas path (``coerce``) writes: the same
typed table chunk by chunk, the same files byte for byte, and every chunk it cannot type
exactly (another type, a failed check) goes to ``coerce``, whose messages name the rows."""

import datetime as dt
import hashlib
import itertools

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from conftest import write_extract
from sibeval.errors import ExtractError
from sibeval.extract import normalise as norm
from sibeval.extract.panel_blocks import as_bytes
from sibeval.extract.readers import Extract, codes_type, coerce, dictionary_indices, iter_raw, typed_table

D = dt.date


def _batch(**cols) -> pa.RecordBatch:
    return pa.RecordBatch.from_pydict(cols)


def _dict(values, value_type=None):
    return pa.array(values, value_type or pa.string()).dictionary_encode()


def _bef(**over):
    cols = {"pnr": pa.array([" 0000000001", "0000000002 "]), "aar": pa.array([2020, 2021], pa.int32()),
            "koen": pa.array([1, 2], pa.int64()), "foed_dag": pa.array([D(1980, 5, 1), D(1975, 1, 1)], pa.date32()),
            "ie_type": pa.array([2, 3], pa.int16()), "opr_land": pa.array(["IRQ", "SOM"], pa.large_string()),
            "civst": _dict(["G", " U"]), "samlev": pa.array([1, 0], pa.uint8()),
            "kom": pa.array([657, 791], pa.int32())}
    return _batch(**{**cols, **over})


def _ek(**over):
    cols = {"pnr": _dict(["A ", "B", "A ", "C"]), "maaned": pa.array(["2020-03", " 2020-12", "2021-01", "2021-01"]),
            "loen": pa.array([1.5, 0.0, -0.0, 2.0]), "timer": pa.array([1, 2, 3, 4], pa.int64())}
    return _batch(**{**cols, **over})


GOOD = [
    ("bef", _bef()),
    ("bef", _bef(foed_dag=pa.array([dt.datetime(1980, 5, 1), dt.datetime(1975, 1, 1)], pa.timestamp("ms")))),
    ("eindkomst", _ek()),
    ("eindkomst", _ek(pnr=_dict([f"{i:010d}" for i in range(200)] * 2), maaned=_dict(["2020-01"] * 400),
                      loen=pa.array(np.arange(400.0), pa.float32()), timer=pa.array(np.ones(400)))),
    ("vnds", _batch(pnr=pa.array(["A", "B"]), haend_dato=pa.array([D(2020, 1, 1), D(2021, 2, 3)], pa.date32()),
                    indud_kode=_dict(["I", "U "], pa.large_string()))),
    ("lpr", _batch(pnr=_dict(["A", "A"]), dato=pa.array([1, 2], pa.timestamp("ns")), psyk=pa.array([0, 1], pa.int8()))),
]


@pytest.mark.parametrize("name,batch", GOOD)
def test_the_arrow_path_types_a_chunk_as_pandas_does(name, batch):
    fast = typed_table(batch, name)
    slow = pa.Table.from_pandas(coerce(batch.to_pandas(), "x.parquet", name), preserve_index=False)
    assert fast is not None
    assert fast.schema.equals(slow.schema) and fast.equals(slow)
    assert norm._pandas_schema(fast).equals(slow.schema, check_metadata=True)


BAD = [
    ("bef", _bef(pnr=pa.array(["A", None])), "empty values"),
    ("bef", _bef(opr_land=pa.array(["IRQ", "  "])), "empty values"),
    ("bef", _bef(koen=pa.array([1, 3])), "allowed codes"),
    ("bef", _bef(civst=_dict(["G", "X"])), "allowed codes"),
    ("bef", _bef(foed_dag=pa.array([D(1980, 1, 1), D(1500, 1, 1)], pa.date32())), None),
    ("eindkomst", _ek(maaned=pa.array(["2020-03", "2020-13", "x", "2021-01"])), "not months"),
    ("eindkomst", _ek(loen=pa.array([1.0, -1.0, 2.0, 3.0])), "negative"),
    ("eindkomst", _ek(loen=pa.array([1.0, float("nan"), 2.0, 3.0])), "empty values"),
    ("eindkomst", _ek(pnr=_dict(["A", "A ", "B", "B"])), None),      # two categories strip to one
    ("eindkomst", _ek(timer=pa.array(["1", "2", "3", "4"])), None),     # text numbers: coerce converts
    ("eindkomst", _ek(maaned=pa.array(["２０２０-01"] * 4)), None),      # Unicode digits: left to pandas' regex
]


@pytest.mark.parametrize("name,batch,problem", BAD)
def test_a_chunk_the_arrow_path_cannot_type_goes_to_coerce(name, batch, problem):
    assert typed_table(batch, name) is None
    if problem is not None:
        with pytest.raises(ExtractError, match=problem):
            coerce(batch.to_pandas(), "x.parquet", name)


def _sha(folder):
    return {str(f.relative_to(folder)): hashlib.sha256(f.read_bytes()).hexdigest()
            for f in sorted(folder.rglob("*")) if f.is_file()}


def test_normalised_files_are_byte_identical_to_the_pandas_path(tmp_path, codes, monkeypatch):
    rng = np.random.default_rng(1)
    n = 3000
    pnr = np.array([f"{i:010d}" for i in range(400)] + ["A", "B"])
    months = [f"20{y:02d}-{m:02d}" for y, m in rng.integers([15, 1], [22, 13], (n, 2))]
    ek = pd.DataFrame({"pnr": pd.Categorical(rng.choice(pnr, n)), "maaned": pd.Categorical(months),
                       "loen": rng.gamma(2, 1000, n), "timer": rng.integers(0, 160, n)})
    bef = pd.DataFrame({"pnr": ["A", "B", "A "], "aar": [2020, 2020, 2021], "koen": [1, 2, 1],
                        "foed_dag": pd.to_datetime(["1980-05-01", "1975-01-01", "1980-05-01"]),
                        "ie_type": [2, 2, 2], "opr_land": ["IRQ", "SOM", "IRQ"], "civst": ["G", "U", "G"],
                        "samlev": [1, 0, 1], "kom": [657, 791, 657]})
    vnds = pd.DataFrame({"pnr": ["A", "B"], "haend_dato": pd.to_datetime(["2020-01-01", "2020-02-01"]),
                         "indud_kode": ["I", "U"]})
    ex = write_extract(tmp_path / "ex", eindkomst=ek, bef=bef, vnds=vnds)
    calls = itertools.count()
    typers = {"arrow": typed_table, "pandas": lambda batch, name: None,      # mixed: every other chunk
              "mixed": lambda batch, name: typed_table(batch, name) if next(calls) % 2 else None}
    out = {}
    for path, typer in typers.items():
        monkeypatch.setattr(norm, "typed_table", typer)
        norm.normalise(Extract(ex), codes, tmp_path / path)
        for name in ("eindkomst", "bef"):      # several chunks, the first one setting the schema
            norm.normalise_chunked(Extract(ex), name, tmp_path / path / f"{name}_chunks.parquet", chunk_rows=700)
        out[path] = _sha(tmp_path / path)
    assert out["arrow"] == out["pandas"] == out["mixed"] and "eindkomst_chunks.parquet" in out["arrow"]
    assert "eindkomst_blocks/0.bin" in out["arrow"]         # the split for build_panel, the same too


def test_a_bad_row_in_a_later_chunk_is_counted_over_the_whole_file(tmp_path):
    ek = pd.DataFrame({"pnr": ["A", "B", "A", "B"], "maaned": ["2020-03", "2020-04", "2020-05", "2020-13"],
                       "loen": [1.0, 2.0, 3.0, -4.0], "timer": [1.0, 1.0, 1.0, 1.0]})
    ex = write_extract(tmp_path / "ex", eindkomst=ek)
    with pytest.raises(ExtractError) as chunked:
        norm.normalise_chunked(Extract(ex), "eindkomst", tmp_path / "ek.parquet", chunk_rows=2)
    with pytest.raises(ExtractError) as whole:
        Extract(ex).eindkomst()
    assert str(chunked.value) == str(whole.value) and "'2020-13'" in str(chunked.value)


@pytest.mark.parametrize("n", [126, 127, 128, 32766, 32767, 32768])
def test_codes_type_is_the_width_pandas_gives_categorical_codes(n):
    assert codes_type(n).to_pandas_dtype() == pd.Categorical([], categories=range(n)).codes.dtype


def test_dictionary_indices_and_fixed_width_bytes_match_arrow():
    col = pa.array(["b", None, "a", "b", None, "c"] * 50).dictionary_encode()
    for c in (col, col.slice(7, 100)):
        for null in (-1, 0, 3, 300):
            assert (dictionary_indices(c, null) == pc.fill_null(c.indices.cast(pa.int64()), null).to_numpy()).all()
    text = pa.array(["0000000001", "0000000002", "0000000003"])
    for arr, width in ((text, None), (text.slice(1), None), (text, 12), (pa.array(["ab", None, "c"]), None)):
        assert as_bytes(arr, width).tolist() == [(v or "").encode() for v in arr.to_pylist()]


def test_iter_raw_gives_the_same_frames_from_arrow_batches(tmp_path):
    ex = write_extract(tmp_path / "ex", eindkomst=pd.DataFrame(
        {"PNR": pd.Categorical(["A", "B", "C"]), "MAANED": ["2020-01"] * 3, "LOEN": [1.0] * 3, "TIMER": [1.0] * 3}))
    frames = list(iter_raw(ex / "eindkomst.parquet", chunk_rows=2))
    batches = list(iter_raw(ex / "eindkomst.parquet", chunk_rows=2, arrow=True))
    assert all(isinstance(b, pa.RecordBatch) for b in batches)
    for f, b in zip(frames, batches, strict=True):
        pd.testing.assert_frame_equal(f, b.to_pandas())
