"""The report's words: numbers (through repro/numfmt.py, with an ASCII minus: the report is
markdown, read as plain text as often as rendered), markdown table cells, and each verdict's
claimed / reproduced / evidence texts. They are the report templates' filters."""

from __future__ import annotations

import re
from typing import Any

from .. import numfmt
from ..claims import ComparisonClaim, OrderingClaim, ValueClaim, stated
from .site.markdown import fenced_lines
from .stats import Describe
from .verdicts import ClaimVerdict


# Numbers are written by repro/numfmt.py, as on the site; these names are the templates' filters.
# The report is markdown, read as plain text as often as rendered: an ASCII minus sign.
def num(x: Any, digits: int = 4) -> str:
    return numfmt.fmt(x, digits).replace("−", "-")


def signed(x: Any) -> str:
    return numfmt.signed(x, 4).replace("−", "-")


pval = numfmt.pval


p_is = numfmt.p_rel  # '= 0.004' or '< 0.001', to follow 'p '


def pct(x: float | None) -> str:
    return "—" if x is None else f"{x * 100:+.1f}%"


def cell(x: Any) -> str:
    """Text safe inside a markdown table cell: no pipes, no line breaks."""
    s = "" if x is None else str(x)
    return re.sub(r"\s*\n\s*", " ", s).replace("|", "\\|").strip()


def desc(d: Describe | None, *, ci: bool = True) -> str:
    if d is None or d.n == 0:
        return "no finished run" + (f" ({d.n_failed} failed)" if d and d.n_failed else "")
    s = num(d.mean)
    if d.std is not None:
        s += f" ± {num(d.std)}"
    if ci and d.ci_low is not None:
        s += f" [{num(d.ci_low)}, {num(d.ci_high)}]"
    s += f" (n={d.n}" + (f", {d.n_failed} failed" if d.n_failed else "") + ")"
    return s


def claimed_text(v: ClaimVerdict) -> str:
    c = v.claim
    if isinstance(c, ValueClaim):
        if v.claimed is None:
            return "—"
        s = num(v.claimed) + (f" ± {num(v.claimed_spread)}" if v.claimed_spread is not None else "")
        if c.tolerance:
            (k, t), = c.tolerance.items()
            s += f" (tol. ±{num(t)})" if k == "abs" else f" (tol. ±{num(t * 100)}%)"
        return s
    return stated(c, num)


def reproduced_text(v: ClaimVerdict) -> str:
    if not v.stats:
        return "—"
    if v.kind == "value":
        return desc(next(iter(v.stats.values())))
    return "; ".join(f"{k}: {desc(d, ci=False)}" for k, d in v.stats.items())


def tolerance_text(v: ClaimVerdict) -> str:
    """'±0.02 (claims.yaml)' or '±0.005 (no tolerance: proposed from precision ...)'."""
    if v.tolerance is None:
        return "—"
    return f"±{num(v.tolerance)}" + (f" ({v.tolerance_from})" if v.tolerance_from else "")


def planning_text(v: ClaimVerdict) -> str:
    """Seeds that would decide (value claims), or the power of a comparison."""
    if v.kind == "value":
        if v.verdict != "inconclusive" or v.gap_abs is None:
            return ""
        return (f"~{v.seeds_to_decide} seeds would decide" if v.seeds_to_decide
                else "no number of seeds would decide")
    parts = []
    if v.mde is not None:
        parts.append(f"detectable at 80% power: ≥{num(abs(v.mde), 3)}")
    assert isinstance(v.claim, (ComparisonClaim, OrderingClaim))
    rel = v.claim.tested_relation
    against = v.planned_effect is not None and v.planned_from == "observed" and (
        (v.planned_effect < 0) if rel == "greater" else (v.planned_effect > 0))
    if against:
        parts.append(f"the observed effect {num(v.planned_effect, 3)} goes against the claim")
    elif v.planned_effect is not None:
        what = "claimed" if v.planned_from == "claim" else "observed"
        parts.append(f"{what} effect {num(v.planned_effect, 3)} needs "
                     + (f"{v.seeds_needed} seeds" if v.seeds_needed else "more than 1000 seeds"))
    return ", ".join(parts)


def verdict_text(v: ClaimVerdict) -> str:
    """The verdict, with what keeps it from counting ('supported, cannot fail')."""
    s = v.verdict
    if v.flags and v.verdict in ("reproduced", "supported"):
        s += " (cannot fail: not counted)"
    elif v.flags:
        s += " (flagged)"
    if v.rounds is not None:
        s += f", round {v.rounds}"
    return s


def evidence_text(v: ClaimVerdict) -> str:
    if v.verdict == "not run":
        return cell(v.claim.note) or "no run"
    parts = _value_evidence(v) if v.kind == "value" else _test_evidence(v)
    plan = planning_text(v)
    parts += ([plan] if plan else []) + list(v.flags)
    return ", ".join(parts) or ("" if v.kind == "value" else "n < 2")


def _value_evidence(v: ClaimVerdict) -> list[str]:
    parts = []
    if v.gap_abs is not None:
        parts.append(f"gap {signed(v.gap_abs)}" + (f" ({pct(v.gap_rel)})" if v.gap_rel is not None else ""))
    if v.interval is not None:
        parts.append(f"{100 * (1 - 2 * v.alpha):.3g}% interval of the gap [{num(v.interval[0])}, "
                     f"{num(v.interval[1])}] vs tol. ±{num(v.tolerance)}")
    elif v.tolerance is not None:
        parts.append(f"tol. ±{num(v.tolerance)}")
    return parts


def _test_evidence(v: ClaimVerdict) -> list[str]:
    parts = []
    if v.diff is not None:
        parts.append(f"diff {signed(v.diff)}" + (f" [{num(v.diff_ci[0])}, {num(v.diff_ci[1])}]" if v.diff_ci else ""))
    if v.effect_size is not None:
        parts.append(f"d = {num(v.effect_size, 3)}")
    if v.p_value is not None:
        parts.append(f"p {p_is(v.p_value)}, Holm p {p_is(v.p_adjusted)}")
    if v.kind == "ordering" and v.pairs:
        parts.append(f"{sum(p['verdict'] == 'supported' for p in v.pairs)}/{len(v.pairs)} pairs hold")
    return parts


def demote_headings(markdown: str, by: int = 2) -> str:
    """Shift ATX headings down so an included file nests under the report's sections."""
    out = []
    for line, fence in fenced_lines(markdown):
        m = None if fence else re.match(r"^(#{1,6})(\s)", line)
        out.append("#" * min(6, len(m.group(1)) + by) + line[len(m.group(1)):] if m else line)
    return "\n".join(out)
