"""claims.yaml: loading and checking a paper's claims.

Each claim is checked once, here, by the checker of its kind (`_check_value`,
`_check_comparison`, `_check_ordering`, after the keys every kind shares), and loads as the
record of its kind (claim_types.py: ValueClaim, ComparisonClaim, OrderingClaim).

Schema (ARCHITECTURE.md). Every claim has `id` ([a-z0-9-], unique), `kind`
(value | comparison | ordering | sanity), `status` (candidate | confirmed), and optionally `text`,
`source` (table/figure/page/row/column/caption) and `note`.

* value:      `config` (or null: cannot run on the proxy, judged `not run`), `metric`,
              `value`, `spread` (the paper's own +-, a standard deviation), optional
              `spread_n` (how many runs the paper's +- is over, when it says), optional
              `tolerance: {abs: x}` or `{rel: r}`, optional `tolerance_from` (where the
              tolerance came from, in words). Every value claim is judged against a
              tolerance: without one, `propose_tolerance` supplies it and the claim says
              "no tolerance: proposed from precision" (`repro check` lists such claims).
* comparison: `metric`, `a`, `b` (configs), `relation` (greater | less | within, or
              better | worse, which follow the metric's goal in paper.yaml), `margin`
              (required for within, the largest |mean(a) - mean(b)| the claim allows).
* ordering:   `metric`, `configs` (at least 2, in the claimed order), `direction`
              (decreasing | increasing, or better | worse by the metric's goal).
* comparison and ordering claims may name `factor`: the config key(s) the claim is about
  (dotted, e.g. model.dropout; a section name covers the section). Configs that differ in
  any other key are confounded and the claim is flagged. Without `factor` a claim is taken
  to be about one key. `effect`: the difference mean(a) - mean(b) the paper reports, on the
  proxy's metric scale, used to plan seeds (else the observed difference is used).
* sanity:     a claim whose outcome is fixed by construction (a model that fits its training
              set, a true-label model beating a random-label one). It has the keys of a value,
              comparison or ordering claim (inferred from `a`/`b`, `configs`, else value), is
              judged the same way, and is shown apart from the paper's claims, never counted.

A claim that names a config or metric the paper does not have is an error naming the
claim, the file and the line: a typo must never quietly turn a claim into `not run`.
Unknown keys are errors too, for the same reason (`tolerence:` would silently drop the
tolerance). Claims with a null config are the paper's numbers the proxy cannot speak to;
their metric is not checked against paper.yaml (it may be BLEU on WMT).
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

# The records live in claim_types (the judge and the site use them without the checker);
# callers import them from here.
from .claim_types import (CLAIM_TYPES, Claim, ComparisonClaim, OrderingClaim, ValueClaim, source_text,
                          stated)
from .errors import ClaimsError, suggest
from .paper import Paper
from .yamlio import load_mapping

__all__ = ["CLAIM_TYPES", "Claim", "ComparisonClaim", "OrderingClaim", "ValueClaim", "check_claims", "claims_path",
           "load_claims", "metric_range", "propose_tolerance", "source_text", "stated"]

KINDS = ("value", "comparison", "ordering", "sanity")
STATUSES = ("candidate", "confirmed")
RELATIONS = ("greater", "less", "within", "better", "worse")
DIRECTIONS = ("decreasing", "increasing", "better", "worse")
ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
SOURCE_KEYS = ("table", "figure", "page", "row", "column", "caption", "section", "equation")


COMMON_KEYS = ("id", "text", "source", "kind", "metric", "status", "note")
KIND_KEYS = {
    "value": ("config", "value", "spread", "spread_n", "tolerance", "tolerance_from", "best"),  # best: bold in the paper
    "comparison": ("a", "b", "relation", "margin", "factor", "effect"),
    "ordering": ("configs", "direction", "factor"),
}
NO_TOLERANCE = "no tolerance: proposed from precision"


def _decimals(x: float) -> int:
    """Digits after the point in the shortest repr of x (0.953 -> 3, 28.4 -> 1, 1.0 -> 1)."""
    r = repr(float(x)).lower()
    if "e" in r:
        mant, exp = r.split("e")
        return max(0, len(mant.split(".")[1].rstrip("0") if "." in mant else "") - int(exp))
    return len(r.split(".")[1].rstrip("0")) if "." in r else 0


def propose_tolerance(value: float, spread: float | None = None, text: str | None = None) -> tuple[float, str]:
    """A tolerance (metric units) for a claimed value and the sentence saying where it came from.

    The printed precision sets the floor: the paper's number is rounded to its last digit, and a
    reproduction on other hardware rarely matches closer than a few units of it, so the floor is
    5 units of the last printed digit (`text`, the number as printed, when known; else the
    value's shortest form, read as at least 3 significant digits, since YAML keeps 100.0% as 1.0).
    The paper's own +- (a std over its runs) widens it to 3 x spread: within that the claimed
    and reproduced numbers are indistinguishable by the paper's own account (the combined
    interval also carries the spread, so a tolerance of one spread could never be met).
    """
    v = float(value)
    if text and re.search(r"\d", text):
        m = re.search(r"[-+]?\d*\.?(\d*)", text.replace(",", ""))
        dec = len(m.group(1)) if m else 0
        unit = 10.0 ** -dec
        scale = abs(v) / abs(float(m.group(0))) if m and m.group(0) not in ("", "+", "-") and float(m.group(0)) else 1.0
        unit *= scale  # printed 95.3 (%) stored as 0.953
        how = f"5 units of the printed precision {text.strip()}"
    else:
        unit = 10.0 ** -_decimals(v)
        if v != 0:
            unit = min(unit, 10.0 ** (math.floor(math.log10(abs(v))) - 2))
        how = f"5 units of the last digit ({unit:g}) of {v:g}"
    tol = 5 * unit
    if spread is not None and spread > 0 and 3 * spread > tol:
        tol = 3 * spread
        how = f"3 x the paper's ±{spread:g}"
    return float(f"{tol:.6g}"), f"proposed: {how}"


def metric_range(paper: Paper, metric: str | None) -> tuple[float, float] | None:
    """The values a metric can take: paper.yaml `metrics: {m: {range: [lo, hi]}}`, else [0, 1]
    for a name that says accuracy or error rate (acc, accuracy, error, err), else unknown."""
    if metric is None:
        return None
    spec = (paper.reproduction.get("metrics") or {})
    spec = spec.get(metric) if isinstance(spec, dict) else None
    rng = spec.get("range") if isinstance(spec, dict) else None
    if isinstance(rng, (list, tuple)) and len(rng) == 2 and all(_number(x) for x in rng):
        return float(rng[0]), float(rng[1])
    if re.search(r"(^|_)(acc|accuracy|err|error)(_|$)", metric):
        return 0.0, 1.0
    return None


def claims_path(paper: Paper) -> Path:
    return paper.root / "claims.yaml"


def _line_index(path: Path) -> list[dict[str, int]]:
    """For each item of `claims:`, the line of the item and of each of its keys (1-based)."""
    import yaml

    try:
        root = yaml.compose(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return []  # load_mapping has already reported syntax errors; lines are best effort
    if not isinstance(root, yaml.MappingNode):
        return []
    for key, val in root.value:
        if getattr(key, "value", None) == "claims" and isinstance(val, yaml.SequenceNode):
            out = []
            for item in val.value:
                lines = {"": item.start_mark.line + 1}
                if isinstance(item, yaml.MappingNode):
                    for k, _ in item.value:
                        lines[str(getattr(k, "value", ""))] = k.start_mark.line + 1
                out.append(lines)
            return out
        if getattr(key, "value", None) == "claims":
            return [{"": val.start_mark.line + 1}]
    return []


class _Checker:
    """Raises ClaimsError with the claim id, file and line."""

    def __init__(self, path: Path, lines: list[dict[str, int]]) -> None:
        self.path = path
        self.lines = lines

    def where(self, index: int | None, key: str = "") -> str:
        if index is not None and index < len(self.lines):
            ln = self.lines[index].get(key) or self.lines[index].get("")
            return f"{self.path}:{ln}"
        return str(self.path)

    def fail(self, index: int | None, cid: str | None, message: str, hint: str | None = None,
             key: str = "") -> ClaimsError:
        who = f"claim {cid!r}" if cid else (f"claim #{index + 1}" if index is not None else "claims.yaml")
        return ClaimsError(f"{who} in {self.path.name}: {message}", hint=hint, where=self.where(index, key))


def _suggest(word: Any, valid: list[str] | tuple[str, ...]) -> str:
    return suggest(word, valid, otherwise="valid: " + ", ".join(valid) if valid else "there is none")


def _number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


# -- loading and checking -----------------------------------------------------------------------
def load_claims(paper: Paper) -> list[Claim]:
    """The paper's claims, checked and with defaults filled in. No claims.yaml: no claims."""
    path = claims_path(paper)
    if not path.is_file():
        return []
    data = load_mapping(path)
    return check_claims(data, paper, path)


