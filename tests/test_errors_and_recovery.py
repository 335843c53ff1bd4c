"""Bad or unusual deliveries (issue 16): each stops with a message naming file, column or
rule, count and an example row (never a pnr, never a traceback), or runs correctly.

Library-level cases use a small hand-built extract (`world`); the Snakemake-level cases
run the rules on the same extract to check what the user sees on the console and in the log.
"""

import functools
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import ROOT, copy_workflow, dream_frame, questionnaire_rows, write_extract
from sibeval.design.candidates import build_candidates, eligibility_funnel
from sibeval.design.cohort import participant_flow, require_publishable
from sibeval.errors import ExtractError, SibevalError, file_rows, months, plain
from sibeval.extract.panel import build_panel
from sibeval.extract.qc import extract_summary
from sibeval.extract.readers import Extract

N_PART, N_POOL = 8, 30
PART = [f"01018{i:05d}" for i in range(N_PART)]            # CPR-shaped, so a leak is visible
POOL = [f"02029{i:05d}" for i in range(N_POOL)]
ELIGIBILITY = {"sex": [1, 2], "non_western": None, "age_min": 25, "age_max": 64,
               "benefit_groups": ["kontanthjaelp", "shy"], "exclude_participant_municipalities": False,
               "no_employment_in_index_month": True}


def participants_frame(n=N_PART, start="2020-01-06", end="2020-06-30", kommune=751):
    return pd.DataFrame({"pnr": PART[:n], "kommune": [kommune] * n,
                         "visitation_dato": ["2019-12-02"] * n,
                         "start_dato": [start] * n, "slut_dato": [end] * n})


def bef_frame(persons=PART + POOL, years=range(2016, 2022), foed_dag=None):
    rows = []
    for i, p in enumerate(persons):
        for y in years:
            rows.append({"pnr": p, "aar": y, "koen": 1 + i % 2,
                         "foed_dag": (foed_dag or {}).get(p, f"{1960 + i % 30}-03-0{1 + i % 9}"),
                         "ie_type": 1 + i % 3, "opr_land": ["DNK", "IRQ", "SOM"][i % 3],
                         "civst": "U", "samlev": i % 2, "kom": 751 if p in PART else 101})
    df = pd.DataFrame(rows)
    df["foed_dag"] = pd.to_datetime(df["foed_dag"])
    return df


def dream_all(persons=PART + POOL, code="132", years=(2016, 2021)):
    from sibeval.extract.timegrid import iso_weeks
    return dream_frame({p: {w: code for w in iso_weeks(*years)} for p in persons}, years=years)


def world(tmp_path, participants=None, bef=None, dream=None, **kw) -> Path:
    """A hand-built extract: 8 participants from municipality 751 (start 2020-01, end
    2020-06) and 30 others, everyone on cash benefit (code 132) in 2016-2021."""
    ek = pd.DataFrame({"pnr": POOL[:5], "maaned": ["2019-05"] * 5, "loen": [1000.0] * 5, "timer": [10.0] * 5})
    return write_extract(tmp_path / "ex", participants=participants_frame() if participants is None else participants,
                         bef=bef_frame() if bef is None else bef, dream=dream_all() if dream is None else dream,
                         eindkomst=ek, **kw)


def candidates(folder, codes, municipalities=(751,), eligibility=None, birth="stop"):
    """What rule build_candidates does, on the library."""
    ex = Extract(folder)
    files = {n: ex.file(n) for n in ("participants", "bef", "dream")}
    part, bef = ex.participants(), ex.bef()
    analysed, flow = participant_flow(part, bef, list(municipalities), birth, files)
    panel = build_panel(ex.dream(codes), ex.eindkomst(), codes)
    cand, funnel = build_candidates(analysed, set(part["pnr"]), panel, bef, codes,
                                    eligibility or ELIGIBILITY, set(), municipalities=list(municipalities),
                                    files=files)
    return analysed, flow, cand, funnel


def no_pnr(msg):
    leaked = [p for p in PART + POOL + ["A", "B"] if re.search(rf"(?<![\w']){re.escape(p)}(?![\w'])", msg)
              and len(p) > 1]
    assert not leaked, f"pnr in message: {leaked}: {msg}"
    assert "np.int64" not in msg and "np.float64" not in msg and "Traceback" not in msg, msg


