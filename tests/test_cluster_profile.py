"""The SLURM profile (workflow/profiles/slurm) as bench/README.md measured it ("On a SLURM cluster
with memory limits"): failed jobs are retried with more memory, status checks are frequent,
and every rule is either grouped into its extract's or its cohort's job or runs locally."""

import functools
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import copy_workflow
from sibeval.config import load_yaml
from sibeval.extract.normalise import REGISTERS

ROOT = Path(__file__).resolve().parents[1]
PROFILE = ROOT / "workflow" / "profiles" / "slurm" / "config.yaml"
RULES = sorted((ROOT / "workflow" / "rules").glob("*.smk"))


def _profile():
    return load_yaml(PROFILE)


# the rules Snakemake itself takes as local (`localrules:` and a rule's `localrule:`) and each rule's
# `group:` under the configuration files given, printed by a process of their own (the API changes
# directory)
_RULES = """
import json, sys
from pathlib import Path
from snakemake.api import SnakemakeApi
from snakemake.settings.enums import Quietness
from snakemake.settings.types import ConfigSettings, DAGSettings, OutputSettings, ResourceSettings
with SnakemakeApi(OutputSettings(quiet={Quietness.ALL})) as api:
    wf = api.workflow(resource_settings=ResourceSettings(),
                      config_settings=ConfigSettings(configfiles=[Path(f) for f in sys.argv[1:]]),
                      snakefile=Path("Snakefile"), workdir=Path(".")).dag(DAGSettings()).workflow_api._workflow
    print(json.dumps({"local": sorted(wf._localrules),
                      "groups": {r.name: r._group for r in wf.rules if r._group is not None}}))
"""


@functools.cache
def _rules(*configfiles) -> dict:
    files = [str(ROOT / "config" / "config.yaml"), *map(str, configfiles)]
    out = subprocess.run([sys.executable, "-c", _RULES, *files], cwd=ROOT, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout)


def _local_rules(*configfiles) -> frozenset[str]:
    return frozenset(_rules(*configfiles)["local"])


def _groups() -> dict[str, str]:
    """Each grouped rule's group, as the rules set it (the job's own Snakemake sees only these)."""
    return _rules()["groups"]


@functools.cache
def _dry_run() -> str:
    """The plan of a run from nothing (`snakemake -n --forceall`), with the groups the rules set."""
    return subprocess.run([sys.executable, "-m", "snakemake", "-n", "--forceall"], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, check=True).stdout


def test_slurm_profile_retries_and_checks_status_often():
    p = _profile()
    assert p["executor"] == "slurm"
    # a job killed for memory comes back with mem_mb(...) x attempt (workflow/rules/common.smk)
    assert p["retries"] >= 1
    # the plugin's default waits 40 s before each status check, at each dependency level
    assert p["slurm-init-seconds-before-status-checks"] <= 10
    assert p["latency-wait"] >= 30


def test_every_rule_is_grouped_or_local():
    out = subprocess.run([sys.executable, "-m", "snakemake", "--list-rules"], cwd=ROOT, capture_output=True,
                         text=True, timeout=300, check=True).stdout
    rules = {m.group(1) for m in re.finditer(r"^(\w+)", out, re.M)} - {"all"}
    assert "publish" in rules and "demo_extract_demo" in rules, out[-2000:]
    groups, local = _groups(), _local_rules()
    assert not local - rules, f"local but no such rule: {sorted(local - rules)}"
    assert {"index", "release", "publish", "report"} <= local
    assert not local & {"normalise_extract", "build_panel", "split_registers", "build_candidates", "match",
                        "classify_outcomes"}
    assert not rules - set(groups) - local, f"neither grouped nor local: {sorted(rules - set(groups) - local)}"
    assert not set(groups) & local
    assert set(groups.values()) == {"extract", "cohort"}
    assert not set(groups) - rules, f"grouped but no such rule: {sorted(set(groups) - rules)}"


# the person-level files a local rule may read: the analysed persons' (participants and their
# matched controls), which classify_outcomes writes; their size is the cohort's, not the population's
ANALYSED_FILES = {"status_month.parquet", "matched.parquet", "panel_analysed.parquet"}


