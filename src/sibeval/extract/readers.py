"""Readers and validation for the raw extract files of DATA_CONTRACT.md.

Every reader picks the format by extension (.parquet, .csv, .sas7bdat, .dta), matches
column names case-insensitively, applies the cohort's rename map, checks types and
rules, and raises :class:`ExtractError` naming the file, column, count and examples.
"""

from __future__ import annotations

import codecs
import functools
import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from sibeval.errors import ExtractError, file_rows, plain
from sibeval.extract.codes import CodeTable
from sibeval.extract.contract import ALLOWED, BIP_ITEMS, FORMATS, SCHEMAS, WHO5_ITEMS
from sibeval.extract.timegrid import parse_week_column, week_column, week_month, week_thursday


# ----------------------------------------------------------------------------- raw reading
def csv_encoding(path: Path) -> str:
    """utf-8-sig (UTF-8, with or without a BOM, as the contract says) when the whole file
    decodes as UTF-8; else cp1252 (what Danish Excel and SAS write) when it decodes as that;
    else Latin-1. Read once per file and process."""
    st = Path(path).stat()
    return _encoding(str(path), st.st_mtime_ns, st.st_size)


@functools.lru_cache(maxsize=64)
def _encoding(path: str, mtime_ns: int, size: int) -> str:
    for enc in ("utf-8", "cp1252"):
        dec = codecs.getincrementaldecoder(enc)()
        try:
            with open(path, "rb") as fh:
                while block := fh.read(1 << 22):
                    dec.decode(block)
                dec.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        if enc == "utf-8":
            return "utf-8-sig"
        break
    else:
        enc = "latin-1"  # every byte is a letter in Latin-1: never a decode error
    logging.getLogger("sibeval").warning(
        "%s is not UTF-8; read as %s. Deliver UTF-8 to be sure of the letters",
        Path(path).name,
        "Windows-1252" if enc == "cp1252" else "Latin-1",
    )
    return enc


def _sniff_sep(path: Path) -> str:
    with open(path, encoding=csv_encoding(path)) as fh:
        head = fh.readline()
    return ";" if head.count(";") > head.count(",") else ","


def resolve_columns(available, wanted, rename):
    """Map wanted (lower-case, post-rename) names to the file's actual column names."""
    rename = {k.lower(): v.lower() for k, v in (rename or {}).items()}
    by_final = {}
    for col in available:
        final = rename.get(col.lower(), col.lower())
        by_final.setdefault(final, col)
    if wanted is None:
        return by_final
    return {w: by_final[w] for w in wanted if w in by_final}


CHUNK_ROWS = 500_000


def raw_columns(path: str | Path) -> list[str]:
    """The column names of a raw file as delivered (reads only the header/metadata)."""
    path = Path(path)
    suffix = _check_readable(path)
    try:
        if suffix == ".parquet":
            return list(pq.read_schema(path).names)
        if suffix == ".csv":
            return list(pd.read_csv(path, sep=_sniff_sep(path), nrows=0, encoding=csv_encoding(path)).columns)
        import pyreadstat

        reader = pyreadstat.read_sas7bdat if suffix == ".sas7bdat" else pyreadstat.read_dta
        _, meta = reader(str(path), metadataonly=True)
        return list(meta.column_names)
    except Exception as exc:  # a corrupt file: say which, never a deep traceback
        raise ExtractError(path, f"cannot be read as {suffix[1:]}: {exc}") from None


