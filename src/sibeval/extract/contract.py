"""The data contract (docs/DATA_CONTRACT.md) as data: the file formats read, each file's
columns with their types, the allowed values of coded columns and the questionnaire items.
"""

from __future__ import annotations

FORMATS = (".parquet", ".csv", ".sas7bdat", ".dta")

BIP_ITEMS = (
    "bip_tro_paa_job", "bip_samarbejdsevne", "bip_helbredsmestring",
    "bip_kompetencer_arbejdsplads", "bip_kontakt_nye_mennesker", "bip_viden_jobmuligheder",
    "bip_motivation", "bip_arbejdsevne", "bip_transportevne", "bip_overskud_hverdag",
    "bip_jobsoegning",
)
WHO5_ITEMS = ("who5_1", "who5_2", "who5_3", "who5_4", "who5_5")

# column -> type; a trailing '?' allows empty values
SCHEMAS = {
    "participants": {"pnr": "str", "kommune": "int", "visitation_dato": "date",
                     "start_dato": "date?", "slut_dato": "date?"},
    "bef": {"pnr": "str", "aar": "int", "koen": "int", "foed_dag": "date", "ie_type": "int",
            "opr_land": "str", "civst": "str", "samlev": "int", "kom": "int"},
    "eindkomst": {"pnr": "str", "maaned": "month", "loen": "nonneg", "timer": "nonneg"},
    "vnds": {"pnr": "str", "haend_dato": "date", "indud_kode": "str"},
    "dod": {"pnr": "str", "doddato": "date"},
    "udda": {"pnr": "str", "aar": "int", "hfaudd": "str"},
    "lpr": {"pnr": "str", "dato": "date", "psyk": "int"},
    "questionnaires": {"pnr": "str", "runde": "str", "dato": "date?",
                       **{c: "int?" for c in BIP_ITEMS + WHO5_ITEMS}},
}
ALLOWED = {
    ("bef", "koen"): {1, 2},
    ("bef", "ie_type"): {1, 2, 3},
    ("bef", "civst"): set("UGFEPOL"),
    ("bef", "samlev"): {0, 1},
    ("vnds", "indud_kode"): {"I", "U"},
    ("lpr", "psyk"): {0, 1},
    ("questionnaires", "runde"): {"start", "slut"},
}
