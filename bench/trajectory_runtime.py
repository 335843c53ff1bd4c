"""What the trajectories add to the demo's end-to-end time (issue 25: at most 30 %).

Clones the checkout twice into a temporary folder, copies the demo extracts (so neither run
spends time generating them), and runs `snakemake --cores 2` on every demo cohort: once as
shipped (trajectories computed and published, with their figures and note section) and once
with `trajectory: {enabled: false, publish: false}` for every cohort. Prints the wall time and
the CPU seconds summed over the rules' resources lines (bench/rule_table.py).

    python bench/trajectory_runtime.py [--repeat 1]
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
import rule_table  # noqa: E402

OFF = ("cohort_overrides:\n" + "".join(f"  {c}: {{trajectory: {{enabled: false, publish: false}}}}\n"
                                       for c in ("sib_herning_viborg", "kolding_ny_start", "viborg_unge")))


def run(variant: str, base: Path) -> tuple[float, float, dict]:
    wd = base / variant
    subprocess.run(["git", "clone", "-q", str(ROOT), str(wd)], check=True)
    shutil.copytree(ROOT / "data" / "raw", wd / "data" / "raw", dirs_exist_ok=True)
    cmd = [sys.executable, "-m", "snakemake", "--cores", "2", "--quiet"]
    if variant == "off":
        (wd / "off.yaml").write_text(OFF, encoding="utf-8")
        cmd += ["--configfile", "config/config.yaml", "off.yaml"]
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=wd, check=True, env={**os.environ, "SOURCE_DATE_EPOCH": "1700000000"})
    wall = time.perf_counter() - t0
    per_rule: dict[str, float] = {}
    for r in rule_table.rows(wd / "results"):
        per_rule[r["rule"]] = per_rule.get(r["rule"], 0.0) + r["cpu"]
    return wall, sum(per_rule.values()), per_rule


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args(argv)
    print("| run | trajectories | wall (s) | CPU of the rules (s) | effects CPU (s) | publish CPU (s) "
          "| report CPU (s) |")
    print("|---:|---|---:|---:|---:|---:|---:|")
    for k in range(args.repeat):
        for variant in ("on", "off"):
            with tempfile.TemporaryDirectory() as tmp:
                wall, cpu, rules = run(variant, Path(tmp))
            print(f"| {k + 1} | {variant} | {wall:.0f} | {cpu:.0f} | {rules.get('effects', 0):.1f} | "
                  f"{rules.get('publish', 0):.1f} | {rules.get('report', 0):.1f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
