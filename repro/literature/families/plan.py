"""The plan: configs-paper/base.yaml from the paper's settings, and the CPU proxy configs/ derived
by stated scaling (width, depth, vocabulary, sequence length, steps)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from .catalog import FAMILIES, Family, FamilyChoice, find_dataset, paper_sentences
from .settings import HPARAM_KEYS, Setting, accepted_keys, map_ablation, page_source, paper_settings


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
            "data.py": fam.data_file.read_text(encoding="utf-8"),
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
        from ..scaffold import _comment, _yaml_inline

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
        from ..scaffold import _comment, _yaml_inline

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
    from ..scaffold import _comment
    from ...yamlio import dump_yaml

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
        targets = [(sec, k) for sec, k in HPARAM_KEYS.get(h.key, []) if (sec, k) in used]
        if not targets:
            left_out.append(f"{h.key}: {h.value}  # {page_source(h)[:160]}")
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
