"""Write the synthetic demo extract (rule demo_extract)."""
from pathlib import Path

from sibeval.adapters import run
from sibeval.demo.generate import generate


def main(smk):
    out = Path(smk.output[0]).parent
    d = smk.params.demo
    generate(out, seed=d["seed"], pool_size=d["pool_size"], profile=d["profile"])


run(snakemake, main)
