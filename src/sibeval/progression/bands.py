"""The WHO-5 score bands the progression tables cross start with end by (0-35: a likely
depression screen, 36-50, over 50), apart from the analysis so the publication boundary
reads them without the analysis's scipy."""

BANDS = ("0-35", "36-50", ">50")
