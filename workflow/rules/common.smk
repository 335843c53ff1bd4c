# Helpers shared by the rules: config validation, cohort files, extract file lists.
import compileall
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(workflow.basedir) / "src"))
# The rules' scripts (also in a conda environment, which installs only third-party
# packages) import the library of this checkout; set here, not required from the caller.
_PATH_VAR = "PYTHONPATH"
if (Path(workflow.basedir) / "src" / "sibeval").is_dir():
    os.environ[_PATH_VAR] = os.pathsep.join(
        [str(Path(workflow.basedir) / "src"), *filter(None, [os.environ.get(_PATH_VAR)])])
    # compiled once here, not again in each rule's process where Python writes no bytecode
    # (PYTHONDONTWRITEBYTECODE; 0.1-0.25 s a process); a read-only checkout is left as it is
    compileall.compile_dir(str(Path(workflow.basedir) / "src" / "sibeval"), quiet=2)
# BLAS on one thread in the rules' processes, unless the caller set otherwise: every rule
# declares one thread for it (an idle OpenBLAS thread spins on the other core), and the
# numbers do not depend on the machine's cores.
for _var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
from sibeval.config import config_hash, load_yaml, overlapping_cohorts, overridden, validate  # noqa: E402
from sibeval.demo.profiles import demo_file_names  # noqa: E402
from sibeval.errors import ConfigError  # noqa: E402
from sibeval.extract.layouts import DREAM as DREAM_LAYOUT  # noqa: E402
from sibeval.extract.layouts import PANEL as PANEL_LAYOUT  # noqa: E402
from sibeval.outcomes.definitions import check_publishable  # noqa: E402
from sibeval.publish import catalogue as TABLES  # noqa: E402
from sibeval.report.catalogue import wording_digest  # noqa: E402

WORDING = wording_digest()     # the catalogues and templates (rule_params, report.smk)
SCHEMAS = Path(workflow.basedir) / "workflow" / "schemas"
FORMATS = (".parquet", ".csv", ".sas7bdat", ".dta")


def _load_config():
    try:
        validate(config, load_yaml(SCHEMAS / "config.schema.yaml"), "config/config.yaml (with --config)")
        cohorts = {}
        for name in config["cohorts"]:
            path = Path(config["cohort_dir"]) / f"{name}.yaml"
            if name == "extracts":
                raise ConfigError("cohorts: 'extracts' is reserved (results/extracts/ holds the "
                                  "normalised extracts); rename the cohort file")
            if not path.exists():
                raise ConfigError(f"cohorts: '{name}' has no file {path}; available: "
                                  f"{sorted(p.stem for p in Path(config['cohort_dir']).glob('*.yaml'))}")
            raw = overridden(load_yaml(path), config["cohort_overrides"].get(name, {}))
            c = validate(raw, load_yaml(SCHEMAS / "cohort.schema.yaml"), str(path))
            if c["extract"] not in config["extracts"]:
                raise ConfigError(f"{path}: extract: '{c['extract']}' is not in config.yaml extracts "
                                  f"({', '.join(config['extracts'])})")
            check_publishable(c, str(path))
            c["name"] = name
            c["source"] = str(path)
            cohorts[name] = c
        # every cohort file in the folder counts, run now or earlier: their releases meet
        others = {p.stem: load_yaml(p) for p in Path(config["cohort_dir"]).glob("*.yaml") if p.stem not in cohorts}
        clashes = overlapping_cohorts({**{n: o for n, o in others.items() if isinstance(o, dict)}, **cohorts})
        if clashes:
            raise ConfigError(clashes[0])
        return cohorts
    except ConfigError as exc:
        raise WorkflowError(str(exc)) from None


