"""The demo profiles (one per programme of the seeds) and the files each generates.

Read when the workflow is parsed (the demo rule's outputs), so it imports nothing of the
generator; :mod:`sibeval.demo.generate` writes the files.
"""

from __future__ import annotations

# chain states
T, TW, SW, SU, ED, FX, P, EM, DEAD, ABSENT = range(10)
CHAIN = 8  # states 0..7 move in the chain; DEAD and ABSENT are handled apart
# persons per block: a pool up to this size is one block (the default demos' bytes); a larger
# pool is generated and written block by block, so memory stays that of one block
BLOCK_PERSONS = 250_000

SIB_PROFILE = {
    "municipalities": {657: 29, 791: 28},
    # Calibration input: the expected state distribution over T, TW, SW, SU, ED, FX, P, EM
    # of persons like the participants who stay on benefit. It is set a little off the
    # published control column (63/10/7/5/1/2/10/2 %) so that this seed's realised matched
    # controls (about 550; sampling noise about +/-1.6 points) land within 2 points of it.
    "control_distribution": [0.645, 0.092, 0.063, 0.045, 0.01, 0.02, 0.102, 0.023],
    # participants analysed (55): exact trait counts from the catalogue's profile
    "n_analysed": 55,
    "traits": {"age50": 26, "partner": 29, "years_lt7": 27, "employed24": 19,
               "primary": 43, "passive": 41, "somatic": 28, "psych": 17},
    # outcome month states: (employed24 yes) and (employed24 no)
    "outcomes_prior_job": {SW: 6, TW: 4, SU: 2, T: 6, EM: 1},
    "outcomes_no_prior_job": {SW: 4, TW: 5, SU: 3, T: 21, EM: 3},
}

# Two more programmes from the seeds (issue 8). Shares are turned into exact counts.
KOLDING_PROFILE = {
    "municipalities": {621: 70}, "never_started": 4, "no_bef": 1,
    "participant_female": 0.6, "participant_origin": [0.25, 0.05, 0.55, 0.15],
    "start_first": 2022 * 12 + 5, "start_months": 5, "duration": (4, 9), "end_cap": None,
    "follow_up": 6,
    "control_distribution": [0.70, 0.07, 0.07, 0.05, 0.02, 0.03, 0.04, 0.02],
    "traits": {"age50": 0.35, "partner": 0.3, "years_lt7": 0.3, "employed24": 0.3,
               "primary": 0.6, "passive": 0.8, "somatic": 0.5, "psych": 0.3},
    "outcomes_prior_job": {SW: 0.30, TW: 0.15, SU: 0.05, T: 0.45, ED: 0.05},
    "outcomes_no_prior_job": {SW: 0.15, TW: 0.10, SU: 0.05, T: 0.60, ED: 0.05, P: 0.05},
    # a job begins in a month between the end and the outcome month (the others' extracts keep
    # their bytes: the onset changes how many wage draws follow)
    "job_onset": True,
}
UNGE_PROFILE = {
    "municipalities": {791: 138}, "never_started": 6, "no_bef": 2,
    "participant_female": 0.45, "participant_origin": [0.6, 0.05, 0.15, 0.2],
    "start_first": 2021 * 12, "start_months": 18, "duration": (5, 9), "end_cap": None,
    "follow_up": 6, "age_range": (17, 27), "young_core_share": 0.5, "young_code": "135",
    "control_distribution": [0.68, 0.03, 0.07, 0.05, 0.08, 0.01, 0.03, 0.05],
    "traits": {"age50": 0.0, "partner": 0.15, "years_lt7": 0.1, "employed24": 0.35,
               "primary": 0.7, "passive": 0.8, "somatic": 0.4, "psych": 0.45},
    "outcomes_prior_job": {SW: 0.2, TW: 0.06, ED: 0.14, SU: 0.04, T: 0.56},
    "outcomes_no_prior_job": {SW: 0.12, TW: 0.05, ED: 0.16, SU: 0.04, T: 0.60, P: 0.03},
}


SIB_PROFILE["questionnaires"] = True
PROFILES = {"sib_herning_viborg": SIB_PROFILE, "kolding_ny_start": KOLDING_PROFILE,
            "viborg_unge": UNGE_PROFILE}


def demo_file_names(profile: str) -> list[str]:
    """The files `generate` writes for a profile."""
    names = ["dream.parquet", "bef.parquet", "eindkomst.parquet", "vnds.parquet", "dod.parquet",
             "udda.parquet", "lpr.parquet", "participants.csv"]
    return names + (["questionnaires.csv"] if PROFILES[profile].get("questionnaires") else [])
