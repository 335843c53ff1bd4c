"""Checks of one workflow run on a generated scenario (used by tests/test_scenarios.py and
bench/scenarios.py): publish or the expected stop, the audit, counts that appear in two
places, Table 1 against a deliberately slow re-implementation of the data contract's status
rules, and whether the headline CI covers the generator's true effect."""

from __future__ import annotations

import datetime as dt
import functools
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from sibeval.demo.scenarios import Scenario, generate, prepare_workdir
from sibeval.publish.flows import GROUPED_REASON

ROOT = Path(__file__).resolve().parents[1]


def run_scenario(sc: Scenario, wd: Path, cores: int = 1) -> dict:
    """Prepare the working directory, run the workflow up to the published tables (or the
    whole report when `report`) and return what the checks need."""
    info = prepare_workdir(sc, wd, ROOT)
    name = info["name"]
    target = f"results/{name}/disclosure/audit_summary.txt"
    t0 = time.perf_counter()
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "snakemake",
            "--cores",
            str(cores),
            "--directory",
            str(wd),
            "--snakefile",
            str(Path(wd) / "Snakefile"),
            target,
        ],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    return {**info, "returncode": r.returncode, "output": r.stdout + r.stderr, "seconds": time.perf_counter() - t0}


# ------------------------------------------------------------------ the contract, slowly
@functools.lru_cache(maxsize=1)
def _code_groups():
    """code -> group from config/dream_codes.yaml, ranges expanded; the group order."""
    cfg = yaml.safe_load((ROOT / "config" / "dream_codes.yaml").read_text())
    out = {}
    for group, codes in cfg["groups"].items():
        for c in codes:
            if "-" in str(c):
                a, b = str(c).split("-")
                for k in range(int(a), int(b) + 1):
                    out[str(k)] = group
            else:
                out[str(c)] = group
    return out, list(cfg["groups"]), cfg["classification"]


def _thursday_month(col: str) -> tuple[int, int]:
    yy, ww = int(col[2:4]), int(col[4:6])
    t = dt.date.fromisocalendar(2000 + yy, ww, 4)
    return t.year, t.month


def slow_status(files: dict, pnr: str, year: int, month: int) -> str | None:
    """One person's status in one month, read off the raw frames rule by rule as
    DATA_CONTRACT.md states them (None: died before the month ended or not observable)."""
    code_group, order, cls = _code_groups()
    month_end = dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)
    dod = files["dod"]
    d = dod.loc[dod["pnr"] == pnr, "doddato"]
    if len(d) and pd.Timestamp(d.iloc[0]).date() <= month_end:
        return None
    row = files["dream"].loc[files["dream"]["pnr"] == pnr].iloc[0]
    counts = {}
    for col in files["dream"].columns[1:]:
        if _thursday_month(col) != (year, month):
            continue
        v = row[col]
        code = "" if v is None or (isinstance(v, float) and np.isnan(v)) or pd.isna(v) else str(v)
        g = code_group[code]
        counts[g] = counts.get(g, 0) + 1
    if not counts:
        return None
    best = max(counts.values())
    group = next(g for g in order if counts.get(g, 0) == best)  # ties: the earlier group
    ek = files["eindkomst"]
    wage = ek.loc[(ek["pnr"] == pnr) & (ek["maaned"] == f"{year:04d}-{month:02d}"), "loen"].sum()
    ordinary = wage > 0 and group not in cls["wage_not_ordinary_groups"]
    moves = files["vnds"][files["vnds"]["pnr"] == pnr]
    moves = moves[pd.to_datetime(moves["haend_dato"]).dt.date <= month_end]
    emigrated = len(moves) and moves.sort_values("haend_dato")["indud_kode"].iloc[-1] == "U"
    if emigrated or group in cls["emigrated_groups"]:
        return "not_resident"
    if group in cls["permanent_groups"]:
        return "permanent_benefit"
    if group in cls["flex_groups"]:
        return "flexjob_or_ledighedsydelse"
    if group in cls["education_groups"]:
        return "education"
    if group in cls["temporary_groups"]:
        return "wage_with_benefit" if ordinary else "temporary_benefit"
    return "self_supporting_wage" if ordinary else "self_supporting_unknown"


