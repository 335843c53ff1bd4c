"""Synthetic register extract for the SIB demo (every file of DATA_CONTRACT.md).

The data-generating process:

* every person has static traits (sex, origin, birth date, arrival, partner, education,
  health proneness, municipality) and a latent employability ``u`` that is a function of
  the traits plus a little noise;
* monthly labour-market states follow a Markov chain whose exits from benefit depend on
  ``u``; states are written out as weekly DREAM codes,
  monthly wages (eIndkomst), migrations, deaths, hospital contacts and education;
* participants are drawn as men of non-Western origin on cash benefit, with the
  catalogue's profile; their employability and history before the programme are drawn
  from the same chain as everyone else's, conditioned on that profile (so matching and
  the placebo test are meaningful); the programme changes their state
  in the outcome month (a real effect); with the profile's `job_onset` a job begins in one of
  the months after the end month up to the outcome month (Kolding: its lasting outcome needs
  the months before its outcome month);
* the chain's exit rates are calibrated (numerically, below) so that persons like the
  participants who stay on benefit reach the published control-group distribution.

Nothing written here contains a target figure: the pipeline must compute them.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sibeval.demo.profiles import (
    ABSENT,
    BLOCK_PERSONS,
    CHAIN,
    DEAD,
    ED,
    EM,
    FX,
    PROFILES,
    SU,
    SW,
    TW,
    P,
    T,
)
from sibeval.extract.timegrid import iso_weeks, week_column, week_month

FIRST_YEAR, LAST_YEAR = 2015, 2023
M0 = FIRST_YEAR * 12
NM = (LAST_YEAR - FIRST_YEAR + 1) * 12


def _counts(spec: dict, n: int) -> dict:
    """Exact counts from counts (as given) or shares (largest remainder), summing to n."""
    if all(isinstance(v, (int, np.integer)) for v in spec.values()):
        return dict(spec)
    raw = {k: v * n for k, v in spec.items()}
    out = {k: int(np.floor(v)) for k, v in raw.items()}
    for k in sorted(raw, key=lambda k: raw[k] - out[k], reverse=True)[: n - sum(out.values())]:
        out[k] += 1
    return out


NON_WESTERN = np.array(["TUR", "IRQ", "SYR", "SOM", "AFG", "IRN", "LBN", "PAK", "VNM", "ERI",
                        "BIH", "THA"])
WESTERN = np.array(["DEU", "POL", "SWE", "NOR", "GBR", "ROU", "LTU", "USA"])
OTHER_KOM = np.array([101, 147, 461, 751, 851, 621, 615, 657, 791, 740, 661, 756])

# DREAM code vocabulary used by the generator
VOCAB = ["", "132", "140", "111", "890", "135", "234", "750", "651", "521", "781", "998",
         "999", "121", "130", "141", "621", "511"]
CODE = {c: i for i, c in enumerate(VOCAB)}

TYPES = ("core", "insured", "worker", "sick", "disabled", "student")


# ----------------------------------------------------------------------------- chain model
RETURN_TO_BENEFIT = {"core": 0.07, "insured": 0.012, "worker": 0.008, "sick": 0.03,
                     "disabled": 0.0, "student": 0.02}


def _t_rows(a, u):
    """Transition probabilities out of benefit (T) for persons with employability u.

    a: exit rates to TW, SW, SU, ED, FX, P, EM.
    """
    emp = np.exp(0.9 * u)  # the chain is Markov given u
    rows = np.zeros((len(u), CHAIN))
    rows[:, TW] = a[0] * emp
    rows[:, SW] = a[1] * emp
    rows[:, SU] = a[2]
    rows[:, ED] = a[3]
    rows[:, FX] = a[4]
    rows[:, P] = a[5] * np.exp(-0.5 * u)
    rows[:, EM] = a[6]
    rows[:, T] = 1.0 - rows.sum(axis=1)
    return rows


def _other_rows(kind):
    """Transition matrix rows for the states other than T (same for everyone of a kind)."""
    R = np.zeros((CHAIN, CHAIN))
    R[TW, T], R[TW, SW] = 0.10, 0.05
    R[SW, T], R[SW, TW] = RETURN_TO_BENEFIT[kind], 0.01
    R[SU, T], R[SU, SW] = 0.12, 0.02
    R[ED, T], R[ED, SW] = (0.004, 0.02) if kind == "student" else (0.03, 0.01)
    R[FX, T] = 0.01
    R[EM, T] = 0.01
    for s in range(CHAIN):
        R[s, s] = 1.0 - R[s].sum()
    return R


def _rates(a, u, kind):
    """Full monthly transition matrices, one per person (for calibration on small n)."""
    R = np.broadcast_to(_other_rows(kind), (len(u), CHAIN, CHAIN)).copy()
    R[:, T, :] = _t_rows(a, u)
    return R


BASE_RATES = {
    "insured": np.array([0.03, 0.15, 0.01, 0.005, 0.002, 0.001, 0.001]),
    "worker": np.array([0.03, 0.25, 0.01, 0.005, 0.001, 0.0005, 0.001]),
    "sick": np.array([0.02, 0.08, 0.01, 0.002, 0.01, 0.01, 0.0005]),
    "disabled": np.zeros(7),
    "student": np.array([0.02, 0.05, 0.02, 0.05, 0.0, 0.0, 0.002]),
}


def calibrate_core_rates(u, horizon, target, iters=200):
    """Exit rates from benefit so that h months after being on benefit the expected state
    distribution of persons (u, h) equals `target` (over T, TW, SW, SU, ED, FX, P, EM)."""
    target = np.asarray(target, float)
    a = np.array([0.02, 0.02, 0.01, 0.002, 0.004, 0.01, 0.002])
    for _ in range(iters):
        R = _rates(a, u, "core")
        dist = np.zeros((len(u), CHAIN))
        dist[:, T] = 1.0
        acc = np.zeros(CHAIN)
        hmax = int(horizon.max())
        for h in range(1, hmax + 1):
            dist = np.einsum("ns,nst->nt", dist, R)
            acc += dist[horizon == h].sum(axis=0)
        cur = acc / len(u)
        a = a * (target[1:] / np.maximum(cur[1:], 1e-9)) ** 0.8
    return a


def _simulate(S, start, end, kind_idx, u, a_by_kind, rng, death_hz):
    """Advance the chain over months [start, end) in place (persons in DEAD/ABSENT stay)."""
    n = S.shape[0]
    for m in range(start, end):
        prev = S[:, m - 1] if m > 0 else S[:, 0]
        nxt = prev.copy()
        draw = rng.random(n)
        for k, kind in enumerate(TYPES):
            sel = np.flatnonzero((kind_idx == k) & (prev < CHAIN))
            if sel.size == 0:
                continue
            ps = prev[sel]
            rows = _other_rows(kind)[ps]
            in_t = ps == T
            rows[in_t] = _t_rows(a_by_kind[kind], u[sel[in_t]])
            cum = np.cumsum(rows, axis=1)
            nxt[sel] = np.minimum((draw[sel][:, None] > cum).sum(axis=1), CHAIN - 1)
        dies = (rng.random(n) < death_hz) & (prev < CHAIN)
        nxt[dies] = DEAD
        nxt[prev == DEAD] = DEAD
        absent = prev == ABSENT
        nxt[absent] = ABSENT  # arrivals are set by the caller
        S[:, m] = nxt



def _sample_participant_history(trait_u, s0, flag_job, passive, init, a_core, rng, batch=64):
    """Draw (noise, history up to the start month) for one participant from the chain,
    accepting draws that are on benefit at the start month (as eligible controls are),
    have a job in the 24 months before start exactly when `flag_job`, and are (not) on
    benefit the month before when (not) `passive`. Returns (u, states[: s0 + 1])."""
    kinds = np.zeros(batch, dtype=int)
    rates = {"core": a_core, **BASE_RATES}
    for _ in range(2000):
        u = trait_u + rng.normal(0, 0.25, batch)
        S = np.zeros((batch, s0 + 1), dtype=np.int8)
        S[:, 0] = np.where(rng.random(batch) < 0.15, SW, init)
        _simulate(S, 1, s0 + 1, kinds, u, rates, rng, np.zeros(batch))
        job = np.isin(S[:, s0 - 24: s0], (TW, SW)).any(axis=1)
        ok = (S[:, s0] == T) & (job == flag_job) & ~np.isin(S[:, : s0], (P, EM, DEAD)).any(axis=1)
        ok &= (S[:, s0 - 1] == T) if passive else True
        if ok.any():
            k = int(np.flatnonzero(ok)[0])
            return float(u[k]), S[k]
    raise RuntimeError("demo: no participant history found; the chain cannot reach the profile")

# ----------------------------------------------------------------------------- helpers
def _exact(n, k, rng):
    """A random 0/1 vector of length n with exactly k ones."""
    v = np.zeros(n, dtype=bool)
    v[rng.choice(n, size=k, replace=False)] = True
    return v


def _date(days_since_1970):
    return np.datetime64("1970-01-01") + np.asarray(days_since_1970).astype("timedelta64[D]")


def _month_start_days(month_abs):
    y, mo = np.asarray(month_abs) // 12, np.asarray(month_abs) % 12 + 1
    return np.array([(dt.date(int(a), int(b), 1) - dt.date(1970, 1, 1)).days for a, b in zip(y, mo)])


PARQUET_OPTIONS = {"compression": "zstd", "use_dictionary": True, "write_statistics": False}
DREAM_ROW_GROUP = 100_000


class _ParquetFiles:
    """Parquet files written incrementally, one ParquetWriter per file opened at its first
    table (one table gives the bytes of ``pq.write_table``)."""

    def __init__(self):
        self.writers = {}

    def write(self, path: Path, table: pa.Table):
        if path not in self.writers:
            self.writers[path] = pq.ParquetWriter(path, table.schema, **PARQUET_OPTIONS)
        self.writers[path].write_table(table)

    def close(self):
        for w in self.writers.values():
            w.close()


class _DreamWriter:
    """dream.parquet (wide, dictionary-encoded weeks; empty weeks are null), written in row
    groups of DREAM_ROW_GROUP persons; a block's last persons wait for the next block's."""

    def __init__(self, path: Path, weeks):
        self.path, self.writer, self.carry = path, None, None
        self.columns = [week_column(y, w) for y, w in weeks]
        self.vocab = pa.array(VOCAB, type=pa.string())

    def add(self, pnr_sorted: pa.Array, W: np.ndarray, order_rows: np.ndarray, last: bool):
        """Rows `order_rows` of the weekly codes `W` (persons sorted by pnr: `pnr_sorted`)."""
        n, r0 = len(order_rows), 0
        while r0 < n:   # one row group at a time keeps memory flat
            take = min(n - r0, DREAM_ROW_GROUP - (0 if self.carry is None else len(self.carry[1])))
            p, Wr = pnr_sorted[r0: r0 + take], W[order_rows[r0: r0 + take]]
            if self.carry is not None:
                p, Wr = pa.concat_arrays([self.carry[0], p]), np.concatenate([self.carry[1], Wr])
                self.carry = None
            r0 += take
            if len(Wr) == DREAM_ROW_GROUP or (last and r0 == n):
                self._write(p, Wr)
            else:
                self.carry = (p, Wr)

    def _write(self, p, Wr):
        cols = {"pnr": p}
        for j, name in enumerate(self.columns):
            idx = pa.array(Wr[:, j].astype(np.int32), mask=(Wr[:, j] == CODE[""]))
            cols[name] = pa.DictionaryArray.from_arrays(idx, self.vocab)
        table = pa.table(cols)
        if self.writer is None:
            self.writer = pq.ParquetWriter(self.path, table.schema, **PARQUET_OPTIONS)
        self.writer.write_table(table, row_group_size=DREAM_ROW_GROUP)

    def close(self):
        if self.writer is not None:
            self.writer.close()


def _block_sizes(pool_size: int, block_persons: int) -> list[int]:
    """Pool persons per block: one block up to `block_persons`, else blocks of that size."""
    if pool_size <= block_persons:
        return [pool_size]
    full, rest = divmod(pool_size, block_persons)
    return [block_persons] * full + ([rest] if rest else [])


# ----------------------------------------------------------------------------- generator
def generate(out_dir, seed: int = 20221101, pool_size: int = 20000,
             profile: str = "sib_herning_viborg", municipality: int | None = None,
             block_persons: int = BLOCK_PERSONS) -> dict:
    """Write a synthetic extract to `out_dir`; returns {file: path}. Same seed, same bytes.

    `municipality` replaces the profile's municipality codes of the participants (in the
    participant list and bef), e.g. for a stand-in extract of a new cohort.

    A pool larger than `block_persons` is generated and written in blocks of that many
    persons (memory is that of one block): the first block holds the participants and is
    drawn as a pool of `block_persons` alone would be; every further block has its own
    random stream (``SeedSequence(seed, spawn_key=(block,))``), the same distributions and
    the chain's rates calibrated in the first block, and pnr above the blocks before it.
    """
    if profile not in PROFILES:
        raise ValueError(f"profile: '{profile}' is not a known demo profile; allowed: {', '.join(PROFILES)}")
    if pool_size < 1000:
        raise ValueError(f"pool_size: {pool_size} is too small; use at least 1000")
    if block_persons < 1:
        raise ValueError(f"block_persons: {block_persons} must be at least 1")
    prof = PROFILES[profile]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    sizes = _block_sizes(pool_size, block_persons)
    files = _ParquetFiles()
    dream = _DreamWriter(out / "dream.parquet", iso_weeks(FIRST_YEAR, LAST_YEAR))
    paths, shared, first_pnr = {}, None, 0
    try:
        for b, n_pool in enumerate(sizes):
            if b == 0:
                rng = np.random.default_rng(seed)
                xrng = np.random.default_rng(seed + 3)   # draws only the other profiles make
            else:
                rng, xrng = (np.random.default_rng(s)
                             for s in np.random.SeedSequence(seed, spawn_key=(b,)).spawn(2))
            shared, n = _block(out, paths, files, dream, prof, seed, rng, xrng, n_pool, municipality,
                               shared, first_pnr, last=b == len(sizes) - 1)
            first_pnr += n
    finally:
        files.close()
        dream.close()
    order = ["dream", "eindkomst", "bef", "vnds", "dod", "udda", "lpr", "participants", "questionnaires"]
    return {k: str(paths[k]) for k in order if k in paths}


def _block(out, paths, files, dream, prof, seed, rng, xrng, n_pool, municipality, shared,
           first_pnr, last):
    """Generate and write one block of persons: with the participants when `shared` is None
    (the first block), else `n_pool` pool persons with `shared`'s rates and pnr offset.
    Returns (shared, persons in the block)."""
    part = shared is None
    n_ref = sum(prof["municipalities"].values()) if part else 0        # 57 referred
    n = n_ref + n_pool
    is_part = np.zeros(n, bool)
    is_part[:n_ref] = True
    no_bef = np.zeros(0, int)

    # ---- participants' programme dates and flow roles
    if part:
        kommune = np.concatenate([np.full(c, k) for k, c in prof["municipalities"].items()])
        kommune_file = kommune if municipality is None else np.full(n_ref, int(municipality))
        prng = np.random.default_rng(seed + 1)
        order = prng.permutation(n_ref)
        k_ns, k_nb = prof.get("never_started", 1), prof.get("no_bef", 1)
        never_started = order[:k_ns]
        no_bef = order[k_ns:k_ns + k_nb]
        started = np.setdiff1d(np.arange(n_ref), never_started)
        analysed = np.setdiff1d(started, no_bef)
        start_month = np.zeros(n_ref, int)
        start_month[:] = (prof.get("start_first", 2020 * 12 + 8)
                          + prng.integers(0, prof.get("start_months", 11), n_ref))
        start_day = prng.integers(1, 11, n_ref)
        d0, d1 = prof.get("duration", (6, 12))
        duration = prng.integers(d0, d1 + 1, n_ref)
        cap = prof.get("end_cap", 2022 * 12 + 6)                              # SIB: by July 2022
        end_month = start_month + duration if cap is None else np.minimum(start_month + duration, cap)
        end_day = prng.integers(1, 29, n_ref)
        outcome_month = end_month + prof.get("follow_up", 2)

    # ---- static traits
    sex = np.where(rng.random(n) < 0.5, 1, 2)
    origin = rng.choice(4, size=n, p=[0.42, 0.06, 0.40, 0.12])   # dk, western, nonwest imm, nonwest desc
    sex[is_part] = 1
    origin[is_part] = 2
    if part and "participant_female" in prof:
        sex[:n_ref] = np.where(xrng.random(n_ref) < prof["participant_female"], 2, 1)
        origin[:n_ref] = xrng.choice(4, size=n_ref, p=prof["participant_origin"])
    ie_type = np.choose(origin, [1, 2, 2, 3])
    opr_land = np.where(origin == 0, "DNK",
                        np.where(origin == 1, WESTERN[rng.integers(0, len(WESTERN), n)],
                                 NON_WESTERN[rng.integers(0, len(NON_WESTERN), n)]))
    nonwest_man = (sex == 1) & (origin >= 2)
    p_types = np.where(nonwest_man[:, None], [[0.72, 0.07, 0.08, 0.05, 0.04, 0.04]],
                       [[0.22, 0.20, 0.33, 0.08, 0.10, 0.07]])
    kind = (rng.random(n)[:, None] > np.cumsum(p_types, axis=1)).sum(axis=1)
    del p_types
    kind[is_part] = 0
    age2020 = np.where(kind == 5, rng.integers(18, 30, n), rng.integers(22, 65, n)).astype(float)
    age50 = age2020 >= 50
    partner = rng.random(n) < np.where(kind == 0, 0.45, 0.55)
    primary = rng.random(n) < np.where(kind == 0, np.where(origin >= 2, 0.70, 0.45), 0.2)
    somatic_prone = rng.random(n) < np.where(kind == 0, 0.40, 0.25)
    psych_prone = rng.random(n) < np.where(kind == 0, 0.22, 0.08)
    years_lt7 = (origin == 2) & (rng.random(n) < 0.5)

    if part:
        # participants: exact trait counts among the analysed, random for the rest
        na = len(analysed)
        tr = {k: (v if isinstance(v, (int, np.integer)) else int(round(v * na)))
              for k, v in prof["traits"].items()}
        flags = {name: _exact(na, tr[name], prng) for name in tr}
        for name, arr in (("age50", age50), ("partner", partner), ("years_lt7", years_lt7),
                          ("primary", primary), ("somatic", somatic_prone), ("psych", psych_prone)):
            arr[analysed] = flags[name]
            for i in (*never_started, *no_bef):
                arr[i] = prng.random() < tr[name] / na
        lo, hi = prof.get("age_range", (26, 50))
        age2020[:n_ref] = np.where(age50[:n_ref], prng.integers(50, 63, n_ref), prng.integers(lo, hi, n_ref))
    if prof.get("young_core_share"):
        young = (kind == 0) & ~is_part & (xrng.random(n) < prof["young_core_share"])
        age2020[young] = xrng.integers(17, 29, int(young.sum()))
    age50 = age2020 >= 50
    if part:
        employed24_part = np.zeros(n_ref, bool)
        employed24_part[analysed] = flags["employed24"]
        passive_part = np.zeros(n_ref, bool)
        passive_part[analysed] = flags["passive"]
        passive_part[np.r_[never_started, no_bef]] = True

    # birth dates (age in whole years at 2020-07-01) and arrivals
    birth = _date((dt.date(2020, 7, 1) - dt.date(1970, 1, 1)).days
                  - (age2020 * 365.25).astype(int) - rng.integers(0, 365, n))
    arrival_year = np.where(years_lt7, rng.integers(2014, 2017, n), rng.integers(1990, 2013, n))
    arrival = _date(_month_start_days(arrival_year * 12 + rng.integers(0, 12, n)) + rng.integers(0, 28, n))
    arrival = np.where(origin == 2, arrival, np.datetime64("NaT"))
    arrival_m = np.where(origin == 2, arrival.astype("datetime64[M]").astype(int) + 1970 * 12, -1)

    kom = np.where(is_part, 0, OTHER_KOM[rng.integers(0, len(OTHER_KOM), n)])
    if part:
        kom[:n_ref] = kommune_file

    # latent employability: traits plus a little noise
    trait_u = (-0.5 * age50 - 0.4 * primary - 0.4 * psych_prone - 0.25 * somatic_prone
               + 0.25 * partner - 0.2 * years_lt7 + 0.35 * (kind == 2) + 0.15 * (kind == 1))
    u = trait_u + rng.normal(0, 0.25, n)

    if part:
        # ---- participants' employability and pre-programme history are drawn jointly from
        # the chain, conditioned on their profile; the benefit-exit rates are calibrated on
        # them (twice, so histories and rates agree)
        sm = start_month - M0
        h = outcome_month[analysed] - start_month[analysed]
        pre = {}
        a_core = calibrate_core_rates(u[analysed], h, prof["control_distribution"])
        for _round in range(2):
            hrng = np.random.default_rng(seed + 7)
            for i in range(n_ref):
                u[i], pre[i] = _sample_participant_history(trait_u[i], sm[i], employed24_part[i],
                                                           passive_part[i], T, a_core, hrng)
            a_core = calibrate_core_rates(u[analysed], h,
                                          prof["control_distribution"])
        a_by_kind = {"core": a_core, **BASE_RATES}
    else:
        a_by_kind = shared["a_by_kind"]

    # ---- simulate monthly states
    S = np.zeros((n, NM), dtype=np.int8)
    init = np.choose(kind, [T, SW, SW, T, P, ED]).astype(np.int8)
    init = np.where((kind == 1) & (rng.random(n) < 0.4), T, init)
    init = np.where((kind == 0) & (rng.random(n) < 0.15), SW, init)
    S[:, 0] = np.where(arrival_m > M0, ABSENT, init)
    death_hz = np.where(is_part, 0.0, 0.0002 + 0.0006 * age50)
    # chain month by month, with arrivals entering on benefit
    for m in range(1, NM):
        arrive = arrival_m == M0 + m
        _simulate(S, m, m + 1, kind, u, a_by_kind, rng, death_hz)
        S[arrive, m] = T

    # ---- participants: history, programme, outcome, then the chain again
    if part:
        om = outcome_month - M0
        outcome_state = np.full(n_ref, T)
        for grp, table in (("outcomes_prior_job", employed24_part), ("outcomes_no_prior_job", ~employed24_part)):
            ids = np.array([i for i in analysed if table[i]])
            ids = prng.permutation(ids)
            states = np.concatenate([np.full(c, s) for s, c in _counts(prof[grp], len(ids)).items()])
            outcome_state[ids] = states
    sub_temp = rng.random((n, NM)) < np.where(kind == 0, 0.2, 0.05)[:, None]
    if part:
        follow_up, job_rng = prof.get("follow_up", 2), np.random.default_rng(seed + 7_000_001)
        for i in range(n_ref):
            s0, o0 = sm[i], om[i]
            S[i, : s0 + 1] = pre[i]
            S[i, s0: o0] = T              # on benefit from the start to the outcome month
            sub_temp[i, s0: o0] = False
            # passive 4 weeks before start lies in the month before the start month (day <= 10)
            if S[i, s0 - 1] == T:
                sub_temp[i, s0 - 1] = not passive_part[i]
            if o0 >= NM:                  # outcome month after the extract: nothing to force
                continue
            S[i, o0] = outcome_state[i] if i in analysed else T
            if prof.get("job_onset") and S[i, o0] in (SW, TW):
                # the job began in one of the months after the end month up to the outcome month
                # (their own stream: the rest of the extract is as before)
                j = o0 - int(job_rng.integers(0, follow_up))
                S[i, j: o0] = S[i, o0]
            _simulate(S[i: i + 1], o0 + 1, NM, kind[i: i + 1], u[i: i + 1], a_by_kind,
                      np.random.default_rng(seed + 100 + i), np.zeros(1))

    # ---- monthly DREAM code per person
    core_code = np.where(years_lt7 | (arrival_m > (2012 * 12)), CODE["140"], CODE["132"])
    if prof.get("young_code"):
        core_code = np.where(age2020 < 29, CODE[prof["young_code"]], core_code)
    base_code = np.select(
        [kind == 0, kind == 1, kind == 2, kind == 3, kind == 4, kind == 5],
        [core_code,
         CODE["111"], CODE["111"], CODE["890"], CODE["781"], CODE["135"]])
    sub_code = np.array([CODE["234"], CODE["750"], CODE["890"]])[rng.integers(0, 3, (n, NM))]
    Mcode = np.zeros((n, NM), dtype=np.int8)
    temp = np.where(sub_temp, sub_code, base_code[:, None])
    del sub_temp, sub_code
    Mcode = np.where(S == T, temp, Mcode)
    del temp
    Mcode = np.where(S == TW, base_code[:, None], Mcode)
    Mcode = np.where(S == ED, CODE["651"], Mcode)
    Mcode = np.where(S == FX, CODE["521"], Mcode)
    older = (age2020 >= 60)[:, None]
    Mcode = np.where(S == P, np.where(older, CODE["621"], CODE["781"]), Mcode)
    Mcode = np.where(S == EM, CODE["998"], Mcode)
    Mcode = np.where(S == DEAD, CODE["999"], Mcode)

    weeks = iso_weeks(FIRST_YEAR, LAST_YEAR)
    wm = np.array([week_month(y, w) - M0 for y, w in weeks])
    W = Mcode.astype(np.int8)[:, wm]   # codes are indices into VOCAB: int8 is an eighth of the memory
    del Mcode
    # weekly noise for the pool: a stray empty week or a holiday-pay week
    # (in row blocks: the same random stream as one draw, far less memory)
    for r0 in range(0, n, 50_000):
        r1 = min(n, r0 + 50_000)
        noise = (rng.random((r1 - r0, W.shape[1])) < 0.02) & ~is_part[r0:r1, None] & (W[r0:r1] != CODE["999"])
        W[r0:r1][noise] = np.where(S[r0:r1][:, wm] == SW, CODE["121"], CODE[""])[noise]

    # pnr: a permutation above an offset drawn in the first block; a further block's pnr lie
    # above the blocks before it (files sorted by pnr, participants not first)
    if part:
        perm = prng.permutation(n)
        offset = rng.integers(10**9, 2 * 10**9)
        pnr_num = perm + offset
        shared = {"a_by_kind": a_by_kind, "pnr_offset": int(offset)}
    else:
        pnr_num = rng.permutation(n) + (shared["pnr_offset"] + first_pnr)
    pnr = np.array([f"{x:010d}" for x in pnr_num], dtype=object)
    order_rows = np.argsort(pnr)
    pnr_dict = pa.array(pnr[order_rows], type=pa.string())

    paths["dream"] = out / "dream.parquet"
    dream.add(pnr_dict, W, order_rows, last)
    del W   # free ~2.5 GB at 1M persons

    # eindkomst.parquet: wages in TW, SW, FX months, sometimes two employers, a few zero rows
    pi, mi = np.nonzero(np.isin(S, (TW, SW, FX)))
    st = S[pi, mi]
    hours = np.where(st == SW, rng.normal(120, 35, pi.size), rng.normal(40, 15, pi.size))
    hours = np.clip(hours, 4, 180).round(1)
    wage = (hours * rng.normal(175, 25, pi.size)).round(0)
    split = rng.random(pi.size) < 0.12
    frac = rng.uniform(0.2, 0.8, pi.size)
    zero_rows = rng.random(pi.size) < 0.005
    r_p = np.concatenate([pi, pi[split], pi[zero_rows]])
    r_m = np.concatenate([mi, mi[split], mi[zero_rows]])
    r_w = np.concatenate([np.where(split, (wage * frac).round(0), wage), (wage * (1 - frac)).round(0)[split],
                          np.zeros(zero_rows.sum())])
    r_h = np.concatenate([np.where(split, (hours * frac).round(1), hours), (hours * (1 - frac)).round(1)[split],
                          np.zeros(zero_rows.sum())])
    mon = np.array([f"{(M0 + k) // 12:04d}-{(M0 + k) % 12 + 1:02d}" for k in range(NM)], dtype=object)
    del pi, mi, st, hours, wage, split, frac, zero_rows
    rank = np.empty(n, int)
    rank[order_rows] = np.arange(n)
    o = np.lexsort((r_w, r_m, rank[r_p]))
    paths["eindkomst"] = out / "eindkomst.parquet"
    files.write(paths["eindkomst"], pa.table({
        "pnr": pa.DictionaryArray.from_arrays(pa.array(rank[r_p][o].astype(np.int32)), pnr_dict),
        "maaned": pa.DictionaryArray.from_arrays(pa.array(r_m[o].astype(np.int32)), pa.array(mon, pa.string())),
        "loen": pa.array(r_w[o], pa.float64()),
        "timer": pa.array(r_h[o], pa.float64()),
    }))
    del r_p, r_m, r_w, r_h, o

    # bef.parquet: 1 January snapshots 2015-2024 for persons alive and in Denmark
    rows_p, rows_y = [], []
    for y in range(FIRST_YEAR, LAST_YEAR + 2):
        m = min((y - FIRST_YEAR) * 12, NM - 1)
        alive = (S[:, m] != DEAD) & (S[:, m] != ABSENT) & (S[:, m] != EM)
        alive[no_bef] = False
        ids = np.flatnonzero(alive)
        rows_p.append(ids)
        rows_y.append(np.full(ids.size, y))
    bp, by = np.concatenate(rows_p), np.concatenate(rows_y)
    o = np.lexsort((by, rank[bp]))
    bp, by = bp[o], by[o]
    civst = np.where(partner, np.where(rng.random(n) < 0.7, "G", "U"),
                     np.array(["U", "F", "E"])[rng.choice(3, n, p=[0.6, 0.33, 0.07])])
    paths["bef"] = out / "bef.parquet"
    files.write(paths["bef"], pa.table({
        "pnr": pa.array(pnr[bp], pa.string()),
        "aar": pa.array(by, pa.int32()),
        "koen": pa.array(sex[bp], pa.int32()),
        "foed_dag": pa.array(birth[bp], pa.date32()),
        "ie_type": pa.array(ie_type[bp], pa.int32()),
        "opr_land": pa.array(opr_land[bp], pa.string()),
        "civst": pa.array(civst[bp], pa.string()),
        "samlev": pa.array(partner[bp].astype(np.int32), pa.int32()),
        "kom": pa.array(kom[bp], pa.int32()),
    }))
    del bp, by, o, rows_p, rows_y

    # vnds.parquet: arrivals, emigrations (first month of an EM spell) and returns
    vp = [np.flatnonzero(origin == 2)]
    vd = [arrival[origin == 2]]
    vk = [np.full(vp[0].size, "I", dtype=object)]
    em_start = (S == EM) & np.concatenate([np.ones((n, 1), bool), S[:, :-1] != EM], axis=1)
    em_end = (S[:, :-1] == EM) & (S[:, 1:] != EM) & (S[:, 1:] < CHAIN)
    for mask, k, shift in ((em_start, "U", 0), (em_end, "I", 1)):
        p_, m_ = np.nonzero(mask)
        vp.append(p_)
        vd.append(_date(_month_start_days(M0 + m_ + shift) + rng.integers(0, 10, p_.size)))
        vk.append(np.full(p_.size, k, dtype=object))
    vp, vd, vk = np.concatenate(vp), np.concatenate(vd), np.concatenate(vk)
    o = np.lexsort((vd, rank[vp]))
    paths["vnds"] = out / "vnds.parquet"
    files.write(paths["vnds"], pa.table({"pnr": pa.array(pnr[vp][o], pa.string()),
                                         "haend_dato": pa.array(vd[o], pa.date32()),
                                         "indud_kode": pa.array(vk[o].astype(str), pa.string())}))

    # dod.parquet
    dead_any = (S == DEAD).any(axis=1)
    first_dead = np.argmax(S == DEAD, axis=1)
    dp = np.flatnonzero(dead_any)
    dd = _date(_month_start_days(M0 + first_dead[dp]) + rng.integers(0, 28, dp.size))
    o = np.argsort(rank[dp])
    paths["dod"] = out / "dod.parquet"
    files.write(paths["dod"], pa.table({"pnr": pa.array(pnr[dp][o], pa.string()),
                                        "doddato": pa.array(dd[o], pa.date32())}))

    # udda.parquet: highest completed education, one row per person (year 2015)
    level = np.where(primary, "10", np.array(["20", "35", "40", "50", "60"])[rng.integers(0, 5, n)])
    hfaudd = np.array([f"{lv}{x:02d}" for lv, x in zip(level, rng.integers(10, 99, n))], dtype=object)
    o = np.argsort(rank)
    paths["udda"] = out / "udda.parquet"
    files.write(paths["udda"], pa.table({"pnr": pa.array(pnr[o], pa.string()),
                                         "aar": pa.array(np.full(n, 2015), pa.int32()),
                                         "hfaudd": pa.array(hfaudd[o].astype(str), pa.string())}))

    # lpr.parquet: hospital contacts; prone persons have contacts most years
    lp, ld, lk = [], [], []
    for y in range(FIRST_YEAR, LAST_YEAR + 1):
        for prone, psyk, hi, lo in ((somatic_prone, 0, 0.9, 0.12), (psych_prone, 1, 0.85, 0.03)):
            has = rng.random(n) < np.where(prone, hi, lo)
            if y in (2018, 2019) and psyk == 0:   # participants' profile years: exact
                has[:n_ref] = somatic_prone[:n_ref]
            if y in (2018, 2019) and psyk == 1:
                has[:n_ref] = psych_prone[:n_ref]
            ids = np.flatnonzero(has)
            lp.append(ids)
            ld.append(_date((dt.date(y, 1, 1) - dt.date(1970, 1, 1)).days + rng.integers(0, 365, ids.size)))
            lk.append(np.full(ids.size, psyk))
    lp, ld, lk = np.concatenate(lp), np.concatenate(ld), np.concatenate(lk)
    o = np.lexsort((lk, ld, rank[lp]))
    paths["lpr"] = out / "lpr.parquet"
    files.write(paths["lpr"], pa.table({"pnr": pa.array(pnr[lp][o], pa.string()),
                                        "dato": pa.array(ld[o], pa.date32()),
                                        "psyk": pa.array(lk[o], pa.int32())}))
    if not part:
        return shared, n

    # participants.csv (semicolon, as Danish Excel writes it)
    part_df = pd.DataFrame({
        "pnr": pnr[:n_ref],
        "kommune": kommune_file,
        "start_dato": [dt.date(int(m // 12), int(m % 12 + 1), int(d)) for m, d in zip(start_month, start_day)],
        "slut_dato": [dt.date(int(m // 12), int(m % 12 + 1), int(d)) for m, d in zip(end_month, end_day)],
    })
    part_df["visitation_dato"] = [d - dt.timedelta(days=int(x)) for d, x in
                                  zip(part_df["start_dato"], prng.integers(7, 26, n_ref))]
    part_df.loc[never_started, ["start_dato", "slut_dato"]] = None
    part_df = part_df[["pnr", "kommune", "visitation_dato", "start_dato", "slut_dato"]]
    part_df = part_df.sort_values("visitation_dato", kind="stable").reset_index(drop=True)
    paths["participants"] = out / "participants.csv"
    part_df.to_csv(paths["participants"], sep=";", index=False, lineterminator="\n")

    if prof.get("questionnaires", False):
        from sibeval.demo.questionnaires import questionnaires
        q = questionnaires(pnr[:n_ref], kommune, started, outcome_state, part_df, prng)
        paths["questionnaires"] = out / "questionnaires.csv"
        q.to_csv(paths["questionnaires"], sep=";", index=False, lineterminator="\n")
    return shared, n
