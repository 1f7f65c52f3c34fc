"""Which reference architecture a paper describes, and its settings as configs.

`repro new` reads the paper's text (title and abstract count triple, the references are
left out) for cues of each family in `templates/scaffold/models/` ("multi-head attention",
"encoder-decoder", "residual block", "LSTM", ...), picks the family with the most evidence
and keeps the sentences that decided it. Nothing fits: the toy stand-in, with a note saying
so. `plan_family` then turns the hyperparameters the paper states (extract/hparams.py) into
live keys of `configs-paper/base.yaml` (each with its sentence and page) and derives the CPU
proxy `configs/base.yaml` by stated scaling (width, depth, vocabulary, sequence length,
steps); `map_ablation` turns an ablation row's settings into the model's real arguments.

No torch here: `repro new` must not import it (archcheck.py builds the models).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MODELS_DIR = Path(__file__).resolve().parent.parent / "templates" / "scaffold" / "models"

# -- the families ---------------------------------------------------------------------------

_CLS_METRICS = (("val_acc", "max"), ("val_loss", "min"), ("train_acc", "max"), ("train_loss", "min"))
_LM_METRICS = (("val_ppl", "min"), ("val_loss", "min"), ("val_acc", "max"), ("train_loss", "min"))


@dataclass(frozen=True)
class Family:
    name: str                               # folder under templates/scaffold/models/
    title: str
    cues: tuple[tuple[str, float], ...]     # (regex, weight) over the paper's sentences
    metrics: tuple[tuple[str, str], ...]
    proxy: dict[str, dict[str, Any]]        # the CPU proxy's fixed settings (model/data/trainer)
    width_keys: tuple[str, ...] = ()        # model keys scaled by the width divisor
    depth_key: str | None = None            # model key scaled by the depth divisor
    width_target: int = 32                  # the proxy's main width
    depth_target: int = 2

    @property
    def folder(self) -> Path:
        return MODELS_DIR / self.name


_ATTN = (r"multi-?head(?:ed)? (?:self-)?attention", 2.0)
_XFMR = (r"\btransformers?\b", 1.0)

FAMILIES: dict[str, Family] = {f.name: f for f in (
    Family(
        "transformer", "encoder-decoder Transformer (sequence transduction)",
        (_ATTN, _XFMR, (r"encoder-decoder|encoder and (?:the )?decoder|encoder stack|decoder stack", 2.0),
         (r"sequence[- ]to[- ]sequence|seq2seq|sequence transduction", 2.0), (r"machine translation|translation task", 2.0),
         (r"\bBLEU\b", 1.5), (r"\bWMT\b", 1.5), (r"\bT5\b|\bBART\b|\bmBART\b", 2.0), (r"summari[sz]ation", 1.0)),
        _LM_METRICS,
        {"model": {"vocab_size": 16, "max_len": 16}, "data": {"dataset": "synthetic", "vocab_size": 16, "src_len": 4,
                                                              "n_train": 1280, "n_val": 256, "batch_size": 32},
         "trainer": {"max_steps": 160, "log_every_n_steps": 10}},
        width_keys=("d_model", "d_ff", "d_k", "d_v"), depth_key="n_layers", width_target=32, depth_target=3),
    Family(
        "decoder_lm", "decoder-only Transformer language model",
        (_ATTN, _XFMR, (r"language model(?:l?ing)?\b", 1.5), (r"decoder-only|causal (?:self-)?attention|autoregressive", 2.0),
         (r"\bGPT(?:-\d)?\b|\bLLaMA\b", 2.0), (r"next[- ](?:token|word) prediction", 2.0), (r"perplexity", 1.0),
         (r"\bWikiText", 1.5)),
        _LM_METRICS,
        {"model": {"vocab_size": 64, "max_len": 64}, "data": {"dataset": "synthetic", "vocab_size": 64, "seq_len": 32,
                                                              "batch_size": 32},
         "trainer": {"max_steps": 200, "log_every_n_steps": 10}},
        width_keys=("d_model", "d_ff"), depth_key="n_layers", width_target=32, depth_target=2),
    Family(
        "encoder_classifier", "Transformer encoder classifier (BERT-style)",
        (_ATTN, _XFMR, (r"\bBERT\b|RoBERTa\b|\bSciBERT\b|\bBioBERT\b|\bXLNet\b|\bELECTRA\b|LayoutX?LM\b", 2.0),
         (r"pre-?trained (?:language )?models?", 1.0),
         (r"fine-?tun(?:e|ed|ing)", 1.0), (r"\bGLUE\b|\bSST-2\b|\bMNLI\b|\bSQuAD\b", 1.5), (r"\[CLS\]", 2.0),
         (r"masked language model", 2.0), (r"(?:sentence|sequence|text|document) classification", 1.5),
         (r"transformer encoder|encoder-only|bi-?encoder|dual-?encoder", 2.0)),
        _CLS_METRICS,
        {"model": {"vocab_size": 64, "num_classes": 2, "max_len": 64},
         "data": {"dataset": "synthetic", "vocab_size": 64, "num_classes": 2, "seq_len": 31, "batch_size": 64},
         "trainer": {"max_steps": 200, "log_every_n_steps": 10}},
        width_keys=("d_model", "d_ff"), depth_key="n_layers", width_target=32, depth_target=2),
    Family(
        "resnet", "ResNet / CNN image classifier",
        ((r"residual (?:block|unit|connection|learning|network)s?", 2.0), (r"\bResNets?(?:-\d+)?\b|\bWide ResNet|\bResNeXt", 2.5),
         (r"convolutional (?:neural )?(?:network|layer)s?|\bCNNs?\b|\bconvnets?\b", 1.5),
         (r"\bImageNet\b|\bILSVRC", 1.5), (r"\bCIFAR-?10{1,2}\b", 2.0), (r"image classification", 2.0),
         (r"batch normali[sz]ation", 1.0), (r"\d\s*[×x]\s*\d (?:conv|filter|kernel)", 1.5), (r"max-?pooling|average pooling", 1.0)),
        _CLS_METRICS,
        {"model": {"num_classes": 10, "width": 8},
         "data": {"dataset": "synthetic", "num_classes": 10, "channels": 3, "image_size": 16, "noise": 4.0,
                  "batch_size": 64, "n_train": 1024, "n_val": 256},
         "trainer": {"max_steps": 64, "log_every_n_steps": 8}},
        width_keys=("width",), width_target=8),
    Family(
        "mlp", "multi-layer perceptron",
        ((r"multi-?layer perceptrons?|\bMLPs?\b", 2.0), (r"fully[- ]connected (?:layer|network|net)s?", 1.5),
         (r"hidden units?|hidden layers?", 1.0), (r"\bMNIST\b", 1.5), (r"feed-?forward (?:neural )?networks?", 1.0)),
        _CLS_METRICS,
        {"model": {"input_dim": 32, "num_classes": 10},
         "data": {"dataset": "synthetic", "num_classes": 10, "channels": 2, "image_size": 4, "noise": 1.5,
                  "batch_size": 64},
         "trainer": {"max_steps": 150, "log_every_n_steps": 10}},
        width_keys=("hidden_dim",), depth_key="n_layers", width_target=64, depth_target=2),
    Family(
        "rnn", "LSTM / GRU sequence model",
        ((r"\bLSTMs?\b|long short-term memory|\bBiLSTM", 2.5), (r"\bGRUs?\b|gated recurrent", 2.5),
         (r"recurrent neural networks?|\bRNNs?\b", 2.0), (r"Penn Treebank|\bPTB\b", 1.5), (r"hidden state", 1.0)),
        _LM_METRICS,
        {"model": {"vocab_size": 64}, "data": {"dataset": "synthetic", "vocab_size": 64, "seq_len": 32, "batch_size": 32},
         "trainer": {"max_steps": 200, "log_every_n_steps": 10}},
        width_keys=("hidden_dim", "embed_dim"), depth_key="n_layers", width_target=32, depth_target=2),
)}

# A cue preceded by one of these words is something the paper does without.
_NEGATION = re.compile(r"\b(?:without|instead of|dispens\w* with|unlike|rather than|replac\w*|eschew\w*|no longer)\b[^.]{0,40}$", re.I)
_MIN_SCORE = 6.0          # less evidence than this: the toy, with a note
# A paper that never says it trains, fine-tunes or optimises a model has no model to scaffold.
_TRAINS = re.compile(r"\b(?:we|our)\b[^.]{0,80}?\b(?:train(?:ed|s)?|fine-?tun(?:e|ed|es)|pre-?train(?:ed)?|"
                     r"optimi[sz]ed?)\b|\b(?:network|model|net)s? (?:is|are|was|were) (?:\w+ )?(?:trained|fine-?tuned)\b"
                     r"|\btraining with\b|\bduring training\b", re.I)
_ABSTRACT_WEIGHT = 3      # a cue in the title or abstract counts this many mentions


@dataclass
class Evidence:
    cue: str
    sentence: str
    page: int | None
    in_abstract: bool


@dataclass
class FamilyChoice:
    family: str | None                      # None: the toy stand-in
    why: str                                # one line, for the summary and the files
    evidence: list[Evidence] = field(default_factory=list)
    scores: dict[str, float] = field(default_factory=dict)
    overridden: bool = False


# -- reading the paper ----------------------------------------------------------------------

_MACRO = re.compile(r"\\(?:re)?newcommand\*?\s*\{?\\([A-Za-z]+)\}?\s*\{((?:[^{}]|\{[^{}]*\})*)\}"
                    r"|\\def\s*\\([A-Za-z]+)\s*\{((?:[^{}]|\{[^{}]*\})*)\}")


def _tex_to_text(tex: str) -> str:
    text = re.sub(r"(?<!\\)%.*", "", tex)
    # Argument-less macros (\newcommand{\roberta}{RoBERTa\xspace}) name models: expand them.
    macros = {(m.group(1) or m.group(3)): (m.group(2) if m.group(1) else m.group(4)) for m in _MACRO.finditer(text)}
    macros = {k: re.sub(r"\\xspace|[{}]", "", v) for k, v in macros.items() if "#" not in v and len(v) < 80}
    if macros:
        names = "|".join(sorted(map(re.escape, macros), key=len, reverse=True))
        text = _MACRO.sub(" ", text)
        text = re.sub(r"\\(" + names + r")(?![A-Za-z])(?:\{\})?", lambda m: macros[m.group(1)], text)
    text = re.split(r"\\begin\{thebibliography\}|\\bibliography\{", text)[0]
    text = re.sub(r"\\(?:cite\w*|ref|eqref|label|url|href)\*?(?:\[[^\]]*\])?\{[^}]*\}", "", text)
    text = re.sub(r"\\[a-zA-Z]+\*?", " ", text)
    return re.sub(r"[{}$~]", " ", text)


def _body_pages(pages: list[str]) -> list[tuple[int | None, str]]:
    """(page, text) up to the references heading (citations of other models are not cues)."""
    out: list[tuple[int | None, str]] = []
    for i, text in enumerate(pages, start=1):
        m = re.search(r"^\s*(?:\d+\.?\s*)?(?:references|bibliography)\s*$", text or "", re.M | re.I)
        if m:
            out.append((i, text[: m.start()]))
            break
        out.append((i, text or ""))
    return out


def paper_sentences(pages: list[str] | None, tex: str | None) -> list[tuple[int | None, str]]:
    """(page or None, sentence) for the paper's body."""
    from .extract.hparams import _sentences  # the one sentence splitter of the extractors

    chunks = _body_pages(pages) if pages else ([(None, _tex_to_text(tex))] if tex else [])
    return [(page, s) for page, text in chunks for s in _sentences(text)]


