"""The claim records, one type per kind (checked once, by repro/claims.py, when claims.yaml
loads), and the two ways a claim is written out for readers: its source and what it states."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar


def source_text(src: Any) -> str:
    """A claim's source as a reader cites it: 'Table 3, p. 8, row ResNet-50'."""
    if not isinstance(src, dict):
        return ""
    parts = []
    for key, label in (("table", "Table"), ("figure", "Fig."), ("section", "§"), ("equation", "Eq."),
                       ("page", "p."), ("row", "row"), ("column", "col.")):
        val = src.get(key)
        if val not in (None, ""):
            parts.append(f"§{val}" if label == "§" else f"{label} {val}")
    return ", ".join(parts)


def stated(c: "Claim", number: Callable[[Any], str]) -> str:
    """What a comparison or ordering claim says, as written: 'a > b', '|a − b| ≤ 0.01', 'x > y > z'
    (`number` formats the margin: the report and the site round differently)."""
    if isinstance(c, ComparisonClaim):
        rel = c.relation_claimed or c.relation
        if rel == "within":
            return f"|{c.a} − {c.b}| ≤ {number(c.margin)}"
        sym = {"greater": ">", "less": "<", "better": "better than", "worse": "worse than"}.get(rel, rel)
        return f"{c.a or '?'} {sym} {c.b or '?'}"
    assert isinstance(c, OrderingClaim)
    d = c.direction_claimed or c.direction
    sym = {"decreasing": " > ", "increasing": " < "}.get(d, f" ({d}) ")
    return sym.join(x or "?" for x in c.configs)


@dataclass(kw_only=True)
class Claim:
    """One checked claim. `kind` is value, comparison or ordering; a `kind: sanity` claim has the
    kind its keys describe and `sanity` set. Fields are claims.yaml's keys, defaults filled in."""

    kind: ClassVar[str] = ""
    id: str
    status: str = "candidate"
    text: str | None = None
    source: dict | None = None
    metric: str | None = None
    note: str | None = None
    sanity: bool = False
    runnable: bool = False
    line: str = ""                   # file:line of the claim, for messages

    # claims.yaml's key names read as fields, for scripts and tests that read a claim as the
    # YAML mapping it came from; repro's own code reads the fields.
    def __getitem__(self, key: str) -> Any:
        try:
            return getattr(self, key)
        except AttributeError:
            raise KeyError(key) from None

    def get(self, key: str, default: Any = None) -> Any:
        return getattr(self, key, default)

    def named_configs(self) -> list[str | None]:
        """The configs the claim names, in the claimed order (None: one the proxy cannot run)."""
        return []

    @property
    def configs_involved(self) -> list[str]:
        """The configs the claim is judged on, in the claimed order."""
        return [x for x in self.named_configs() if x is not None]


@dataclass(kw_only=True)
class ValueClaim(Claim):
    kind: ClassVar[str] = "value"
    config: str | None = None
    value: float | None = None
    spread: float | None = None       # the paper's +-, a standard deviation
    spread_n: int | None = None       # runs behind the paper's +-
    tolerance: dict | None = None     # as written: {abs: x} or {rel: r}
    tolerance_abs: float | None = None  # in metric units, proposed when not written
    tolerance_from: str | None = None
    best: Any = None                  # bold in the paper

    def named_configs(self) -> list[str | None]:
        return [self.config]


@dataclass(kw_only=True)
class ComparisonClaim(Claim):
    kind: ClassVar[str] = "comparison"
    a: str | None = None
    b: str | None = None
    relation: str | None = None           # greater | less | within (better/worse normalised)
    relation_claimed: str | None = None   # better | worse as written, when normalised
    margin: float | None = None
    effect: float | None = None
    factor: list[str] | None = None

    def named_configs(self) -> list[str | None]:
        return [self.a, self.b]

    @property
    def tested_relation(self) -> str | None:
        """What the test of mean(a) - mean(b) checks: greater | less | within."""
        return self.relation


@dataclass(kw_only=True)
class OrderingClaim(Claim):
    kind: ClassVar[str] = "ordering"
    configs: list[str | None] = field(default_factory=list)
    direction: str | None = None          # decreasing | increasing (better/worse normalised)
    direction_claimed: str | None = None
    factor: list[str] | None = None

    def named_configs(self) -> list[str | None]:
        return list(self.configs)

    @property
    def tested_relation(self) -> str:
        """Each adjacent pair's test: a decreasing order claims mean(a) > mean(b)."""
        return "greater" if self.direction == "decreasing" else "less"


CLAIM_TYPES: dict[str, type[Claim]] = {t.kind: t for t in (ValueClaim, ComparisonClaim, OrderingClaim)}