# ------------------------------------------------------------------ the checks
def _num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def check_run(sc: Scenario, run: dict, status_sample: int | None = None) -> dict:
    """Every property of one run; returns a row for the bench table and a list of failures."""
    fail = []
    out = {
        "seed": sc.seed,
        "persons": sc.persons,
        "fmt": sc.fmt,
        "pathologies": " ".join(sorted(sc.pathologies)) or "-",
        "seconds": round(run["seconds"], 1),
    }
    expected = sc.expected_stop()
    wd, name = Path(run["workdir"]), run["name"]
    if expected:
        out["publish"] = "stop (expected)" if run["returncode"] != 0 and expected in run["output"] else "WRONG"
        if out["publish"] == "WRONG":
            fail.append(f"expected a stop with '{expected}'")
        return {**out, "failures": fail}
    if run["returncode"] != 0:
        lines = [x for x in run["output"].splitlines() if "stopped" in x or "failed" in x]
        return {**out, "publish": "no", "failures": [f"did not publish: {lines[:2]}"]}
    out["publish"] = "yes"
    res = wd / "results" / name
    warn = sc.expected_warning()
    if warn and warn not in (wd / "results" / name / "interim" / "logs" / "match.log").read_text():
        fail.append(f"the match log does not say '{warn}'")
    audit = pd.read_csv(res / "disclosure" / "audit.csv")
    out["audit"] = "pass" if audit["protected"].astype(str).str.lower().isin(["true", "1"]).all() else "FAIL"
    if out["audit"] != "pass":
        fail.append("audit has unprotected cells")
    # no person identifier outside interim/
    g = generate(sc)
    ids = set(g["truth"]["pnr"]) | set(g["files"]["dream"]["pnr"].head(200))
    for f in (wd / "results").rglob("*"):
        if f.is_file() and "interim" not in f.parts and f.suffix in (".csv", ".txt", ".html", ".json"):
            text = f.read_text(errors="ignore")
            if any(p in text for p in ids):
                fail.append(f"a person identifier in {f.relative_to(wd)}")
    for f in (wd / "results").rglob("*.log"):
        if any(p in f.read_text(errors="ignore") for p in ids):
            fail.append(f"a person identifier in {f.relative_to(wd)}")
    # counts published in two places agree (where both are shown)
    pub = res / "published"
    eff = pd.read_csv(pub / "effects.csv", dtype=str).set_index("outcome")
    t1 = pd.read_csv(pub / "table1.csv", dtype=str)
    flow = pd.read_csv(res / "interim" / "tables" / "flow.csv").set_index("step")["n"]
    exact_eff = pd.read_csv(res / "interim" / "tables" / "effects.csv")
    pflow = pd.read_csv(pub / "flow.csv", dtype=str).set_index("step")["n"]
    pairs = [
        ("flow matched", _num(pflow.get("matched")), "effects n_participants", _num(eff["n_participants"].iloc[0])),
        (
            "flow controls",
            _num(pflow.get("controls_outcome_observed")),
            "effects n_controls",
            _num(eff["n_controls"].iloc[0]),
        ),
        (
            "table1 participants",
            _num(t1["total_participant"].iloc[0]),
            "effects n_participants",
            _num(eff["n_participants"].iloc[0]),
        ),
        ("table1 controls", _num(t1["total_control"].iloc[0]), "effects n_controls", _num(eff["n_controls"].iloc[0])),
        ("exact flow matched", float(flow["matched"]), "exact effects", float(exact_eff["n_participants"].iloc[0])),
        (
            "exact flow controls",
            float(flow["controls_outcome_observed"]),
            "exact effects",
            float(exact_eff["n_controls"].iloc[0]),
        ),
    ]
    for a, va, b, vb in pairs:
        if va is not None and vb is not None and va != vb:
            fail.append(f"{a} = {va} but {b} = {vb}")
    # the published flow names every reason anyone was left out for, or says that several
    # reasons, each too few persons to name, are grouped (disclosure control) and they add up
    published = pd.read_csv(pub / "flow.csv", dtype=str, keep_default_na=False)
    shown = " ".join(published["reason"])
    grouped = published[published["reason"].str.contains(GROUPED_REASON, regex=False)]
    unnamed = pd.read_csv(res / "interim" / "tables" / "flow_reasons.csv").query("n > 0")
    unnamed = unnamed[[why not in shown for why in unnamed["reason"]]]
    counts = [_num(v) for v in grouped["excluded"]]
    room = float("inf") if None in counts else sum(counts)        # a hidden count cannot be checked
    if len(unnamed) and (not len(grouped) or unnamed["persons"].sum() > room):
        fail.extend(f"the published flow does not name the reason '{why}'" for why in unnamed["reason"])
    # Table 1 against the slow re-implementation, person by person
    st = pd.read_parquet(res / "interim" / "status_month.parquet")
    check = st[st["weight"] > 0]
    if status_sample and len(check) > status_sample:
        ctrl = check[check.role == "control"]
        check = pd.concat(
            [check[check.role == "participant"], ctrl.sample(min(status_sample, len(ctrl)), random_state=sc.seed)]
        )
    wrong = 0
    for r in check.itertuples():
        y, m = divmod(int(r.outcome_month), 12)
        if slow_status(g["files"], r.pnr, y, m + 1) != r.status:
            wrong += 1
    out["status_checked"] = len(check)
    if wrong:
        fail.append(f"{wrong} of {len(check)} statuses differ from the contract re-implementation")
    t1x = pd.read_csv(res / "interim" / "tables" / "table1.csv")
    part = st[(st["weight"] > 0) & (st["role"] == "participant")]
    by_status = part["status"].value_counts()
    for s, n in t1x[t1x["role"] == "participant"].set_index("outcome")["n"].items():
        if s in ("self_supporting_or_education", "ordinary_employment"):
            continue
        if int(by_status.get(s, 0)) != int(n):
            fail.append(f"Table 1 participants {s} = {n}, persons with that status {by_status.get(s, 0)}")
    # coverage of the true effect on ordinary employment
    e = exact_eff.set_index("outcome").loc["ordinary_employment"]
    truth = g["truth"].set_index("pnr").loc[part["pnr"]]
    target = float(truth["true_effect"].mean())
    out.update(
        participants=len(part),
        controls=int((st["weight"] > 0).sum() - len(part)),
        estimate=round(float(e["estimate"]), 4),
        ci=f"{e['ci_low']:.3f} to {e['ci_high']:.3f}",
        truth=round(target, 4),
        covered=bool(e["ci_low"] <= target <= e["ci_high"]),
    )
    return {**out, "failures": fail}
