"""Hyperparameters mentioned in a paper's text, each with its sentence and page.

Regexes over pypdf page text (`PdfReader(p).pages[i].extract_text()`): subscripts come
out glued (`dmodel = 512`, `β1 = 0.9`) and exponents too (`ϵ = 10−9`), which the
patterns expect. Every mention is returned; `first_per_key` picks one value per key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass
class Hparam:
    key: str
    value: float | int | str
    sentence: str
    page: int | None


_N = r"(\d[\d,]*(?:\.\d+)?(?:\s*[kKM]\b)?)"            # 4000, 100,000, 0.1, 100K
_SCI = r"(\d+(?:\.\d+)?\s*(?:[×x·]\s*)?10\s*[−-]\s*\d+|\d+(?:\.\d+)?e[−-]?\d+|10\s*[−-]\s*\d+|\d*\.\d+|\d+)"
_OPT = r"\b(AdamW|Adam|SGD|Adagrad|Adadelta|RMSProp|RMSprop|Adafactor|LAMB|LARS|Lion|Nesterov)\b"

# (key, pattern, group) in the order they are tried on each sentence.
_PATTERNS: list[tuple[str, re.Pattern]] = [
    ("learning_rate", re.compile(r"learning rate(?: of| was| is| to|:|\s*=|\s*\(lr\))?\s*(?:set to\s*)?" + _SCI, re.I)),
    ("learning_rate", re.compile(r"\blr\s*=\s*" + _SCI, re.I)),
    ("batch_size", re.compile(r"batch(?:es)? size(?: of| is| was|:|\s*=)?\s*" + _N, re.I)),
    ("batch_size", re.compile(r"batch(?:es)?[^.]{0,60}?(?:approximately|about|of)\s+" + _N + r"\s+(?:source\s+)?(?:tokens|examples|samples|sequences|images|sentences)", re.I)),
    ("warmup_steps", re.compile(r"warm-?up_?steps\s*=\s*" + _N, re.I)),
    ("warmup_steps", re.compile(r"warm-?up (?:of|for)\s+(?:the first\s+)?" + _N + r"\s+(?:steps|iterations|updates)", re.I)),
    ("warmup_steps", re.compile(_N + r"\s+warm-?up (?:steps|iterations|updates)", re.I)),
    ("dropout", re.compile(r"P\s*_?\s*drop\s*=\s*" + _N)),
    ("dropout", re.compile(r"dropout(?: rate| probability)?(?: of| is| was|:|\s*=|\s+p\s*=)\s*" + _N, re.I)),
    ("label_smoothing", re.compile(r"label smoothing[^.]{0,40}?(?:=|of value|of|value)\s*(?:ϵ\s*_?ls\s*=\s*)?" + _N, re.I)),
    ("beta1", re.compile(r"β\s*_?\s*1\s*=\s*" + _N)),
    ("beta2", re.compile(r"β\s*_?\s*2\s*=\s*" + _N)),
    ("eps", re.compile(r"(?:ϵ|ε|\bepsilon\b|\beps\b)\s*=\s*" + _SCI, re.I)),
    ("weight_decay", re.compile(r"weight decay(?: of| is| was|:|\s*=)?\s*" + _SCI, re.I)),
    ("steps", re.compile(r"(?:for|of)\s+(?:a total of\s+)?" + _N + r"\s+(?:training\s+)?(?:steps|iterations|updates)\b", re.I)),
    ("epochs", re.compile(r"(?:for|of)\s+(?:a total of\s+)?" + _N + r"\s+epochs\b", re.I)),
    ("layers", re.compile(r"\bN\s*=\s*(\d+)\s+(?:identical\s+)?layers")),
    ("layers", re.compile(r"\b(\d+)[- ]layers?\b", re.I)),
    ("d_model", re.compile(r"d\s*_?\s*model\s*=\s*(\d+)")),
    ("d_model", re.compile(r"(?:hidden size|hidden dimension|model dimension|embedding size)(?: of| is|:|\s*=)?\s*(\d+)", re.I)),
    ("d_ff", re.compile(r"d\s*_?\s*f\s*f\s*=\s*(\d+)")),
    ("heads", re.compile(r"\bh\s*=\s*(\d+)\s+(?:parallel\s+)?(?:attention\s+)?(?:layers|heads)")),
    ("heads", re.compile(r"\b(\d+)\s+(?:attention\s+)?heads\b", re.I)),
    ("seq_len", re.compile(r"(?:sequence length|context length|context size|max(?:imum)? length)(?: of| is|:|\s*=)?\s*(\d+)", re.I)),
    ("optimizer", re.compile(r"(?:optimi[sz]er|optimi[sz]ed|trained)[^.]{0,40}?" + _OPT, re.I)),
    ("optimizer", re.compile(_OPT + r"[^.]{0,20}?optimi[sz]er", re.I)),
]
_INT_KEYS = {"batch_size", "warmup_steps", "steps", "epochs", "layers", "d_model", "d_ff", "heads", "seq_len"}


def _number(text: str, key: str) -> float | int | None:
    t = text.replace("−", "-").replace(",", "").strip()
    m = re.fullmatch(r"(\d+(?:\.\d+)?)?\s*(?:[×x·]\s*)?10\s*-\s*(\d+)", t)
    if m:  # "10−9" (exponent glued by the text layer) or "3 × 10−4"
        v = float(m.group(1) or 1) * 10.0 ** -int(m.group(2))
        return v
    mult = 1
    if t[-1:] in "kK":
        mult, t = 1000, t[:-1].strip()
    elif t[-1:] == "M":
        mult, t = 1_000_000, t[:-1].strip()
    try:
        v = float(t) * mult
    except ValueError:
        return None
    return int(v) if key in _INT_KEYS and v.is_integer() else v


def _sentences(page_text: str) -> list[str]:
    text = re.sub(r"-\n(?=[a-z])", "", page_text)  # re-join hyphenated line breaks
    text = re.sub(r"\s+", " ", text)
    # split after ". " unless the dot is part of a number or a common abbreviation
    parts = re.split(r"(?<=[.!?])\s+(?=[A-Z0-9(\[])(?<!\bet al\. )(?<!\be\.g\. )(?<!\bi\.e\. )", text)
    return [p.strip() for p in parts if p.strip()]


def find_hparams(pages: list[str]) -> list[Hparam]:
    """Every hyperparameter mention, in page order; duplicates of (key, value) dropped."""
    found: list[Hparam] = []
    seen: set[tuple[str, object]] = set()
    for page_no, text in enumerate(pages, start=1):
        for sentence in _sentences(text or ""):
            if len(sentence) > 600:  # a table or equation block flattened into one "sentence"
                continue
            for key, rx in _PATTERNS:
                for m in rx.finditer(sentence):
                    raw = m.group(1)
                    value = raw if key == "optimizer" else _number(raw, key)
                    if value is None or (key, value) in seen:
                        continue
                    seen.add((key, value))
                    found.append(Hparam(key, value, sentence, page_no))
    return found


def first_per_key(hparams: list[Hparam]) -> dict[str, Hparam]:
    """The first mention of each key (papers state the base setting before variants)."""
    out: dict[str, Hparam] = {}
    for h in hparams:
        out.setdefault(h.key, h)
    return out