def raises(fn, *needles, error=SibevalError):
    with pytest.raises(error) as exc:
        fn()
    msg = str(exc.value)
    for n in needles:
        assert n in msg, f"{n!r} not in: {msg}"
    no_pnr(msg)
    return msg


# --------------------------------------------------------------------------- the world runs
def test_the_hand_built_world_gives_candidates_and_a_funnel(tmp_path, codes):
    analysed, flow, cand, funnel = candidates(world(tmp_path), codes)
    assert len(analysed) == N_PART and int(cand.treated.sum()) == N_PART
    assert (cand.treated == 0).sum() == N_POOL
    assert list(funnel["rule"]) == ["population", "in_bef", "sex", "age", "benefit_group",
                                    "resident_alive", "no_employment", "never_referred"]
    f = funnel.set_index("rule")
    assert f.loc["population", "persons"] == N_PART + N_POOL
    assert f.loc["never_referred", "persons"] == N_POOL and f.loc["never_referred", "rows"] == N_POOL
    # the five persons with a wage in 2019-05 are not the index month's employed (2020-01)
    assert f.loc["no_employment", "persons"] == N_PART + N_POOL


# --------------------------------------------------------------------------- 1, 2, 9
def test_no_participant_in_bef(tmp_path, codes):
    ex = world(tmp_path, bef=bef_frame(POOL))
    raises(lambda: candidates(ex, codes), "bef.parquet", "column 'pnr'",
           f"none of the {N_PART} started participants of", "participants.csv", f"({N_PART} row(s)",
           "participants.csv row 2", error=ExtractError)


def test_every_participant_still_in_the_programme(tmp_path, codes):
    ex = world(tmp_path, participants=participants_frame(end=""))
    raises(lambda: candidates(ex, codes), "participants.csv", "column 'slut_dato'",
           "no participant has ended", f"({N_PART} row(s)", "need ended spells", error=ExtractError)


def test_no_participant_from_the_cohort_municipalities(tmp_path, codes):
    ex = world(tmp_path, participants=participants_frame(kommune=621))
    raises(lambda: candidates(ex, codes, municipalities=(751,)), "participants.csv", "column 'kommune'",
           "none of the 8 referred participants", "(751)", "kommune 621 (8 participants)",
           "set municipalities:", error=ExtractError)


def test_no_participant_started(tmp_path, codes):
    ex = world(tmp_path, participants=participants_frame(start="", end=""))
    raises(lambda: candidates(ex, codes), "participants.csv", "column 'start_dato'",
           "no participant has started", error=ExtractError)


# --------------------------------------------------------------------------- 3
def _bad_birth(tmp_path):
    born = {PART[2]: "2021-01-01", PART[5]: "2010-06-01"}    # after start; aged 9 at start
    return world(tmp_path, bef=bef_frame(foed_dag=born))


def test_birth_date_after_start_or_implausible_age_stops(tmp_path, codes):
    ex = _bad_birth(tmp_path)
    # bef rows are one per person and year 2016-2021: participant 2 (3rd person) has rows
    # 13-18, and its 2020 row (the start year) is row 17
    raises(lambda: candidates(ex, codes), "bef.parquet", "column 'foed_dag'", "(2 row(s)",
           "after start_dato", "15-100", "row 17 (participants.csv row 4)",
           "row 35 (participants.csv row 7)", "birth_date_problems: exclude", error=ExtractError)


def test_birth_date_problems_exclude_with_a_flow_reason(tmp_path, codes):
    analysed, flow, cand, _ = candidates(_bad_birth(tmp_path), codes, birth="exclude")
    assert len(analysed) == N_PART - 2 and PART[2] not in set(cand.pnr) and PART[5] not in set(cand.pnr)
    row = flow.set_index("step").loc["valid_birth_date"]
    assert row["n"] == N_PART - 2 and row["excluded"] == 2 and "birth date" in row["reason"]


def test_birth_date_option_is_in_the_schema_with_a_default():
    s = yaml.safe_load((ROOT / "workflow" / "schemas" / "cohort.schema.yaml").read_text())
    opt = s["properties"]["birth_date_problems"]
    assert opt["default"] == "stop" and set(opt["enum"]) == {"stop", "exclude"} and opt["description"]