def choose_family(pages: list[str] | None, tex: str | None, title: str = "", abstract: str = "",
                  tables: list[Any] | None = None, override: str | None = None) -> FamilyChoice:
    """The family the paper's text describes best, with the sentences that decided it."""
    if override:
        name = override.replace("-", "_")
        if name == "toy":
            return FamilyChoice(None, "--family toy: the toy stand-in", overridden=True)
        if name not in FAMILIES:
            from .errors import UsageError

            raise UsageError(f"--family {override}: no such family",
                             hint="one of: " + ", ".join(list(FAMILIES) + ["toy"]))
        return FamilyChoice(name, f"--family {override} (given on the command line)", overridden=True)
    sents = [(None, s, True) for s in _split_plain(f"{title}. {abstract}") if re.search(r"\w", s)]
    sents += [(p, s, False) for p, s in paper_sentences(pages, tex)]
    for t in tables or []:  # table headers and captions name the models compared
        head = " ".join([str(getattr(t, "caption", ""))] + [str(c) for c in getattr(t, "columns", [])])
        sents.append((getattr(t, "page", None), head, False))
    # Table rows flattened into "sentences" (mostly numbers) are not prose about the model.
    sents = [x for x in sents if len(re.findall(r"\d+(?:\.\d+)?", x[1])) <= 0.3 * max(len(x[1].split()), 1)]
    scores: dict[str, float] = {}
    found: dict[str, list[tuple[float, Evidence]]] = {}
    has_abstract = any(in_abs for _, _, in_abs in sents)
    for fam in FAMILIES.values():
        total = 0.0
        for rx, weight in fam.cues:
            hits = 0
            first: Evidence | None = None
            for page, s, in_abs in sents:
                for m in re.finditer(rx, s, re.I):
                    if _NEGATION.search(s[: m.start()]):
                        continue
                    hits += _ABSTRACT_WEIGHT if in_abs else 1
                    if first is None or (in_abs and not first.in_abstract):
                        first = Evidence(m.group(0), _around(s, m.start(), m.end()), page, in_abs)
                    break  # one hit per sentence
            if hits:
                total += weight * min(hits, 6)
                found.setdefault(fam.name, []).append((weight * min(hits, 6), first))
        if has_abstract and not any(e.in_abstract for _, e in found.get(fam.name, [])):
            total /= 2  # the title and abstract say what the paper is about; side mentions count half
        scores[fam.name] = round(total, 1)
    ranked = sorted(scores, key=lambda k: -scores[k])
    best = ranked[0]
    if not any(_TRAINS.search(s) for _, s, _ in sents):
        return FamilyChoice(None, "the paper never says it trains or fine-tunes a model (no \"we train ...\" "
                            f"sentence; best family {best}, score {scores[best]}): the toy stand-in", scores=scores)
    if scores[best] < _MIN_SCORE:
        return FamilyChoice(None, f"no architecture family has enough evidence in the text (best: {best}, "
                            f"score {scores[best]} < {_MIN_SCORE}): the toy stand-in", scores=scores)
    evidence = [e for _, e in sorted(found[best], key=lambda x: (-x[1].in_abstract, -x[0]))][:3]
    cues = ", ".join(f'"{e.cue}"' for e in evidence)
    second = ranked[1]
    why = (f"{FAMILIES[best].title}: score {scores[best]} from {cues}"
           f" (next: {second} {scores[second]})")
    return FamilyChoice(best, why, evidence, scores)