def check_claims(data: dict[str, Any], paper: Paper, path: Path) -> list[Claim]:
    lines = _line_index(path) if path.is_file() else []
    ck = _Checker(path, lines)
    extra = [k for k in data if k != "claims"]
    if extra:
        raise ClaimsError(f"unknown top-level key {extra[0]!r} in {path.name}",
                          hint="claims.yaml holds one key, `claims:`, a list of claims", where=str(path))
    raw = data.get("claims")
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ClaimsError(f"`claims:` must be a list of claims, not {type(raw).__name__}",
                          hint="write each claim as an item starting with `- id: ...`", where=ck.where(0))
    configs = list(paper.config_files())
    goals = {m.name: m.goal for m in paper.metrics}
    seen: dict[str, int] = {}
    return [_check_one(_Item(ck, i, item, configs), goals, seen) for i, item in enumerate(raw)]


class _Item:
    """One raw claims.yaml item being checked: its index, its id once known, and the checker."""

    def __init__(self, ck: _Checker, i: int, raw: Any, configs: list[str]) -> None:
        self.ck, self.i, self.raw, self.configs = ck, i, raw, configs
        self.cid: str | None = None

    def fail(self, message: str, hint: str | None = None, key: str = "") -> ClaimsError:
        return self.ck.fail(self.i, self.cid, message, hint=hint, key=key)

    def config_ok(self, name: Any, key: str) -> None:
        if name is not None and name not in self.configs:
            raise self.fail(f"names config {name!r}, which the paper does not have",
                            hint=_suggest(name, self.configs) + " (configs are baseline, method and "
                            "configs/ablations/<name>.yaml)", key=key)

    def one_of(self, key: str, val: Any, valid: tuple[str, ...]) -> None:
        if val not in valid:
            raise self.fail(f"{key} must be one of {', '.join(valid)}, not {val!r}",
                            hint=_suggest(val, valid) if val else None, key=key)