COHORTS = _load_config()
# effects reads the analysed persons' files that classify_outcomes writes: with nearest-neighbour
# matching the participants and their matched controls, a cohort's size, so on a cluster it runs on
# the submitting host (its `localrule:`); with weighting or no matching they hold every candidate,
# and it is a job of its own (bench/README.md, "effects on the submitting host")
EFFECTS_LOCAL = all(c["matching"]["method"] == "nearest" for c in COHORTS.values())
# On a cluster each extract's rules are one job and each cohort's rules that read the registers,
# the panel or the candidates another: the rules' `group:`, not the profile's `groups:`, because the
# SLURM plugin passes no --groups to the job's own Snakemake. With the groups in the rules, that
# Snakemake hands the whole group to one `srun` step, which runs its rules in one Snakemake
# process: one start per job instead of one per rule (bench/README.md, "One Snakemake per job").
# Locally a group changes nothing (a dry run lists the group jobs). The grouped rules are all
# `script:` rules: Snakemake would start a `run:` rule in a group in a Snakemake of its own again.
EXTRACT_JOB = "extract"
COHORT_JOB = "cohort"
DREAM_CODES = load_yaml(config["dream_codes"])
LABELS = load_yaml(config["labels"])
DEMO_EXTRACTS = [n for n, e in config["extracts"].items() if "demo" in e]
REGISTER_FILES = ("dream", "bef", "eindkomst", "vnds", "dod", "udda", "lpr")


def _extract_columns():
    """Each extract's column rename map. It describes a delivery, so it lives in the
    extract's entry of config.yaml; a cohort file's `columns:` is still read (deprecated)."""
    out = {}
    for name, ext in config["extracts"].items():
        cols = {f: dict(m) for f, m in (ext.get("columns") or {}).items()}
        for cname, c in COHORTS.items():
            if c["extract"] != name or not c.get("columns"):
                continue
            logger.warning(f"{c['source']}: `columns:` in a cohort file is deprecated; move it to "
                           f"extracts.{name}.columns in config/config.yaml")
            for f, m in c["columns"].items():
                have = cols.setdefault(f, {})
                for old, new in m.items():
                    if have.get(old, new) != new:
                        raise WorkflowError(f"{c['source']}: columns.{f}.{old} is '{new}' but extract "
                                            f"'{name}' renames it to '{have[old]}'")
                    have[old] = new
        out[name] = cols
    return out


EXTRACT_COLUMNS = _extract_columns()
USED_EXTRACTS = sorted({c["extract"] for c in COHORTS.values()})


