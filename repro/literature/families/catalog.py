"""The reference architecture families (templates/scaffold/models/, their data in
templates/scaffold/data/), the cues that name each,
and choosing the one a paper describes; its named dataset. See repro/literature/families/__init__.py."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...templating import templates_dir

MODELS_DIR = templates_dir() / "scaffold" / "models"
DATA_DIR = templates_dir() / "scaffold" / "data"   # one data.py per kind of input, shared by families

# -- the families ---------------------------------------------------------------------------

_CLS_METRICS = (("val_acc", "max"), ("val_loss", "min"), ("train_acc", "max"), ("train_loss", "min"))
_LM_METRICS = (("val_ppl", "min"), ("val_loss", "min"), ("val_acc", "max"), ("train_loss", "min"))


@dataclass(frozen=True)
class Family:
    name: str                               # folder under templates/scaffold/models/ (its model.py)
    title: str
    data: str                               # templates/scaffold/data/<data>.py: the family's data.py
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

    @property
    def data_file(self) -> Path:
        return DATA_DIR / f"{self.data}.py"


_ATTN = (r"multi-?head(?:ed)? (?:self-)?attention", 2.0)
_XFMR = (r"\btransformers?\b", 1.0)

FAMILIES: dict[str, Family] = {f.name: f for f in (
    Family(
        "transformer", "encoder-decoder Transformer (sequence transduction)", "sequence_pairs",
        (_ATTN, _XFMR, (r"encoder-decoder|encoder and (?:the )?decoder|encoder stack|decoder stack", 2.0),
         (r"sequence[- ]to[- ]sequence|seq2seq|sequence transduction", 2.0), (r"machine translation|translation task", 2.0),
         (r"\bBLEU\b", 1.5), (r"\bWMT\b", 1.5), (r"\bT5\b|\bBART\b|\bmBART\b", 2.0), (r"summari[sz]ation", 1.0)),
        _LM_METRICS,
        {"model": {"vocab_size": 16, "max_len": 16}, "data": {"dataset": "synthetic", "vocab_size": 16, "src_len": 4,
                                                              "n_train": 1280, "n_val": 256, "batch_size": 32},
         "trainer": {"max_steps": 160, "log_every_n_steps": 10}},
        width_keys=("d_model", "d_ff", "d_k", "d_v"), depth_key="n_layers", width_target=32, depth_target=3),
    Family(
        "decoder_lm", "decoder-only Transformer language model", "token_streams",
        (_ATTN, _XFMR, (r"language model(?:l?ing)?\b", 1.5), (r"decoder-only|causal (?:self-)?attention|autoregressive", 2.0),
         (r"\bGPT(?:-\d)?\b|\bLLaMA\b", 2.0), (r"next[- ](?:token|word) prediction", 2.0), (r"perplexity", 1.0),
         (r"\bWikiText", 1.5)),
        _LM_METRICS,
        {"model": {"vocab_size": 64, "max_len": 64}, "data": {"dataset": "synthetic", "vocab_size": 64, "seq_len": 32,
                                                              "batch_size": 32},
         "trainer": {"max_steps": 200, "log_every_n_steps": 10}},
        width_keys=("d_model", "d_ff"), depth_key="n_layers", width_target=32, depth_target=2),
    Family(
        "encoder_classifier", "Transformer encoder classifier (BERT-style)", "labelled_sequences",
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
        "resnet", "ResNet / CNN image classifier", "images",
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
        "mlp", "multi-layer perceptron", "images",
        ((r"multi-?layer perceptrons?|\bMLPs?\b", 2.0), (r"fully[- ]connected (?:layer|network|net)s?", 1.5),
         (r"hidden units?|hidden layers?", 1.0), (r"\bMNIST\b", 1.5), (r"feed-?forward (?:neural )?networks?", 1.0)),
        _CLS_METRICS,
        {"model": {"input_dim": 32, "num_classes": 10},
         "data": {"dataset": "synthetic", "num_classes": 10, "channels": 2, "image_size": 4, "noise": 1.5,
                  "batch_size": 64},
         "trainer": {"max_steps": 150, "log_every_n_steps": 10}},
        width_keys=("hidden_dim",), depth_key="n_layers", width_target=64, depth_target=2),
    Family(
        "rnn", "LSTM / GRU sequence model", "token_streams",
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
    from ..extract.hparams import _sentences  # the one sentence splitter of the extractors

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
            from ...errors import UsageError

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
