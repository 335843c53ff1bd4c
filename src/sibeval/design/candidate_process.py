"""Half the blocks of persons of :func:`~sibeval.design.candidates.candidate_pieces` in a second
process (rule build_candidates with two threads): the blocks whose number is odd, their control
rows spilled to a store of their own, read back in the blocks' order. The candidates file is
the same as from one process, and so is the error (tests/test_person_blocks.py).

Run as ``python -m sibeval.design.candidate_process`` by :class:`CandidateProcess` only.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from sibeval.child import ChildProcess, serve
from sibeval.design.candidates import BlockCandidates, CandidateWork, candidate_blocks
from sibeval.design.month_stores import SpilledMonths

log = logging.getLogger("sibeval")

CHILD = (1, 2)          # the child's blocks: 1, 3, 5, ... (person_blocks' `share`)
_WORKER = ["-m", "sibeval.design.candidate_process"]


class CandidateProcess:
    """The helper `candidate_pieces` takes: the child Python starts at once (its imports overlap
    the parent's participant flow); `reading(...)` names the extract, `start(work)` sends the job,
    `finish(work)` waits for the child's blocks and store. A child that fails costs time, not
    the run: its blocks are redone in this process, whose error is the one reported."""

    share = (0, 2)      # this process's blocks: 0, 2, 4, ...

    def __init__(self, folder):
        """`folder`: where the child spills its control rows (removed on exit)."""
        self.folder = Path(folder)
        self.child = ChildProcess(_WORKER)
        self.source = None
        self.store = None

    def reading(self, folder, panel_path, codes, weeks, blocks) -> CandidateProcess:
        """The extract's blocks, as :func:`candidate_blocks` takes them."""
        self.source = (folder, panel_path, codes, weeks, blocks)
        return self

    def start(self, work: CandidateWork) -> None:
        self.child.send((work, self.source, self.folder))

    def finish(self, work: CandidateWork, below=None) -> tuple[list[BlockCandidates], SpilledMonths]:
        """The child's blocks and their store. When the child failed its blocks are redone
        here (with `below`: only those numbered below it, for their error)."""
        result = self.child.result()
        if result is not None:
            done, order = result
            self.store = SpilledMonths(self.folder, order)
            return done, self.store
        log.warning("the second process stopped (%s); its blocks of persons are redone in this process",
                    self.child.why)
        self.store = SpilledMonths(self.folder)
        return _blocks(work, self.source, self.store, below), self.store

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.child.__exit__(*exc)
        if self.store is not None:
            self.store.close()
        shutil.rmtree(self.folder, ignore_errors=True)


def _blocks(work: CandidateWork, source, store, below=None) -> list[BlockCandidates]:
    return [work.block(b, store) for b in candidate_blocks(*source, share=CHILD, below=below)]


def _child(job):
    work, source, folder = job
    store = SpilledMonths(folder)
    return _blocks(work, source, store), store.finish()


if __name__ == "__main__":
    serve(_child)
