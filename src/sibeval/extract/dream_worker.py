"""normalise_dream, then the registers of normalise.SECOND_PROCESS that the parent has not
claimed (it takes them from the back), then the row groups of a Parquet eIndkomst that the
parent has not claimed, in a process of their own,
for normalise(workers > 1): the job (the extract, the code table, the output folder and the
block size of the registers' split) pickled on stdin, the QC facts (DREAM's, the others' by
name) pickled on stdout; a failure exits 1. On one Arrow thread, as the process beside it."""

import time

import pyarrow as pa

from sibeval.child import serve
from sibeval.extract.normalise import (
    SECOND_PROCESS,
    Claims,
    _other_registers,
    eindkomst_part,
    normalise_dream,
    shares_eindkomst,
)


def work(job) -> tuple[dict, dict, dict | None]:
    ex, codes, out, block_persons = job
    pa.set_cpu_count(1)
    t0 = time.perf_counter()
    facts = normalise_dream(ex, codes, out / "dream.parquet")
    index = facts.pop("index")
    others = _other_registers(ex, out, index, t0, keep=SECOND_PROCESS,
                              block_persons=block_persons, claim=Claims(out))
    if not shares_eindkomst(ex):
        return facts, others, None
    blocks, part = eindkomst_part(ex, out, index, 1, block_persons, t0)
    return facts, others, {"pieces": blocks.pieces, "part": part}


if __name__ == "__main__":
    serve(work)
