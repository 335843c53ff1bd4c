"""Was the machine quiet? CPU seconds used during a run by the run itself and by everything
else, sampled from /proc every 0.5 s: a process counts as the run's when its working directory
is under DIR (Snakemake, its jobs under SLURM and their scripts all work in the checkout).
Processes that live less than 0.5 s are partly missed; the machine's total busy time
(/proc/stat) is exact, so `other` = total - run is the better figure for the rest.

    python bench/slurm_cpuwatch.py DIR OUT.txt      # until SIGTERM/SIGINT
"""
import os
import signal
import sys
import time

TICK = os.sysconf("SC_CLK_TCK")


def busy():
    f = open("/proc/stat").readline().split()[1:]
    vals = list(map(int, f))
    return (sum(vals) - vals[3] - vals[4]) / TICK   # minus idle and iowait


def scan(prefix, seen):
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cwd = os.readlink(f"/proc/{pid}/cwd")
            stat = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        start, cpu = stat[19], (int(stat[11]) + int(stat[12])) / TICK
        seen[(pid, start)] = (cpu, cwd == prefix or cwd.startswith(prefix + "/"))


def main(prefix, out):
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    before, seen = {}, {}
    scan(prefix, before)
    t0, b0 = time.time(), busy()
    while not stop:
        scan(prefix, seen)
        time.sleep(0.5)
    scan(prefix, seen)
    wall, total = time.time() - t0, busy() - b0
    run = sum(cpu - before.get(k, (0, 0))[0] for k, (cpu, mine) in seen.items() if mine)
    text = (f"wall_s={wall:.1f} machine_busy_cpu_s={total:.1f} run_cpu_s={run:.1f} "
            f"other_cpu_s={total - run:.1f} other_share_of_2_cpus={(total - run) / (2 * wall):.0%}\n")
    open(out, "w").write(text)
    print(text, end="", file=sys.stderr)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(os.path.realpath(sys.argv[1]), sys.argv[2])
