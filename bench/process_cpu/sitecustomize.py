"""For bench/run_scale.sh (on PYTHONPATH only there): every Python process of the run appends
its own CPU time and its waited-for children's to $SIBEVAL_PROCESS_CPU at exit, so that
bench/process_cpu.py can add up each rule's processes, Snakemake's own included (Snakemake's
benchmark files, which the rules had until the eleventh round, sampled a job's process tree and
missed what a second process spent after the last sample: 10-12 s of normalise_extract's at 10^6)."""
import atexit
import os
import resource
import sys
import time

_LOG = os.environ.get("SIBEVAL_PROCESS_CPU")
_START = time.perf_counter()


def _record():
    me, waited = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(_LOG, "a") as fh:
        fh.write(f"{os.getpid()}\t{os.getppid()}\t{sys.argv[0] if sys.argv else ''}\t"
                 f"{me.ru_utime + me.ru_stime:.3f}\t{waited.ru_utime + waited.ru_stime:.3f}\t"
                 f"{time.perf_counter() - _START:.3f}\n")


if _LOG:
    atexit.register(_record)