# --------------------------------------------------------------------------- 4, 6
def test_start_beyond_the_dream_weeks(tmp_path, codes):
    p = participants_frame()
    p.loc[3, ["start_dato", "slut_dato"]] = ["2030-01-07", "2030-03-01"]
    ex = world(tmp_path, participants=p)
    raises(lambda: candidates(ex, codes), "participants.csv", "column 'start_dato'", "(1 row(s)",
           "outside the months covered by", "dream.parquet", "row 5: 2030-01", error=ExtractError)


def test_start_without_36_months_of_history(tmp_path, codes):
    p = participants_frame()
    p.loc[0, "start_dato"] = "2017-05-02"
    ex = world(tmp_path, participants=p)
    raises(lambda: candidates(ex, codes), "participants.csv", "column 'start_dato'", "(1 row(s)",
           "36 months", "row 2: 2017-05", error=ExtractError)


def test_participant_missing_from_dream(tmp_path, codes):
    ex = world(tmp_path, dream=dream_all([p for p in PART + POOL if p != PART[6]]))
    raises(lambda: candidates(ex, codes), "participants.csv", "column 'pnr'", "not found in",
           "dream.parquet", "(1 row(s)", "row 8", error=ExtractError)


# --------------------------------------------------------------------------- 5
def test_empty_eligible_pool_names_the_funnel(tmp_path, codes):
    ex = world(tmp_path)
    msg = raises(lambda: candidates(ex, codes, eligibility={**ELIGIBILITY, "age_min": 90, "age_max": 99}),
                 "no candidate met the eligibility rules", "1 index month(s) (2020-01)",
                 "population 38 -> in_bef 38 -> sex 38 -> age 0", "age_min/age_max")
    assert "treatment" not in msg


def test_funnel_counts_each_rule_over_index_months(tmp_path, codes):
    ex = Extract(world(tmp_path))
    panel = build_panel(ex.dream(codes), ex.eindkomst(), codes)
    only_men = {**ELIGIBILITY, "sex": [1]}
    f = eligibility_funnel(panel, ex.bef(), [months_idx("2020-01"), months_idx("2020-02")], only_men,
                           set(), set(PART)).set_index("rule")
    men = sum(1 for i in range(N_PART + N_POOL) if i % 2 == 0)
    assert f.loc["population", "rows"] == 2 * (N_PART + N_POOL)
    assert f.loc["sex", "persons"] == men and f.loc["sex", "rows"] == 2 * men
    assert f.loc["never_referred", "persons"] == N_POOL // 2


def months_idx(label):
    y, m = label.split("-")
    return int(y) * 12 + int(m) - 1


# --------------------------------------------------------------------------- 7
def test_fewer_participants_than_min_cell_publishes_nothing():
    msg = raises(lambda: require_publishable(4, 5, "can be analysed"), "only 4 participant(s)",
                 "min_cell = 5", "nothing can be published")
    assert "'<5'" in msg
    require_publishable(5, 5, "can be analysed")     # at min_cell it runs


# --------------------------------------------------------------------------- 11
def test_messages_show_months_and_plain_numbers():
    assert months(np.int64(24240)) == "2020-01" and months([24240, 24251]) == "2020-01, 2020-12"
    assert plain([np.int64(1), np.float64(2.0), np.float64(0.5)]) == "1, 2, 0.5"
    assert plain({np.int64(3), np.int64(1)}) == "1, 3"
    assert file_rows("x/participants.csv", [0, 5]) == ["row 2", "row 7"]    # CSV line numbers
    assert file_rows("x/bef.parquet", np.array([0])) == ["row 1"]
    from sibeval.design.matching import match
    df = pd.DataFrame({"t": [1, 1], "x": [0.1, 0.2]})
    raises(lambda: match(df, "t", ["x"]), "found 1")


# --------------------------------------------------------------------------- no pnr anywhere
def _dup_dream(d):
    return pd.concat([d, d.iloc[[3]]], ignore_index=True)


def _codes_as(d, col, code):
    d = d.copy()
    d.loc[1, col] = code
    return d


