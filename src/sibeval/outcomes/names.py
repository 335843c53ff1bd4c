"""The statuses of the outcome month and the headline outcomes, by name (no data: what the
workflow's start-up checks a cohort file against without loading the analysis)."""

# Table 1 row order (the note's order)
STATUSES = ("self_supporting_wage", "self_supporting_unknown", "wage_with_benefit", "education",
            "flexjob_or_ledighedsydelse", "temporary_benefit", "permanent_benefit", "not_resident")
PRECEDENCE = ("not_resident", "permanent_benefit", "flexjob_or_ledighedsydelse", "education",
              "wage_with_benefit", "temporary_benefit", "self_supporting_wage",
              "self_supporting_unknown")
HEADLINES = {
    "self_supporting_or_education": ("self_supporting_wage", "self_supporting_unknown", "education"),
    "ordinary_employment": ("self_supporting_wage", "wage_with_benefit"),
}
OUTCOMES = STATUSES + tuple(HEADLINES)
# the order a reader meets the headlines in (the payment outcome first)
HEADLINE_ORDER = ("ordinary_employment", "self_supporting_or_education")
assert set(HEADLINE_ORDER) == set(HEADLINES)
