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
    # effect note headings and phrases ({k} is filled in by report.t)
    "title": ("Effektnotat", "Effect note"),
    "headline": ("Hovedresultater", "Headline results"),
    "data_method": ("Data og metode", "Data and method"),
    "flow": ("Flow: fra visitation til analyse", "Flow: from referral to analysis"),
    "profile": ("Deltagerprofil, potentielle kontrolpersoner og matchet kontrolgruppe",
                "Participant profile, eligible pool and matched control group"),
    "table1": ("Tabel 1. Forsørgelsesstatus i kalendermåneden {k} måneder efter deltagelse",
               "Table 1. Status in the calendar month {k} months after participation"),
    "effects": ("Effekter: forskel mellem deltagere og kontrolgruppe", "Effects: participants minus controls"),
    "hours_wage": ("Timer og løn blandt de ordinært beskæftigede", "Hours and wages among the employed"),
    "subgroups": ("Undergrupper", "Subgroups"),
    "placebo": ("Placebotest før forløbet", "Placebo test before the programme"),
    "diagnostics": ("Designdiagnostik: styrke og mindste påviselige effekt",
                    "Design diagnostics: power and minimum detectable effect"),
    "progression": ("Progression: BIP og WHO-5", "Progression: BIP and WHO-5"),
    "caveats": ("Forbehold", "Caveats"),
    "provenance": ("Datagrundlag og reproducerbarhed", "Provenance and reproducibility"),
    "significant": ("statistisk signifikant på 5 %-niveau", "statistically significant at the 5 % level"),
    "not_significant": ("ikke statistisk signifikant på 5 %-niveau", "not statistically significant at the 5 % level"),
    "suppressed_note": ("Celler med færre end {k} personer er vist som \"<{k}\", og yderligere celler er skjult (\"x\"), så de ikke kan regnes tilbage.",
                        "Cells with fewer than {k} persons are shown as \"<{k}\", and further cells are hidden (\"x\") so they cannot be back-calculated."),
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
