"""Architecture claims checked without training: parameter counts on the meta device.

Every config of a config set (`configs-paper/` by default: the paper's own sizes) is built
with `torch.device("meta")` (shapes only, no memory, no time), its parameters counted (each
shared tensor once) and, where model.py defines `flops_per_token()`, its forward FLOPs. The
paper's own numbers of that kind (a "params x10^6" column, "#Params (M)", ...) in
claims.yaml are judged as value claims with the tolerance the printed precision gives (half
a unit of the last printed digit). When every row is off by about the same amount, the
report says so (a part the paper does not describe: a different vocabulary, untied
embeddings, biases) instead of widening the tolerance.

    from repro.literature.archcheck import check_architecture, report_section
    rep = check_architecture("papers/1706.03762")          # ArchReport
    print(report_section(rep))                             # markdown

or `python -m repro.literature.archcheck papers/1706.03762 [--config-set paper]`. Imports torch.
"""

from __future__ import annotations

import re
import statistics
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_PARAM_COLUMN = re.compile(r"(?<!hyper)(?<!hyper-)\bparam(?:eter)?s?\b|#\s*param|\bparams?\b", re.I)
_SUPERSCRIPT = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")
_BASE_ROWS = {"base", "baseline", "default", "full", "full model", "ours", "reference"}


@dataclass
class ArchCount:
    config: str
    params: int | None = None
    flops_per_token: int | None = None
    error: str | None = None              # why it could not be built


@dataclass
class ArchClaim:
    claim_id: str
    config: str | None
    column: str
    printed: str                          # the cell as printed ("65", "213")
    claimed: float                        # in the column's unit
    unit: float                           # 1e6 for "params x10^6"
    tolerance: float                      # half a unit of the last printed digit, column units
    computed: float | None = None         # column units
    verdict: str = "not built"            # agrees | off | not built | no config
    note: str | None = None

    @property
    def gap(self) -> float | None:
        return None if self.computed is None else self.computed - self.claimed

    @property
    def rel_gap(self) -> float | None:
        return None if self.gap is None or not self.claimed else self.gap / self.claimed


@dataclass
class ArchReport:
    paper: str
    config_set: str | None
    counts: list[ArchCount] = field(default_factory=list)
    claims: list[ArchClaim] = field(default_factory=list)
    offset: float | None = None           # the common gap, when the rows share one
    summary: str = ""

    def verdict(self, claim_id: str) -> ArchClaim | None:
        return next((c for c in self.claims if c.claim_id == claim_id), None)


# -- building on the meta device -------------------------------------------------------------

def _model_class(path: Path) -> type:
    import lightning as L

    from ..runs.paper_code import load_paper_module  # torch is imported by now (lightning above)

    mod = load_paper_module(path)
    name = mod.__name__
    found = [v for v in vars(mod).values() if isinstance(v, type) and issubclass(v, L.LightningModule)
             and v is not L.LightningModule and v.__module__ == name]
    if len(found) != 1:
        raise RuntimeError(f"{path}: expected exactly one LightningModule, found {len(found)}")
    return found[0]


def count_parameters(model: Any) -> int:
    """Parameters of `model`, each shared (tied) tensor once."""
    return sum(p.numel() for p in model.parameters())  # parameters() already skips duplicates


def build_counts(paper_root: str | Path, config_set: str | None = "paper") -> list[ArchCount]:
    """Parameter (and FLOP) counts of every config of the set, built on the meta device."""
    import torch

    from ..configs import resolve_configs
    from ..paper import load_paper

    paper = load_paper(paper_root, config_set)
    cls = _model_class(paper.root / "model.py")
    out = []
    for cfg in resolve_configs(paper):
        try:
            with torch.device("meta"):
                model = cls(**(cfg.model or {}))
            flops = model.flops_per_token() if callable(getattr(model, "flops_per_token", None)) else None
            out.append(ArchCount(cfg.name, count_parameters(model), flops))
        except Exception as e:  # noqa: BLE001 - a config that cannot be built is a finding, not a crash
            out.append(ArchCount(cfg.name, error=f"{type(e).__name__}: {e}"))
    return out


