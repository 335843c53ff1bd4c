"""Shared fixtures: the code table, tiny hand-built extracts, a small demo extract."""

import shutil
from pathlib import Path

import pandas as pd
import pytest

from sibeval.config import load_yaml
from sibeval.demo.generate import generate
from sibeval.extract.codes import CodeTable
from sibeval.extract.timegrid import iso_weeks, week_column

ROOT = Path(__file__).resolve().parents[1]


def copy_workflow(wd: Path) -> Path:
    """The workflow (Snakefile, config/, workflow/) copied into `wd` (made if missing), for a run
    whose results/ and data/raw/ are not the checkout's."""
    wd.mkdir(parents=True, exist_ok=True)
    for item in ("Snakefile", "config", "workflow"):
        (shutil.copytree if (ROOT / item).is_dir() else shutil.copy)(ROOT / item, wd / item)
    return wd


@pytest.fixture(scope="session")
def codes():
    return CodeTable.from_config(load_yaml(ROOT / "config" / "dream_codes.yaml"))


@pytest.fixture(scope="session")
def small_demo(tmp_path_factory):
    """A demo extract with a small pool (the participants are the same as the default)."""
    out = tmp_path_factory.mktemp("demo_small")
    generate(out, seed=20221101, pool_size=2000)
    return out


def dream_frame(rows: dict, years=(2019, 2021)) -> pd.DataFrame:
    """Wide DREAM frame: rows = {pnr: {(iso_year, week): code}}; other weeks empty."""
    weeks = iso_weeks(*years)
    data = {"pnr": list(rows)}
    for y, w in weeks:
        data[week_column(y, w)] = [rows[p].get((y, w)) for p in rows]
    return pd.DataFrame(data)


def write_extract(folder: Path, dream=None, participants=None, bef=None, eindkomst=None, **optional):
    """Write a minimal valid extract; pass frames to override any file."""
    folder.mkdir(parents=True, exist_ok=True)
    if participants is None:
        participants = pd.DataFrame({"pnr": ["A", "B"], "kommune": [657, 791],
                                     "visitation_dato": ["2020-01-02", "2020-02-03"],
                                     "start_dato": ["2020-01-06", "2020-02-10"],
                                     "slut_dato": ["2020-06-30", ""]})
    if dream is None:
        dream = dream_frame({"A": {(2020, 2): "132"}, "B": {(2020, 3): "140"}})
    if bef is None:
        bef = pd.DataFrame({"pnr": ["A", "B"], "aar": [2020, 2020], "koen": [1, 1],
                            "foed_dag": pd.to_datetime(["1980-05-01", "1975-01-01"]),
                            "ie_type": [2, 2], "opr_land": ["IRQ", "SOM"], "civst": ["G", "U"],
                            "samlev": [1, 0], "kom": [657, 791]})
    if eindkomst is None:
        eindkomst = pd.DataFrame({"pnr": ["A"], "maaned": ["2020-03"], "loen": [1000.0], "timer": [10.0]})
    participants.to_csv(folder / "participants.csv", sep=";", index=False)
    dream.to_parquet(folder / "dream.parquet", index=False)
    bef.to_parquet(folder / "bef.parquet", index=False)
    eindkomst.to_parquet(folder / "eindkomst.parquet", index=False)
    for name, df in optional.items():
        if name == "questionnaires":
            df.to_csv(folder / "questionnaires.csv", sep=";", index=False)
        else:
            df.to_parquet(folder / f"{name}.parquet", index=False)
    return folder


def questionnaire_rows(pnr, runde, bip=3, who=3, **items):
    from sibeval.extract.contract import BIP_ITEMS, WHO5_ITEMS
    r = {"pnr": pnr, "runde": runde, "dato": "2020-01-06"}
    r.update({c: bip for c in BIP_ITEMS})
    r.update({c: who for c in WHO5_ITEMS})
    r.update(items)
    return r


@pytest.fixture
def extract_dir(tmp_path):
    return write_extract(tmp_path / "ex")


