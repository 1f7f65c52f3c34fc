"""Hyperparameters mentioned in a paper's text, each with its sentence and page.

Regexes over pypdf page text (`PdfReader(p).pages[i].extract_text()`): subscripts come
out glued (`dmodel = 512`, `β1 = 0.9`) and exponents too (`ϵ = 10−9`), which the
patterns expect. Every mention is returned; `first_per_key` picks one value per key.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass


@dataclass
class Hparam:
    key: str
    value: float | int | str
    sentence: str
    page: int | None


_N = r"(\d[\d,]*(?:\.\d+)?(?:\s*[kKM]\b)?)"            # 4000, 100,000, 0.1, 100K
# 3e-4, 3 × 10−4 (exponent glued by the text layer), 5·10^-2 / 10^{-5} (from LaTeX), 0.001
_SCI = (r"(\d+(?:\.\d+)?\s*(?:[×x·]\s*)?10\s*\^?\s*\{?[−-]\s*\d+\}?|\d+(?:\.\d+)?e[−-]?\d+"
        r"|10\s*\^?\s*\{?[−-]\s*\d+\}?|\d*\.\d+|\d+)")
_OPT = r"\b(AdamW|Adam|SGD|Adagrad|Adadelta|RMSProp|RMSprop|Adafactor|LAMB|LARS|Lion|Nesterov)\b"
_WORD_NUMBERS = {"one": 1, "single": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
                 "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "sixteen": 16,
                 "twenty": 20, "thirty": 30, "fifty": 50, "hundred": 100}
_WN = r"(\d+|" + "|".join(_WORD_NUMBERS) + r")"
_UPTO = r"(?:up to\s+|at most\s+|a total of\s+|about\s+|approximately\s+|roughly\s+|a maximum of\s+)?"
_STEPS = r"(?:training\s+|gradient\s+|optimi[sz]ation\s+)?(?:steps|iterations|updates|mini-?batch(?:es)?)\b"
_IS = r"(?:\s+(?:of|is|was|were|are|to|as|set to|set as|equals?)|\s*[:=])?\s*"

# (key, pattern) in the order they are tried on each sentence; group 1 is the value.
_PATTERNS: list[tuple[str, re.Pattern]] = [
    ("learning_rate", re.compile(r"learning[- ]rates?" + _IS + r"(?:\(lr\)\s*)?(?:of\s*)?" + _SCI, re.I)),
    ("learning_rate", re.compile(r"\blr\s*=\s*" + _SCI, re.I)),
    ("batch_size", re.compile(r"batch(?:es)?[- ]size" + _IS + _N, re.I)),
    ("batch_size", re.compile(r"mini-?batch(?:es)? of (?:size\s+)?" + _N + r"(?!\s*(?:tokens|%))", re.I)),
    ("batch_size", re.compile(r"batch(?:es)?[^.]{0,60}?(?:approximately|about|of)\s+" + _N + r"\s+(?:source\s+)?(?:tokens|examples|samples|sequences|images|sentences)", re.I)),
    ("warmup_steps", re.compile(r"warm-?up_?steps\s*=\s*" + _N, re.I)),
    ("warmup_steps", re.compile(r"warm-?up (?:of|for|over)\s+(?:the first\s+)?" + _N + r"\s+(?:steps|iterations|updates)", re.I)),
    ("warmup_steps", re.compile(_N + r"\s+warm-?up (?:steps|iterations|updates)", re.I)),
    ("warmup_epochs", re.compile(r"warm-?up (?:of|for|over)\s+(?:the first\s+)?" + _N + r"\s+epochs", re.I)),
    ("dropout", re.compile(r"P\s*_?\s*drop\s*=\s*" + _N)),
    ("dropout", re.compile(r"dropout(?: rate| probability| ratio)?" + _IS + r"(?:p\s*=\s*)?" + r"(0?\.\d+|0|1\.0)\b", re.I)),
    ("label_smoothing", re.compile(r"label smoothing[^.]{0,40}?(?:=|of value|of|value)\s*(?:ϵ\s*_?ls\s*=\s*)?" + _N, re.I)),
    ("beta1", re.compile(r"β\s*_?\s*1\s*=\s*" + _N)),
    ("beta2", re.compile(r"β\s*_?\s*2\s*=\s*" + _N)),
    ("betas", re.compile(r"(?:betas?|β)\s*(?:of|=|:)?\s*\(\s*(\d*\.\d+\s*,\s*\d*\.\d+)\s*\)", re.I)),
    ("eps", re.compile(r"(?:ϵ|ε|\bepsilon\b|\beps\b)\s*=\s*" + _SCI, re.I)),
    ("momentum", re.compile(r"momentum" + _IS + r"(0?\.\d+)", re.I)),
    ("weight_decay", re.compile(r"weight decay" + _IS + _SCI, re.I)),
    ("max_steps", re.compile(r"(?:for|of|with|train(?:ed)?)\s+" + _UPTO + _N + r"\s+" + _STEPS, re.I)),
    ("max_steps", re.compile(r"\b" + _N + r"\s+" + _STEPS + r"\s+(?:of|for)\s+training", re.I)),
    ("epochs", re.compile(r"(?:for|of|over|within|train(?:ed)?)\s+" + _UPTO + _N + r"\s+(?:training\s+)?epochs\b", re.I)),
    ("epochs", re.compile(r"\(\s*" + _UPTO + _N + r"\s+epochs\b", re.I)),
    ("epochs", re.compile(r"(?:number of )?epochs" + _IS + _N + r"\b(?!\s*%)", re.I)),
    ("early_stopping_patience", re.compile(r"patience" + _IS + _N, re.I)),
    ("early_stopping_patience", re.compile(r"(?:not|n't) improve[^.;()]{0,60}?for\s+" + _N + r"\s+(?:consecutive\s+)?(?:epochs|evaluations|steps)", re.I)),
    ("hpo_trials", re.compile(r"\b" + _N + r"\s+(?:random\s+)?(?:trials|hyper-?parameter (?:configurations|settings))\b", re.I)),
    ("hpo_trials", re.compile(r"(?:hyper-?parameter|random(?:i[sz]ed)?|grid|bayesian)\s+(?:hyper-?parameter\s+)?(?:search|optimi[sz]ation)\s+(?:of|with|over)\s+" + _N + r"\s+(?:calls|trials|iterations|configurations|runs|samples)", re.I)),
    ("repetitions", re.compile(r"\brepeat(?:ed)?\s+(?:each\s+\w+\s+|every\s+\w+\s+|the\s+\w+\s+|all\s+\w+\s+)?" + _N + r"\s+(?:times|fits|runs|trials)", re.I)),
    ("repetitions", re.compile(r"(?:over|across|from|of|with|using)\s+" + _N + r"\s+(?:independent\s+|random\s+|different\s+)*(?:runs|seeds|repetitions|restarts)\b", re.I)),
    ("mc_samples", re.compile(r"\b" + _N + r"\s+(?:MC|Monte[- ]Carlo)\s+samples", re.I)),
    ("cv_folds", re.compile(r"\b" + _WN + r"[- ]fold cross[- ]validation", re.I)),
    ("validation_fraction", re.compile(r"(\d+(?:\.\d+)?)\s*%\s+of\s+the\s+(?:training|train)\s+(?:set|split|data|examples)?[^.;]{0,30}?(?:as|for)\s+(?:a\s+|the\s+)?validation", re.I)),
    ("validation_fraction", re.compile(r"(\d+(?:\.\d+)?)\s*%\s+(?:as|for)\s+(?:a\s+|the\s+)?validation", re.I)),
    ("train_fraction", re.compile(r"(\d+(?:\.\d+)?)\s*%\s+(?:as|for)\s+(?:the\s+)?training", re.I)),
    ("layers", re.compile(r"\bN\s*=\s*(\d+)\s+(?:identical\s+)?layers")),
    ("layers", re.compile(r"\b" + _WN + r"[- ]layers?\b(?![- ]?(?:perceptron|norm))", re.I)),
    ("layers", re.compile(r"(?:number of layers|num_layers|depth)" + _IS + r"(\d+)", re.I)),
    ("d_model", re.compile(r"d\s*_?\s*model\s*=\s*(\d+)")),
    ("hidden_size", re.compile(r"(?:hidden size|hidden dimension(?:ality)?|hidden units|model dimension|embedding size|hidden state size)" + _IS + r"(?:[a-zA-Z]\s*=\s*)?(\d+)", re.I)),
    ("d_ff", re.compile(r"d\s*_?\s*f\s*f\s*=\s*(\d+)")),
    ("heads", re.compile(r"\bh\s*=\s*(\d+)\s+(?:parallel\s+)?(?:attention\s+)?(?:layers|heads)")),
    ("heads", re.compile(r"\b(\d+)[- ](?:attention[- ])?heads?\b", re.I)),
    ("seq_len", re.compile(r"(?:sequence length|context length|context size|max(?:imum)? length)" + _IS + r"(\d+)", re.I)),
    ("optimizer", re.compile(r"(?:optimi[sz]er|optimi[sz]ed|optimi[sz]ing|trained|using|use|uses|with|via|by)\s+(?:the\s+|an?\s+)?" + _OPT, re.I)),
    ("optimizer", re.compile(r"(?:optimi[sz]er|optimi[sz]ed|trained)[^.]{0,40}?" + _OPT, re.I)),
    ("optimizer", re.compile(_OPT + r"[^.]{0,20}?(?:optimi[sz]er|algorithm)", re.I)),
]
# "the learning rate and batch size are set as 5e-5 and 32": several settings named, then their values
_NAMES = {"learning rate": "learning_rate", "batch size": "batch_size", "weight decay": "weight_decay",
          "dropout": "dropout", "warm-up steps": "warmup_steps", "warmup steps": "warmup_steps",
          "epochs": "epochs", "number of epochs": "epochs", "momentum": "momentum"}
_NAME_RX = "(?:" + "|".join(map(re.escape, sorted(_NAMES, key=len, reverse=True))) + ")"
_LIST_RE = re.compile(
    rf"(?P<names>{_NAME_RX}(?:\s*,\s*(?:the\s+)?{_NAME_RX})*,?\s+and\s+(?:the\s+)?{_NAME_RX})\s+"
    rf"(?:are|were)\s+(?:set\s+)?(?:as|to)?\s*(?P<values>(?:{_SCI[1:-1]})(?:\s*,\s*(?:{_SCI[1:-1]}))*,?\s+and\s+(?:{_SCI[1:-1]}))",
    re.I)
_INT_KEYS = {"batch_size", "warmup_steps", "max_steps", "epochs", "layers", "d_model", "d_ff", "heads", "seq_len",
              "hidden_size", "warmup_epochs", "early_stopping_patience", "hpo_trials", "repetitions",
              "mc_samples", "cv_folds"}
_PERCENT_KEYS = {"validation_fraction", "train_fraction"}


def _number(text: str, key: str) -> float | int | None:
    t = text.replace("−", "-").replace(",", "").replace("{", "").replace("}", "").strip()
    if t.lower() in _WORD_NUMBERS:
        return _WORD_NUMBERS[t.lower()]
    m = re.fullmatch(r"(\d+(?:\.\d+)?)?\s*(?:[×x·]\s*)?10\s*\^?\s*-\s*(\d+)", t)
    if m:  # "10−9" (exponent glued by the text layer), "3 × 10−4", "5·10^-2" (LaTeX)
        return float(f"{m.group(1) or 1}e-{int(m.group(2))}")
    mult = 1
    if t[-1:] in "kK":
        mult, t = 1000, t[:-1].strip()
    elif t[-1:] == "M":
        mult, t = 1_000_000, t[:-1].strip()
    try:
        v = float(t) * mult
    except ValueError:
        return None
    if key in _PERCENT_KEYS:
        return round(v / 100, 6)
    return int(v) if key in _INT_KEYS and v.is_integer() else v


def _value(raw: str, key: str) -> float | int | str | list | None:
    if key == "optimizer":
        return raw
    if key == "betas":
        vals = [_number(x, key) for x in raw.split(",")]
        return vals if all(v is not None for v in vals) else None
    return _number(raw, key)


# "learning rate in {1e-5, 2e-5, 3e-5}", "batch sizes of [16, 32]": a searched grid, kept whole
_GRID_KEYS = {"learning rate": "learning_rate", "batch size": "batch_size", "dropout": "dropout",
              "weight decay": "weight_decay", "epochs": "epochs", "warm-?up steps": "warmup_steps"}
_GRID_RE = re.compile(
    r"(?P<name>" + "|".join(_GRID_KEYS) + r")s?\b[^.{\[]{0,40}?[{\[]\s*(?P<vals>(?:" + _SCI[1:-1]
    + r")(?:\s*,\s*(?:" + _SCI[1:-1] + r"))+)\s*[}\]]"
    # "learning rates of 1e-5, 2e-5 and 3e-5", "searched over 16, 32, or 64": a grid written out
    r"|(?P<name2>" + "|".join(_GRID_KEYS) + r")(?:s\s+(?:of|in|from|among|over)|\s+(?:(?:is|are|was|were|chosen|selected|tuned|searched|swept|varied|picked|taken)\s+){0,3}(?:in|from|among|over))\s+"
    r"(?P<vals2>(?:" + _SCI[1:-1] + r")(?:\s*,\s*(?:" + _SCI[1:-1] + r"))*,?\s+(?:and|or)\s+(?:" + _SCI[1:-1] + r"))",
    re.I)
# Code listings and prompts quote their settings; prose does not.
_CODE_RE = re.compile(r"[{}\[\]]\s*$|^\s*[\"'#]|\bdef |\bimport |==|\w\(\)|--\w|\w+_\w+\s*[:=]|\bself\.|\":")


def _looks_like_code(sentence: str) -> bool:
    return len(_CODE_RE.findall(sentence)) >= 2


# Prompts, generated plans and instructions to annotators: lines that give orders ("• Use the Adam
# optimizer", "– Train for 100,000 steps") or talk to "you". A paper states its own settings.
_ORDER = re.compile(r"^\s*(?:[•◦▪\-–—*]|\d+[.)])?\s*(?:Use|Train|Set|Implement|Form|Apply|Increase|Decrease|"
                    r"Average|Ensure|Make|Write|Create|Load|Initiali[sz]e|Run|Compute|Define|Add|Choose|Save|"
                    r"Evaluate|Return|Call|Do not|Don't)\b", re.M)
_YOU = re.compile(r"\byour?\b", re.I)


def _instructions(page_text: str) -> bool:
    return len(_ORDER.findall(page_text)) >= 5 or len(_YOU.findall(page_text)) >= 5


def _sentences(page_text: str) -> list[str]:
    text = unicodedata.normalize("NFKC", page_text)  # ligatures: "ﬁts" -> "fits"
    text = re.sub(r"-\n(?=[a-z])", "", text)  # re-join hyphenated line breaks
    text = re.sub(r"\s+", " ", text)
    # split after ". " unless the dot is part of a number or a common abbreviation
    parts = re.split(r"(?<=[.!?])\s+(?=[A-Z0-9(\[])(?<!\bet al\. )(?<!\be\.g\. )(?<!\bi\.e\. )", text)
    return [p.strip() for p in parts if p.strip()]


def find_hparams(pages: list[str]) -> list[Hparam]:
    """Every hyperparameter mention, in page order; duplicates of (key, value) dropped."""
    found: list[Hparam] = []
    seen: set[tuple[str, object]] = set()

    def add(key: str, value: object, sentence: str, page_no: int) -> None:
        mark = (key, tuple(value) if isinstance(value, list) else value)
        if value is None or mark in seen:
            return
        seen.add(mark)
        found.append(Hparam(key, value, sentence, page_no))

    for page_no, text in enumerate(pages, start=1):
        if _instructions(text or ""):
            continue
        for sentence in _sentences(text or ""):
            if len(sentence) > 600 or _looks_like_code(sentence):
                continue  # a table or equation block flattened into one "sentence", or a listing
            grids = list(_GRID_RE.finditer(sentence))
            for g in grids:
                name = g.group("name") or g.group("name2")
                key = next(v for k, v in _GRID_KEYS.items() if re.fullmatch(k, name, re.I))
                raw = g.group("vals") or g.group("vals2")
                vals = [_number(x, key) for x in re.split(r"\s*,\s*(?:and\s+|or\s+)?|\s+(?:and|or)\s+", raw)]
                if all(v is not None for v in vals):
                    add(key, vals, sentence, page_no)
            for m in _LIST_RE.finditer(sentence):
                names = re.findall(_NAME_RX, m.group("names"), re.I)
                vals = re.findall(_SCI, m.group("values"))
                if len(names) == len(vals):
                    for name, raw in zip(names, vals):
                        key = _NAMES[name.lower()]
                        add(key, _number(raw, key), sentence, page_no)
            for key, rx in _PATTERNS:
                for m in rx.finditer(sentence):
                    if any(g.start() <= m.start(1) < g.end() for g in grids):
                        continue  # a value of a grid, already kept as the grid
                    if key == "epochs" and re.search(r"improv\w*[^.;()]{0,60}$", sentence[:m.start()], re.I):
                        continue  # "does not improve for 20 epochs" is the patience
                    add(key, _value(m.group(1), key), sentence, page_no)
    return found


# Row labels of a hyperparameter table ("Learning rate | 3e-4") -> key.
_TABLE_NAMES: list[tuple[str, re.Pattern]] = [(k, re.compile(rx, re.I)) for k, rx in (
    ("learning_rate", r"^(?:(?:peak|initial|base|max(?:imum)?)\s+)?(?:learning[- ]rate|lr)$"),
    ("batch_size", r"^(?:(?:training|train|global|effective)\s+)?batch[- ]?size$"),
    ("epochs", r"^(?:#|number of|num\.?|training|max(?:imum)?)?\s*(?:training\s+)?epochs?$"),
    ("max_steps", r"^(?:#|number of|num\.?|training|total|max(?:imum)?)?\s*(?:training\s+)?(?:steps|iterations|updates)$"),
    ("warmup_steps", r"^(?:#\s*)?warm-?up(?:\s+steps)?$"),
    ("weight_decay", r"^weight[- ]decay$"),
    ("dropout", r"^(?:(?:attention|hidden|residual)\s+)?dropout(?:\s+(?:rate|probability))?$"),
    ("label_smoothing", r"^label[- ]smoothing$"),
    ("optimizer", r"^optimi[sz]er$"),
    ("momentum", r"^momentum$"),
    ("layers", r"^(?:#|number of|num\.?)?\s*(?:transformer\s+|encoder\s+|hidden\s+)?layers$"),
    ("hidden_size", r"^(?:hidden|model|embedding)\s+(?:size|dim(?:ension)?)$|^d_?model$"),
    ("heads", r"^(?:#|number of|num\.?)?\s*(?:attention\s+)?heads$"),
    ("seq_len", r"^(?:max(?:imum)?\s+)?(?:sequence|context|input)\s+length$"),
)]


def from_tables(tables: list) -> list[Hparam]:
    """Settings listed in tables ("Hyperparameter | Value"): one per labelled row and column."""
    found: list[Hparam] = []
    seen: set[tuple[str, object]] = set()
    for t in tables:
        for label, cells in t.rows:
            name = re.sub(r"\s+", " ", re.sub(r"[()\[\]:]", " ", label)).strip()
            key = next((k for k, rx in _TABLE_NAMES if rx.match(name)), None)
            if key is None:
                continue
            for col, cell in zip(t.columns, cells):
                if cell is None or not cell.text.strip():
                    continue
                if key == "optimizer":
                    m = re.search(_OPT, cell.text, re.I)
                    value = m.group(1) if m else None
                else:
                    m = re.fullmatch(_SCI, cell.text.strip())
                    value = _number(m.group(1), key) if m else None
                if value is None or (key, value) in seen:
                    continue
                seen.add((key, value))
                found.append(Hparam(key, value, f"Table {t.number} ({col}): {label} = {cell.text}", t.page))
    return found


def first_per_key(hparams: list[Hparam]) -> dict[str, Hparam]:
    """The first mention of each key (papers state the base setting before variants)."""
    out: dict[str, Hparam] = {}
    for h in hparams:
        out.setdefault(h.key, h)
    return out
