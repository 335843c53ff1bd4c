"""One locale-aware number formatter for everything a reader sees (note, index, figures).

Danish uses a decimal comma and '.' as thousands separator; English the reverse. Any text
in a numeric position (a suppressed cell such as "<5" or "x") is shown exactly as given.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal

from sibeval.publish.cells import as_number, is_suppressed

SEPARATORS = {"da": (",", "."), "en": (".", ",")}
WIDE = Context(prec=80)                       # no number a table holds is too large to round


@dataclass(frozen=True)
class Formatter:
    """Format numbers for one language; every method passes suppression markers through."""

    lang: str = "da"

    def _marks(self):
        return SEPARATORS.get(self.lang, SEPARATORS["en"])

    def _blank_or_text(self, value):
        if is_suppressed(value):
            return str(value).strip()
        return "" if as_number(value) is None else None

    def num(self, value, digits: int = 1, signed: bool = False) -> str:
        """A number with `digits` decimals, thousands grouped, never "-0"."""
        shown = self._blank_or_text(value)
        if shown is not None:
            return shown
        # half away from zero on the number's exact value, as Excel shows it (8,5 -> 9 and
        # 25.314,5 kr. -> 25.315 kr., not Python's half-to-even 8 and 25.314)
        x = as_number(value)
        if not math.isfinite(x):
            return "∞" if x > 0 else "−∞"
        x = float(Decimal(x).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP, context=WIDE))
        if x == 0:
            x = 0.0                                   # no negative zero
        s = f"{abs(x):,.{digits}f}"
        dec, thou = self._marks()
        s = s.replace(",", "\0").replace(".", dec).replace("\0", thou)
        sign = "−" if x < 0 else ("+" if signed and x > 0 else "")
        return sign + s

    def int(self, value) -> str:
        """A count of persons: an integer with thousands separator."""
        return self.num(value, 0)

    def pct(self, share, digits: int = 0) -> str:
        """A share (0-1) as a percentage: "34,5 %"."""
        shown = self._blank_or_text(share)
        if shown is not None:
            return shown
        return f"{self.num(100 * as_number(share), digits)} %"

    def pp(self, diff, digits: int = 1, signed: bool = False) -> str:
        """A difference of shares (0-1) in percentage points (number only)."""
        shown = self._blank_or_text(diff)
        if shown is not None:
            return shown
        return self.num(100 * as_number(diff), digits, signed)

    def p(self, value) -> str:
        """A p-value: "< 0,001" or three decimals."""
        shown = self._blank_or_text(value)
        if shown is not None:
            return shown
        x = as_number(value)
        return f"< {self.num(0.001, 3)}" if x < 0.001 else self.num(x, 3)

    def p_eq(self, value) -> str:
        """A p-value in running text: "p < 0,001" or "p = 0,058"."""
        s = self.p(value)
        return f"p {s}" if s.startswith("<") else f"p = {s}"

    def tick(self, value, digits: int = 0) -> str:
        """Axis tick labels for matplotlib figures."""
        return self.num(value, digits)
