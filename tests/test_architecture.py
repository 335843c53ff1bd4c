"""The library's packages are the pipeline's stages: no stage imports a later one, and
there is no import cycle between modules (read from the source, not by importing)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "sibeval"
# the workflow's order; a stage may import itself and the stages before it
STAGES = ("extract", "design", "outcomes", "inference", "progression", "publish", "economics", "report")
# shared by every stage: no stage's code
CORE = ("errors", "config", "plotting", "results", "child")
# glue around the stages (command line, workflow adapters) and the synthetic data generator
OUTSIDE = ("cli", "adapters", "demo")


def _module(path: Path) -> str:
    rel = path.relative_to(SRC.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """Every sibeval module this file imports (at any depth of the file)."""
    mod = _module(path) if SRC in path.parents else path.stem
    pkg = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = pkg.split(".")[: len(pkg.split(".")) - node.level + 1]
                base = ".".join(up + ([base] if base else []))
            if base.startswith("sibeval"):
                for a in node.names:
                    full = f"{base}.{a.name}"
                    out.add(full if (SRC.parent / (full.replace(".", "/") + ".py")).exists()
                            or (SRC.parent / full.replace(".", "/")).is_dir() else base)
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("sibeval")}
    return out - {mod}


GRAPH = {_module(p): _imports(p) for p in SRC.rglob("*.py")}


def _top(mod: str) -> str:
    parts = mod.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_every_module_belongs_to_a_stage_or_the_shared_core():
    unknown = sorted(m for m in GRAPH if m != "sibeval" and _top(m) not in STAGES + CORE + OUTSIDE)
    assert GRAPH.keys() >= {f"sibeval.{s}" for s in STAGES}, "a stage package is missing"
    assert not unknown, f"modules outside the stage packages: {unknown}"


@pytest.mark.parametrize("stage", STAGES)
def test_no_stage_imports_a_later_stage(stage):
    later = set(STAGES[STAGES.index(stage) + 1:]) | set(OUTSIDE)
    bad = sorted(f"{m} imports {i}" for m, deps in GRAPH.items() if _top(m) == stage
                 for i in deps if _top(i) in later)
    assert not bad, bad


def test_core_imports_no_stage():
    bad = sorted(f"{m} imports {i}" for m, deps in GRAPH.items() if _top(m) in CORE
                 for i in deps if _top(i) not in CORE)
    assert not bad, bad


def test_no_import_cycle():
    modules = {m for m in GRAPH}

    def deps(m):
        return {d for d in GRAPH.get(m, ()) if d in modules}
    state, cycles = {}, []

    def visit(m, path):
        state[m] = 1
        for d in sorted(deps(m)):
            if state.get(d) == 1:
                cycles.append(path[path.index(d):] + [d] if d in path else [m, d])
            elif d not in state:
                visit(d, path + [d])
        state[m] = 2
    for m in sorted(modules):
        if m not in state:
            visit(m, [m])
    assert not cycles, cycles


def test_the_workflow_parses_without_the_demo_generator():
    """common.smk reads the demo's file names; the generator is imported by the demo rule only."""
    profiles = GRAPH["sibeval.demo.profiles"]
    assert not {d for d in profiles if d.startswith("sibeval.demo.") and d != "sibeval.demo"}, profiles


WORKFLOW = SRC.parents[1] / "workflow"


def test_the_workflow_starts_without_the_data_libraries():
    """What common.smk imports from the library loads neither pandas nor pyarrow: every
    Snakemake start (each run, each dry run, each job on a cluster) would pay for them
    (about 0.4 s)."""
    import os
    import subprocess
    import sys

    lines = [ln.split("#")[0] for ln in (WORKFLOW / "rules" / "common.smk").read_text(encoding="utf-8").splitlines()
             if ln.startswith("from sibeval")]
    assert len(lines) >= 5
    code = "\n".join([*lines, "import sys", "print(sorted({'pandas', 'pyarrow', 'scipy'} & set(sys.modules)))"])
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(SRC.parent)})
    assert out.stdout.strip() == "[]", out.stdout


def _loaded_by_imports(script: str, needle: str, modules: set[str]) -> list[str]:
    """Which of `modules` a workflow script's own import lines load (the script must import
    something named `needle`, so a renamed import cannot pass by importing nothing)."""
    import os
    import subprocess
    import sys

    lines = [ln for ln in (WORKFLOW / "scripts" / script).read_text(encoding="utf-8").splitlines()
             if ln.startswith(("from sibeval", "import "))]
    assert any(needle in ln for ln in lines), lines
    code = "\n".join([*lines, "import sys", f"print(sorted(set({sorted(modules)!r}) & set(sys.modules)))"])
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(SRC.parent)})
    return ast.literal_eval(out.stdout)


def test_the_index_page_is_written_without_pandas():
    """The last rules of every run wait for the index page, which reads JSON only: its
    script's imports load no pandas (0.4 s of each run's end)."""
    assert _loaded_by_imports("index.py", "index_page", {"pandas", "pyarrow", "scipy"}) == []


def test_the_release_manifest_is_written_without_pandas():
    """The release manifest is every run's last job: its script's imports load no pandas
    (0.5 s of each run's end); the economics job draws no figure (the tornado is the note's,
    in the cohort's language) and so loads no matplotlib (1 s on the longest path)."""
    assert _loaded_by_imports("release.py", "manifest", {"pandas", "pyarrow", "scipy"}) == []
    assert _loaded_by_imports("economics.py", "model", {"matplotlib"}) == []


def test_the_qc_tables_are_published_without_scipy():
    """The two QC tables' jobs (publish_qc_*) run the publish script on a table with nothing
    to protect: its imports load no scipy (scipy.stats, scipy.optimize and statsmodels were
    1.3-1.5 s of each job); the search and the comparisons import them where they solve."""
    assert _loaded_by_imports("publish.py", "Boundary", {"scipy", "statsmodels", "matplotlib"}) == []


def _script_stages() -> dict[str, str]:
    """Each workflow script and the stage of the rule file that runs it."""
    out = {}
    for smk in (WORKFLOW / "rules").glob("*.smk"):
        for script in re.findall(r'"\.\./scripts/(\w+)\.py"', smk.read_text(encoding="utf-8")):
            out[script] = smk.stem
    return out


def test_rule_files_are_the_stages_and_every_script_belongs_to_one():
    stages = _script_stages()
    assert {p.stem for p in (WORKFLOW / "rules").glob("*.smk")} == set(STAGES) | {"common"}
    scripts = {p.stem for p in (WORKFLOW / "scripts").glob("*.py")}
    assert scripts == set(stages), scripts ^ set(stages)


def test_no_workflow_script_imports_a_later_stage():
    bad = []
    for script, stage in _script_stages().items():
        later = set(STAGES[STAGES.index(stage) + 1:]) if stage in STAGES else set()
        for dep in _imports(WORKFLOW / "scripts" / f"{script}.py"):
            if _top(dep) in later:
                bad.append(f"{script}.py (stage {stage}) imports {dep}")
    assert not bad, bad