def _check_one(it: _Item, goals: dict[str, str], seen: dict[str, int]) -> Claim:
    item = it.raw
    if not isinstance(item, dict):
        raise it.fail(f"expected a mapping (id, kind, ...), got {type(item).__name__}")
    cid = item.get("id")
    if not isinstance(cid, str) or not ID_RE.match(cid):
        raise it.fail(f"id must be lower-case letters, digits and dashes, got {cid!r}",
                      hint="e.g. id: random-labels-fit", key="id")
    it.cid = cid
    if cid in seen:
        raise it.fail(f"duplicate id (also claim #{seen[cid] + 1})", key="id")
    seen[cid] = it.i
    kind = item.get("kind")
    if kind not in KINDS:
        raise it.fail(f"kind must be one of {', '.join(KINDS)}, not {kind!r}",
                      hint=_suggest(kind, KINDS) if kind else None, key="kind")
    sanity = kind == "sanity"
    if sanity:  # judged like the claim its keys describe, shown apart
        kind = "comparison" if ("a" in item or "b" in item) else "ordering" if "configs" in item else "value"
    allowed = COMMON_KEYS + KIND_KEYS[kind]
    for key in item:
        if key not in allowed:
            other = [k for k, keys in KIND_KEYS.items() if key in keys]
            hint = (f"`{key}` belongs to {other[0]} claims" if other else _suggest(key, allowed))
            raise it.fail(f"unknown key {key!r} for a {kind} claim", hint=hint, key=str(key))
    common = _check_common(it, item)
    c = _CHECK_KIND[kind](it, item, {k: v for k, v in item.items() if k in KIND_KEYS[kind]})
    for k, v in common.items():
        setattr(c, k, v)
    c.sanity = sanity
    c.line = it.ck.where(it.i)
    if isinstance(c, (ComparisonClaim, OrderingClaim)):
        c.factor = _check_factor(it, item.get("factor"))
    _check_metric(it, c, goals)
    return c