# -- the paper's numbers ---------------------------------------------------------------------

def column_unit(column: str, value: float) -> tuple[float, str | None]:
    """(unit, note): "params ×10^6" -> 1e6; "(M)" -> 1e6; no unit and a small number -> 1e6, noted."""
    col = column.translate(_SUPERSCRIPT)
    m = re.search(r"10\s*\^?\s*\{?\s*([+-]?\d+)", col)
    if m:
        return 10.0 ** int(m.group(1)), None
    m = re.search(r"\(\s*([KMB])\s*\)|\b(?:in\s+)?([KMB])\b|(million|billion|thousand)", col)
    if m:
        tag = (m.group(1) or m.group(2) or m.group(3)).lower()
        return {"k": 1e3, "thousand": 1e3, "m": 1e6, "million": 1e6, "b": 1e9, "billion": 1e9}[tag], None
    if abs(value) >= 1e4:
        return 1.0, None
    return 1e6, "the column prints no unit: read as millions"


def _printed(claim: dict) -> str:
    text = str(claim.get("text") or "")
    tail = text.rsplit("=", 1)[-1].strip() if "=" in text else str(claim.get("value"))
    m = re.search(r"-?\d[\d,]*(?:\.\d+)?", tail)
    return m.group(0) if m else str(claim.get("value"))


def _half_unit(printed: str) -> float:
    decimals = len(printed.split(".", 1)[1]) if "." in printed else 0
    return 0.5 * 10.0 ** -decimals


def param_claims(claims: list[dict], configs: list[str]) -> list[ArchClaim]:
    """The value claims about parameter counts, each matched to the config of its row."""
    out = []
    by_length = sorted(configs, key=len, reverse=True)
    for c in claims:
        if not isinstance(c, dict) or c.get("kind", "value") != "value" or c.get("value") is None:
            continue
        src = c.get("source") or {}
        column = str(src.get("column") or c.get("metric") or "")
        if not _PARAM_COLUMN.search(column):
            continue
        value = float(c["value"])
        unit, note = column_unit(column, value)
        printed = _printed(c)
        out.append(ArchClaim(str(c.get("id")), _claim_config(c, by_length), column, printed, value, unit,
                             _half_unit(printed), note=note))
    return out


def _claim_config(c: dict, configs: list[str]) -> str | None:
    """The config a claim's row is: its own `config`, the one its note names, the one its id
    carries (`table3-<config>-...`), or the baseline for a base row."""
    if c.get("config") in configs:
        return c["config"]
    m = re.search(r"set config: ([\w.-]+)", str(c.get("note") or ""))
    if m and m.group(1) in configs:
        return m.group(1)
    cid = str(c.get("id") or "")
    table = re.sub(r"[^a-z0-9]+", "-", str((c.get("source") or {}).get("table") or "").lower()).strip("-")
    prefix = f"table{table}-" if table else ""
    for name in configs:  # longest first: "c-n2" must not win over "c-n2-big"
        if name != "baseline" and cid.startswith(prefix + name + "-"):
            return name
    row = str((c.get("source") or {}).get("row") or "").strip().lower()
    if row in _BASE_ROWS and "baseline" in configs:
        return "baseline"
    return None


# -- judging ---------------------------------------------------------------------------------

