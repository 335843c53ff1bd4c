"""Register extracts with the pathologies of real deliveries, each switchable, for testing
the whole workflow on data it was not tuned to (``sibeval scenario``).

Unlike ``sibeval.demo.generate`` (calibrated to reproduce the 2022 note) this generator is written
from DATA_CONTRACT.md alone and knows its own truth: selection into the programme depends
only on covariates the pipeline observes, and the programme moves a participant who
would not have been in ordinary employment in the outcome month into it with probability
``effect``. ``write_scenario`` returns the cohort file, the expected outcome of the run
(publish, or the one message the scenario must stop with) and, per participant, the
counterfactual outcome from which the true effect on ordinary employment follows
(``effect`` times the chance to switch; with ``all_one_status`` the programme holds every
participant on benefit, and the effect is minus the counterfactual employment).

Monthly labour-market states follow a Markov chain driven by an employability ``u``
(traits plus noise) and are written as weekly DREAM codes, eIndkomst wages, vnds
migrations, deaths, hospital contacts, education and questionnaires.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sibeval.extract.timegrid import iso_weeks, week_column, week_month

# chain states
T, TW, W, U, E, F, P, X, D = range(9)
ORDINARY = (TW, W)
FIRST = 2016 * 12  # first DREAM month (January 2016)
START_FIRST = 2019 * 12 + 6  # first programme start month: 36 months of history
NON_WESTERN = ("TUR", "IRQ", "SYR", "SOM", "AFG", "IRN", "PAK", "ERI")
WESTERN = ("DEU", "POL", "SWE", "NOR", "GBR", "USA")
MUNICIPALITIES = (751, 461, 101, 851, 561, 730)
FORMATS = ("parquet", "csv", "csv_latin1", "stata")
PATHOLOGIES = (
    "die_after_match",
    "emigrate_after_match",
    "outcome_past_coverage",
    "no_eindkomst",
    "questionnaires",
    "start_questionnaire_only",
    "all_one_status",
    "small_municipality",
    "extra_municipalities",
    "tight_caliper",
    "few_controls",
    "binary_covariates",
    "never_started",
    "int_codes",
    "constant_covariate",
    "odd_title",
    "replace",
)


@dataclass(frozen=True)
class Scenario:
    """Everything that shapes one generated extract and its cohort file."""

    seed: int
    persons: int = 3000
    participants: int = 60
    effect: float = 0.15
    fmt: str = "parquet"
    months_after_start: int = 24  # DREAM months after the first start month
    start_months: int = 12  # starts spread over this many months
    ratio: int = 5
    min_cell: int = 5
    pathologies: frozenset = field(default_factory=frozenset)

    def expected_stop(self) -> str | None:
        """The message fragment the run must stop with, or None when it must publish."""
        return None

    def expected_warning(self) -> str | None:
        """A message fragment the match log must hold, or None."""
        if "constant_covariate" in self.pathologies:
            return "covariate female is 1 for every participant: matching is exact on it"
        return None


def random_scenario(seed: int, max_persons: int = 5000, max_participants: int = 150) -> Scenario:
    """A scenario drawn from `seed`: size (2,000 to `max_persons` persons, 15 to
    `max_participants` participants, log-uniform, at most one in 25 persons), delivery
    format and each pathology at random."""
    rng = np.random.default_rng([seed, 20])
    persons = int(np.exp(rng.uniform(np.log(2000), np.log(max(2000, max_persons)))))
    lo = 5 * 3  # min_cell with room for a few exclusions
    participants = int(
        min(max_participants, persons // 25, max(lo, np.exp(rng.uniform(np.log(lo), np.log(max_participants)))))
    )
    on = {p for p in PATHOLOGIES if rng.random() < 0.3}
    if "all_one_status" in on:
        on -= {"die_after_match", "emigrate_after_match"}
    return Scenario(
        seed=seed,
        persons=persons,
        participants=participants,
        effect=float(rng.choice([0.0, 0.1, 0.2])),
        fmt=str(rng.choice(FORMATS)),
        ratio=int(rng.choice([1, 3, 5, 10])),
        pathologies=frozenset(on),
    )


# monthly moves out of the states other than T: (destination, probability)
MOVES = {
    TW: ((W, 0.08), (T, 0.08)),
    W: ((T, 0.015), (U, 0.004)),
    U: ((T, 0.08), (W, 0.05)),
    E: ((T, 0.02), (W, 0.02)),
    F: ((T, 0.01),),
    X: ((T, 0.02),),
}
T_DEST = (TW, W, U, E, F, P, X)
DEATH = 0.0004


def _t_rates(u) -> np.ndarray:
    """Monthly probabilities of leaving benefit (T) for T_DEST, persons x 7."""
    emp = np.exp(0.8 * np.asarray(u, float))
    one = np.ones_like(emp)
    return np.column_stack([0.015 * emp, 0.025 * emp, 0.01 * one, 0.004 * one, 0.003 * one, 0.003 / emp, 0.001 * one])


def _simulate(rng, n, n_months, u):
    """Monthly states (persons x months) from the chain."""
    S = np.empty((n, n_months), np.int8)
    S[:, 0] = rng.choice([T, W, U, E, P], n, p=[0.45, 0.4, 0.08, 0.04, 0.03])
    cum = np.cumsum(_t_rates(u), axis=1)
    for m in range(1, n_months):
        prev = S[:, m - 1]
        r = rng.random(n)
        k = (r[:, None] > cum).sum(axis=1)
        nxt = np.where(prev == T, np.array([*T_DEST, T])[k], prev)
        for s, moves in MOVES.items():
            at = prev == s
            acc = 0.0
            for d, p in moves:
                nxt = np.where(at & (r >= acc) & (r < acc + p), d, nxt)
                acc += p
        dies = rng.random(n) < DEATH
        S[:, m] = np.where(dies | (prev == D), D, nxt)
    return S


def expected_states(u: float, state: int, months: int) -> np.ndarray:
    """The distribution over the 9 states `months` months after being in `state`, for a
    person with employability `u` (the chain of _simulate, exactly)."""
    M = np.zeros((9, 9))
    M[T, list(T_DEST)] = _t_rates([u])[0]
    M[T, T] = 1 - M[T].sum()
    for s, moves in MOVES.items():
        for d, p in moves:
            M[s, d] += p
        M[s, s] += 1 - sum(p for _, p in moves)
    M[P, P] = 1.0
    M = (1 - DEATH) * M
    M[:, D] += DEATH
    M[D] = 0.0
    M[D, D] = 1.0
    v = np.zeros(9)
    v[state] = 1.0
    return v @ np.linalg.matrix_power(M, months)


def generate(sc: Scenario) -> dict:
    """The scenario's frames (every file of the contract), cohort settings and truth."""
    rng = np.random.default_rng([sc.seed, 1])
    n = sc.persons
    last_month = START_FIRST + sc.months_after_start
    n_months = last_month - FIRST + 1
    kom_pool = MUNICIPALITIES[:3] if "extra_municipalities" in sc.pathologies else MUNICIPALITIES[:2]
    cohort_koms = list(kom_pool[:2])
    sex = rng.choice([1, 2], n)
    birth_year = rng.integers(1956, 1997, n)
    birth = pd.to_datetime({"year": birth_year, "month": rng.integers(1, 13, n), "day": rng.integers(1, 29, n)})
    ie_type = rng.choice([1, 2, 3], n, p=[0.55, 0.35, 0.10])
    land = np.where(
        ie_type == 1, "DNK", np.where(rng.random(n) < 0.75, rng.choice(NON_WESTERN, n), rng.choice(WESTERN, n))
    )
    kom = np.where(rng.random(n) < 0.7, rng.choice(kom_pool, n), rng.choice(MUNICIPALITIES[3:], n))
    partner = (rng.random(n) < 0.45).astype(int)
    u = 0.4 * (sex == 1) - 0.02 * (2020 - birth_year - 40) - 0.4 * (ie_type == 2) + rng.normal(0, 1, n)
    S = _simulate(rng, n, n_months, u)
    ordinary = np.isin(S, ORDINARY)

    # ---- participants: chosen month by month among persons on benefit, on observed traits
    age_at = lambda m: (m // 12) - birth_year  # noqa: E731  (age in the start year, near enough)
    chosen = np.zeros(n, bool)
    kom_target = {k: sc.participants // 2 for k in cohort_koms}
    kom_target[cohort_koms[0]] += sc.participants - sum(kom_target.values())
    if "small_municipality" in sc.pathologies:
        small = int(rng.integers(1, 5))
        kom_target = {cohort_koms[0]: sc.participants - small, cohort_koms[1]: small}
    if "extra_municipalities" in sc.pathologies:
        kom_target[kom_pool[2]] = max(5, sc.participants // 3)
    rows = []
    female_only = "constant_covariate" in sc.pathologies
    history = {}
    # fewer eligible controls than ratio asks for: every start in one month, ratio 20
    start_months = 1 if "few_controls" in sc.pathologies else sc.start_months
    for k_code, want in kom_target.items():
        months_k = START_FIRST + rng.integers(0, start_months, want)
        for m in np.sort(months_k):
            c = m - FIRST
            if c not in history:  # employed in the 24 and on benefit in the 36 months before
                history[c] = (ordinary[:, c - 24 : c].any(axis=1), (~np.isin(S[:, c - 36 : c], (W, U, E))).mean(axis=1))
            emp24, share36 = history[c]
            ok = (S[:, c] == T) & ~chosen & (kom == k_code) & (age_at(m) >= 26) & (age_at(m) <= 63)
            if female_only:
                ok &= sex == 2
            cand = np.flatnonzero(ok)
            if cand.size == 0:
                continue
            score = -0.9 * emp24[cand] + 1.2 * share36[cand] + 0.02 * (age_at(m)[cand] - 40) + 0.3 * (sex[cand] == 2)
            p = np.exp(score - score.max())
            i = int(rng.choice(cand, p=p / p.sum()))
            chosen[i] = True
            rows.append((i, k_code, int(m)))
    idx = np.array([r[0] for r in rows])
    start_m = np.array([r[2] for r in rows])
    dur = rng.integers(4, 10, len(idx))
    end_m = start_m + dur
    follow = 2
    if "outcome_past_coverage" in sc.pathologies:
        late = rng.choice(len(idx), min(3, len(idx)), replace=False)
        end_m[late] = last_month - follow + rng.integers(1, 3, late.size)
    end_m = np.minimum(end_m, last_month + 2)
    out_m = end_m + follow
    # participants and eligible controls are both on benefit without a wage at the index
    # month and follow the same chain afterwards: selection is on observed history only
    # after matching (the index month), before the outcome month: deaths and emigrations
    # happen in both worlds, so they come first; then the programme's effect
    reach = (out_m - FIRST) < n_months
    forced = set()  # no effect possible in either world
    if "die_after_match" in sc.pathologies:
        for j in rng.choice(np.flatnonzero(reach), min(3, int(reach.sum())), replace=False):
            S[idx[j], out_m[j] - FIRST - 1 :] = D
            forced.add(int(j))
    if "emigrate_after_match" in sc.pathologies:
        for j in rng.choice(np.flatnonzero(reach), min(2, int(reach.sum())), replace=False):
            if S[idx[j], out_m[j] - FIRST] != D:
                S[idx[j], out_m[j] - FIRST - 1 :] = X
                forced.add(int(j))
    effect_switch = np.zeros(len(idx), bool)
    could_switch = np.zeros(len(idx), bool)
    y0 = np.full(len(idx), -1)
    for j, i in enumerate(idx):
        c0, co = start_m[j] - FIRST, out_m[j] - FIRST
        if co >= n_months:
            continue
        y0[j] = S[i, co]
        if "all_one_status" in sc.pathologies:
            S[i, c0:] = T  # the programme holds everyone on benefit: effect -1[y0 ordinary]
            continue
        could_switch[j] = y0[j] not in (*ORDINARY, D, X)
        if could_switch[j] and rng.random() < sc.effect:
            effect_switch[j] = True
            S[i, co] = W
    ordinary = np.isin(S, ORDINARY)

    # ---- files
    pnr = np.array([f"S{sc.seed % 10000:04d}{x:07d}" for x in rng.permutation(n)], dtype=object)
    core_code = np.where(ie_type == 2, "140", "132")
    code = np.full(S.shape, "", dtype=object)
    code[S == T] = np.broadcast_to(core_code[:, None], S.shape)[S == T]
    code[S == TW] = np.broadcast_to(core_code[:, None], S.shape)[S == TW]
    code[S == E] = "651"
    code[S == F] = "521"
    code[S == P] = "781"
    code[S == X] = "998"
    code[S == D] = "999"
    weeks = [(y, w) for y, w in iso_weeks(2016, last_month // 12) if FIRST <= week_month(y, w) <= last_month]
    wm = np.array([week_month(y, w) - FIRST for y, w in weeks])
    Wk = code[:, wm]
    noise = (rng.random(Wk.shape) < 0.01) & (Wk != "999") & (Wk != "998")
    Wk[noise] = ""
    dream = pd.DataFrame(Wk, columns=[week_column(y, w) for y, w in weeks])
    dream.insert(0, "pnr", pnr)
    dream = dream.replace("", None)
    if "int_codes" in sc.pathologies:
        dream = pd.concat([dream[["pnr"]], dream.iloc[:, 1:].apply(lambda s: pd.to_numeric(s).astype("Int64"))], axis=1)

    pi, mi = np.nonzero(ordinary | (S == F))
    no_wage = set()
    if "no_eindkomst" in sc.pathologies:
        # some participants never have a wage row (never employed, or wages withheld)
        never = [i for i in idx if not ordinary[i].any()][:3]
        no_wage = set(never)
    hours = np.clip(rng.normal(100, 40, pi.size), 5, 170).round(1)
    eind = pd.DataFrame(
        {
            "pnr": pnr[pi],
            "maaned": [f"{(FIRST + m) // 12:04d}-{(FIRST + m) % 12 + 1:02d}" for m in mi],
            "loen": (hours * rng.normal(180, 20, pi.size)).round(0),
            "timer": hours,
        }
    )
    eind = eind[~pd.Series(pi).isin(no_wage).to_numpy()]

    years = range(2016, last_month // 12 + 2)
    alive_jan = {y: S[:, min(n_months - 1, (y * 12) - FIRST)] != D for y in years}
    bef = pd.concat(
        [
            pd.DataFrame(
                {
                    "pnr": pnr[a],
                    "aar": y,
                    "koen": sex[a],
                    "foed_dag": birth[a].dt.date,
                    "ie_type": ie_type[a],
                    "opr_land": land[a],
                    "civst": np.where(partner[a] == 1, "G", "U"),
                    "samlev": partner[a],
                    "kom": kom[a],
                }
            )
            for y, a in alive_jan.items()
        ],
        ignore_index=True,
    )

    def day(m, d):
        return dt.date(int(m) // 12, int(m) % 12 + 1, int(d))

    vn = [(pnr[i], day(FIRST - 12 * int(rng.integers(1, 15)), 15), "I") for i in np.flatnonzero(ie_type == 2)]
    for i, m in zip(*np.nonzero((S[:, 1:] == X) & (S[:, :-1] != X))):
        vn.append((pnr[i], day(FIRST + m + 1, 3), "U"))
    for i, m in zip(*np.nonzero((S[:, 1:] != X) & (S[:, :-1] == X) & (S[:, 1:] != D))):
        vn.append((pnr[i], day(FIRST + m + 1, 2), "I"))
    vnds = pd.DataFrame(vn, columns=["pnr", "haend_dato", "indud_kode"])
    first_d = np.argmax(S == D, axis=1)
    dead = np.flatnonzero((S == D).any(axis=1))
    dod = pd.DataFrame({"pnr": pnr[dead], "doddato": [day(FIRST + first_d[i], 10) for i in dead]})
    has_udda = rng.random(n) < 0.8
    udda = pd.DataFrame(
        {
            "pnr": pnr[has_udda],
            "aar": 2015,
            "hfaudd": [
                f"{x}{y:02d}"
                for x, y in zip(rng.choice([10, 20, 35, 50], has_udda.sum()), rng.integers(10, 99, has_udda.sum()))
            ],
        }
    )
    lp = np.flatnonzero(rng.random(n) < 0.3)
    lpr = pd.DataFrame(
        {
            "pnr": pnr[lp],
            "dato": [day(FIRST + int(m), 5) for m in rng.integers(0, n_months, lp.size)],
            "psyk": rng.integers(0, 2, lp.size),
        }
    )

    kom_of = np.array([r[1] for r in rows])
    never = np.zeros(len(idx), bool)
    if "never_started" in sc.pathologies:
        never[rng.choice(len(idx), min(2, len(idx)), replace=False)] = True
    part = pd.DataFrame(
        {
            "pnr": pnr[idx],
            "kommune": kom_of,
            "visitation_dato": [day(m - 1, 20) for m in start_m],
            "start_dato": [None if nv else day(m, 1 + int(rng.integers(0, 10))) for m, nv in zip(start_m, never)],
            "slut_dato": [None if nv else day(m, 15 + int(rng.integers(0, 10))) for m, nv in zip(end_m, never)],
        }
    )
    files = {
        "participants": part,
        "dream": dream,
        "bef": bef,
        "eindkomst": eind,
        "vnds": vnds,
        "dod": dod,
        "udda": udda,
        "lpr": lpr,
    }
    progression = "questionnaires" in sc.pathologies or "start_questionnaire_only" in sc.pathologies
    if progression:
        files["questionnaires"] = _questionnaires(rng, part[~never], "start_questionnaire_only" in sc.pathologies)

    covs = (
        ["age_50plus", "female", "employed_24m", "partner"]
        if "binary_covariates" in sc.pathologies
        else [
            "age",
            "age_50plus",
            "female",
            "partner",
            "employed_24m",
            "benefit_share_36m",
            "primary_school_only",
            "somatic_2y",
            "psych_2y",
        ]
    )
    if female_only and "female" not in covs:
        covs.append("female")
    title = "Scenario " + str(sc.seed)
    if "odd_title" in sc.pathologies:
        title = '=HYPERLINK("x") <b>Ny start</b> & "job" – Æblegård ' + "lang " * 12
    cohort = {
        "title": title,
        "extract": f"scenario_{sc.seed}",
        "municipalities": cohort_koms,
        "follow_up_months": follow,
        "language": "da",
        "eligibility": {
            "sex": [1, 2],
            "non_western": None,
            "age_min": 25,
            "age_max": 64,
            "benefit_groups": ["kontanthjaelp", "shy"],
        },
        "covariates": covs,
        "matching": {
            "ratio": 20 if "few_controls" in sc.pathologies else sc.ratio,
            "caliper": 0.01 if "tight_caliper" in sc.pathologies else 0.2,
            **({"mahvars": []} if "binary_covariates" in sc.pathologies else {}),
            **({"replace": True} if "replace" in sc.pathologies else {}),
        },
        "effects": {"subgroups": ["employed_24m"], "monte_carlo_reps": 2000},
        "progression": {"enabled": progression},
        "disclosure": {"min_cell": sc.min_cell},
    }
    # the true effect on ordinary employment of participant j, given its state at the
    # index month and its employability (the participant's own chance is in the CI):
    # effect x P(counterfactual not employed, resident | alive), or, when the programme
    # holds everyone on benefit, minus P(counterfactual employed | alive)
    y0_ordinary = np.isin(y0, ORDINARY).astype(int)
    true_effect = np.zeros(len(idx))
    for j, i in enumerate(idx):
        c0, co = start_m[j] - FIRST, out_m[j] - FIRST
        if co >= n_months or j in forced:
            continue
        dist = expected_states(u[i], T, co - c0)
        alive = 1 - dist[D]
        employed = (dist[TW] + dist[W]) / alive
        true_effect[j] = (
            -employed if "all_one_status" in sc.pathologies else sc.effect * (1 - employed - dist[X] / alive)
        )
    truth = pd.DataFrame(
        {
            "pnr": pnr[idx],
            "y0_ordinary": y0_ordinary,
            "could_switch": could_switch.astype(int),
            "switched": effect_switch.astype(int),
            "true_effect": true_effect,
        }
    )
    return {
        "files": files,
        "cohort": cohort,
        "truth": truth,
        "last_month": last_month,
        "employability": pd.Series(u, index=pnr),
    }


def _questionnaires(rng, part, start_only):
    from sibeval.extract.contract import BIP_ITEMS, WHO5_ITEMS

    rows = []
    for r in part.itertuples():
        if rng.random() < 0.15:
            continue  # no questionnaire at all
        base = {c: int(rng.integers(1, 6)) for c in BIP_ITEMS} | {c: int(rng.integers(0, 6)) for c in WHO5_ITEMS}
        rows.append({"pnr": r.pnr, "runde": "start", "dato": r.start_dato, **base})
        if start_only and rng.random() < 0.5 or r.slut_dato is None:
            continue
        end = {c: int(np.clip(v + rng.integers(-1, 3), 1 if c in BIP_ITEMS else 0, 5)) for c, v in base.items()}
        if rng.random() < 0.1:
            end[WHO5_ITEMS[0]] = None  # an incomplete answer
        rows.append({"pnr": r.pnr, "runde": "slut", "dato": r.slut_dato, **end})
    return pd.DataFrame(rows)


def _upper(df):
    return df.rename(columns=str.upper)


def write_files(files: dict, folder: Path, fmt: str) -> None:
    """Write the frames as a delivery in `fmt` (parquet; csv: UTF-8 with BOM and ';';
    csv_latin1: Latin-1 with ',' and a non-ASCII note column; stata: .dta, upper case)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, df in files.items():
        if name in ("participants", "questionnaires"):
            if fmt == "csv_latin1":
                df.assign(bemaerkning="særlig indsats – ø").to_csv(
                    folder / f"{name}.csv", sep=",", index=False, encoding="cp1252"
                )
            else:
                df.to_csv(
                    folder / f"{name}.csv", sep=";", index=False, encoding="utf-8-sig" if fmt == "csv" else "utf-8"
                )
        elif fmt == "parquet":
            df.to_parquet(folder / f"{name}.parquet", index=False)
        elif fmt in ("csv", "csv_latin1"):
            enc, sep = ("utf-8-sig", ";") if fmt == "csv" else ("cp1252", ",")
            df.to_csv(folder / f"{name}.csv", sep=sep, index=False, encoding=enc)
        elif fmt == "stata":
            out = _upper(df.copy())
            for c in out.columns:
                if out[c].dtype == object:
                    out[c] = out[c].map(lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v))
                elif str(out[c].dtype) == "Int64":
                    out[c] = out[c].astype("float64")
            out.to_stata(folder / f"{name}.dta", write_index=False, version=118)
        else:
            raise ValueError(f"unknown format {fmt!r}; use one of {FORMATS}")


def write_scenario(sc: Scenario, folder: Path) -> dict:
    """Write the extract to `folder` and return the cohort settings, the expected stop
    (None: must publish) and the truth per participant."""
    g = generate(sc)
    write_files(g["files"], Path(folder), sc.fmt)
    return {
        "cohort": g["cohort"],
        "expected_stop": sc.expected_stop(),
        "truth": g["truth"],
        "scenario": {**asdict(sc), "pathologies": sorted(sc.pathologies)},
    }


def prepare_workdir(sc: Scenario, wd: Path, repo: Path) -> dict:
    """A working directory to run the workflow on the scenario: a copy of the workflow
    (Snakefile, config/, workflow/), the extract under data/raw/, one cohort file."""
    import shutil

    import yaml

    wd = Path(wd)
    wd.mkdir(parents=True, exist_ok=True)
    for item in ("Snakefile", "config", "workflow"):
        src = Path(repo) / item
        (shutil.copytree if src.is_dir() else shutil.copy)(
            src, wd / item, **({"dirs_exist_ok": True} if src.is_dir() else {})
        )
    out = write_scenario(sc, wd / "data" / "raw" / f"scenario_{sc.seed}")
    name = f"scenario_{sc.seed}"
    cfg = yaml.safe_load((wd / "config" / "config.yaml").read_text())
    cfg["cohorts"] = [name]
    cfg["extracts"] = {name: {"path": f"data/raw/{name}"}}
    (wd / "config" / "config.yaml").write_text(yaml.safe_dump(cfg, allow_unicode=True))
    for f in (wd / "config" / "cohorts").glob("*.yaml"):
        f.unlink()
    (wd / "config" / "cohorts" / f"{name}.yaml").write_text(yaml.safe_dump(out["cohort"], allow_unicode=True))
    return {**out, "name": name, "workdir": str(wd)}
