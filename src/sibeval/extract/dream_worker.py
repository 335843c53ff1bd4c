"""normalise_dream in its own process, for normalise(workers > 1): the job (extract, code
table, output path) pickled on stdin, DREAM's QC facts pickled on stdout; a failure exits 1."""

import pickle
import sys

from sibeval.extract.normalise import normalise_dream


def main() -> None:
    ex, codes, out = pickle.load(sys.stdin.buffer)
    facts = normalise_dream(ex, codes, out)
    del facts["index"]
    sys.stdout.buffer.write(pickle.dumps(facts))


if __name__ == "__main__":
    main()