PROVOKE = {
    # name: (files to write over the world, call, needles)
    "participants duplicate": ({"participants": lambda: pd.concat([participants_frame(), participants_frame(1)])},
                               "participants", ["duplicate pnr", "row 2", "row 10"]),
    "participants end before start": ({"participants": lambda: participants_frame(end="2019-12-31")},
                                      "participants", ["before start_dato", "row 2"]),
    "participants end without start": ({"participants": lambda: participants_frame(start="")},
                                       "participants", ["without start_dato", "row 2"]),
    "participants empty pnr": ({"participants": lambda: participants_frame().assign(pnr=[""] + PART[1:])},
                               "participants", ["empty values", "column 'pnr'", "row 2"]),
    "participants text kommune": ({"participants": lambda: participants_frame().assign(kommune="Aarhus")},
                                  "participants", ["not numbers", "'Aarhus'"]),
    "bef duplicate year": ({"bef": lambda: pd.concat([bef_frame(), bef_frame(PART[:1], [2016])])},
                           "bef", ["more than one row per person and year", "row 1"]),
    "bef bad koen": ({"bef": lambda: bef_frame().assign(koen=3)}, "bef", ["allowed codes", "koen"]),
    "bef not whole": ({"bef": lambda: bef_frame().assign(samlev=0.5)}, "bef", ["whole numbers"]),
    "eindkomst negative": ({"eindkomst": lambda: pd.DataFrame({"pnr": PART[:1], "maaned": ["2020-01"],
                                                                "loen": [-1.0], "timer": [1.0]})},
                           "eindkomst", ["negative"]),
    "eindkomst month": ({"eindkomst": lambda: pd.DataFrame({"pnr": PART[:1], "maaned": ["2020-13"],
                                                             "loen": [1.0], "timer": [1.0]})},
                        "eindkomst", ["not months", "'2020-13'"]),
    "dream duplicate pnr": ({"dream": lambda: _dup_dream(dream_all())}, "dream", ["duplicate pnr", "row 4", "row 39"]),
    "dream empty pnr": ({"dream": lambda: dream_all().assign(pnr=[None] + (PART + POOL)[1:])},
                        "dream", ["empty pnr", "row 1"]),
    "dream unknown code": ({"dream": lambda: _codes_as(dream_all(), "y_2005", "777")}, "dream",
                           ["unknown benefit code", "'777' (1 person-weeks)"]),
    "dream gap": ({"dream": lambda: dream_all().drop(columns=["y_2005"])}, "dream", ["gap"]),
    "dream bad column": ({"dream": lambda: dream_all().assign(uge1=None)}, "dream", ["not ISO weeks", "uge1"]),
    "vnds code": ({"vnds": lambda: pd.DataFrame({"pnr": PART[:2], "haend_dato": pd.to_datetime(["2019-01-01"] * 2),
                                                  "indud_kode": ["I", "X"]})}, "vnds", ["allowed codes", "'X'"]),
    "dod date": ({"dod": lambda: pd.DataFrame({"pnr": PART[:1], "doddato": ["31-12-2020"]})},
                 "dod", ["not dates", "'31-12-2020'"]),
    "questionnaire range": ({"questionnaires": lambda: pd.DataFrame([questionnaire_rows(PART[0], "start", who=7)])},
                            "questionnaires", ["outside 0-5", "row 2: 7"]),
    "questionnaire duplicate": ({"questionnaires": lambda: pd.DataFrame([questionnaire_rows(PART[0], "start")] * 2)},
                                "questionnaires", ["more than one questionnaire", "row 2"]),
    "questionnaire unknown person": ({"questionnaires": lambda: pd.DataFrame([questionnaire_rows(POOL[0], "start")])},
                                     "questionnaires", ["not in the participant list", "row 2"]),
}


@pytest.mark.parametrize("case", list(PROVOKE))
def test_no_pnr_in_any_validation_message(tmp_path, codes, case):
    files, name, needles = PROVOKE[case]
    ex = world(tmp_path, **{k: v() for k, v in files.items() if k in ("participants", "bef", "dream")},
               **{k: v() for k, v in files.items() if k not in ("participants", "bef", "dream", "eindkomst")})
    if "eindkomst" in files:
        files["eindkomst"]().to_parquet(ex / "eindkomst.parquet", index=False)
    msg = raises(lambda: extract_summary(Extract(ex), codes), f"{name}.", *needles, error=ExtractError)
    assert re.search(r"\(\d+ row\(s\)/person\(s\)\)", msg) or "gap" in msg or "not ISO" in msg, msg


