"""normalise_dream, then the registers of normalise.SECOND_PROCESS that the parent has not
claimed (it takes them from the back), in a process of their own,
for normalise(workers > 1): the job (the extract, the code table, the output folder and the
block size of the registers' split) pickled on stdin, the QC facts (DREAM's, the others' by
name) pickled on stdout; a failure exits 1. On one Arrow thread, as the process beside it."""

import time

import pyarrow as pa

from sibeval.child import serve
from sibeval.extract.normalise import SECOND_PROCESS, Claims, _other_registers, normalise_dream


def work(job) -> tuple[dict, dict]:
    ex, codes, out, block_persons = job
    pa.set_cpu_count(1)
    facts = normalise_dream(ex, codes, out / "dream.parquet")
    others = _other_registers(ex, out, facts.pop("index"), time.perf_counter(), keep=SECOND_PROCESS,
                              block_persons=block_persons, claim=Claims(out))
    return facts, others


if __name__ == "__main__":
    serve(work)
