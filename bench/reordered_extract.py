"""An extract whose eIndkomst comes in another order, as registers are delivered: sorted by
month (exported month by month) or shuffled (no order at all). The other files are linked,
not copied (bench/README.md, twelfth round).

    python bench/reordered_extract.py /work/data/demo_1m /work/data/demo_1m_bymonth month
    python bench/reordered_extract.py /work/data/demo_1m /work/data/demo_1m_shuffled shuffled

By month, a month's rows keep their order; shuffled, the order is a seeded permutation. The
file is reordered in memory (about 3 GiB at 10^6 persons); pnr stays as the source stores it
(the demo's: a dictionary of every person in every row group, as a pandas categorical writes it).
"""

import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

ORDERS = ("month", "shuffled")


def main(src: str, dst: str, order: str) -> None:
    if order not in ORDERS:
        raise SystemExit(f"order={order!r}: one of {', '.join(ORDERS)}")
    src_dir, dst_dir = Path(src).resolve(), Path(dst)
    dst_dir.mkdir(parents=True, exist_ok=True)
    for f in src_dir.iterdir():
        if f.name != "eindkomst.parquet" and not (dst_dir / f.name).exists():
            (dst_dir / f.name).symlink_to(f)
    t = pq.read_table(src_dir / "eindkomst.parquet")
    if order == "month":        # Arrow's sort is stable: a month's rows keep their order
        month = pa.table({"m": pc.cast(t.column("maaned"), pa.string())})
        rows = pc.sort_indices(month, sort_keys=[("m", "ascending")])
    else:
        rows = pa.array(np.random.default_rng(20261207).permutation(t.num_rows))
    pq.write_table(t.take(rows), dst_dir / "eindkomst.parquet", compression="zstd")
    print(f"{dst_dir / 'eindkomst.parquet'}: {t.num_rows} rows, {order}")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        raise SystemExit("usage: python bench/reordered_extract.py SOURCE_EXTRACT NEW_EXTRACT month|shuffled")
    main(*sys.argv[1:])
