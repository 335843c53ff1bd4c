"""A second Python process for a rule's half of the work (normalise's DREAM, the candidates
of half the blocks): a fresh interpreter, not a fork (Arrow's threads make forking unsafe).
The job is pickled to its stdin, its result comes back pickled on its stdout; its stderr is
dropped, because a failed child's work is redone in the parent, whose error is the one
reported."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path


class ChildProcess:
    """`python <args>` (e.g. ``["-m", "sibeval.extract.dream_worker"]``) with this checkout's
    library on its path. Started at once, so its imports overlap the parent's work; the job
    may follow later (`send`)."""

    def __init__(self, args: list[str], job=None):
        src = str(Path(__file__).resolve().parents[1])      # the folder holding this sibeval
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, *filter(None, [os.environ.get("PYTHONPATH")])])}
        self.proc = subprocess.Popen([sys.executable, *args], env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        if job is not None:
            self.send(job)

    def send(self, job) -> None:
        try:
            self.proc.stdin.write(pickle.dumps(job))
            self.proc.stdin.close()
        except BrokenPipeError:       # it stopped at once: result() is None, the work is redone
            pass

    def result(self):
        """What the child wrote, or None when it failed."""
        out = self.proc.stdout.read()
        return pickle.loads(out) if self.proc.wait() == 0 and out else None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.proc.stdin.close()
        self.proc.stdout.close()


def serve(work) -> None:
    """The child's side: `work(job)` on the job read from stdin, its result to stdout (an
    exception exits non-zero, and the parent redoes the work)."""
    job = pickle.load(sys.stdin.buffer)
    sys.stdout.buffer.write(pickle.dumps(work(job)))
