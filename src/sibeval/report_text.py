"""Report wording in Danish and English (labels of statuses live in config/labels.yaml)."""

from __future__ import annotations

from .cohort import COVARIATES

TEXT = {
    "participants": ("Deltagere", "Participants"),
    "controls": ("Kontrolgruppe", "Control group"),
    "before": ("Før matchning", "Before matching"),
    "after": ("Efter matchning", "After matching"),
    "love_title": ("Balance i baggrundsforhold (|SMD|)", "Covariate balance (|SMD|)"),
    "overlap_title": ("Propensity score: deltagere og kontrolpersoner", "Propensity score: participants and controls"),
    "propensity": ("Propensity score", "Propensity score"),
    "table1_title": ("Forsørgelsesstatus i opfølgningsmåneden", "Status in the outcome month"),
    "effects_title": ("Forskel deltagere − kontrolgruppe (95 % KI)", "Difference participants − controls (95 % CI)"),
    "pp": ("Procentpoint", "Percentage points"),
    "down": ("Negativ", "Down"),
    "same": ("Uændret", "Same"),
    "up": ("Positiv", "Up"),
    "start": ("Start", "Start"),
    "end": ("Slut", "End"),
    "population_mean": ("Befolkningsgennemsnit", "Population mean"),
}

COVARIATE_LABELS = {
    "age": ("Alder", "Age"),
    "age_50plus": ("50 år eller ældre", "Aged 50+"),
    "partner": ("Gift/samlevende", "Lives with a partner"),
    "years_dk_lt7": ("Under 7 år i Danmark", "Under 7 years in Denmark"),
    "employed_24m": ("Beskæftiget inden for 2 år", "Employed in the last 2 years"),
    "benefit_share_36m": ("Andel af 3 år på ydelse", "Share of 3 years on benefit"),
    "primary_school_only": ("Højst grundskole", "At most primary school"),
    "passive_4w": ("Kontanthjælp/SHY 4 uger før", "Cash benefit/SHY 4 weeks before"),
    "somatic_2y": ("Somatisk hospitalskontakt (2 år)", "Somatic hospital contact (2 years)"),
    "psych_2y": ("Psykiatrisk hospitalskontakt (2 år)", "Psychiatric hospital contact (2 years)"),
    "herning_viborg": ("Bor i deltagernes kommuner", "Lives in the participants' municipalities"),
    "female": ("Kvinde", "Woman"),
    "non_western": ("Ikke-vestlig oprindelse", "Non-Western origin"),
    "distance": ("Propensity score (logit)", "Propensity score (logit)"),
}
assert set(COVARIATE_LABELS) - {"distance"} == set(COVARIATES)


def text(key: str, lang: str) -> str:
    da, en = TEXT[key]
    return da if lang == "da" else en


def covariate_labels(lang: str) -> dict:
    return {k: (v[0] if lang == "da" else v[1]) for k, v in COVARIATE_LABELS.items()}
