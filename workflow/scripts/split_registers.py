"""The person-level registers split by block of persons (rule split_registers).

Settings: the extract (normalised)
Inputs: the normalised dream, bef, vnds, udda, lpr and summary of results/extracts/interim/<extract>/
Outputs: results/extracts/interim/<extract>/blocks/ (<register>/<block>.parquet and blocks.json)
Run alone (after its inputs exist): python workflow/scripts/split_registers.py extract=<name>
"""
import logging
import time

from sibeval.adapters import atomic_dir, context, run, standalone
from sibeval.extract.person_blocks import split_registers


def main(smk):
    ctx = context(smk)
    t0 = time.perf_counter()
    with atomic_dir(smk.output[0]) as tmp:
        info = split_registers(ctx.extract.folder, tmp)
    logging.getLogger("sibeval").info(
        "registers split: %d persons in blocks of %d; %s; %.1f s", info["persons"], info["block_persons"],
        ", ".join(f"{r} {'not delivered' if b is None else f'{len(b)} blocks'}" for r, b in info["registers"].items()),
        time.perf_counter() - t0)


if "snakemake" not in globals():      # run alone: python workflow/scripts/<rule>.py extract=<name>
    snakemake = standalone(__file__)
run(snakemake, main)