def _check_common(it: _Item, item: dict) -> dict[str, Any]:
    status = item.get("status", "candidate")
    if status not in STATUSES:
        raise it.fail(f"status must be candidate or confirmed, not {status!r}", key="status")
    src = item.get("source")
    if src is not None:
        if not isinstance(src, dict):
            raise it.fail("source must be a mapping (table, figure, page, row, column, caption)", key="source")
        for key in src:
            if key not in SOURCE_KEYS:
                raise it.fail(f"unknown source key {key!r}", hint=_suggest(key, SOURCE_KEYS), key="source")
    return {"id": it.cid, "status": status, "source": src, "text": item.get("text"), "note": item.get("note"),
            "metric": item.get("metric")}


def _check_value(it: _Item, item: dict, keys: dict[str, Any]) -> ValueClaim:
    c = ValueClaim(id=str(it.cid), **keys)
    it.config_ok(c.config, "config")
    v = c.value
    if not (v is None and c.config is None) and not _number(v):  # None, None: a number the paper gives elsewhere
        raise it.fail(f"value must be a number, not {v!r}",
                      hint="write the claimed number on the metric's scale, e.g. 0.953 for 95.3% "
                      "when the metric is a fraction", key="value")
    sp, sn = c.spread, c.spread_n
    if sp is not None and (not _number(sp) or sp < 0):
        raise it.fail(f"spread must be a non-negative number (the paper's +-), not {sp!r}", key="spread")
    if sn is not None and (not isinstance(sn, int) or isinstance(sn, bool) or sn < 1):
        raise it.fail(f"spread_n must be a positive integer (runs behind the paper's +-), not {sn!r}",
                      key="spread_n")
    if sn is not None and sp is None:
        raise it.fail("spread_n is given without spread", key="spread_n")
    tol, tf = c.tolerance, c.tolerance_from
    if tol is not None:
        if not isinstance(tol, dict) or len(tol) != 1 or next(iter(tol)) not in ("abs", "rel"):
            raise it.fail(f"tolerance must be {{abs: x}} or {{rel: r}}, not {tol!r}",
                          hint="one of them: abs is in the metric's units, rel a fraction of the "
                          "claimed value", key="tolerance")
        (tk, tv), = tol.items()
        if not _number(tv) or tv < 0:
            raise it.fail(f"tolerance {tk} must be a non-negative number, not {tv!r}", key="tolerance")
        if tk == "rel" and v == 0:
            raise it.fail("a relative tolerance of a claimed 0 is always 0", hint="use tolerance: {abs: x}",
                          key="tolerance")
    if tf is not None and not isinstance(tf, str):
        raise it.fail(f"tolerance_from must be a sentence, not {tf!r}", key="tolerance_from")
    if tol is not None:
        (tk, tv), = tol.items()
        c.tolerance_abs = float(tv) if tk == "abs" else float(tv) * abs(v)
        c.tolerance_from = tf or "claims.yaml"
    elif _number(v):
        c.tolerance_abs, how = propose_tolerance(v, sp)
        c.tolerance_from = f"{NO_TOLERANCE} ({how.removeprefix('proposed: ')})"
    c.runnable = c.config is not None
    return c