def _check_readable(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ExtractError(path, f"unsupported format '{suffix}'", fix=f"deliver one of {plain(FORMATS)}")
    if not path.exists():
        raise ExtractError(path, "file not found")
    if path.stat().st_size == 0:
        raise ExtractError(path, "the file is empty", n=0)
    return suffix


def iter_raw(path: str | Path, columns=None, rename=None, chunk_rows: int = CHUNK_ROWS, arrow: bool = False,
             claim=None):
    """Read one file in chunks of rows, only the wanted (post-rename, lower-case) columns.

    Yields DataFrames with lower-case (renamed) columns; strings stay strings. SAS, Stata
    and CSV are never held whole in memory by the reader itself. With `arrow`, Parquet
    chunks come as Arrow record batches (:func:`batch_frame` makes the same DataFrame),
    and with `claim` (Parquet only) as (row group, batch) pairs of the row groups g for which
    ``claim(g)`` is true (another process reads the others).
    """
    path = Path(path)
    suffix = _check_readable(path)
    try:
        names = raw_columns(path)
        mapping = resolve_columns(names, columns, rename)
        actual = list(mapping.values())
        final = list(mapping.keys())
        if suffix == ".parquet":
            pf = pq.ParquetFile(path)
            for g, batch in parquet_batches(pf, actual, chunk_rows, claim=claim or (lambda g: True)):
                batch = pa.RecordBatch.from_arrays([_used_dictionary(c) for c in batch.columns], names=final)
                batch = batch if arrow else batch.to_pandas()
                yield batch if claim is None else (g, batch)
            return
        if claim is not None:
            raise ValueError("claim: row groups are Parquet's; read other formats whole")
        if suffix == ".csv":
            chunks = pd.read_csv(
                path,
                sep=_sniff_sep(path),
                dtype=str,
                keep_default_na=False,
                na_values=[""],
                encoding=csv_encoding(path),
                usecols=actual,
                chunksize=chunk_rows,
            )
        else:
            import pyreadstat  # ReadStat: reads SAS files that pandas' reader mis-parses

            if suffix == ".sas7bdat":
                chunks = (
                    df
                    for df, _ in pyreadstat.read_file_in_chunks(
                        pyreadstat.read_sas7bdat, str(path), chunksize=chunk_rows, usecols=actual
                    )
                )
            else:
                chunks = (
                    df
                    for df, _ in pyreadstat.read_file_in_chunks(
                        pyreadstat.read_dta, str(path), chunksize=chunk_rows, usecols=actual, apply_value_formats=False
                    )
                )
        for df in chunks:
            yield df[actual].set_axis(final, axis=1)
    except ExtractError:
        raise
    except Exception as exc:  # a corrupt file: say which, never a deep traceback
        raise ExtractError(path, f"cannot be read as {suffix[1:]}: {exc}") from None


def batch_frame(chunk, path) -> pd.DataFrame:
    """A chunk of :func:`iter_raw` as a DataFrame (Arrow record batches converted)."""
    if isinstance(chunk, pd.DataFrame):
        return chunk
    try:
        return chunk.to_pandas()
    except Exception as exc:  # as iter_raw says it
        raise ExtractError(path, f"cannot be read as parquet: {exc}") from None


def parquet_batches(pf: pq.ParquetFile, columns, rows: int, claim=None):
    """A Parquet file's record batches of at most `rows` rows, one row group at a time; with
    `claim`, (row group, batch) pairs of the row groups g for which ``claim(g)`` is true.

    pyarrow's ``iter_batches`` over the whole file keeps buffers alive as it goes (1.8 GiB
    for a 6-million-person eIndkomst, 0.2 GiB this way), so the file's row groups are read
    one by one and cut into batches.
    """
    for i in range(pf.num_row_groups):
        if claim is not None and not claim(i):
            continue
        for batch in pf.read_row_group(i, columns=columns).to_batches(max_chunksize=rows):
            yield batch if claim is None else (i, batch)


def index_values(idx: pa.Array) -> np.ndarray:
    """An integer Arrow array's values as numpy, without a copy; a null's slot holds any value."""
    dtype = idx.type.to_pandas_dtype()
    if len(idx) == 0:
        return np.zeros(0, dtype=dtype)
    return np.frombuffer(idx.buffers()[1], dtype=dtype)[idx.offset:idx.offset + len(idx)]


def dictionary_indices(col: pa.DictionaryArray, null: int) -> np.ndarray:
    """The indices of a dictionary column as numpy, `null` where the value is null."""
    idx = col.indices
    values = index_values(idx)
    if idx.null_count == 0:
        return values
    out = values.astype(np.result_type(values.dtype, np.min_scalar_type(null)))
    out[np.flatnonzero(~valid_mask(idx))] = null      # faster than np.where when few are null
    return out


def valid_mask(arr: pa.Array) -> np.ndarray:
    """True where `arr` holds a value, read from its validity bitmap (Arrow's own
    conversion to booleans is ten times slower)."""
    if arr.null_count == 0:
        return np.ones(len(arr), dtype=bool)
    bits = np.frombuffer(arr.buffers()[0], dtype=np.uint8)
    return np.unpackbits(bits, count=arr.offset + len(arr), bitorder="little")[arr.offset:].view(bool)


def _used_dictionary(col: pa.Array) -> pa.Array:
    """A dictionary column with only the values its rows use.

    A Parquet writer may store a whole-file dictionary in every row group (pandas
    categoricals do: a million pnr in each); checking and converting it per chunk would
    cost that million every time.
    """
    if not pa.types.is_dictionary(col.type) or len(col.dictionary) <= 1:
        return col
    idx = dictionary_indices(col, 0)
    valid = None if col.null_count == 0 else valid_mask(col.indices)
    used = np.flatnonzero(np.bincount(idx if valid is None else idx[valid], minlength=len(col.dictionary)))
    if len(used) == len(col.dictionary):
        return col
    new_pos = np.zeros(len(col.dictionary), dtype=np.int32)
    new_pos[used] = np.arange(len(used), dtype=np.int32)
    indices = pa.array(new_pos[idx], mask=None if valid is None else ~valid)
    return pa.DictionaryArray.from_arrays(indices, col.dictionary.take(pa.array(used)))


def read_raw(path: str | Path, columns=None, rename=None) -> pd.DataFrame:
    """Read one file by extension with lower-case (renamed) columns; strings stay strings.

    `columns` projects to these (post-rename, lower-case) names where present; SAS, Stata
    and CSV are read in chunks of only those columns.
    """
    path = Path(path)
    suffix = _check_readable(path)
    if suffix == ".parquet":
        try:
            names = pq.read_schema(path).names
            mapping = resolve_columns(names, columns, rename)
            df = pq.read_table(path, columns=list(mapping.values())).to_pandas()
            df = df.set_axis(list(mapping.keys()), axis=1)
        except Exception as exc:  # a corrupt file: say which, never a deep traceback
            raise ExtractError(path, f"cannot be read as {suffix[1:]}: {exc}") from None
    else:
        chunks = list(iter_raw(path, columns, rename))
        if not chunks:  # a header without rows
            names = list(resolve_columns(raw_columns(path), columns, rename))
            chunks = [pd.DataFrame({c: pd.Series(dtype=object) for c in names})]
        df = chunks[0] if len(chunks) == 1 else pd.concat(chunks, ignore_index=True)
    if columns is not None:
        df = df[[c for c in columns if c in df.columns]]
    return df


def _as_text(s: pd.Series) -> pd.Series:
    """Text values, stripped. Categorical (dictionary-encoded) columns stay categorical and
    are handled per category, which keeps 60M-row files fast; numbers (SAS/Stata) become
    their text, a whole number's without a decimal point."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        cats = s.cat.categories
        txt = _as_text(pd.Series(cats)).astype(object).tolist()
        if len(set(txt)) == len(txt):
            return s.cat.rename_categories(txt)
        s = s.astype(object)
    if pd.api.types.is_integer_dtype(s):
        return s.astype("Int64").astype("string").astype(object).where(s.notna(), None)
    if pd.api.types.is_float_dtype(s):
        # value by value (a chunk of a file gets the text the whole file gets): 1.0 as 1
        out = s.astype("string").astype(object)
        whole = s.notna() & (s == np.floor(s)) & (s.abs() < 2.0**63)
        out[whole] = s[whole].astype("int64").astype(str)
        return out.where(s.notna(), None)
    t = s.astype("string").str.strip()
    return t.astype(object).where(t.notna(), None)


def _text_null(s: pd.Series) -> pd.Series:
    if isinstance(s.dtype, pd.CategoricalDtype):
        empty_cat = np.array([c is None or str(c) == "" for c in s.cat.categories], dtype=bool)
        codes = s.cat.codes.to_numpy()
        return pd.Series((codes < 0) | np.append(empty_cat, True)[codes], index=s.index)
    return s.isna() | (s == "")


def _text_matches(s: pd.Series, pattern: str) -> pd.Series:
    if isinstance(s.dtype, pd.CategoricalDtype):
        ok = pd.Series(s.cat.categories).astype(str).str.fullmatch(pattern).to_numpy()
        codes = s.cat.codes.to_numpy()
        return pd.Series(np.append(ok, False)[codes], index=s.index)
    return s.astype(str).str.fullmatch(pattern)


MONTH = r"\d{4}-(0[1-9]|1[0-2])"


def _dates(s: pd.Series, isnull: pd.Series) -> pd.Series:
    """A column's values as naive dates, NaT where a value is not a date; a value with a time
    zone is not a date of the contract (YYYY-MM-DD). Value by value, so a chunk of a file
    gets the same dates as the whole file."""
    if pd.api.types.is_datetime64_any_dtype(s):
        d = s
    else:
        v = s.where(~isnull)
        try:
            d = pd.to_datetime(v, errors="coerce", format="ISO8601")
        except (ValueError, TypeError):      # time zones mixed with none: each value on its own
            d = pd.Series([_date(x) for x in v], index=s.index, dtype=object)
            d = pd.to_datetime(d.where(d.notna(), None))
    if isinstance(d.dtype, pd.DatetimeTZDtype):
        return pd.Series(pd.NaT, index=s.index)
    return d


def _date(value):
    t = pd.to_datetime(value, errors="coerce", format="ISO8601")
    return None if pd.isna(t) or t.tzinfo is not None else t


def _examples(series, mask, n=2):
    return [repr(v) for v in series[mask].head(n).tolist()]


def coerce(df: pd.DataFrame, file: Path, name: str, row0: int = 0) -> pd.DataFrame:
    """Check required columns and coerce each to its contract type; `df` may be a chunk of
    the file whose first row is the file's row `row0` (0-based), for the rows an error names.

    The checks are row-local and each column's are made in a fixed order (a value missing,
    its type, its range, its code); an error for a value carries ``order`` (the column's place
    in the contract, the check's step), which :func:`chunked_error` uses to find a whole
    file's error chunk by chunk."""
    schema = SCHEMAS[name]

    def fail(step, col, problem, mask, examples, fix=None):
        err = ExtractError(file, problem, column=col, n=int(mask.sum()), examples=examples, fix=fix)
        err.order = (list(schema).index(col), step)
        return err

    missing = [c for c, t in schema.items() if c not in df.columns and not t.endswith("?")]
    if missing:
        near = [c for c in df.columns if c not in schema]
        raise ExtractError(
            file,
            f"required column(s) missing: {', '.join(missing)}",
            column=missing[0],
            fix=(
                f"the file has unexpected column(s) {near[:5]}; rename them in config/config.yaml under the "
                f"extract's entry (extracts.<extract>.columns: {{{name}: {{OLD: new}}}})"
                if near
                else "add the column"
            ),
        )
    if len(df) == 0:
        raise ExtractError(file, "the file has no rows", n=0)
    out = {}
    for col, typ in schema.items():
        if col not in df.columns:
            out[col] = pd.Series(pd.NA, index=df.index, dtype="Int64" if "int" in typ else object)
            continue
        s = df[col]
        nullable = typ.endswith("?")
        base = typ.rstrip("?")
        if base in ("str", "month"):
            s = _as_text(s)
            isnull = _text_null(s)
        else:
            isnull = (
                s.isna() | (s.astype("string").str.strip() == "")
                if (s.dtype == object and pd.api.types.infer_dtype(s, skipna=True) not in ("date", "datetime"))
                or pd.api.types.is_string_dtype(s)
                else s.isna()      # numbers, or dates (Parquet's date type): never a blank text
            )
        if isnull.any() and not nullable:
            raise fail(0, col, "empty values where a value is required", isnull,
                       file_rows(file, row0 + np.flatnonzero(isnull)))
        if base == "str":
            out[col] = s
        elif base in ("int", "nonneg"):
            num = pd.to_numeric(s.where(~isnull), errors="coerce")
            bad = num.isna() & ~isnull
            if bad.any():
                raise fail(1, col, "values are not numbers", bad, _examples(s, bad), fix="deliver numbers only")
            if base == "int":
                frac = num.notna() & (num != np.floor(num.fillna(0)))
                if frac.any():
                    raise fail(2, col, "values are not whole numbers", frac, _examples(s, frac))
                big = num.abs() >= 2.0**63
                if big.any():
                    raise fail(3, col, "values too large for a whole number (at most 18 digits)", big,
                               _examples(s, big))
                out[col] = num.astype("Int64")
            else:
                neg = num < 0
                if neg.any():
                    raise fail(2, col, "negative values (must be >= 0)", neg, _examples(s, neg))
                out[col] = num.astype("float64")
        elif base == "date":
            d = _dates(s, isnull)
            bad = d.isna() & ~isnull
            if bad.any():
                raise fail(1, col, "values are not dates (YYYY-MM-DD)", bad, _examples(s, bad))
            far = d.notna() & ((d < pd.Timestamp.min) | (d > pd.Timestamp.max))
            if far.any():
                raise fail(2, col, "dates outside the years 1678-2261", far, _examples(s, far),
                           fix="deliver the date itself; a placeholder such as 9999-12-31 is not one")
            out[col] = pd.to_datetime(d).astype("datetime64[ns]")
        elif base == "month":
            bad = ~_text_matches(s, MONTH)
            if bad.any():
                raise fail(1, col, "values are not months (YYYY-MM)", bad, _examples(s, bad))
            out[col] = s
        allowed = ALLOWED.get((name, col))
        if allowed is not None:
            vals = out[col]
            badv = vals.notna() & ~vals.isin(list(allowed))
            if badv.any():
                raise fail(4, col, f"values outside the allowed codes ({plain(sorted(allowed))})", badv,
                           _examples(s, badv))
    res = pd.DataFrame(out, index=df.index).reset_index(drop=True)
    return res


def check_columns(path: str | Path, name: str, rename=None) -> None:
    """Raise the error a register read whole gives when a required column is missing, from
    the file's column names alone (it names the delivered columns that may need a rename)."""
    delivered = resolve_columns(raw_columns(path), None, rename)
    if not all(c in delivered for c, t in SCHEMAS[name].items() if not t.endswith("?")):
        coerce(pd.DataFrame(columns=list(delivered)), Path(path), name)


def chunked_error(path: str | Path, name: str, rename=None, chunk_rows: int = CHUNK_ROWS) -> ExtractError | None:
    """The error :func:`coerce` raises on the whole of a register file, found chunk by chunk
    in bounded memory: the earliest check (in coerce's order) that fails in any chunk, with
    its rows counted over every chunk and the file's first examples. None when every chunk
    passes (the checks of the whole file, bef's one row per person and year, are the caller's),
    or when a chunk fails otherwise than a check (the caller then reads the file whole, as it
    did). Chunks of plain Arrow types that pass without pandas (:func:`typed_table`) are not
    converted."""
    path = Path(path)
    check_columns(path, name, rename)
    first, n, examples, row0 = None, 0, [], 0
    for chunk in iter_raw(path, columns=list(SCHEMAS[name]), rename=rename, chunk_rows=chunk_rows, arrow=True):
        rows = len(chunk)
        if rows and not (isinstance(chunk, pa.RecordBatch) and typed_table(chunk, name) is not None):
            try:
                coerce(batch_frame(chunk, path), path, name, row0=row0)
            except ExtractError as e:
                if not hasattr(e, "order"):         # not a value's check: as the whole file's reading raises it
                    raise
                if first is None or e.order < first.order:
                    first, n, examples = e, 0, []
                if e.order == first.order:
                    n += e.n
                    examples += e.examples
            except Exception:       # noqa: BLE001 - not a check's error: the whole file's reading decides
                return None
        row0 += rows
    if first is None:
        return None
    return ExtractError(path, first.problem, column=first.column, n=n, examples=examples[:2], fix=first.fix)


# ----------------------------------------------------------------------------- Arrow chunks
def typed_table(batch: pa.RecordBatch, name: str) -> pa.Table | None:
    """A Parquet chunk of register `name` typed in Arrow: the values and types of
    ``pa.Table.from_pandas(coerce(...))`` without a Python object per value.

    None when a column has another type, a value is empty or a check fails: ``coerce``
    then converts the chunk (another type) or raises the error naming its rows.
    """
    schema = SCHEMAS[name]
    if not batch.num_rows or any(t.endswith("?") or c not in batch.schema.names for c, t in schema.items()):
        return None
    cols = []
    for col, typ in schema.items():
        arr = _typed(batch.column(col), typ)
        allowed = ALLOWED.get((name, col))
        if arr is None or (allowed is not None and not _all_in(arr, allowed)):
            return None
        cols.append(arr)
    return pa.Table.from_arrays(cols, names=list(schema))


def _typed(col: pa.Array, typ: str) -> pa.Array | None:
    """One required column as its contract type, or None (see :func:`typed_table`)."""
    if col.null_count:
        return None
    if typ in ("str", "month"):
        return _typed_text(col, typ == "month")
    if typ == "int":
        return _cast(col, pa.int64()) if pa.types.is_integer(col.type) else None
    if typ == "nonneg":
        if not (pa.types.is_integer(col.type) or pa.types.is_floating(col.type)):
            return None
        num = _cast(col, pa.float64())
        ok = num is not None and not pc.any(pc.is_nan(num)).as_py() and not pc.any(pc.less(num, 0)).as_py()
        return num if ok else None
    if typ == "date" and (pa.types.is_date32(col.type) or (pa.types.is_timestamp(col.type) and col.type.tz is None)):
        return _cast(col, pa.timestamp("ns"))     # out of the ns range: the cast fails, pandas says how
    return None


def _typed_text(col: pa.Array, month: bool) -> pa.Array | None:
    """Text stripped as pandas strips it (the same Arrow kernel); dictionary columns stay
    dictionaries with the index and value types of pandas' categoricals."""
    if pa.types.is_dictionary(col.type):
        values = col.dictionary        # only the values the rows use (iter_raw)
        if not _is_text(values.type) or values.null_count:
            return None
        values = pc.utf8_trim_whitespace(values.cast(_category_text()))
        if _has_duplicates(values):
            return None                # pandas turns these into plain text
        out = pa.DictionaryArray.from_arrays(col.indices.cast(codes_type(len(values))), values)
    elif _is_text(col.type):
        values = out = pc.utf8_trim_whitespace(col.cast(pa.string()))
    else:
        return None
    if pc.any(pc.equal(values, "")).as_py():
        return None
    if month and not pc.all(pc.match_substring_regex(values, f"^({MONTH})$")).as_py():
        return None
    return out


def _has_duplicates(values: pa.Array) -> bool:
    """Whether a value without nulls occurs twice: neighbours equal once sorted (a quarter of
    count_distinct's hashing time on a million sorted pnr, a pandas categorical's dictionary;
    about as long on values in no order)."""
    if len(values) < 2:
        return False
    ordered = values.take(pc.sort_indices(values))
    return bool(pc.any(pc.equal(ordered.slice(1), ordered.slice(0, len(ordered) - 1))).as_py())


@functools.cache
def _category_text() -> pa.DataType:
    """The Arrow type of text categories converted from pandas (large_string with pandas 3)."""
    return pa.array(pd.Categorical(["a"])).type.value_type


def codes_type(n: int) -> pa.DataType:
    """The integer type pandas gives the codes of a categorical with `n` categories."""
    for t in (pa.int8(), pa.int16(), pa.int32()):
        if n < np.iinfo(t.to_pandas_dtype()).max:
            return t
    return pa.int64()


def _is_text(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t)


def _cast(col: pa.Array, typ: pa.DataType) -> pa.Array | None:
    try:
        return pc.cast(col, typ)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None


def _all_in(col: pa.Array, allowed) -> bool:
    values = col.dictionary if pa.types.is_dictionary(col.type) else col
    return bool(pc.all(pc.is_in(values, value_set=pa.array(sorted(allowed), type=values.type))).as_py())


# ----------------------------------------------------------------------------- the extract
@dataclass(frozen=True)
class DreamData:
    """DREAM weeks as benefit-group ids: one row per person, one column per ISO week."""

    pnr: np.ndarray  # str, one per row
    weeks: tuple  # ((iso_year, week), ...)
    groups: np.ndarray  # int8 [persons, weeks]: index into CodeTable.groups
    code_counts: dict  # code -> person-weeks
    unknown_counts: dict  # unknown code -> person-weeks (only when mapped by config)

    @property
    def week_months(self) -> np.ndarray:
        return np.array([week_month(y, w) for y, w in self.weeks], dtype=np.int64)


class Extract:
    """One extract folder. `rename` is the cohort's per-file column map; `filenames` names
    a contract file differently from its default stem, e.g. {"participants": "ref.csv"}."""

    def __init__(self, path, rename=None, filenames=None):
        self.path = Path(path)
        self.rename = {k.lower(): v for k, v in (rename or {}).items()}
        self.filenames = dict(filenames or {})
        if not self.path.is_dir():
            raise ExtractError(self.path, "extract folder not found", fix="check `extracts:` in config/config.yaml")

    # -- files
    def file(self, name: str, required: bool = True) -> Path | None:
        configured = self.filenames.get(name)
        if configured and (self.path / configured).exists():
            return self.path / configured
        stem = Path(configured).stem if configured else name
        found = [self.path / f"{stem}{ext}" for ext in FORMATS if (self.path / f"{stem}{ext}").exists()]
        if len(found) > 1:
            raise ExtractError(
                self.path,
                f"more than one file for '{stem}': {plain([f.name for f in found])}",
                fix="keep exactly one format per file",
            )
        if not found:
            if required:
                raise ExtractError(
                    self.path / f"{stem}.*",
                    f"required file '{stem}' is missing (looked for {', '.join(stem + e for e in FORMATS)})",
                )
            return None
        return found[0]

    def has(self, name: str) -> bool:
        return self.file(name, required=False) is not None

    def _read(self, name, required=True):
        f = self.file(name, required)
        if f is None:
            return None
        rename = self.rename.get(name)
        check_columns(f, name, rename)      # a missing column named from the file's column names
        return coerce(read_raw(f, columns=list(SCHEMAS[name]), rename=rename), f, name)

    def checksums(self) -> dict:
        out = {}
        for f in sorted(self.path.iterdir()):
            if f.is_file() and f.suffix.lower() in FORMATS:
                out[f.name] = hashlib.sha256(f.read_bytes()).hexdigest()
        return out

    # -- typed readers
    def participants(self) -> pd.DataFrame:
        f = self.file("participants")
        df = self._read("participants")
        dup = df["pnr"].duplicated(keep=False)
        if dup.any():
            raise ExtractError(
                f,
                "duplicate pnr (one row per person expected)",
                column="pnr",
                n=int(df.loc[dup, "pnr"].nunique()),
                examples=file_rows(f, np.flatnonzero(dup)),
            )
        before = df["slut_dato"].notna() & df["start_dato"].notna() & (df["slut_dato"] < df["start_dato"])
        if before.any():
            raise ExtractError(
                f,
                "slut_dato is before start_dato",
                column="slut_dato",
                n=int(before.sum()),
                examples=file_rows(f, np.flatnonzero(before)),
            )
        end_no_start = df["slut_dato"].notna() & df["start_dato"].isna()
        if end_no_start.any():
            raise ExtractError(
                f,
                "slut_dato given without start_dato",
                column="slut_dato",
                n=int(end_no_start.sum()),
                examples=file_rows(f, np.flatnonzero(end_no_start)),
            )
        return df

    def bef(self) -> pd.DataFrame:
        f = self.file("bef")
        df = self._read("bef")
        dup = df.duplicated(["pnr", "aar"], keep=False)
        if dup.any():
            raise ExtractError(
                f,
                "more than one row per person and year",
                column="aar",
                n=int(df.loc[dup, "pnr"].nunique()),
                examples=file_rows(f, np.flatnonzero(dup)),
            )
        return df

    def eindkomst(self) -> pd.DataFrame:
        return self._read("eindkomst")

    def vnds(self):
        return self._read("vnds", required=False)

    def dod(self):
        return self._read("dod", required=False)

    def udda(self):
        return self._read("udda", required=False)

    def lpr(self):
        return self._read("lpr", required=False)

    def questionnaires(self, participants: pd.DataFrame | None = None, cohort: pd.DataFrame | None = None):
        """The questionnaires, validated; every row must belong to a person of the participant
        list (`participants`, the whole file). With `cohort` (the cohort's participants) only
        their rows are kept: the rest belong to other cohorts on the same extract."""
        f = self.file("questionnaires", required=False)
        if f is None:
            return None
        df = self._read("questionnaires")
        for items, lo, hi in ((BIP_ITEMS, 1, 5), (WHO5_ITEMS, 0, 5)):
            for c in items:
                v = df[c]
                bad = v.notna() & ((v < lo) | (v > hi))
                if bad.any():
                    raise ExtractError(
                        f,
                        f"item outside {lo}-{hi}",
                        column=c,
                        n=int(bad.sum()),
                        examples=[
                            f"{r}: {plain(v.iloc[i])}"
                            for r, i in zip(file_rows(f, np.flatnonzero(bad)), np.flatnonzero(bad))
                        ],
                    )
        dup = df.duplicated(["pnr", "runde"], keep=False)
        if dup.any():
            raise ExtractError(
                f,
                "more than one questionnaire per person and round",
                column="runde",
                n=int(df.loc[dup, "pnr"].nunique()),
                examples=file_rows(f, np.flatnonzero(dup)),
            )
        if participants is not None:
            unknown = ~df["pnr"].isin(set(participants["pnr"]))
            if unknown.any():
                raise ExtractError(
                    f,
                    "questionnaire rows for persons not in the participant list",
                    column="pnr",
                    n=int(df.loc[unknown, "pnr"].nunique()),
                    examples=file_rows(f, np.flatnonzero(unknown)),
                )
        if cohort is not None:
            df = df[df["pnr"].isin(set(cohort["pnr"]))].reset_index(drop=True)
        return df

    def dream_weeks(self) -> list[tuple[int, int]]:
        """All week columns of the DREAM file, checked for gaps."""
        f = self.file("dream")
        names = self._dream_names(f)
        return check_weeks(f, names)

    def _dream_names(self, f) -> list[str]:
        if f.suffix.lower() == ".parquet":
            return list(resolve_columns(pq.read_schema(f).names, None, self.rename.get("dream")))
        return list(read_raw(f, rename=self.rename.get("dream")).columns)

    def dream(self, codes: CodeTable, weeks=None) -> DreamData:
        """Read DREAM as group ids; `weeks` ((year, week), ...) projects to those columns."""
        f = self.file("dream")
        all_weeks = check_weeks(f, self._dream_names(f))
        use = all_weeks if weeks is None else [w for w in all_weeks if w in set(weeks)]
        cols = ["pnr"] + [week_column(y, w) for y, w in use]
        if f.suffix.lower() == ".parquet":  # pnr now, the weeks in blocks (bounded memory)
            mapping = resolve_columns(pq.read_schema(f).names, cols, self.rename.get("dream"))
            table = pq.read_table(f, columns=[mapping["pnr"]]).rename_columns(["pnr"])

            def weeks_block(names):
                return pq.read_table(f, columns=[mapping[c] for c in names]).rename_columns(names)
        else:
            df = read_raw(f, columns=cols, rename=self.rename.get("dream"))
            table = pa.Table.from_pandas(df.astype(object), preserve_index=False)

            def weeks_block(names):
                return table.select(names)

        if table.num_rows == 0:
            raise ExtractError(f, "the file has no rows", n=0)
        pnr_arr = table.column("pnr")
        if pnr_arr.null_count:
            empty = pc.is_null(pnr_arr).to_numpy(zero_copy_only=False)
            raise ExtractError(
                f, "empty pnr", column="pnr", n=pnr_arr.null_count, examples=file_rows(f, np.flatnonzero(empty))
            )
        pnr = np.asarray(pc.cast(pnr_arr, pa.string()).to_numpy(zero_copy_only=False), dtype=object)
        dup = pd.Index(pnr).duplicated(keep=False)
        if dup.any():
            raise ExtractError(
                f,
                "duplicate pnr (one row per person expected)",
                column="pnr",
                n=int(pd.Index(pnr[dup]).nunique()),
                examples=file_rows(f, np.flatnonzero(dup)),
            )
        groups = np.empty((table.num_rows, len(use)), dtype=np.int8)
        counts: dict[str, int] = {}
        unknown_total: dict[str, int] = {}
        block, block_start = None, -1
        for j, (y, w) in enumerate(use):
            if j // 40 != block_start:
                block_start = j // 40
                block = weeks_block([week_column(yy, ww) for yy, ww in use[j : j + 40]])
            groups[:, j], dictionary, idx, unknown = week_group_ids(block.column(week_column(y, w)), codes)
            bc = np.bincount(idx + 1, minlength=len(dictionary) + 1)
            for code, n in zip([""] + dictionary, bc):
                if n:
                    counts[code] = counts.get(code, 0) + int(n)
            unknown_here = set(unknown)     # every entry counted: ' 777' and '777' are both '777'
            for code, m in zip(dictionary, bc[1:]):
                if m and code in unknown_here:
                    unknown_total[code] = unknown_total.get(code, 0) + int(m)
        unknown_total = {k: v for k, v in unknown_total.items() if v}
        check_unknown_codes(f, unknown_total, codes)
        return DreamData(pnr, tuple(use), groups, counts, unknown_total)


def week_group_ids(col, codes: CodeTable):
    """One DREAM week column as group ids (an empty week is `none`).

    Returns (ids int8 per row, the column's codes, each row's code position or -1 when
    empty, the codes the table does not know).
    """
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks()
    if not pa.types.is_dictionary(col.type):
        if pa.types.is_null(col.type):      # a week empty for everyone: nulls, not a blank code
            col = col.cast(pa.string())
        elif not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
            col = codes_as_text(col)
        col = col.dictionary_encode()
    dictionary = ["" if d is None else str(d).strip() for d in col.dictionary.to_pylist()]
    ids, unknown = codes.lookup(dictionary)
    idx = dictionary_indices(col, -1).astype(np.int64)
    return np.append(ids, np.int8(codes.none_id))[idx], dictionary, idx, unknown


def check_unknown_codes(f, unknown_counts: dict, codes) -> None:
    """Stop on DREAM codes missing from the code table (unless the table maps them)."""
    if unknown_counts and codes.unknown_codes == "error":
        listing = ", ".join(f"'{k}' ({v} person-weeks)" for k, v in sorted(unknown_counts.items()))
        raise ExtractError(
            f,
            f"unknown benefit code(s) not in the code table: {listing}",
            column="y_*",
            n=sum(unknown_counts.values()),
            fix="add them to config/dream_codes.yaml, or set unknown_codes to a group",
        )


def codes_as_text(col: pa.Array) -> pa.Array:
    """SAS/Stata may deliver codes as numbers: 130.0 -> '130'."""
    vals = col.to_pylist()
    out = [
        None
        if v is None or (isinstance(v, float) and np.isnan(v))
        else (str(int(v)).zfill(3) if isinstance(v, (int, float)) else str(v))
        for v in vals
    ]
    return pa.array(out, type=pa.string())


def check_weeks(f: Path, names: list[str]) -> list[tuple[int, int]]:
    weeks = [parse_week_column(n) for n in names if n != "pnr"]
    if "pnr" not in names:
        raise ExtractError(f, "required column(s) missing: pnr", column="pnr")
    bad = [n for n, w in zip([n for n in names if n != "pnr"], weeks) if w is None]
    if bad:
        raise ExtractError(
            f,
            "columns that are not ISO weeks y_YYWW",
            column=bad[0],
            n=len(bad),
            examples=bad,
            fix="rename them or drop them from the delivery",
        )
    if not weeks:
        raise ExtractError(f, "no week columns y_YYWW", column="y_*")
    try:
        mondays = [week_thursday(y, w) for y, w in weeks]
    except ValueError:
        badw = [week_column(y, w) for y, w in weeks if not 1 <= w <= 53]
        raise ExtractError(
            f, "week numbers that do not exist", column=badw[0] if badw else "y_*", examples=badw
        ) from None
    order = np.argsort(mondays)
    weeks = [weeks[i] for i in order]
    mondays = [mondays[i] for i in order]
    gaps = [(weeks[i], weeks[i + 1]) for i in range(len(weeks) - 1) if (mondays[i + 1] - mondays[i]).days != 7]
    if gaps:
        ex = [f"{week_column(*a)} -> {week_column(*b)}" for a, b in gaps]
        raise ExtractError(
            f,
            "DREAM week columns have a gap (missing or duplicate weeks)",
            column="y_*",
            n=len(gaps),
            examples=ex,
            fix="deliver every ISO week between the first and the last",
        )
    return weeks
