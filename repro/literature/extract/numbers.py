"""Cell text -> number: value, spread (± or parenthesised), footnote marks dropped.

Both extractors first turn a cell into plain text (`1.0·10^20`, `88.1 ± 0.4`, `25.3^†`);
this module decides whether that text is one number and what it is.
"""

from __future__ import annotations

import re

# Footnote / significance marks that may trail a number and must not change it.
_MARKS = "*†‡§¶#♯⋆∗✝♦♣♠"
_MARK_RE = re.compile(rf"(?:\^\{{?[{_MARKS}a-zA-Z]+\}}?|[{_MARKS}]+)$")
_NUM = r"[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d+)?"
_SUFFIX = {"k": 1e3, "K": 1e3, "M": 1e6, "B": 1e9, "G": 1e9, "T": 1e12}
# mantissa, optional ·10^exp or e-notation, optional K/M/B suffix, optional %
_VALUE_RE = re.compile(
    rf"^(?P<m>{_NUM})"
    r"(?:\s*(?:·|×|x|\*|\\cdot|\\times)\s*10\s*\^?\s*\{?(?P<e>[-+]?\d{1,3})\}?|[eE](?P<e2>[-+]?\d{1,3}))?"
    r"(?P<s>[kKMBGT])?\s*%?$"
)
# a physical unit after a number is part of the cell, not of the value: "8 ms", "-0.45°", "1.15x"
_UNITS = ("s|ms|µs|μs|us|ns|sec|secs|min|mins|h|hr|hrs|hours|days|Hz|kHz|KHz|MHz|GHz|V|kV|mV|W|kW|MW|mW|A|mA|pu|dB|"
          "m/s|km/h|J/s|rad/s|m|"
          "°|°C|◦|∘|x|×|GB|MB|KB|TB|GiB|MiB|KiB|TiB|cm|mm|km|nm|µm|μm|kg|g|mg|J|kJ|eV|keV|MeV|GeV|TeV")
_UNIT_RE = re.compile(rf"^(?P<v>.*?\d)\s*\^?\s*(?:{_UNITS})\.?$")
# an approximate value is still the value printed: "~100", "∼100", "≈ 3.2"
_APPROX_RE = re.compile(r"^(?:~|∼|≈|≃)\s*(?=[-+.\d])")
# a count in parentheses after a value is a note, not a spread: "12.2 (n=115)", "0.81 (N = 40)"
_NOTE_RE = re.compile(r"^(?P<v>[^()]+?)\s*\((?P<note>[A-Za-z]{1,3}\s*=\s*[\d.,]+)\)$")
_PAREN_SPREAD_RE = re.compile(r"^(?P<v>.+?)\s*\((?P<sp>[^()]+)\)$")
_PM_RE = re.compile(r"^(?P<v>.+?)\s*(?:±|\+/-|\+-|\\pm)\s*(?P<sp>.+)$")


_LIGATURES = {"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "st", "ﬆ": "st"}


def plain_text(text: str) -> str:
    """Ligatures and mathematical italic/bold letters (𝑂, 𝐱) as plain letters; for labels too."""
    import unicodedata

    for lig, plain in _LIGATURES.items():
        text = text.replace(lig, plain)
    if any("\U0001d400" <= ch <= "\U0001d7ff" for ch in text):
        text = "".join(unicodedata.normalize("NFKC", ch) if "\U0001d400" <= ch <= "\U0001d7ff" else ch
                       for ch in text)
    return text


def normalise(text: str) -> str:
    """Unify minus signs, spaces and ligatures so one regex fits PDF and LaTeX text."""
    t = text.replace("−", "-").replace("–", "-").replace("\u2009", " ").replace("\xa0", " ")
    t = t.replace("\u202f", " ").replace("⋅", "·").replace("∙", "·")
    t = plain_text(t)
    # a raised or lowered spread: 88.1^{±0.4}, 88.1^±0.4 (PDF superscript), 76.2_{2.9}
    t = re.sub(r"(\d)\s*\^\s*\{?\s*(±|\\pm)\s*([^{}]*?)\}?$", r"\1 ± \3", t)
    t = re.sub(r"(\d\.\d+)\s*_\s*\{?\s*(?:±\s*)?(\d+(?:\.\d+)?)\s*\}?$", r"\1 ± \2", t)
    return re.sub(r"\s+", " ", t).strip()


# a raised digit after a decimal number is a footnote mark (25.3^1); after 10 it is an exponent
_RAISED_DIGIT_RE = re.compile(r"(?<=\d\.\d)(\d*)\s*\^\s*\{?\d{1,2}\}?$")


def strip_marks(text: str) -> str:
    """Drop trailing footnote marks (`25.3†`, `25.3^a`, `25.3*`, `25.3^1`)."""
    prev = None
    t = _RAISED_DIGIT_RE.sub(r"\1", text.strip())
    while prev != t:
        prev = t
        t = _MARK_RE.sub("", t).strip()
    return t


def parse_value(text: str) -> float | None:
    """One number (with optional ·10^e, e-notation, K/M/B suffix, %), else None."""
    t = _strip_unit(strip_marks(normalise(text)))
    if t.startswith("(") and t.endswith(")") and t.count("(") == 1:
        return None  # "(A)", "(0.34)" alone is a label or a lone spread, not a value
    m = _VALUE_RE.match(t)
    if not m or not re.search(r"\d", m.group("m") or ""):
        return None
    mant = m.group("m").replace(",", "")
    exp = m.group("e") or m.group("e2")
    try:
        # via the e-notation string so 1.4·10^20 is exactly 1.4e20, not 1.3999999999999998e20
        v = float(f"{mant}e{int(exp)}") if exp is not None else float(mant)
    except ValueError:
        return None
    if m.group("s"):
        v *= _SUFFIX[m.group("s")]
    return v


def _strip_unit(t: str) -> str:
    """The cell without an approximation sign before it or a unit after it."""
    t = _APPROX_RE.sub("", t)
    m = _UNIT_RE.match(t)
    return strip_marks(m.group("v")) if m else t


def parse_number(text: str) -> tuple[float | None, float | None]:
    """(value, spread) of a cell; (None, None) when the cell is not a single number."""
    t = _strip_unit(strip_marks(normalise(text)))
    if not t:
        return None, None
    v = parse_value(t)
    if v is not None:
        return v, None
    m = _NOTE_RE.match(t)
    if m and "±" not in t and parse_value(m.group("note")) is None:
        return parse_value(m.group("v")), None
    for rx in (_PM_RE, _PAREN_SPREAD_RE):
        m = rx.match(t)
        if m and rx is _PAREN_SPREAD_RE and "%" in m.group("sp"):
            return parse_value(m.group("v")), None  # "12.4M (35.6%)": a share, not a spread
        if m:
            v = parse_value(m.group("v"))
            sp = parse_value(m.group("sp"))
            if v is not None and sp is not None:
                return v, abs(sp)
    return None, None