def _check_comparison(it: _Item, item: dict, keys: dict[str, Any]) -> ComparisonClaim:
    keys.pop("factor", None)
    c = ComparisonClaim(id=str(it.cid), **keys)
    if c.effect is not None and not _number(c.effect):
        raise it.fail(f"effect must be a number (mean(a) - mean(b) on the metric's scale), not {c.effect!r}",
                      key="effect")
    it.config_ok(c.a, "a")
    it.config_ok(c.b, "b")
    if c.a is not None and c.a == c.b:
        raise it.fail(f"compares config {c.a!r} with itself", key="b")
    it.one_of("relation", c.relation, RELATIONS)
    m = c.margin
    if c.relation == "within":
        if not _number(m) or m <= 0:
            raise it.fail(f"a within claim needs margin: a positive number, not {m!r}",
                          hint="margin is the largest |mean(a) - mean(b)| the claim allows",
                          key="margin" if "margin" in item else "relation")
    elif m is not None:
        raise it.fail(f"margin is only used with relation: within, not {c.relation}", key="margin")
    c.runnable = c.a is not None and c.b is not None
    return c


def _check_ordering(it: _Item, item: dict, keys: dict[str, Any]) -> OrderingClaim:
    cfgs = keys.get("configs")
    if not isinstance(cfgs, list) or len(cfgs) < 2:
        raise it.fail("configs must list at least 2 configs in the claimed order",
                      key="configs" if "configs" in item else "")
    for name in cfgs:
        if name is not None and not isinstance(name, str):
            raise it.fail(f"configs must be config names, got {name!r}", key="configs")
        it.config_ok(name, "configs")
    if len(set(cfgs)) != len(cfgs):
        raise it.fail("configs lists a config twice", key="configs")
    it.one_of("direction", keys.get("direction"), DIRECTIONS)
    c = OrderingClaim(id=str(it.cid), configs=list(cfgs), direction=keys.get("direction"))
    c.runnable = all(x is not None for x in cfgs)
    return c


_CHECK_KIND = {"value": _check_value, "comparison": _check_comparison, "ordering": _check_ordering}


def _check_factor(it: _Item, f: Any) -> list[str] | None:
    if isinstance(f, str):
        return [f]
    if f is not None and not (isinstance(f, list) and all(isinstance(x, str) for x in f)):
        raise it.fail(f"factor must be a config key or a list of them, not {f!r}",
                      hint="e.g. factor: model.dropout", key="factor")
    return f


def _check_metric(it: _Item, c: Claim, goals: dict[str, str]) -> None:
    """A claim that touches a config is judged on a metric the runs report; better/worse become
    numeric directions once, so the judging code has one vocabulary."""
    metric = c.metric
    if c.configs_involved:
        if metric is None:
            raise it.fail("metric is missing", hint="valid: " + ", ".join(goals), key="")
        if metric not in goals:
            raise it.fail(f"names metric {metric!r}, which paper.yaml's reproduction.metrics does not list",
                          hint=_suggest(metric, list(goals)), key="metric")
    if not c.runnable:
        return
    if isinstance(c, ComparisonClaim) and c.relation in ("better", "worse"):
        up = (c.relation == "better") == (goals[metric] == "max")
        c.relation_claimed, c.relation = c.relation, "greater" if up else "less"
    if isinstance(c, OrderingClaim) and c.direction in ("better", "worse"):
        up = (c.direction == "better") == (goals[metric] == "max")
        c.direction_claimed, c.direction = c.direction, "increasing" if up else "decreasing"
