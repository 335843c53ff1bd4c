"""A second Python process for a rule's half of the work (normalise's DREAM, the candidates
of half the blocks): a fresh interpreter, not a fork (Arrow's threads make forking unsafe).
The job is pickled to its stdin, its result comes back pickled on its stdout. A child that
fails costs time, not the run: the parent redoes its work, and that error is the one reported.
There is no time limit: a child that hangs holds the rule until its own limit (`runtime`)."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import tempfile
from pathlib import Path


class ChildProcess:
    """`python <args>` (e.g. ``["-m", "sibeval.extract.dream_worker"]``) with this checkout's
    library on its path. Started at once, so its imports overlap the parent's work; the job
    may follow later (`send`)."""

    def __init__(self, args: list[str], job=None):
        src = str(Path(__file__).resolve().parents[1])      # the folder holding this sibeval
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, *filter(None, [os.environ.get("PYTHONPATH")])])}
        self.stderr = tempfile.TemporaryFile()      # a file, not a pipe: nobody reads it until the end
        self.why = ""
        self.proc = subprocess.Popen([sys.executable, *args], env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr)
        if job is not None:
            self.send(job)

    def send(self, job) -> None:
        try:
            self.proc.stdin.write(pickle.dumps(job))
            self.proc.stdin.close()
        except BrokenPipeError:       # it stopped at once: result() is None, the work is redone
            pass

    def result(self):
        """What the child returned, or None when it failed (then `why` says how it ended)."""
        out = self.proc.stdout.read()
        at = out.find(_RESULT)      # (whatever the child printed before `serve` comes first)
        if self.proc.wait() == 0 and at >= 0:
            try:
                return pickle.loads(out[at + len(_RESULT):])
            except Exception:       # noqa: BLE001 - not a result: the work is redone
                pass
        self.stderr.seek(0)
        lines = self.stderr.read().decode("utf-8", "replace").strip().splitlines()
        self.why = f"exit code {self.proc.returncode}" + (f": {lines[-1][:300]}" if lines else "")
        return None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.proc.stdin.close()
        self.proc.stdout.close()
        self.stderr.close()


_RESULT = b"\nsibeval child result\n"


def serve(work) -> None:
    """The child's side: `work(job)` on the job read from stdin, its result to stdout after a
    marker (an exception exits non-zero). Anything else written to stdout while working goes
    to stderr."""
    result = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    job = pickle.load(sys.stdin.buffer)
    out = pickle.dumps(work(job))
    with result:
        result.write(_RESULT + out)