def _population_sized(path: str) -> bool:
    """A file whose size grows with the population: a register (raw or normalised, any format),
    an extract's other interim files but its checksums and QC summary, the register blocks,
    the panel or the candidates; of a cohort's Parquet files only the matched sample's are not."""
    p = Path(path)
    if p.stem.lower() in REGISTERS or p.name == "blocks":
        return True
    if path.startswith("results/extracts/"):
        return p.name not in {"checksums.csv", "summary.csv"}
    if p.suffix == ".parquet":
        return not (re.fullmatch(r"results/[^/]+/interim/[^/]+", path) and p.name in ANALYSED_FILES)
    return False


@pytest.mark.parametrize("path, heavy", [
    ("data/raw/demo/dream.parquet", True), ("data/raw/x/BEF.sas7bdat", True), ("data/raw/x/eindkomst.csv", True),
    ("results/extracts/interim/demo/bef.parquet", True), ("results/extracts/interim/demo/blocks", True),
    ("results/extracts/interim/demo/panel.parquet", True), ("results/extracts/interim/demo/matched.parquet", True),
    ("results/sib/interim/candidates.parquet", True), ("results/sib/interim/matched.parquet", False),
    ("results/sib/interim/panel_analysed.parquet", False), ("results/extracts/interim/demo/checksums.csv", False),
    ("data/raw/demo/participants.csv", False), ("results/sib/interim/tables/effects.csv", False),
])
def test_what_counts_as_population_sized(path, heavy):
    assert _population_sized(path) is heavy


def test_local_rules_read_only_the_cohorts_tables():
    """What runs on the submitting host reads no register, panel or candidate file, only the
    cohort's tables and its analysed persons' files: its memory does not grow with the population
    (bench/README.md, "On a SLURM cluster with memory limits")."""
    out = _dry_run()
    local, seen = _local_rules(), set()
    for rule, inputs in re.findall(r"^(?:local)?rule (\w+):\n    input: (.*)$", out, re.M):
        if rule in local:
            seen.add(rule)
            heavy = [f for f in inputs.split(", ") if _population_sized(f)]
            assert not heavy, f"local rule {rule} reads {heavy}"
    assert seen == local, sorted(local - seen)      # every local rule was found and checked
    assert "effects" in seen        # the one local rule that reads the matched sample's files


def test_effects_is_a_job_where_a_cohort_keeps_every_candidate(tmp_path):
    """With weighting (or no matching) the analysed persons' files hold every candidate, so effects
    leaves the submitting host for a job of its own (in no group: a rule in a group is submitted
    with its group whatever its `localrule:` says)."""
    assert "effects" not in _groups()
    cohorts = tmp_path / "cohorts"
    shutil.copytree(ROOT / "config" / "cohorts", cohorts)
    name = load_yaml(ROOT / "config" / "config.yaml")["cohorts"][-1]
    text = (cohorts / f"{name}.yaml").read_text()
    assert "method" not in load_yaml(cohorts / f"{name}.yaml")["matching"]     # nearest, the default
    (cohorts / f"{name}.yaml").write_text(text.replace("matching:\n", "matching:\n  method: weighting\n", 1))
    assert load_yaml(cohorts / f"{name}.yaml")["matching"]["method"] == "weighting"
    (tmp_path / "over.yaml").write_text(f"cohort_dir: {cohorts}\n")
    assert "effects" in _local_rules() and "effects" not in _local_rules(tmp_path / "over.yaml")


def test_memory_and_time_of_submitted_rules_grow_with_the_attempt():
    """A literal mem_mb would be retried with the same memory: only the local rules may have one."""
    local = _local_rules()
    for path in RULES:
        for rule, body in re.findall(r"^(?:rule (\w+)|    rule):\n(.*?)(?=^\S|^    rule:|\Z)", path.read_text(),
                                     re.M | re.S):
            if rule in local:
                continue
            for res in ("mem_mb", "runtime"):
                m = re.search(rf"^\s+{res}=(.*)$", body, re.M)
                assert m, f"{path.name}: rule {rule or '(loop)'} sets no {res}"
                assert "attempt" in m.group(1) or m.group(1).startswith(f"{res}("), \
                    f"{path.name}: rule {rule or '(loop)'}: {res}={m.group(1)} does not grow with the attempt"


