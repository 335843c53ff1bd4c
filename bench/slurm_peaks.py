"""Per SLURM job and per rule: memory requested vs measured, from bench/slurm_demo_run.sh's
OUTDIR/sacct.txt (sacct -P) and OUTDIR/memwatch.csv (bench/slurm_memwatch.py).

A job of the slurm plugin has a batch step (Snakemake, which starts the next) and step 0
(`srun`: Snakemake again, which runs the rule's script). Both count against the job's --mem.
  maxrss_mib      sum of the steps' sacct MaxRSS (each sampled every second)
  anon_peak_mib   the job cgroup's peak anonymous memory (all steps together, every 0.2 s)
  usage_peak_mib  the job cgroup's high-water mark including page cache (an upper bound)
Writes OUTDIR/rules.csv (one row per job) and prints the maximum per rule.

    python bench/slurm_peaks.py OUTDIR
"""
import csv
import re
import sys
from collections import defaultdict
from pathlib import Path

UNITS = {"K": 1 / 1024, "M": 1, "G": 1024, "T": 1024**2}


def mib(value):
    m = re.fullmatch(r"([\d.]+)([KMGT]?)n?", value or "")
    if not m:
        return 0.0
    return float(m.group(1)) * UNITS.get(m.group(2), 1 / 2**20)


def main(outdir):
    out = Path(outdir)
    rows = list(csv.DictReader(open(out / "sacct.txt"), delimiter="|"))
    watch = {}
    if (out / "memwatch.csv").exists():
        watch = {r["jobid"]: r for r in csv.DictReader(open(out / "memwatch.csv"))}
    jobs = {}
    steps = defaultdict(list)
    for r in rows:
        jid, _, step = r["JobID"].partition(".")
        if not step:
            jobs[jid] = r
        elif step != "extern":
            steps[jid].append(r)
    table = []
    for jid, r in jobs.items():
        if not r["Comment"].startswith("rule_"):
            continue
        rule, _, wc = r["Comment"][5:].partition("_wildcards_")
        w = watch.get(jid, {})
        table.append({
            "jobid": jid, "rule": rule, "wildcards": wc, "state": r["State"],
            "req_mib": round(mib(r["ReqMem"])), "ncpus": r["NCPUS"], "elapsed": r["Elapsed"],
            "maxrss_mib": round(sum(mib(s["MaxRSS"]) for s in steps[jid])),
            "anon_peak_mib": w.get("anon_peak_mib", ""), "usage_peak_mib": w.get("usage_peak_mib", ""),
        })
    with open(out / "rules.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(table[0]) if table else ["jobid"])
        w.writeheader()
        w.writerows(table)
    per_rule = defaultdict(list)
    for t in table:
        per_rule[t["rule"]].append(t)
    print(f"{'rule':34} {'jobs':>4} {'req MiB':>8} {'MaxRSS':>7} {'anon':>6} {'usage':>6}  states")
    def top(ts, key):
        vals = [int(t[key]) for t in ts if str(t[key]) != ""]
        return max(vals) if vals else ""

    for rule, ts in sorted(per_rule.items()):
        states = ",".join(sorted({t["state"] for t in ts}))
        print(f"{rule:34} {len(ts):4} {top(ts, 'req_mib'):>8} {top(ts, 'maxrss_mib'):>7} "
              f"{top(ts, 'anon_peak_mib'):>6} {top(ts, 'usage_peak_mib'):>6}  {states}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
