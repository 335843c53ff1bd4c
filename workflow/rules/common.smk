# Helpers shared by the rules: config validation, cohort files, extract file lists.
import sys
from pathlib import Path

sys.path.insert(0, str(Path(workflow.basedir) / "src"))
from sibeval.config import config_hash, load_validated, load_yaml, validate  # noqa: E402
from sibeval.demo import demo_file_names  # noqa: E402
from sibeval.errors import ConfigError  # noqa: E402

SCHEMAS = Path(workflow.basedir) / "workflow" / "schemas"
CONTRACT_FILES = ("participants", "dream", "bef", "eindkomst", "vnds", "dod", "udda", "lpr",
                  "questionnaires")
FORMATS = (".parquet", ".csv", ".sas7bdat", ".dta")


def _load_config():
    try:
        validate(config, load_yaml(SCHEMAS / "config.schema.yaml"), "config/config.yaml (with --config)")
        cohorts = {}
        for name in config["cohorts"]:
            path = Path(config["cohort_dir"]) / f"{name}.yaml"
            if not path.exists():
                raise ConfigError(f"cohorts: '{name}' has no file {path}; available: "
                                  f"{sorted(p.stem for p in Path(config['cohort_dir']).glob('*.yaml'))}")
            c = load_validated(path, SCHEMAS / "cohort.schema.yaml")
            if c["extract"] not in config["extracts"]:
                raise ConfigError(f"{path}: extract: '{c['extract']}' is not in config.yaml extracts "
                                  f"({', '.join(config['extracts'])})")
            c["name"] = name
            c["source"] = str(path)
            cohorts[name] = c
        return cohorts
    except ConfigError as exc:
        raise WorkflowError(str(exc)) from None


COHORTS = _load_config()
DREAM_CODES = load_yaml(config["dream_codes"])
LABELS = load_yaml(config["labels"])
DEMO_EXTRACTS = [n for n, e in config["extracts"].items() if "demo" in e]


wildcard_constraints:
    cohort="|".join(COHORTS) or "NONE",


def cohort_cfg(wildcards):
    return COHORTS[wildcards.cohort]


def extract_dir(cohort):
    return config["extracts"][COHORTS[cohort]["extract"]]["path"]


def extract_files(wildcards):
    """The extract's contract files (the demo's expected files when it is generated)."""
    name = COHORTS[wildcards.cohort]["extract"]
    ext = config["extracts"][name]
    folder = Path(ext["path"])
    if "demo" in ext:
        return [str(folder / f) for f in demo_file_names(ext["demo"]["profile"])]
    found = sorted(str(p) for p in folder.glob("*") if p.suffix.lower() in FORMATS
                   and p.stem.lower() in CONTRACT_FILES)
    cohort = COHORTS[wildcards.cohort]
    for named in (cohort["participants_file"], cohort["progression"]["questionnaire_file"]):
        if (folder / named).exists() and str(folder / named) not in found:
            found.append(str(folder / named))
    return found


def demo_outputs(name):
    ext = config["extracts"][name]
    return [protected(str(Path(ext["path"]) / f)) for f in demo_file_names(ext["demo"]["profile"])]


def run_params(wildcards):
    """Everything a script needs besides files: the cohort, code table and labels."""
    c = COHORTS[wildcards.cohort]
    return {
        "cohort": c,
        "extract_dir": extract_dir(wildcards.cohort),
        "dream_codes": DREAM_CODES,
        "labels": LABELS,
        "config_hash": config_hash({"cohort": c, "codes": DREAM_CODES}),
    }


def published_tables(wildcards):
    """The published tables (name -> CSV path): the ONLY input of the note, the workbook,
    the figures and the index. Each keeps the columns of the analysis table it comes from;
    a suppressed cell holds its marker text (e.g. "<5")."""
    r = f"results/{wildcards.cohort}"
    tables = {
        "extract_summary": f"{r}/qc/extract_summary.csv",
        "flow": f"{r}/outcomes/flow.csv",
        "table1": f"{r}/outcomes/table1.csv",
        "effects": f"{r}/effects/effects.csv",
        "status_distribution": f"{r}/effects/status_distribution.csv",
        "hours_wage": f"{r}/effects/hours_wage.csv",
        "subgroups": f"{r}/effects/subgroups.csv",
        "placebo": f"{r}/effects/placebo.csv",
        "diagnostics": f"{r}/effects/diagnostics.csv",
        "balance": f"{r}/matching/balance.csv",
        "match_summary": f"{r}/matching/match_summary.csv",
        # BRIDGE until publish rule: profile and overlap come from rule report_bridge
        "profile": f"{r}/report_tmp/profile.csv",
        "overlap": f"{r}/report_tmp/overlap.csv",
    }
    if COHORTS[wildcards.cohort]["progression"]["enabled"]:
        tables |= {"progression_flow": f"{r}/progression/flow.csv",
                   "progression_items": f"{r}/progression/items.csv",
                   "who5": f"{r}/progression/who5.csv",
                   "who5_bands": f"{r}/progression/who5_bands.csv"}
    return tables


def economics_targets():
    """The payment workbook of every cohort with economics.enabled."""
    return [f"results/{c}/economics/payment_model.xlsx" for c, v in COHORTS.items()
            if v["economics"]["enabled"]]


def all_targets():
    return ([f"results/{c}/report/effect_note.html" for c in COHORTS] + ["results/index.html"]
            + economics_targets())