def test_one_job_per_extract_and_one_per_cohort():
    """The groups as the dry run forms them from the rules alone, as the job's own Snakemake does
    (the plugin passes it no --groups): each job costs a submission, a status check and two
    Snakemake starts, so a cohort's QC summary runs in the cohort's job, not in one of its own
    (bench/README.md, "One job per cohort", "One Snakemake per job")."""
    # a groups: list in the profile reaches only the submitting Snakemake, and the job's Snakemake
    # would run each of the job's rules in a step and a Snakemake of its own again
    assert "groups" not in _profile()
    out = _dry_run()
    jobs, current = [], None
    for line in out.splitlines():
        if m := re.search(r"Group job (\w+) ", line):
            current = (m.group(1), [], set())
            jobs.append(current)
        elif not line.startswith(" ") and re.search(r"\b(local)?rule \w+:", line):
            current = None          # a job outside any group
        elif current and (m := re.match(r"\s+rule (\w+):", line)):
            current[1].append(m.group(1))
        elif current and (m := re.match(r"\s+wildcards: (.*)", line)):
            current[2].update(w for w in m.group(1).split(", ") if w.startswith(("cohort=", "extract=")))
    cohorts = [j for j in jobs if j[0] == "cohort"]
    extracts = [j for j in jobs if j[0] == "extract"]
    assert len(jobs) == len(cohorts) + len(extracts), [j[:2] for j in jobs]
    names = load_yaml(ROOT / "config" / "config.yaml")["cohorts"]
    assert sorted(w for _, _, ws in cohorts for w in ws) == sorted(f"cohort={c}" for c in names)   # one job each
    for _, rules, _ in cohorts:
        assert sorted(rules) == ["build_candidates", "classify_outcomes", "cohort_qc", "match"], rules
    seen = [w for _, _, ws in extracts for w in ws if w.startswith("extract=")]
    assert len(seen) == len(set(seen)) == len(extracts) >= 1, seen                                  # one job each
    for _, rules, _ in extracts:
        assert {"normalise_extract", "build_panel"} <= set(rules), rules


# stands in for SLURM's srun: records its arguments, then runs the command after its options
FAKE_SRUN = """#!/bin/sh
echo "$*" >> "$FAKE_SRUN_LOG"
while [ $# -gt 0 ] && [ "${1#-}" != "$1" ]; do shift; done
exec "$@"
"""


@pytest.mark.workflow
def test_a_job_runs_its_rules_in_one_step(tmp_path):
    """What a job's batch step does: Snakemake with the plugin's jobstep executor, given no --groups,
    runs each group it forms from the rules through one `srun` (one step and one Snakemake start
    for the job's rules, not one per rule). Here on the smallest demo extract and its cohort, with
    a stand-in `srun` that records its calls."""
    pytest.importorskip("snakemake_executor_plugin_slurm_jobstep")
    wd = copy_workflow(tmp_path / "wd")
    cfg = load_yaml(ROOT / "config" / "config.yaml")
    extracts = {n: e for n, e in cfg["extracts"].items() if "demo" in e}
    extract = min(extracts, key=lambda n: extracts[n]["demo"]["pool_size"])
    cohort = next(c for c in cfg["cohorts"]
                  if load_yaml(ROOT / "config" / "cohorts" / f"{c}.yaml")["extract"] == extract)
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "srun").write_text(FAKE_SRUN)
    (tmp_path / "bin" / "srun").chmod(0o755)
    log = tmp_path / "srun.log"
    env = {**os.environ, "PATH": f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}", "FAKE_SRUN_LOG": str(log)}
    target = f"results/{cohort}/interim/status_month.parquet"
    r = subprocess.run([sys.executable, "-m", "snakemake", "--executor", "slurm-jobstep", "--jobs", "1", "--cores", "1",
                        "--directory", str(wd), "--snakefile", str(wd / "Snakefile"), target],
                       capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == 0, (r.stdout + r.stderr)[-4000:]
    assert (wd / target).exists()
    calls = log.read_text().splitlines()
    steps = []
    for call in calls:
        assert (m := re.search(r"--allowed-rules ((?:\w+ ?)+)", call)), call
        steps.append(sorted(m.group(1).split()))
    steps.sort()
    assert steps == [["build_candidates", "classify_outcomes", "cohort_qc", "match"],
                     sorted(["build_panel", f"demo_extract_{extract}", "normalise_extract"])], calls
    # the temporary eIndkomst split is removed inside the job's step, once the panel is built
    assert not (wd / "results" / "extracts" / "interim" / extract / "eindkomst_blocks").exists()
