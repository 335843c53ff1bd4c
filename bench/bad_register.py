"""normalise_extract on an extract whose eIndkomst breaks the contract: how long until the error,
and at what peak memory (bench/README.md, fourteenth round).

    python bench/bad_register.py SRC_EXTRACT DST_FOLDER [eindkomst|bef]

writes DST_FOLDER/eindkomst.parquet as SRC's with `loen` negative in 3 rows of the middle and
of the last row group, or DST_FOLDER/bef.parquet with 3 rows of its middle row group repeated in
its last (the other files linked), then normalises DST_FOLDER as the rule does
(two processes) into a temporary folder, and prints the error, the wall time and the peak
resident memory of this process and of the largest process it waited for.
"""
import resource
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from sibeval.config import load_yaml
from sibeval.errors import ExtractError
from sibeval.extract.codes import CodeTable
from sibeval.extract.normalise import normalise
from sibeval.extract.readers import Extract

ROOT = Path(__file__).resolve().parents[1]


def bad_copy(src: Path, dst: Path, register: str) -> None:
    dst.mkdir(parents=True, exist_ok=True)
    for f in src.iterdir():
        if f.name != f"{register}.parquet" and not (dst / f.name).exists():
            (dst / f.name).symlink_to(f.resolve())
    pf = pq.ParquetFile(src / f"{register}.parquet")
    n = pf.metadata.num_row_groups
    with pq.ParquetWriter(dst / f"{register}.parquet", pf.schema_arrow, compression="zstd") as w:
        for g in range(n):
            t = pf.read_row_group(g)
            picks = [0, t.num_rows // 2, t.num_rows - 1]
            if register == "eindkomst" and g in (n // 2, n - 1):
                loen = t.column("loen").to_numpy().copy()
                loen[picks] = -5.0
                t = t.set_column(t.schema.get_field_index("loen"), "loen", pa.array(loen))
            if register == "bef" and g == n // 2:
                repeated = t.take(picks)
            if register == "bef" and g == n - 1:
                t = pa.concat_tables([t, repeated])
            w.write_table(t)


def main(src: str, dst: str, register: str = "eindkomst") -> None:
    dst_path = Path(dst)
    if not (dst_path / f"{register}.parquet").exists():
        bad_copy(Path(src), dst_path, register)
    codes = CodeTable.from_config(load_yaml(ROOT / "config" / "dream_codes.yaml"))
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as out:
        try:
            normalise(Extract(dst_path), codes, Path(out) / "extract", workers=2)
            print("no error")
        except ExtractError as e:
            print(f"error: {e}")
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    print(f"wall {time.perf_counter() - t0:.1f} s; peak RSS {me.ru_maxrss / 1024:.0f} MiB "
          f"(largest child {kids.ru_maxrss / 1024:.0f} MiB)")


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4) or sys.argv[3:] not in ([], ["eindkomst"], ["bef"]):
        sys.exit("usage: python bench/bad_register.py SRC_EXTRACT DST_FOLDER [eindkomst|bef]")
    main(*sys.argv[1:])
