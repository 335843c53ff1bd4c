"""Run a command and report its wall time, the peak of the summed RSS of its whole process
tree (GNU time -v reports only the largest single process), and the CPU time of that tree
apart from this poller's own (which GNU time, run around it, counts in: about 3 s a minute).

    python bench/treemem.py -- snakemake --cores 2 ...
"""
import os
import resource
import subprocess
import sys
import time


def _tree_rss_kb(root: int) -> int:
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as fh:
                parts = fh.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{d}/statm") as fh:
                pages = int(fh.read().split()[1])
        except OSError:
            continue
        children.setdefault(int(parts[1]), []).append(int(d))
        rss[int(d)] = pages * os.sysconf("SC_PAGE_SIZE") // 1024
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total


def main(argv):
    cmd = argv[argv.index("--") + 1:] if "--" in argv else argv
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, _tree_rss_kb(proc.pid))
        time.sleep(0.2)
    wall = time.perf_counter() - t0
    tree, me = resource.getrusage(resource.RUSAGE_CHILDREN), resource.getrusage(resource.RUSAGE_SELF)
    print(f"treemem: exit {proc.returncode}, wall {wall:.1f} s, peak tree RSS {peak / 2**20:.2f} GiB, "
          f"CPU of the command {tree.ru_utime:.1f} s user + {tree.ru_stime:.1f} s system "
          f"(this poller {me.ru_utime + me.ru_stime:.1f} s)", file=sys.stderr)
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
