"""Half the blocks of persons of :func:`~sibeval.design.candidates.candidate_pieces` in a second
process (rule build_candidates with two threads): the blocks whose number is odd, their control
rows spilled to a store of their own, read back in the blocks' order. The candidates file is
the same as from one process (tests/test_person_blocks.py).

Run as ``python -m sibeval.design.candidate_process`` by :class:`CandidateProcess` only.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from sibeval.child import ChildProcess, serve
from sibeval.design.candidates import BlockCandidates, CandidateWork, SpilledMonths, candidate_blocks

log = logging.getLogger("sibeval")

SHARE = (1, 2)          # the child's blocks: 1, 3, 5, ...; this process keeps 0, 2, 4, ...
_WORKER = ["-m", "sibeval.design.candidate_process"]


class CandidateProcess:
    """The helper `candidate_pieces` takes: the child Python starts at once (its imports overlap
    the parent's participant flow); `reading(...)` names the extract, `start(work)` sends the job,
    `finish(work)` waits for the child's blocks and store. A child that fails costs time, not
    the run: its blocks are done again in this process, whose error is the one reported."""

    def __init__(self, folder):
        """`folder`: where the child spills its control rows (removed on exit)."""
        self.folder = Path(folder)
        self.child = ChildProcess(_WORKER)
        self.source = None

    def reading(self, folder, panel_path, codes, weeks, blocks) -> CandidateProcess:
        """The extract's blocks, as :func:`candidate_blocks` takes them."""
        self.source = (folder, panel_path, codes, weeks, blocks)
        return self

    def start(self, work: CandidateWork) -> None:
        self.child.send((work, self.source, self.folder))

    def finish(self, work: CandidateWork) -> tuple[list[BlockCandidates], SpilledMonths]:
        result = self.child.result()
        if result is not None:
            done, order = result
            return done, SpilledMonths(self.folder, order)
        log.warning("the second process stopped (exit code %s); its blocks of persons were done in this "
                    "process instead", self.child.proc.returncode)
        return _blocks(work, self.source, self.folder)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.child.__exit__(*exc)
        shutil.rmtree(self.folder, ignore_errors=True)


def _blocks(work: CandidateWork, source, folder) -> tuple[list[BlockCandidates], SpilledMonths]:
    store = SpilledMonths(folder)
    return [work.block(b, store) for b in candidate_blocks(*source, share=SHARE)], store


def _child(job):
    work, source, folder = job
    done, store = _blocks(work, source, folder)
    return done, store.finish()


if __name__ == "__main__":
    serve(_child)
