"""Does the decay estimate recover a known decay? (issue 25)

Generated matched sets (sibeval.demo.trajectories.synthetic: an effect of 18 points that
falls by `--decay` a year after month +2, a third of the sets censored between months 12 and
24), the trajectory with its cluster bootstrap and the decay fitted as the workflow does (on
the months every set is observed in; --window all: on every month);
prints the share of seeds whose 95 % interval holds the truth, and the estimates' median.

    python bench/trajectory_decay.py --seeds 50
"""
import argparse
import time

import numpy as np

from sibeval.demo.trajectories import synthetic
from sibeval.outcomes import trajectory as tr


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=50)
    ap.add_argument("--first", type=int, default=1)
    ap.add_argument("--sets", type=int, nargs="+", default=[60, 120, 250])
    ap.add_argument("--decay", type=float, nargs="+", default=[0.25, 0.5])
    ap.add_argument("--draws", type=int, default=500)
    ap.add_argument("--window", choices=("complete", "all"), default="complete",
                    help="fit on the months every set is observed in (the workflow's) or on every month")
    args = ap.parse_args(argv)
    print("| matched sets | true decay | seeds | truth inside the 95 % interval | median estimate | median width "
          "| s per seed |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for sets in args.sets:
        for decay in args.decay:
            t0, hits, est, width = time.perf_counter(), 0, [], []
            for seed in range(args.first, args.first + args.seeds):
                t = tr.trajectory(synthetic(seed, sets=sets, decay=decay), "ordinary_employment", draws=args.draws,
                                  seed=seed)
                d = tr.fit_decay(t, last=tr.last_complete(t, 2) if args.window == "complete" else None)
                hits += bool(d.ci_low <= decay <= d.ci_high)
                est.append(d.decay)
                width.append(d.ci_high - d.ci_low)
            s = (time.perf_counter() - t0) / args.seeds
            print(f"| {sets} | {decay:.2f} | {args.seeds} | {hits} of {args.seeds} ({hits / args.seeds:.0%}) | "
                  f"{np.nanmedian(est):.3f} | {np.nanmedian(width):.3f} | {s:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