def judge(claims: list[ArchClaim], counts: list[ArchCount]) -> tuple[float | None, str]:
    """Fill each claim's computed value and verdict; (common offset, one-paragraph summary)."""
    by_config = {a.config: a for a in counts}
    for c in claims:
        a = by_config.get(c.config) if c.config else None
        if c.config is None:
            c.verdict, c.note = "no config", (c.note or "no config of the set is this row")
        elif a is None or a.params is None:
            c.verdict, c.note = "not built", (a.error if a else f"config {c.config!r} not in the set")
        else:
            c.computed = a.params / c.unit
            c.verdict = "agrees" if abs(c.gap) <= c.tolerance + 1e-9 else "off"
    judged = [c for c in claims if c.computed is not None]
    if not judged:
        return None, "no parameter claim could be judged" if claims else "the paper prints no parameter counts"
    agree = sum(c.verdict == "agrees" for c in judged)
    rels = [abs(c.rel_gap) for c in judged if c.rel_gap is not None]
    text = (f"{agree} of {len(judged)} parameter counts agree within the printed precision; "
            f"largest gap {max(rels):.1%}, median {statistics.median(rels):.1%}.")
    if len(judged) < 2 or agree == len(judged):
        return None, text
    gaps = [c.gap for c in judged]
    offset = statistics.median(gaps)
    resid = [g - offset for g in gaps]
    tol = max(c.tolerance for c in judged)
    within = sum(abs(r) <= 2 * tol for r in resid)
    unit = _unit_words(judged[0].unit)
    if within == len(judged):
        text += (f" Every row is off by the same {offset:+.2f}{unit} (within twice the printed precision of one "
                 "constant): a part of the model the paper does not describe (or describes differently), not noise.")
        return offset, text
    spread = statistics.median(abs(r) for r in resid)
    if spread < abs(offset) / 2:
        text += (f" Most of the gap is one constant: the median row is off by {offset:+.2f}{unit}; after removing "
                 f"it {within} of {len(judged)} rows agree within twice the printed precision "
                 f"(median residual {spread:.2f}{unit}). The rest is in the rows that differ.")
        return offset, text
    return None, text + " The gaps differ from row to row (no common constant)."


def _unit_words(unit: float) -> str:
    return {1e3: " x10^3", 1e6: " x10^6", 1e9: " x10^9"}.get(unit, f" x{unit:g}" if unit != 1 else "")


def check_architecture(paper_root: str | Path, config_set: str | None = "paper") -> ArchReport:
    """Build every config of the set on the meta device and judge the paper's parameter counts."""
    from ..yamlio import load_mapping

    root = Path(paper_root)
    counts = build_counts(root, config_set)
    claims_file = root / "claims.yaml"
    raw = load_mapping(claims_file, required=False) if claims_file.exists() else {}
    claims = param_claims(list((raw or {}).get("claims") or []), [a.config for a in counts])
    offset, summary = judge(claims, counts)
    return ArchReport(root.name, config_set, counts, claims, offset, summary)


def report_section(rep: ArchReport) -> str:
    """Markdown: a table of the configs' counts and one of the judged claims."""
    where = f"configs-{rep.config_set}/" if rep.config_set else "configs/"
    lines = [f"## Architecture (meta-device build of {where})", ""]
    lines += ["| config | parameters | FLOPs/token | |", "| --- | ---: | ---: | --- |"]
    for a in rep.counts:
        lines.append(f"| {a.config} | {a.params:,} | {a.flops_per_token or '':,} | |" if a.params is not None
                     else f"| {a.config} | - | - | not built: {a.error} |")
    if rep.claims:
        lines += ["", "| claim | config | paper | computed | gap | tolerance | verdict |",
                  "| --- | --- | ---: | ---: | ---: | ---: | --- |"]
        for c in rep.claims:
            comp = f"{c.computed:.2f}" if c.computed is not None else "-"
            gap = f"{c.gap:+.2f} ({c.rel_gap:+.1%})" if c.gap is not None else "-"
            lines.append(f"| {c.claim_id} | {c.config or '-'} | {c.printed} | {comp} | {gap} | ±{c.tolerance:g} | "
                         f"{c.verdict}{' (' + c.note + ')' if c.note and c.verdict != 'agrees' else ''} |")
    lines += ["", rep.summary, ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(prog="python -m repro.literature.archcheck", description=__doc__.split("\n\n")[0])
    ap.add_argument("paper")
    ap.add_argument("--config-set", default="paper", help="configs-<set>/ to build ('' for configs/)")
    args = ap.parse_args(argv)
    print(report_section(check_architecture(args.paper, args.config_set or None)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