def _extract_mb(name):
    """Size of an extract in MB: its register files, or the demo's expected size (about
    0.5 kB per person) before it is generated. Rules scale memory and time with it."""
    ext = config["extracts"][name]
    folder = Path(ext["path"])
    files = [p for p in folder.glob("*") if p.suffix.lower() in FORMATS
             and p.stem.lower() in REGISTER_FILES] if folder.is_dir() else []
    if files:
        return max(1, sum(p.stat().st_size for p in files) // 2**20)
    if "demo" in ext:
        return max(1, ext["demo"]["pool_size"] * 500 // 2**20)
    return 1


EXTRACT_MB = {n: _extract_mb(n) for n in config["extracts"]}


wildcard_constraints:
    cohort="|".join(COHORTS) or "NONE",
    extract="|".join(config["extracts"]) or "NONE",


def cohort_cfg(wildcards):
    return COHORTS[wildcards.cohort]


def extract_of(wildcards):
    return wildcards.extract if "extract" in wildcards.keys() else COHORTS[wildcards.cohort]["extract"]


def extract_dir(cohort):
    return config["extracts"][COHORTS[cohort]["extract"]]["path"]


def normalised_dir(name):
    return f"results/extracts/interim/{name}"


def normalised(*files):
    """Input function: files of the cohort's (or the {extract}'s) normalised extract."""
    def inputs(wildcards):
        base = normalised_dir(extract_of(wildcards))
        return [f"{base}/{f}" for f in files]
    return inputs


def panel_file(wildcards):
    return f"{normalised_dir(extract_of(wildcards))}/panel.parquet"


def blocks_dir(wildcards):
    return f"{normalised_dir(extract_of(wildcards))}/blocks"


def raw_register_files(wildcards):
    """The extract's raw register files (the demo's expected files when it is generated)."""
    ext = config["extracts"][wildcards.extract]
    folder = Path(ext["path"])
    if "demo" in ext:
        return [str(folder / f) for f in demo_file_names(ext["demo"]["profile"])
                if Path(f).stem in REGISTER_FILES]
    return sorted(str(p) for p in folder.glob("*") if p.suffix.lower() in FORMATS
                  and p.stem.lower() in REGISTER_FILES)


def cohort_files(wildcards):
    """The cohort's own files in the extract folder: participant list and questionnaires."""
    cohort = COHORTS[wildcards.cohort]
    ext = config["extracts"][cohort["extract"]]
    folder = Path(ext["path"])
    if "demo" in ext:
        return [str(folder / f) for f in demo_file_names(ext["demo"]["profile"])
                if Path(f).stem not in REGISTER_FILES]
    found = []
    for named in (cohort["participants_file"], cohort["progression"]["questionnaire_file"]):
        stem = Path(named).stem
        for p in [folder / named, *(folder / f"{stem}{e}" for e in FORMATS)]:
            if p.exists() and str(p) not in found:
                found.append(str(p))
                break
    return found


def demo_outputs(name):
    ext = config["extracts"][name]
    return [protected(str(Path(ext["path"]) / f)) for f in demo_file_names(ext["demo"]["profile"])]


def _subset(c, keys):
    """The cohort settings named by dotted keys, e.g. ("matching", "disclosure.min_cell")."""
    out = {}
    for key in keys:
        src, dst = c, out
        parts = key.split(".")
        for part in parts[:-1]:
            src = src[part]
            dst = dst.setdefault(part, {})
        dst[parts[-1]] = src[parts[-1]]
    return out


def _extract_params(name, cohort=None):
    e = {"name": name, "path": config["extracts"][name]["path"], "normalised": normalised_dir(name),
         "columns": EXTRACT_COLUMNS[name]}
    if cohort is not None:
        e["files"] = {"participants": cohort["participants_file"],
                      "questionnaires": cohort["progression"]["questionnaire_file"]}
    return e


def rule_params(*keys, codes=False, labels=False, extract=False, whole=False):
    """A rule's `params`: only the settings it uses, so that changing any other setting does
    not re-run it. `keys` are dotted cohort keys; `whole` passes the whole cohort (report)."""
    def params(wildcards):
        out = {}
        if "cohort" in wildcards.keys():
            c = COHORTS[wildcards.cohort]
            out["cohort"] = dict(c) if whole else _subset(c, keys)
            if extract:
                out["extract"] = _extract_params(c["extract"], c)
                out["extract_dir"] = extract_dir(wildcards.cohort)
        elif extract:
            out["extract"] = _extract_params(wildcards.extract)
            if extract == "raw":
                out["extract"]["raw"] = True
        if codes:
            out["dream_codes"] = DREAM_CODES
        if labels:
            out["labels"] = LABELS if labels is True else {k: LABELS[k] for k in labels}
        if labels is True:          # reader text: new wording renders it again
            out["wording"] = WORDING
        if whole:
            out["config_hash"] = config_hash({"cohort": COHORTS[wildcards.cohort], "codes": DREAM_CODES})
        return out
    return params


def mem_mb(base, per_gb_extract, per_thread=0):
    """Memory of a rule: `base` MB plus `per_gb_extract` MB per GB of extract, plus
    `per_thread` MB for each thread after the first (a second process)."""
    def f(wildcards, attempt, threads):
        return int((base + per_gb_extract * EXTRACT_MB[extract_of(wildcards)] / 1024
                    + per_thread * (threads - 1)) * attempt)
    return f


def more_than_one_block(wildcards):
    """2 threads for an extract that likely has more than one block of persons
    (panel_blocks.BLOCK_PERSONS = 100,000), else 1. The persons are not known before the
    extract is read: its size stands for them (the demo's registers take about 0.5 kB a
    person: 50 MB a block). A guess too high costs a reserved core and 800 MB of request;
    the rule counts the blocks itself and runs one process when there is one."""
    return 2 if EXTRACT_MB[extract_of(wildcards)] > 50 else 1


def runtime(base, per_gb_extract):
    """Run time limit in minutes, scaled like mem_mb."""
    def f(wildcards, attempt):
        return int((base + per_gb_extract * EXTRACT_MB[extract_of(wildcards)] / 1024) * attempt)
    return f


ECONOMICS_TABLES = ("inputs", "account", "break_even", "cash_flow", "risk", "parties", "stages", "sensitivity",
                    "subgroup_payments", "settlement", "decay_comparison")


def publish_inputs(wildcards):
    """The publish rule's inputs: the exact analysis tables it reads (interim/, never
    published) and the raw files' checksums. (Each QC job reads its one table.)"""
    c = COHORTS[wildcards.cohort]
    return {t.name: f"results/{wildcards.cohort}/interim/tables/{t.name}.csv" for t in TABLES.ANALYSIS
            if "publish" in t.readers and TABLES.enabled(t, c)} | {
        "checksums": normalised("checksums.csv")(wildcards)[0]}


def published_output(table):
    path = TABLES.path(table)
    if table.caption:
        return report(path, caption=f"../report/{table.caption}.rst", category=table.category)
    return path


def measured_decay_input(wildcards):
    """The published decay table (name "decay") for the payment model, when the cohort publishes
    it (trajectory.publish): economics.decay: measured and economics/decay_comparison.csv read it."""
    table = next(t for t in TABLES.PUBLISHED if t.name == "decay")
    return {"decay": TABLES.path(table, wildcards.cohort)} if TABLES.enabled(table, COHORTS[wildcards.cohort]) else {}


def own_language_note(wildcards):
    """In the cohort's own language the report's effect_note.html is the note (byte for byte):
    note_in_language copies it rather than render it again."""
    if wildcards.lang == COHORTS[wildcards.cohort]["language"]:
        return {"own_language": f"results/{wildcards.cohort}/report/effect_note.html"}
    return {}


def published_tables(wildcards):
    """The published tables (name -> CSV path) after disclosure control: the ONLY input of
    the note, the workbook, the figures and the index. A suppressed cell holds its marker
    text ("<5" small, "x" complementary)."""
    c = COHORTS[wildcards.cohort]
    tables = {t.name: TABLES.path(t, wildcards.cohort) for t in TABLES.PUBLISHED
              if t.reader and TABLES.enabled(t, c)}
    if c["economics"]["enabled"]:
        tables |= {f"econ_{n}": f"results/{wildcards.cohort}/economics/{n}.csv" for n in ECONOMICS_TABLES}
    return tables


def economics_targets():
    """The payment workbook of every cohort with economics.enabled."""
    return [f"results/{c}/economics/payment_model.xlsx" for c, v in COHORTS.items()
            if v["economics"]["enabled"]]


def language_notes():
    """effect_note.<lang>.html for every language a cohort lists under `languages`."""
    return [f"results/{c}/report/effect_note.{lang}.html" for c, v in COHORTS.items() for lang in v["languages"]]


def release_files():
    """Every file that may leave the research environment: what the release manifest lists."""
    out = ["results/index.html", *language_notes()]
    for c, v in COHORTS.items():
        out += [TABLES.path(t, c) for t in TABLES.PUBLISHED]     # a switched-off table is written empty
        out += [f"results/{c}/report/{f}" for f in ("effect_note.html", "tables.xlsx", "figures")]
        # the audit (disclosure/) is for the output checker: its intervals and relation names
        # say more than the markers, so it does not leave with the results
        if v["economics"]["enabled"]:
            # the tornado chart is the report's (report/figures/tornado.*, the catalogue's words)
            out += [f"results/{c}/economics/{f}" for f in (*(f"{n}.csv" for n in ECONOMICS_TABLES),
                                                           "payment_model.xlsx")]
    return out


def all_targets():
    qc = [TABLES.path(t, c) for t in TABLES.PUBLISHED if t.rule == "publish_qc" for c in COHORTS]
    return ([f"results/{c}/report/effect_note.html" for c in COHORTS] + language_notes() + ["results/index.html"]
            + economics_targets() + qc + ["results/release.csv"])