def _around(sentence: str, start: int, end: int, width: int = 110) -> str:
    """The sentence, or the part of a long one around the cue (a first page read as one line)."""
    if len(sentence) <= 2 * width + 20:
        return sentence
    a, b = max(0, start - width), min(len(sentence), end + width)
    return ("..." if a else "") + sentence[a:b] + ("..." if b < len(sentence) else "")


def _split_plain(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+", " ".join(text.split())) if s.strip()]


# -- named datasets -------------------------------------------------------------------------

# name -> (regex, families it feeds, data settings for configs-paper, note)
_DATASETS: dict[str, tuple[str, tuple[str, ...], dict[str, Any]]] = {
    "CIFAR-100": (r"CIFAR-?100\b", ("resnet", "mlp"), {"dataset": "cifar100", "num_classes": 100, "channels": 3, "image_size": 32}),
    "CIFAR-10": (r"CIFAR-?10\b", ("resnet", "mlp"), {"dataset": "cifar10", "num_classes": 10, "channels": 3, "image_size": 32}),
    "MNIST": (r"(?<!Fashion-)\bMNIST\b", ("resnet", "mlp"), {"dataset": "mnist", "num_classes": 10, "channels": 1, "image_size": 28}),
    "ImageNet": (r"\bImageNet\b|\bILSVRC", ("resnet", "mlp"), {"dataset": "imagefolder", "num_classes": 1000, "channels": 3, "image_size": 224}),
    "WMT 2014": (r"\bWMT\s*'?\s*(?:20)?14\b|\bWMT\b", ("transformer",), {"dataset": "tensors"}),
    "Penn Treebank": (r"Penn Treebank|\bPTB\b", ("rnn", "decoder_lm"), {"dataset": "tensors", "vocab_size": 10000}),
    "WikiText-103": (r"WikiText-?103", ("rnn", "decoder_lm"), {"dataset": "tensors", "vocab_size": 267735}),
    "WikiText-2": (r"WikiText-?2\b", ("rnn", "decoder_lm"), {"dataset": "tensors", "vocab_size": 33278}),
    "GLUE": (r"\bGLUE\b|\bSST-2\b|\bMNLI\b|\bQNLI\b|\bMRPC\b|\bCoLA\b", ("encoder_classifier",), {"dataset": "tensors"}),
    "SQuAD": (r"\bSQuAD\b", ("encoder_classifier",), {"dataset": "tensors"}),
}


def find_dataset(family: str, sentences: list[tuple[int | None, str]]) -> tuple[str, dict[str, Any], str, int | None] | None:
    """(name, data settings, sentence, page) of the dataset this family's paper uses most."""
    best: tuple[int, str, str, int | None] | None = None
    for name, (rx, fams, _) in _DATASETS.items():
        if family not in fams:
            continue
        hits = [(p, s) for p, s in sentences if re.search(rx, s)]
        if hits and (best is None or len(hits) > best[0]):
            best = (len(hits), name, hits[0][1], hits[0][0])
    if best is None:
        return None
    return best[1], dict(_DATASETS[best[1]][2]), best[2], best[3]


# -- the paper's settings -------------------------------------------------------------------

@dataclass
class Setting:
    section: str          # model | data | trainer
    key: str
    value: Any
    source: str           # "p.7: \"sentence\"", "family default", "text: ..."


# extract/hparams.py key -> (section, key) per family ("*" = every family that accepts the key)
_HPARAM_KEYS: dict[str, list[tuple[str, str]]] = {
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
    from .signatures import find_lightning_class

    folder = FAMILIES[family].folder
    return {"model": find_lightning_class(folder / "model.py", "LightningModule")[1].params,
            "data": find_lightning_class(folder / "data.py", "LightningDataModule")[1].params}


def _page_source(h: Any) -> str:
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
        for section, key in _HPARAM_KEYS.get(hkey, []):
            if section != "trainer" and key not in keys[section]:
                continue
            value = h.value
            if key == "optimizer":
                value = str(value).lower()
                if value not in ("adam", "adamw", "sgd"):
                    continue
            if key == "batch_size" and re.search(r"\btokens\b", str(h.sentence)):
                continue  # a batch of N tokens, not N sequences: left as a comment
            out.setdefault((section, key), Setting(section, key, value, _page_source(h)))
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


# -- the proxy ------------------------------------------------------------------------------

@dataclass
class Scaling:
    width_div: int
    depth_div: int
    steps: tuple[int | None, int]           # (paper steps, proxy steps)

    def width(self, v: int) -> int:
        return max(1, int(v) // self.width_div)

    def depth(self, v: int) -> int:
        return max(1, math.ceil(int(v) / self.depth_div))


def _scaling(fam: Family, paper: dict[str, dict[str, Any]]) -> Scaling:
    main = next((paper["model"][k] for k in fam.width_keys if isinstance(paper["model"].get(k), int)), None)
    width_div = 1
    while main and main // (width_div * 2) >= fam.width_target:
        width_div *= 2
    depth = paper["model"].get(fam.depth_key) if fam.depth_key else None
    depth_div = max(1, math.ceil(depth / fam.depth_target)) if isinstance(depth, int) and depth > fam.depth_target else 1
    return Scaling(width_div, depth_div, (paper["trainer"].get("max_steps"), fam.proxy["trainer"]["max_steps"]))


def proxy_model(fam: Family, sc: Scaling, model: dict[str, Any], base: dict[str, Any] | None = None) -> dict[str, Any]:
    """A paper model (or override) scaled like the proxy: widths / width_div, depth / depth_div."""
    out: dict[str, Any] = {}
    for k, v in model.items():
        if k in fam.width_keys and isinstance(v, int) and not isinstance(v, bool):
            out[k] = sc.width(v)
        elif k == fam.depth_key and isinstance(v, int) and not isinstance(v, bool):
            out[k] = sc.depth(v)
        elif k in fam.proxy["model"] or k in ("vocab_size", "max_len", "num_classes", "input_dim", "in_channels", "stem"):
            continue  # sizes of the data: the proxy's own
        elif k == "warmup_steps" and isinstance(v, int):
            paper_steps, proxy_steps = sc.steps
            out[k] = max(proxy_steps // 8, round(v * proxy_steps / paper_steps)) if paper_steps else min(v, proxy_steps // 8)
        elif k == "blocks_per_stage" and isinstance(v, list):
            out[k] = [max(1, math.ceil(b / 3)) for b in v][:3]
        else:
            out[k] = v
    return out


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


# -- the plan: configs-paper/ and the proxy configs/ ------------------------------------------

_PROXY_MIN_LR = 1e-3     # the proxy's smallest learning rate (it trains from scratch, briefly)
_PROXY_PEAK_LR = 8e-3    # the proxy's peak learning rate under the inverse-square-root schedule
_PROXY_EPOCHS = {"transformer": 8, "decoder_lm": 6, "encoder_classifier": 6, "resnet": 4, "mlp": 5, "rnn": 6}


@dataclass
class FamilyPlan:
    choice: FamilyChoice
    family: Family
    settings: list[Setting]                       # the paper's, with sources
    paper: dict[str, dict[str, Any]]              # configs-paper/base.yaml sections
    proxy: dict[str, dict[str, Any]]              # configs/base.yaml sections
    scaling: Scaling
    scaled: list[str]                             # "model.d_model 512 -> 32 (width / 16)", ...
    dataset: str | None
    left_out: list[str]                           # hparams found but not wired in, as comment lines

    @property
    def metrics(self) -> tuple[tuple[str, str], ...]:
        return self.family.metrics

    @property
    def proxy_note(self) -> str:
        data = (f"a generated stand-in of the same shapes (dataset: synthetic) instead of {self.dataset}"
                if self.dataset else "a generated stand-in (dataset: synthetic) instead of the paper's data")
        return (f"{self.family.title} from templates/scaffold/models/{self.family.name}, the paper's settings in "
                f"configs-paper/; this CPU proxy scales {'; '.join(self.scaled) or 'nothing'}; data: {data}; "
                "every other setting as in configs-paper/base.yaml")

    def ablation(self, spec: dict[str, Any]) -> tuple[dict, dict, dict, dict, list[str]]:
        """(paper model, paper trainer, proxy model, proxy trainer, unmapped) for an ablation row."""
        settings = spec.get("paper_settings") if isinstance(spec.get("paper_settings"), dict) else {}
        model, trainer, unmapped = map_ablation(self.family.name, settings, str(spec.get("description") or ""))
        pmodel = proxy_model(self.family, self.scaling, model)
        ptrainer: dict[str, Any] = {}
        base_steps = self.paper["trainer"].get("max_steps")
        if "max_steps" in trainer and base_steps:
            # The same multiple of the base run's length as in the paper.
            ptrainer["max_epochs"] = max(1, round(self.proxy["trainer"]["max_epochs"] * trainer["max_steps"] / base_steps))
        return model, trainer, pmodel, ptrainer, unmapped

    def files(self, ablations: dict[str, dict[str, Any]]) -> dict[str, str | None]:
        """Relative path -> text for the family's files (None: a toy file to leave out)."""
        fam = self.family
        out: dict[str, str | None] = {
            "model.py": (fam.folder / "model.py").read_text(encoding="utf-8"),
            "data.py": (fam.folder / "data.py").read_text(encoding="utf-8"),
            "configs/method.yaml": None,
            "configs-paper/base.yaml": self._paper_base(),
            "configs-paper/baseline.yaml": _yaml_doc([], {"description": "the paper's base model"}),
            "configs/base.yaml": self._proxy_base(),
            "configs/baseline.yaml": _yaml_doc([], {"description": "the paper's base model (CPU proxy)"}),
        }
        for name, spec in ablations.items():
            model, trainer, pmodel, ptrainer, unmapped = self.ablation(spec)
            desc = str(spec.get("description") or name)
            head = [f"Ablation {name}, read from the paper by `repro new`."]
            if spec.get("paper_settings"):
                head.append("The paper's settings for this row: " + ", ".join(
                    f"{k} = {v}" for k, v in spec["paper_settings"].items()))
            if unmapped:
                head.append("NOT MAPPED onto the model's arguments (edit by hand): " + "; ".join(unmapped))
            if not model and not trainer:
                head.append(f"Nothing in this row maps onto the {fam.name} model's arguments: as written it runs "
                            "the base model. Say what the row changes under model: (or delete the file).")
            out[f"configs-paper/ablations/{name}.yaml"] = _yaml_doc(
                head, {"description": desc, **({"model": model} if model else {}), **({"trainer": trainer} if trainer else {})})
            phead = head + ([f"Scaled like configs/base.yaml: {', '.join(f'{k} {model[k]} -> {pmodel[k]}' for k in model if pmodel.get(k) != model[k])}"]
                            if any(pmodel.get(k) != model[k] for k in model) else [])
            out[f"configs/ablations/{name}.yaml"] = _yaml_doc(
                phead, {"description": desc, **({"model": pmodel} if pmodel else {}), **({"trainer": ptrainer} if ptrainer else {})})
        return out

    def _paper_base(self) -> str:
        from .scaffold import _comment, _yaml_inline

        lines = [f"# The paper's own settings, read from its text by `repro new`: {self.family.title}.",
                 f"# Family chosen: {_comment(self.choice.why, 300)}"]
        for e in self.choice.evidence:
            lines.append(f"#   {'abstract' if e.in_abstract else ('p.' + str(e.page) if e.page else 'text')}: "
                         f"\"{_comment(e.sentence, 160)}\"")
        lines += ["# Live keys below carry their sentence and page; keys not listed keep model.py's defaults.",
                  "# Too big for a CPU: `repro check` builds these on the meta device (parameter counts);",
                  "#   run them with `repro run <paper> --config-set paper` on a GPU.",
                  f"description: {_yaml_inline('the paper: ' + self.family.title)}"]
        src = {(s.section, s.key): s.source for s in self.settings}
        for section in ("model", "data", "trainer"):
            values = self.paper[section]
            if not values:
                continue
            lines.append(f"{section}:")
            for k, v in values.items():
                why = src.get((section, k))
                lines.append(f"  {k}: {_yaml_inline(v)}" + (f"  # {_comment(why, 170)}" if why else ""))
        if self.left_out:
            lines += ["", "# Stated in the paper but not a key of this model/data (check them):"]
            lines += [f"# {x}" for x in self.left_out]
        return "\n".join(lines) + "\n"

    def _proxy_base(self) -> str:
        from .scaffold import _comment, _yaml_inline

        lines = [f"# CPU proxy of configs-paper/base.yaml ({self.family.title}), derived by stated scaling:"]
        lines += [f"#   {_comment(s, 180)}" for s in self.scaled]
        lines += ["# Every other model setting is the paper's (configs-paper/base.yaml).",
                  f"description: {_yaml_inline('CPU proxy of the paper: ' + self.family.title)}"]
        for section in ("model", "data", "trainer", "resources"):
            values = self.proxy.get(section) or {}
            if values:
                lines.append(f"{section}:")
                lines += [f"  {k}: {_yaml_inline(v)}" for k, v in values.items()]
        return "\n".join(lines) + "\n"


def _yaml_doc(comments: list[str], body: dict[str, Any]) -> str:
    from .scaffold import _comment
    from .yamlio import dump_yaml

    return "".join(f"# {_comment(c, 400)}\n" for c in comments) + dump_yaml(body)


def plan_family(choice: FamilyChoice, hparams: list[Any], pages: list[str] | None, tex: str | None) -> FamilyPlan | None:
    """The family's configs for this paper; None when the choice is the toy."""
    if choice.family is None:
        return None
    fam = FAMILIES[choice.family]
    sentences = paper_sentences(pages, tex)
    settings = paper_settings(fam.name, hparams, sentences)
    paper: dict[str, dict[str, Any]] = {"model": {}, "data": {}, "trainer": {}}
    for s in settings:
        paper[s.section][s.key] = s.value
    if paper["model"].get("vocab_size") and "vocab_size" not in paper["data"] and "vocab_size" in accepted_keys(fam.name)["data"]:
        paper["data"]["vocab_size"] = paper["model"]["vocab_size"]
    used = {(s.section, s.key) for s in settings}
    left_out = []
    seen: set[str] = set()
    for h in hparams:
        if h.key in seen:
            continue
        seen.add(h.key)
        targets = [(sec, k) for sec, k in _HPARAM_KEYS.get(h.key, []) if (sec, k) in used]
        if not targets:
            left_out.append(f"{h.key}: {h.value}  # {_page_source(h)[:160]}")
    ds = find_dataset(fam.name, sentences)
    sc = _scaling(fam, paper)
    steps_per_epoch = _steps_per_epoch(fam)
    epochs = _PROXY_EPOCHS[fam.name]
    sc.steps = (paper["trainer"].get("max_steps"), epochs * steps_per_epoch)
    pmodel = {**fam.proxy["model"], **proxy_model(fam, sc, paper["model"])}
    lr = paper["model"].get("lr")
    if isinstance(lr, (int, float)) and lr < _PROXY_MIN_LR:
        # A paper's small rate is for fine-tuning a pretrained model or for a long run; the proxy
        # starts from scratch and has a few hundred steps.
        pmodel["lr"] = _PROXY_MIN_LR
    if "lr_factor" in accepted_keys(fam.name)["model"] and paper["model"].get("lr") is None:
        # lr = factor * d^-0.5 * warm^-0.5 at its peak grows as the proxy narrows and shortens
        # the warm-up; the factor brings the peak back to a rate a short run can use.
        d, warm = pmodel.get("d_model", 32), max(int(pmodel.get("warmup_steps", 1) or 1), 1)
        pmodel["lr_factor"] = round(_PROXY_PEAK_LR / (d ** -0.5 * warm ** -0.5), 3)
    proxy = {"model": pmodel, "data": dict(fam.proxy["data"]),
             "trainer": {"max_epochs": epochs, "log_every_n_steps": fam.proxy["trainer"].get("log_every_n_steps", 10)},
             "resources": {"timeout_s": 300, "cpus": 1}}
    scaled = []
    for k, v in paper["model"].items():
        if k not in pmodel:
            scaled.append(f"model.{k} {v} -> model.py's default (the stand-in data's shape)")
        elif k == "blocks_per_stage" and pmodel[k] != v:
            scaled.append(f"model.{k} {v} -> {pmodel[k]} (blocks / 3, rounded up, at most three stages)")
        elif pmodel[k] != v:
            how = (f"width / {sc.width_div}" if k in fam.width_keys else
                   f"depth / {sc.depth_div}, rounded up" if k == fam.depth_key else
                   "same fraction of training, at least 1/8 of it" if k == "warmup_steps" else
                   "at least " + format(_PROXY_MIN_LR, "g") + ": a short run from scratch, not fine-tuning" if k == "lr"
                   else "the stand-in data's size")
            scaled.append(f"model.{k} {v} -> {pmodel[k]} ({how})")
    if "lr_factor" in pmodel:
        scaled.append(f"model.lr_factor 1.0 -> {pmodel['lr_factor']} (peak learning rate {_PROXY_PEAK_LR:g})")
    for k, v in paper["data"].items():
        if k in proxy["data"] and proxy["data"][k] != v:
            scaled.append(f"data.{k} {v} -> {proxy['data'][k]}")
    paper_len = (f"{paper['trainer']['max_steps']} steps" if paper["trainer"].get("max_steps") else
                 f"{paper['trainer']['max_epochs']} epochs" if paper["trainer"].get("max_epochs") else "the paper's schedule")
    scaled.append(f"training {paper_len} -> {epochs} epochs of {steps_per_epoch} batches "
                  f"({epochs * steps_per_epoch} steps)")
    return FamilyPlan(choice, fam, settings, paper, proxy, sc, scaled, ds[0] if ds else None, left_out)


def _steps_per_epoch(fam: Family) -> int:
    d = fam.proxy["data"]
    if fam.name in ("decoder_lm", "rnn"):
        n = 32768 // d["seq_len"]
    else:
        n = d.get("n_train", 2048)
    return max(1, math.ceil(n / d["batch_size"]))