def test_no_pnr_in_file_level_messages(tmp_path, codes):
    ex = world(tmp_path)
    (ex / "lpr.parquet").write_bytes(b"not a parquet file " + PART[0].encode())
    raises(lambda: Extract(ex).lpr(), "lpr.parquet", "cannot be read", error=ExtractError)
    (ex / "lpr.parquet").unlink()
    shutil.copy(ex / "bef.parquet", ex / "udda.parquet")
    raises(lambda: Extract(ex).udda(), "udda.parquet", "required column(s) missing: hfaudd", error=ExtractError)
    pd.DataFrame({"pnr": PART[:1], "maaned": ["2020-01"], "loen": [1.0], "timer": [1.0]}).to_csv(
        ex / "eindkomst.csv", index=False)
    raises(lambda: Extract(ex).eindkomst(), "more than one file for 'eindkomst'", error=ExtractError)
    (ex / "eindkomst.csv").unlink()
    (ex / "bef.parquet").unlink()
    raises(lambda: Extract(ex).bef(), "required file 'bef' is missing", error=ExtractError)
    raises(lambda: Extract(tmp_path / "nowhere"), "extract folder not found", error=ExtractError)
    dream_all().assign(y_2060=None).to_parquet(ex / "dream.parquet", index=False)
    raises(lambda: Extract(ex).dream_weeks(), "week numbers that do not exist", "y_2060", error=ExtractError)
    dream_all()[["pnr"]].to_parquet(ex / "dream.parquet", index=False)
    raises(lambda: Extract(ex).dream_weeks(), "no week columns", error=ExtractError)


# --------------------------------------------------------------------------- Snakemake level
def _workflow(tmp_path, extract: Path, **cohort) -> Path:
    wd = copy_workflow(tmp_path / "wd")
    cfg = yaml.safe_load((wd / "config" / "config.yaml").read_text())
    cfg["cohorts"] = ["hand"]
    cfg["extracts"] = {"hand": {"path": str(extract)}}
    (wd / "config" / "config.yaml").write_text(yaml.safe_dump(cfg))
    c = {"title": "Hand-built", "extract": "hand", "municipalities": [751], "follow_up_months": 2,
         "eligibility": ELIGIBILITY, "covariates": ["age", "female"], "progression": {"enabled": False},
         **cohort}
    (wd / "config" / "cohorts" / "hand.yaml").write_text(yaml.safe_dump(c))
    return wd


def _snakemake(wd, *targets):
    r = subprocess.run([sys.executable, "-m", "snakemake", "--cores", "1", "--directory", str(wd),
                        "--snakefile", str(wd / "Snakefile"), *targets],
                       capture_output=True, text=True, timeout=600)
    return r, r.stdout + r.stderr


CANDIDATES = "results/hand/interim/candidates.parquet"
FUNNEL = "results/hand/qc/eligibility_funnel.csv"   # through the boundary (rule publish_qc)


@pytest.mark.workflow
def test_console_names_rule_cohort_and_log_and_the_log_has_the_message(tmp_path):
    wd = _workflow(tmp_path, world(tmp_path, bef=bef_frame(POOL + PART[:0])))
    r, out = _snakemake(wd, CANDIDATES)
    assert r.returncode != 0
    assert "rule build_candidates, cohort hand stopped" in out
    assert "log: results/hand/interim/logs/build_candidates.log" in out
    assert "none of the 8 started participants" in out and "Traceback" not in out
    no_pnr(out)
    logged = (wd / "results" / "hand" / "interim" / "logs" / "build_candidates.log").read_text()
    assert "none of the 8 started participants" in logged
    assert not (wd / CANDIDATES).exists()          # a stopped rule leaves none of its outputs
    assert not (wd / "results" / "hand" / "interim" / "tables" / "eligibility_funnel.csv").exists()
    # the cohort's QC summary comes first (rule cohort_qc): written although the search stops
    assert (wd / "results" / "hand" / "interim" / "tables" / "extract_summary.csv").exists()


@pytest.mark.workflow
def test_a_bad_questionnaire_stops_the_cohort_before_the_candidate_search(tmp_path):
    """The QC summary checks the cohort's questionnaires before the search starts (on a cluster,
    at the start of the cohort's job, so that no analysis output is made and thrown away)."""
    q = pd.DataFrame([questionnaire_rows(PART[0], "start", who=7)])
    wd = _workflow(tmp_path, world(tmp_path, questionnaires=q), progression={"enabled": True})
    r, out = _snakemake(wd, CANDIDATES)
    assert r.returncode != 0
    assert "rule cohort_qc, cohort hand stopped" in out and "outside 0-5" in out, out[-3000:]
    assert not (wd / "results" / "hand" / "interim" / "logs" / "build_candidates.log").exists()
    assert not (wd / CANDIDATES).exists()


