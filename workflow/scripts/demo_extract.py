"""Write the synthetic demo extract (rule demo_extract_<extract>).

Settings: demo: seed, pool_size, profile (config.yaml extracts.<name>.demo)
Inputs: none
Outputs: every file of DATA_CONTRACT.md in the extract's folder (never overwritten)
Run alone (after its inputs exist): python workflow/scripts/demo_extract.py rule=demo_extract_<extract>
"""
from pathlib import Path

from sibeval.adapters import run, standalone
from sibeval.demo.generate import generate


def main(smk):
    out = Path(smk.output[0]).parent
    d = smk.params.demo
    generate(out, seed=d["seed"], pool_size=d["pool_size"], profile=d["profile"])


if "snakemake" not in globals():      # run alone: python workflow/scripts/<rule>.py cohort=<name>
    snakemake = standalone(__file__)
run(snakemake, main)
