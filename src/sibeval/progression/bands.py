"""The WHO-5 score bands (0-35, 36-50, over 50) of the progression tables' start-by-end
crossing; a module of their own so the publication boundary reads them without scipy."""

BANDS = ("0-35", "36-50", ">50")
