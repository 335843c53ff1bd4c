"""Command line: `sibeval demo ...` writes the synthetic extract."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from .errors import SibevalError


def _demo(args) -> int:
    from .demo import generate

    out = Path(args.out)
    if out.exists() and any(out.iterdir()) and not args.force:
        print(f"sibeval demo: {out} exists and is not empty; pass --force to overwrite it",
              file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    paths = generate(out, seed=args.seed, pool_size=args.pool_size, profile=args.profile)
    print(f"wrote {len(paths)} files to {out} in {time.perf_counter() - t0:.1f} s")
    return 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="sibeval", description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("demo", help="write the synthetic demo extract")
    d.add_argument("--out", default="data/raw/demo")
    d.add_argument("--seed", type=int, default=20221101)
    d.add_argument("--pool-size", type=int, default=20000, help="persons besides the participants")
    d.add_argument("--profile", default="sib_herning_viborg")
    d.add_argument("--force", action="store_true", help="overwrite an existing folder")
    args = p.parse_args(argv)
    try:
        return _demo(args)
    except (SibevalError, ValueError) as exc:
        print(f"sibeval {args.cmd}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
