"""The paper's settings as a family's arguments: stated hyperparameters (extract/hparams.py) as
config keys with their sentences, and an ablation row's settings as the model's arguments."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .catalog import FAMILIES, find_dataset


# -- the paper's settings -------------------------------------------------------------------

@dataclass
class Setting:
    section: str          # model | data | trainer
    key: str
    value: Any
    source: str           # "p.7: \"sentence\"", "family default", "text: ..."


# extract/hparams.py key -> (section, key) per family ("*" = every family that accepts the key)
HPARAM_KEYS: dict[str, list[tuple[str, str]]] = {
    "layers": [("model", "n_layers")],
    "d_model": [("model", "d_model"), ("model", "hidden_dim")],
    "d_ff": [("model", "d_ff")],
    "heads": [("model", "n_heads")],
    "dropout": [("model", "dropout")],
    "label_smoothing": [("model", "label_smoothing")],
    "learning_rate": [("model", "lr")],
    "warmup_steps": [("model", "warmup_steps")],
    "beta1": [("model", "beta1")],
    "beta2": [("model", "beta2")],
    "eps": [("model", "eps")],
    "weight_decay": [("model", "weight_decay")],
    "optimizer": [("model", "optimizer")],
    "batch_size": [("data", "batch_size")],
    "seq_len": [("data", "seq_len"), ("model", "max_len")],
    "steps": [("trainer", "max_steps")],
    "epochs": [("trainer", "max_epochs")],
}


def accepted_keys(family: str) -> dict[str, tuple[str, ...]]:
    """Keyword arguments of the family's model and data classes, read with ast (no torch)."""
    from ...signatures import find_lightning_class

    fam = FAMILIES[family]
    return {"model": find_lightning_class(fam.folder / "model.py", "LightningModule")[1].params,
            "data": find_lightning_class(fam.data_file, "LightningDataModule")[1].params}


def page_source(h: Any) -> str:
    page = getattr(h, "page", None)
    sent = " ".join(str(getattr(h, "sentence", "")).split())
    return (f"p.{page}: " if page else "") + f'"{sent}"'


def paper_settings(family: str, hparams: list[Any], sentences: list[tuple[int | None, str]]) -> list[Setting]:
    """The paper's own settings for the family's model/data/trainer keys, each with its source."""
    keys = accepted_keys(family)
    out: dict[tuple[str, str], Setting] = {}
    first: dict[str, Any] = {}
    for h in hparams:
        first.setdefault(getattr(h, "key", None), h)
    for hkey, h in first.items():
        for section, key in HPARAM_KEYS.get(hkey, []):
            if section != "trainer" and key not in keys[section]:
                continue
            value = h.value
            if key == "optimizer":
                value = str(value).lower()
                if value not in ("adam", "adamw", "sgd"):
                    continue
            if key == "batch_size" and re.search(r"\btokens\b", str(h.sentence)):
                continue  # a batch of N tokens, not N sequences: left as a comment
            out.setdefault((section, key), Setting(section, key, value, page_source(h)))
            break
    # Settings hparams.py does not look for but the family needs: the vocabulary and tying.
    if "vocab_size" in keys["model"]:
        for page, s in sentences:
            m = re.search(r"vocabulary (?:size )?(?:of |is )?(?:about |approximately |roughly |~)?(\d[\d,]*)\s*(k\b|K\b)?"
                          r"|(\d[\d,]*)\s*(k|K)?[- ](?:word-?piece|BPE|sub-?word|token) vocabulary", s)
            if m:
                num, k = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
                v = int(num.replace(",", "")) * (1000 if k else 1)
                if v >= 100:
                    src = (f"p.{page}: " if page else "") + f'"{" ".join(s.split())}"'
                    out[("model", "vocab_size")] = Setting("model", "vocab_size", v, src)
                    out[("data", "vocab_size")] = Setting("data", "vocab_size", v, src)
                    break
    for key in ("share_embeddings", "tie_weights"):
        if key in keys["model"]:
            for page, s in sentences:
                if re.search(r"(?:share|tie|tying)[^.]{0,60}(?:embedding|weight matri)", s, re.I) and \
                        re.search(r"softmax|output|embedding layers", s, re.I):
                    src = (f"p.{page}: " if page else "") + f'"{" ".join(s.split())}"'
                    out[("model", key)] = Setting("model", key, True, src)
                    break
    ds = find_dataset(family, sentences)
    if ds:
        name, data, s, page = ds
        src = (f"p.{page}: " if page else "") + f'"{" ".join(s.split())}" ({name})'
        for k, v in data.items():
            if k in keys["data"]:
                out.setdefault(("data", k), Setting("data", k, v, src))
            if k in keys["model"] and k != "vocab_size":
                out.setdefault(("model", k), Setting("model", k, v, src))
        if family == "resnet" and data.get("image_size", 0) >= 224:
            out.setdefault(("model", "stem"), Setting("model", "stem", "imagenet", src))
        if family == "resnet":
            out.setdefault(("model", "in_channels"), Setting("model", "in_channels", data.get("channels", 3), src))
        if family == "mlp":
            dim = data.get("channels", 1) * data.get("image_size", 1) ** 2
            out.setdefault(("model", "input_dim"), Setting("model", "input_dim", dim, src + " (flattened)"))
    if family == "resnet":
        _resnet_depth(sentences, out)
    return list(out.values())


_RESNET_IMAGENET = {18: ("basic", [2, 2, 2, 2]), 34: ("basic", [3, 4, 6, 3]), 50: ("bottleneck", [3, 4, 6, 3]),
                    101: ("bottleneck", [3, 4, 23, 3]), 152: ("bottleneck", [3, 8, 36, 3])}


