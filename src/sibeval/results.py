"""Result objects in the manner of statsmodels: frozen, documented dataclasses that share
`to_frame()`."""

from __future__ import annotations

from dataclasses import asdict

import pandas as pd


class OneRow:
    """Mixin for a result dataclass: `to_frame()` gives it as one row, a column per field."""

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([asdict(self)])
