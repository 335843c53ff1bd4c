"""sibeval command line: `sibeval demo ...` writes a synthetic extract."""

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
    paths = generate(out, seed=args.seed, pool_size=args.pool_size, profile=args.profile,
                     municipality=args.municipality)
    print(f"wrote {len(paths)} files to {out} in {time.perf_counter() - t0:.1f} s")
    return 0


def parser() -> argparse.ArgumentParser:
    """The `sibeval` command line (one subcommand per task)."""
    from . import __version__
    from .demo import PROFILES

    p = argparse.ArgumentParser(prog="sibeval", description=__doc__)
    p.add_argument("--version", action="version", version=f"sibeval {__version__}")
    sub = p.add_subparsers(dest="cmd", required=True, metavar="COMMAND")
    d = sub.add_parser(
        "demo", help="write a synthetic demo extract",
        description="Write a synthetic register extract (the files of DATA_CONTRACT.md) with the "
                    "referred participants of a demo profile and a population of others. The same "
                    "seed, pool size and profile give the same bytes.")
    d.add_argument("--out", default="data/raw/demo", metavar="DIR",
                   help="folder to write the extract to (default: %(default)s)")
    d.add_argument("--seed", type=int, default=20221101,
                   help="random seed; the same seed gives byte-identical files (default: %(default)s)")
    d.add_argument("--pool-size", type=int, default=20000, metavar="N",
                   help="persons besides the participants, the pool controls are drawn from; at least 1000 "
                        "(default: %(default)s)")
    d.add_argument("--profile", default="sib_herning_viborg", choices=list(PROFILES),
                   help="which programme's participants to simulate (default: %(default)s)")
    d.add_argument("--municipality", type=int, default=None, metavar="CODE",
                   help="give every participant this municipality code instead of the profile's "
                        "(a stand-in extract for a new cohort, e.g. 751 for Aarhus)")
    d.add_argument("--force", action="store_true",
                   help="overwrite the files of an existing, non-empty folder")
    d.set_defaults(func=_demo)
    return p


def main(argv=None) -> int:
    p = parser()
    args = p.parse_args(argv)
    try:
        return args.func(args)
    except (SibevalError, ValueError) as exc:
        print(f"sibeval {args.cmd}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