def _resnet_depth(sentences: list[tuple[int | None, str]], out: dict) -> None:
    for page, s in sentences:
        m = re.search(r"\bResNet-?(\d+)\b", s)
        if not m:
            continue
        depth = int(m.group(1))
        src = (f"p.{page}: " if page else "") + f'"{" ".join(s.split())}"'
        imagenet = out.get(("model", "stem")) is not None and out[("model", "stem")].value == "imagenet"
        if depth in _RESNET_IMAGENET and (imagenet or depth in (50, 101, 152)):
            block, blocks = _RESNET_IMAGENET[depth]
            out.setdefault(("model", "block"), Setting("model", "block", block, src))
            out.setdefault(("model", "blocks_per_stage"), Setting("model", "blocks_per_stage", blocks, src))
            out.setdefault(("model", "width"), Setting("model", "width", 64, src))
        elif (depth - 2) % 6 == 0:  # CIFAR ResNets: 6n + 2 layers, three stages of n blocks
            n = (depth - 2) // 6
            out.setdefault(("model", "blocks_per_stage"), Setting("model", "blocks_per_stage", [n, n, n], src))
            out.setdefault(("model", "width"), Setting("model", "width", 16, src))
        return


# -- ablation rows -> the model's arguments ---------------------------------------------------

_ROW_KEYS: list[tuple[str, tuple[str, ...]]] = [
    (r"^(?:n|l|layers|nlayers|numlayers|depth|nlayer|numhiddenlayers)$", ("n_layers",)),
    (r"^(?:dmodel|dmod|hidden|hiddensize|hiddendim|width|dhidden|dim)$", ("d_model", "hidden_dim", "width")),
    (r"^(?:dff|ffn|dinner|intermediatesize|dffn|ffdim)$", ("d_ff",)),
    (r"^(?:h|heads|nheads|numheads|attentionheads|nhead)$", ("n_heads",)),
    (r"^dk$", ("d_k",)),
    (r"^dv$", ("d_v",)),
    (r"^(?:pdrop|dropout|drop|dropoutrate|p)$", ("dropout",)),
    (r"^(?:[εϵ]ls|els|epsls|ls|labelsmoothing)$", ("label_smoothing",)),
    (r"^(?:lr|learningrate)$", ("lr",)),
    (r"^(?:wd|weightdecay)$", ("weight_decay",)),
    (r"^(?:warmup|warmupsteps)$", ("warmup_steps",)),
    (r"^(?:embeddim|embeddingsize|dembed|demb)$", ("embed_dim",)),
]
_TRAINER_ROW = {r"^(?:trainsteps|steps|trainingsteps|maxsteps)$": "max_steps", r"^(?:epochs|trainepochs)$": "max_epochs"}

# "w/o X" / "no X" / "without X": X -> (model key, value) when the family has that switch
_SWITCHES: list[tuple[str, str, Any]] = [
    (r"residual|shortcut|skip", "residual", False),
    (r"pool", "pooler", False),
    (r"tie|tying|shar", "tie_weights", False),
    (r"tie|tying|shar", "share_embeddings", False),
    (r"batch ?norm|\bbn\b", "batch_norm", False),
    (r"dropout", "dropout", 0.0),
    (r"label smoothing", "label_smoothing", 0.0),
    (r"warm-?up", "warmup_steps", 1),
    (r"weight decay", "weight_decay", 0.0),
    (r"pre-?norm", "prenorm", False),
]


def _norm_key(name: str) -> str:
    return re.sub(r"[\s{}\\$_^()\-]", "", str(name)).lower()


def map_ablation(family: str, settings: dict[str, Any], label: str = "") -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """An ablation row's paper settings -> (model overrides, trainer overrides, what did not map).

    Numbers go to the argument their column names (N -> n_layers, d_model, d_ff, h -> n_heads,
    d_k, d_v, P_drop -> dropout, eps_ls -> label_smoothing); words in a cell or the row label
    switch features ("positional embedding instead of sinusoids" -> positional: learned,
    "w/o X" -> X's boolean switch).
    """
    keys = set(accepted_keys(family)["model"])
    model: dict[str, Any] = {}
    trainer: dict[str, Any] = {}
    unmapped: list[str] = []
    texts = [str(label)]
    for col, val in (settings or {}).items():
        nk = _norm_key(col)
        if isinstance(val, str) and not re.fullmatch(r"\s*-?\d+(?:\.\d+)?(?:e-?\d+)?\s*", val):
            texts.append(val)
            continue
        try:
            num = float(val)
        except (TypeError, ValueError):
            unmapped.append(f"{col}: {val}")
            continue
        target = next((t for rx, ts in _ROW_KEYS if re.match(rx, nk) for t in ts if t in keys), None)
        tkey = next((t for rx, t in _TRAINER_ROW.items() if re.match(rx, nk)), None)
        if target:
            model[target] = int(num) if num.is_integer() and target not in ("dropout", "label_smoothing", "lr", "weight_decay") else num
        elif tkey:
            trainer[tkey] = int(num)
        else:
            unmapped.append(f"{col}: {val}")
    for text in texts:
        low = text.lower()
        if re.search(r"(?:learned|learnt|trainable) position|positional embedding", low) and "positional" in keys:
            model["positional"] = "learned" if "sinus" not in low.split("instead")[0] else "sinusoid"
            continue
        m = re.search(r"(?:w/o|without|\bno\b|remove[ds]?|^\s*[-−–])\s*(.+)", low)
        if m:
            what = m.group(1)
            hit = next(((k, v) for rx, k, v in _SWITCHES if re.search(rx, what) and k in keys), None)
            if hit:
                model[hit[0]] = hit[1]
                continue
        if text is not texts[0]:
            unmapped.append(text)
    return model, trainer, unmapped