@pytest.mark.workflow
def test_unexpected_exception_reaches_the_log_with_traceback(tmp_path):
    wd = _workflow(tmp_path, world(tmp_path))
    script = wd / "workflow" / "scripts" / "build_candidates.py"
    script.write_text(script.read_text().replace(
        "    ctx = context(smk)\n",
        "    ctx = context(smk)\n    raise ValueError('No objects to concatenate ' + '0101800003')\n", 1))
    r, out = _snakemake(wd, CANDIDATES)
    assert r.returncode != 0
    assert "rule build_candidates, cohort hand failed with an unexpected error" in out
    assert "ValueError: No objects to concatenate" in out and "results/hand/interim/logs/build_candidates.log" in out
    assert "Traceback" not in out and "0101800003" not in out
    logged = (wd / "results" / "hand" / "interim" / "logs" / "build_candidates.log").read_text()
    assert "Traceback (most recent call last)" in logged and "build_candidates.py" in logged
    assert "0101800003" not in logged and "<pnr>" in logged


@pytest.mark.workflow
def test_funnel_is_published_in_qc_with_small_counts_hidden(tmp_path):
    wd = _workflow(tmp_path, world(tmp_path), disclosure={"min_cell": 5},
                   eligibility={**ELIGIBILITY, "sex": [1]})
    r, out = _snakemake(wd, FUNNEL)
    assert r.returncode == 0, out[-3000:]
    f = pd.read_csv(wd / "results" / "hand" / "qc" / "eligibility_funnel.csv", dtype=str).set_index("rule")
    assert f.loc["population", "persons"] == "38" and "never_referred" not in f.index   # the participants' rule
    # a rule whose exclusion would be small (1-4) is merged into the next one
    persons = f["persons"].astype(int).to_numpy()
    assert not ((persons[:-1] - persons[1:] >= 1) & (persons[:-1] - persons[1:] < 5)).any()
    assert f.loc["sex", "persons"] == "19"   # the men of the pool and the participants


@pytest.mark.workflow
def test_funnel_leaves_out_the_rule_that_removes_the_participants(tmp_path):
    """The last rule (not in the participant list) would count the referred persons eligible
    in some month; the published funnel ends before it."""
    p = participants_frame()
    wd = _workflow(tmp_path, world(tmp_path, participants=p, bef=bef_frame(PART + POOL[:3])),
                   disclosure={"min_cell": 5})
    r, out = _snakemake(wd, FUNNEL)
    assert r.returncode == 0, out[-3000:]
    f = pd.read_csv(wd / "results" / "hand" / "qc" / "eligibility_funnel.csv", dtype=str).set_index("rule")
    assert "never_referred" not in f.index and f.loc["population", "persons"] == "38"
    assert f.index[-1] == "no_employment"


