"""The script adapter's resources line: the last line of a rule's log, what bench/rule_table.py
reads, with the memory of a second process counted."""
import subprocess
import sys
from pathlib import Path

from sibeval.adapters import RESOURCES

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import rule_table  # noqa: E402

_SCRIPT = """
import subprocess, sys
from types import SimpleNamespace
import numpy as np
from sibeval.adapters import run

def main(smk):
    x = np.ones(40 * 2**20 // 8)        # 40 MiB here
    x[::512] = 2.0
    # a second process of about 200 MiB, waited for (as normalise_extract's)
    subprocess.run([sys.executable, "-c", "b = bytearray(200 * 2**20); b[::4096] = b'x' * len(b[::4096])"],
                   check=True)

run(SimpleNamespace(log=[sys.argv[1]], rule="publish", wildcards={"cohort": "c"}), main)
"""


def test_the_log_ends_with_what_the_script_and_its_second_process_used(tmp_path):
    log = tmp_path / "results" / "c" / "interim" / "logs" / "publish.log"
    # a fresh process: the kernel's counts are a process's whole life (and its children's); started
    # by a process of 300 MiB (as Snakemake starts a script), whose peak Linux carries into it
    ballast = bytearray(300 * 2**20)
    ballast[::4096] = b"x" * len(ballast[::4096])
    done = subprocess.run([sys.executable, "-c", _SCRIPT, str(log)], capture_output=True, text=True, check=True)
    del ballast
    last = log.read_text().strip().splitlines()[-1]
    assert RESOURCES in last
    (r,) = rule_table.rows(tmp_path / "results")
    assert (r["rule"], r["where"]) == ("publish", "c")
    assert 40 <= r["peak"] < 190 and 190 <= r["waited"] < 400, last
    assert 0 < r["cpu"] and 0 <= r["system"] <= r["cpu"] and r["wall"] > 0, last
    assert RESOURCES not in done.stderr      # the log's, not the console's


def test_a_failed_script_logs_its_error_last(tmp_path):
    log = tmp_path / "x.log"
    code = ("import sys; from types import SimpleNamespace; from sibeval.adapters import run; "
            "from sibeval.errors import SibevalError\n"
            "def main(smk):\n    raise SibevalError('too few controls')\n"
            "run(SimpleNamespace(log=[sys.argv[1]], rule='match', wildcards={}), main)")
    done = subprocess.run([sys.executable, "-c", code, str(log)], capture_output=True, text=True)
    assert done.returncode == 1, done.stderr
    lines = log.read_text().strip().splitlines()
    assert "too few controls" in lines[-1] and not any(RESOURCES in line for line in lines)
