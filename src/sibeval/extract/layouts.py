"""The layouts of the extract stage's files: a rule's params carry them, so a file of an
older layout is made again (the workflow reads them at start-up, without the data libraries)."""

DREAM = "codes"     # dream.parquet: each person's weeks as one string of code numbers
PANEL = "person"    # panel.parquet: one row per person (an older file, a row per person-month, has none)