# --------------------------------------------------------------------------- 9: README example
def _readme_steps():
    """The code blocks of the README's "Adding a cohort" section, in order."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## Adding a cohort")[1].split("\n## ")[0]
    return [(lang, textwrap.dedent(body)) for lang, body in
            re.findall(r"^ *```(\w+)\n(.*?)^ *```", section, flags=re.S | re.M)]


def _shell(line, wd):
    if line.startswith("sibeval ") and not shutil.which("sibeval"):
        line = f"{sys.executable} -m sibeval.cli {line[len('sibeval '):]}"
    return subprocess.run(line, shell=True, cwd=wd, capture_output=True, text=True, timeout=900)


@pytest.mark.workflow
def test_readme_adding_a_cohort_works_as_written(tmp_path):
    steps = _readme_steps()
    assert [lang for lang, _ in steps] == ["bash", "yaml", "bash", "yaml", "bash"], steps
    wd = copy_workflow(tmp_path / "wd")
    config, cohort_edits, cohort_file = None, None, None
    for lang, body in steps:
        if lang == "bash":
            for line in [x for x in body.splitlines() if x.strip() and not x.startswith("#")]:
                if line.startswith("cp "):
                    cohort_file = wd / line.split()[-1]
                r = _shell(line, wd)
                assert r.returncode == 0, f"{line}\n{r.stdout[-2000:]}\n{r.stderr[-3000:]}"
        elif config is None:          # step 1: add to config/config.yaml
            config = yaml.safe_load(body)
            path = wd / "config" / "config.yaml"
            cfg = yaml.safe_load(path.read_text())
            cfg["cohorts"] = config["cohorts"]
            cfg["extracts"].update(config["extracts"])
            path.write_text(yaml.safe_dump(cfg, allow_unicode=True))
        else:                          # step 2: change these lines of the copied cohort file
            cohort_edits = body
            text = cohort_file.read_text()
            for line in body.splitlines():
                key = line.split(":")[0]
                assert re.search(rf"(?m)^{key}:", text), f"{key} is not a line of the copied file"
                text = re.sub(rf"(?m)^{key}:.*$", lambda _m, line=line: line, text)
            cohort_file.write_text(text)
    name = cohort_file.stem
    assert name in config["cohorts"] and f"extract: {name}" in cohort_edits
    note = wd / "results" / name / "report" / "effect_note.html"
    assert note.exists() and "Aarhus" in note.read_text()
    flow = pd.read_csv(wd / "results" / name / "interim" / "tables" / "flow.csv").set_index("step")["n"]
    assert flow["in_cohort_municipalities"] == flow["referred"]   # municipalities: [751] took everyone
    assert (wd / "results" / name / "qc" / "eligibility_funnel.csv").exists()


# --------------------------------------------------------------------------- 7: small cohorts
@pytest.fixture(scope="module")
def kolding_small(tmp_path_factory):
    from sibeval.demo.generate import generate
    out = tmp_path_factory.mktemp("kolding_small")
    generate(out, seed=20220629, pool_size=2000, profile="kolding_ny_start")
    return out


def _few_participants(kolding_small, tmp_path, n):
    ex = tmp_path / "few"
    shutil.copytree(kolding_small, ex)
    for f in ex.iterdir():
        f.chmod(0o644)
    p = pd.read_csv(ex / "participants.csv", sep=";", dtype=str)
    p[p.start_dato.notna() & p.slut_dato.notna()].head(n).to_csv(ex / "participants.csv", sep=";", index=False)
    cohort = yaml.safe_load((ROOT / "config" / "cohorts" / "kolding_ny_start.yaml").read_text())
    cohort.pop("extract")
    return _workflow(tmp_path, ex, **{k: v for k, v in cohort.items() if k != "title"})


@pytest.mark.workflow
@pytest.mark.xdist_group("kolding_small")
def test_cohort_below_min_cell_says_nothing_can_be_published(kolding_small, tmp_path):
    wd = _few_participants(kolding_small, tmp_path, 4)
    r, out = _snakemake(wd)
    assert r.returncode != 0
    assert "rule build_candidates, cohort hand stopped: only 4 participant(s) can be analysed" in out
    assert "min_cell = 5" in out and "nothing can be published" in out and "Traceback" not in out
    assert not (wd / "results" / "hand" / "report").exists()


@pytest.mark.workflow
@pytest.mark.xdist_group("kolding_small")
def test_small_cohort_above_min_cell_runs_with_warnings(kolding_small, tmp_path):
    wd = _few_participants(kolding_small, tmp_path, 8)
    r, out = _snakemake(wd)
    assert r.returncode == 0, out[-4000:]
    assert "only 8 participants can be analysed" in out
    assert (wd / "results" / "hand" / "report" / "effect_note.html").exists()
    flow = pd.read_csv(wd / "results" / "hand" / "interim" / "tables" / "flow.csv").set_index("step")["n"]
    assert str(flow["referred"]) == "8"


# --------------------------------------------------------------------------- 10: interrupted run
@pytest.mark.workflow
def test_an_interrupted_run_is_resumed_with_rerun_incomplete(tmp_path):
    """A run killed while a rule is writing its outputs leaves them marked incomplete; the
    plain rerun names --rerun-incomplete (README: Troubleshooting), which then completes."""
    wd = _workflow(tmp_path, world(tmp_path))
    script = wd / "workflow" / "scripts" / "build_candidates.py"
    original = script.read_text()
    script.write_text(original.replace(
        "    write_parquet(analysed,", "    __import__('time').sleep(120)\n    write_parquet(analysed,", 1))
    cmd = [sys.executable, "-m", "snakemake", "--cores", "1", CANDIDATES]
    p = subprocess.Popen(cmd, cwd=wd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True)
    try:
        for _ in range(600):
            if (wd / CANDIDATES).exists() or p.poll() is not None:
                break
            time.sleep(0.2)
        assert (wd / CANDIDATES).exists(), "the rule did not start"
    finally:
        os.killpg(p.pid, signal.SIGKILL)       # a closed terminal / killed session
        p.wait(timeout=60)
    script.write_text(original)
    run = functools.partial(subprocess.run, cwd=wd, capture_output=True, text=True, timeout=600)
    assert run([*cmd, "--unlock"]).returncode == 0
    r = run(cmd)
    assert r.returncode != 0 and "--rerun-incomplete" in r.stdout + r.stderr
    readme = (ROOT / "README.md").read_text().split("## Troubleshooting")[1].split("\n## ")[0]
    assert "IncompleteFilesException" in readme and "--rerun-incomplete" in readme and "--unlock" in readme
    r = run([*cmd, "--rerun-incomplete"])
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    assert pd.read_parquet(wd / CANDIDATES)["treated"].sum() == N_PART


# --------------------------------------------------------------------------- command line
def test_version_and_demo_help_describe_every_option(capsys):
    from sibeval import __version__
    from sibeval.cli import main, parser
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0 and capsys.readouterr().out.strip() == f"sibeval {__version__}"
    with pytest.raises(SystemExit):
        main(["demo", "--help"])
    help_text = capsys.readouterr().out
    demo = next(a for a in parser()._subparsers._group_actions[0].choices.items() if a[0] == "demo")[1]
    for action in demo._actions:
        if action.option_strings and action.dest != "help":
            assert action.help and action.option_strings[-1] in help_text, action.dest
    assert "--municipality" in help_text and "--pool-size" in help_text and "default: 20221101" in help_text


def test_demo_municipality_replaces_the_participants_codes(tmp_path):
    from sibeval.cli import main
    assert main(["demo", "--out", str(tmp_path / "d"), "--profile", "kolding_ny_start", "--pool-size", "1000",
                 "--municipality", "751"]) == 0
    p = pd.read_csv(tmp_path / "d" / "participants.csv", sep=";")
    assert set(p["kommune"]) == {751}
    bef = pd.read_parquet(tmp_path / "d" / "bef.parquet")
    assert set(bef.loc[bef.pnr.isin(p.pnr.astype(str).str.zfill(10)), "kom"]) == {751}


# --------------------------------------------------------------------------- what the user sees
def _start_2030():
    p = participants_frame()
    p.loc[3, ["start_dato", "slut_dato"]] = ["2030-01-07", "2030-03-01"]
    return {"participants": p}


CONSOLE = {
    "2 nobody ended": (lambda: {"participants": participants_frame(end="")}, {},
                       ["participants.csv, column 'slut_dato': no participant has ended", "(8 row(s)"]),
    "3 birth date": (lambda: {"bef": bef_frame(foed_dag={PART[2]: "2021-01-01"})}, {},
                     ["bef.parquet, column 'foed_dag'", "(1 row(s)", "row 17 (participants.csv row 4)"]),
    "4 start beyond DREAM": (_start_2030, {}, ["participants.csv, column 'start_dato'", "row 5: 2030-01"]),
    "5 empty pool": (dict, {"eligibility": {**ELIGIBILITY, "benefit_groups": ["shy"]}},
                     ["no candidate met the eligibility rules", "benefit_group 0"]),
    "6 not in DREAM": (lambda: {"dream": dream_all([p for p in PART + POOL if p != PART[0]])}, {},
                       ["participants.csv, column 'pnr': participant(s) not found in dream.parquet", "row 2"]),
    "9 municipality": (dict, {"municipalities": [461]}, ["none of the 8 referred participants", "(461)"]),
}


@pytest.mark.workflow
@pytest.mark.parametrize("case", list(CONSOLE))
def test_the_console_shows_the_message_without_traceback_or_pnr(tmp_path, case):
    files, cohort, needles = CONSOLE[case]
    wd = _workflow(tmp_path, world(tmp_path, **files()), **cohort)
    r, out = _snakemake(wd, CANDIDATES)
    assert r.returncode != 0
    assert "rule build_candidates, cohort hand stopped: " in out
    assert "results/hand/interim/logs/build_candidates.log" in out
    for n in needles:
        assert n in out, f"{n!r} not in console:\n{out[-3000:]}"
    no_pnr(out)
    no_pnr((wd / "results" / "hand" / "interim" / "logs" / "build_candidates.log").read_text())
