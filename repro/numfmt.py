"""One number formatter for everything a reader sees: the site, the report and the verdicts' reasons.

Rules, so that one row never mixes styles:

* no e-notation: numbers are written in positional notation with a sensible number of
  significant figures (`fmt(0.000123)` -> "0.000123", `fmt(1234567)` -> "1,234,567");
* a standard deviation (or any spread) gets two significant figures (`spread(0.01234)` ->
  "0.012"), and the mean it goes with is written to the same last decimal place, so
  "0.9534 ± 0.012" becomes "0.953 ± 0.012";
* p-values: "< 0.001", otherwise 2-3 decimals;
* a metric is written in the paper's unit when paper.yaml says so (`unit: percent`: 0.953 is
  "95.3%"; `unit: errors`: "110 errors"), see `unit_of`.
"""

from __future__ import annotations

import math
import re
from typing import Any

DASH = "—"
# Names of metrics that live in [0, 1] when they are fractions (and [0, 100] as percentages).
_UNIT_RANGE = re.compile(r"(^|[_\-. ])(acc|accuracy|error|err|f1|auc|precision|recall|iou|map)([_\-. ]|$)|acc$|accuracy$",
                         re.IGNORECASE)
_NONNEG = re.compile(r"(loss|ppl|perplexity|nll|mse|mae|rmse|time|count|errors|params|flops|bleu)", re.IGNORECASE)


def _bad(x: Any) -> str | None:
    if x is None:
        return DASH
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return str(x)
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "∞" if x > 0 else "−∞"
    return None


def _no_digits(x: Any) -> str | None:
    """The text of a value that needs no significant figures: missing, not a number, or 0."""
    bad = _bad(x)
    return bad if bad is not None or x != 0 else "0"


def decimals_for(x: float, sig: int) -> int:
    """Decimal places that give `x` `sig` significant figures (0 for large numbers)."""
    if x == 0:
        return 0
    return max(0, sig - 1 - math.floor(math.log10(abs(x))))


def fixed(x: float, places: int) -> str:
    s = f"{x:,.{places}f}"
    if s.startswith("-") and float(x) == 0 or re.fullmatch(r"-0(\.0*)?", s):
        s = s[1:]  # no "-0.00"
    return s.replace("-", "−")


def fmt(x: Any, sig: int = 4) -> str:
    """A number with `sig` significant figures, never in e-notation; integers stay integers."""
    if (plain := _no_digits(x)) is not None:
        return plain
    if isinstance(x, int) or (float(x).is_integer() and abs(x) >= 10 ** (sig - 1)):
        return fixed(x, 0)
    places = min(decimals_for(x, sig), 12)
    s = fixed(x, places)
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return s


def spread(x: Any) -> str:
    """A standard deviation (or interval half-width): two significant figures."""
    if (plain := _no_digits(x)) is not None:
        return plain
    return fixed(x, min(decimals_for(x, 2), 12))


def mean_std(mean: Any, std: Any) -> str:
    """'0.953 ± 0.012': the mean written to the std's last decimal place (at least 3 sig. fig.)."""
    if _bad(std) is not None or std == 0 or _bad(mean) is not None:
        return fmt(mean) + ("" if std is None else f" ± {spread(std)}")
    places = min(decimals_for(std, 2), 12)
    return f"{fixed(mean, max(places, 0))} ± {spread(std)}"


def interval(lo: Any, hi: Any, like: Any = None) -> str:
    """'[0.94, 0.97]', both ends with the decimals of the interval's width (2 sig. fig.)."""
    if _bad(lo) is not None or _bad(hi) is not None:
        return f"[{fmt(lo)}, {fmt(hi)}]"
    width = abs(hi - lo) or abs(like or 0) or abs(hi) or 1.0
    places = min(decimals_for(width, 2), 12)
    return f"[{fixed(lo, places)}, {fixed(hi, places)}]"


def signed(x: Any, sig: int = 3) -> str:
    s = fmt(x, sig)
    return f"+{s}" if isinstance(x, (int, float)) and not isinstance(x, bool) and x > 0 else s


def pval(p: Any) -> str:
    if p is None or _bad(p) is not None:
        return DASH if p is None else str(p)
    if p < 0.001:
        return "< 0.001"
    return f"{p:.3f}" if p < 0.1 else f"{p:.2f}"


def p_rel(p: Any) -> str:
    """'= 0.004' or '< 0.001', to follow 'p ' in a sentence ("Holm p < 0.001")."""
    s = pval(p)
    return s if s.startswith("<") else f"= {s}"


def p_is(p: Any) -> str:
    """'p = 0.004' or 'p < 0.001'."""
    return f"p {p_rel(p)}"


def percent(x: Any, sig: int = 3) -> str:
    bad = _bad(x)
    return bad if bad is not None else fmt(x * 100, sig) + "%"


def metric_range(name: str | None, values: list[float] = (), declared: Any = None) -> tuple[float | None, float | None]:
    """The range a metric can take, for clipping intervals: declared in paper.yaml
    (`range: [lo, hi]`), else read from its name (rates in [0, 1] or [0, 100], losses >= 0)."""
    if isinstance(declared, (list, tuple)) and len(declared) == 2:
        lo, hi = declared
        return (float(lo) if isinstance(lo, (int, float)) else None, float(hi) if isinstance(hi, (int, float)) else None)
    name = name or ""
    finite = [v for v in values if isinstance(v, (int, float)) and math.isfinite(v)]
    if _UNIT_RANGE.search(name):
        if finite and max(finite) > 1.0 + 1e-9:
            return (0.0, 100.0)
        return (0.0, 1.0)
    if _NONNEG.search(name):
        return (0.0, None)
    return (None, None)


def clip(x: float | None, rng: tuple[float | None, float | None]) -> float | None:
    if x is None or not isinstance(x, (int, float)) or math.isnan(x):
        return x
    lo, hi = rng
    if lo is not None and x < lo:
        return lo
    if hi is not None and x > hi:
        return hi
    return x


def unit_of(spec: Any) -> tuple[float, str]:
    """How a metric is written, from its paper.yaml entry (`unit: percent` for a fraction shown
    as a percentage, or any word: `unit: errors`): (scale, suffix)."""
    unit = spec.get("unit") if isinstance(spec, dict) else None
    if not isinstance(unit, str) or not unit.strip():
        return 1.0, ""
    unit = unit.strip()
    if unit in ("%", "percent"):
        return 100.0, "%"
    return 1.0, " " + unit


def with_unit(text: str, unit: tuple[float, str]) -> str:
    return text + unit[1] if text not in (DASH, "NaN") else text


def scaled(x: Any, unit: tuple[float, str]) -> Any:
    return x * unit[0] if isinstance(x, (int, float)) and not isinstance(x, bool) else x
