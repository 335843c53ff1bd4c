"""Peak memory of every SLURM job on this node, read from its memory cgroup while it runs.

sacct's MaxRSS is sampled (JobAcctGatherFrequency) per step; this samples the job's cgroup,
which holds all its steps (the batch step's Snakemake, the srun step's Snakemake and the rule's
script), every 0.2 s:
  anon_peak_mib   max of total_rss (anonymous memory: what the OOM killer cannot reclaim)
  usage_peak_mib  the cgroup's own high-water mark (memory.max_usage_in_bytes; includes the
                  page cache of files read and written, which the kernel reclaims before it
                  kills anything, so an upper bound)
The limit (--mem) is memory.limit_in_bytes. Cgroup v1 (slurm's layout slurm_<host>/uid_*/job_*).

    python bench/slurm_memwatch.py OUT.csv        # until interrupted (SIGTERM/SIGINT)
"""
import csv
import glob
import os
import signal
import sys
import time

ROOT = "/sys/fs/cgroup/memory"
MIB = 2**20


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


def main(out):
    peaks = {}
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    while not stop:
        for d in glob.glob(f"{ROOT}/slurm*/uid_*/job_*"):
            job = d.rsplit("_", 1)[1]
            stat, usage, limit = read(f"{d}/memory.stat"), read(f"{d}/memory.max_usage_in_bytes"), \
                read(f"{d}/memory.limit_in_bytes")
            if stat is None or usage is None:
                continue
            rss = dict(line.split() for line in stat.splitlines()).get("total_rss", "0")
            p = peaks.setdefault(job, {"anon": 0, "usage": 0, "limit": 0})
            p["anon"] = max(p["anon"], int(rss))
            p["usage"] = max(p["usage"], int(usage))
            p["limit"] = int(limit or 0)
        time.sleep(0.2)
    with open(out, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["jobid", "limit_mib", "anon_peak_mib", "usage_peak_mib"])
        for job in sorted(peaks, key=int):
            p = peaks[job]
            w.writerow([job, p["limit"] // MIB, round(p["anon"] / MIB), round(p["usage"] / MIB)])
    print(f"{len(peaks)} jobs -> {out}", file=sys.stderr)


if __name__ == "__main__":
    if len(sys.argv) != 2 or not os.path.isdir(ROOT):
        sys.exit(__doc__)
    main(sys.argv[1])
