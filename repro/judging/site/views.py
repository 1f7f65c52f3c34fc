"""What a paper page shows, as plain dicts: claims with the evidence that decided them, the
forest plot's rows, the headline, the configs table, the report's Discussion and Review.

Verdict fields are read with getattr and defaults: the judging code grows new fields (an
equivalence interval, where a tolerance came from, flags for tests that cannot fail,
`kind: sanity`), and a page must render with old and new verdicts alike. A verdict's claim is
a typed record (repro/claim_types.py) and is read by its fields.
"""

from __future__ import annotations

import math
import re
from typing import Any

from ...claims import Claim, ComparisonClaim, OrderingClaim, source_text, stated
from ...yamlio import flatten
from .markdown import fenced_lines
from ...numfmt import clip, fmt, interval, mean_std, metric_range, p_is, scaled, signed, spread, unit_of, with_unit

HELD = ("reproduced", "supported")
FAILED = ("not reproduced", "contradicted")
# Severity for sorting: what did not hold first, what was not run last.
SEVERITY = {"not reproduced": 0, "contradicted": 0, "inconclusive": 1, "reproduced": 2, "supported": 2, "not run": 3}
VERDICT_CLASS = {
    "reproduced": "ok", "supported": "ok", "not reproduced": "bad", "contradicted": "bad",
    "inconclusive": "warn", "not run": "none",
}


def _num(x: Any) -> float | None:
    return float(x) if isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) else None


def _g(obj: Any, name: str, default: Any = None) -> Any:
    v = getattr(obj, name, default)
    return default if v is None else v


def is_sanity(v: Any) -> bool:
    return v.kind == "sanity" or v.claim.sanity or bool(_g(v, "sanity", False))


def flags_of(v: Any) -> list[str]:
    """Reasons a test could not fail, in words (from whatever field the judge provides)."""
    out: list[str] = []
    for name in ("flags", "cannot_fail", "warnings"):
        val = getattr(v, name, None)
        if isinstance(val, str) and val:
            out.append(val)
        elif isinstance(val, (list, tuple)):
            out += [str(x.get("reason", x) if isinstance(x, dict) else x) for x in val if x]
        elif val is True:
            out.append("this test cannot fail")
    return out


# -- one claim ---------------------------------------------------------------------------------
def describe_text(d: Any, *, ci: bool = True, rng=(None, None), unit=(1.0, "")) -> str:
    if d is None or getattr(d, "n", 0) == 0:
        nf = getattr(d, "n_failed", 0) if d is not None else 0
        return "no finished run" + (f" ({nf} failed)" if nf else "")
    s = with_unit(mean_std(scaled(d.mean, unit), scaled(d.std, unit)), unit)
    if ci and d.ci_low is not None and d.ci_high is not None:
        s += " " + interval(scaled(clip(d.ci_low, rng), unit), scaled(clip(d.ci_high, rng), unit))
    return s


def n_text(v: Any) -> str:
    """'n = 3' (one config) or 'n = 3 vs 3'; failed runs said."""
    stats = v.stats or {}
    if not stats:
        return ""
    ns = [getattr(d, "n", 0) for d in stats.values()]
    failed = sum(getattr(d, "n_failed", 0) or 0 for d in stats.values())
    s = "n = " + " vs ".join(str(n) for n in ns) if len(set(ns)) > 1 else f"n = {ns[0]}"
    return s + (f" ({failed} failed)" if failed else "")


def _direction(v: Any) -> int:
    """+1 when the claim says a > b (diff = mean(a) - mean(b) should be positive), else -1."""
    c = v.claim
    if isinstance(c, OrderingClaim):
        return 1 if c.direction in ("decreasing", "greater") else -1
    return -1 if isinstance(c, ComparisonClaim) and c.relation in ("less", "worse") else 1


def _deciding_pair(v: Any) -> dict[str, Any] | None:
    """Of an ordering, the pair that decided: a reversed pair if contradicted, else the weakest."""
    pairs = [p for p in (_g(v, "pairs", []) or []) if isinstance(p, dict)]
    if not pairs:
        return None
    if v.verdict == "contradicted":
        bad = [p for p in pairs if p.get("verdict") == "contradicted"]
        if bad:
            return min(bad, key=lambda p: p.get("p_opposite_adjusted") if p.get("p_opposite_adjusted") is not None else 1)
    tested = [p for p in pairs if p.get("p_adjusted") is not None]
    if not tested:
        return pairs[0]
    return max(tested, key=lambda p: p["p_adjusted"])


def _d_meaningful(stats: dict[str, Any], d: Any) -> bool:
    """Cohen's d means something when both groups vary and it is not astronomically large."""
    if _num(d) is None or abs(d) > 10:
        return False
    return all((_num(getattr(s, "std", None)) or 0) > 0 for s in stats.values())


def evidence(v: Any) -> str:
    """The test that decided the verdict, with the adjustment the verdict used."""
    if v.verdict == "not run":
        return str(v.claim.note or "no finished run")
    if v.kind == "value":
        parts = []
        if _num(v.gap_abs) is not None:
            parts.append(f"gap {signed(v.gap_abs)}")
        iv = _g(v, "interval")
        if (isinstance(iv, (list, tuple)) and len(iv) == 2 and _num(iv[0]) is not None
                and _num(iv[1]) is not None and _num(v.claimed) is not None):
            parts.append("gap interval " + interval(iv[0] - v.claimed, iv[1] - v.claimed))
        tol = _num(_g(v, "tolerance"))
        if tol is not None:
            parts.append(f"tolerance ±{fmt(tol, 3)}")
        return ", ".join(parts) or "—"
    stats = v.stats or {}
    if v.kind == "ordering":
        p = _deciding_pair(v)
        pairs = _g(v, "pairs", []) or []
        held = sum(1 for q in pairs if isinstance(q, dict) and q.get("verdict") == "supported")
        head = f"{held}/{len(pairs)} pairs hold" if pairs else ""
        if p is None:
            return head or "n < 2"
        which = "reversed" if v.verdict == "contradicted" else "weakest"
        diff, ci = p.get("diff"), p.get("diff_ci")
        padj = p.get("p_opposite_adjusted") if v.verdict == "contradicted" else p.get("p_adjusted")
        s = f"{head}; {which} pair {p.get('a')} vs {p.get('b')}:"
        if padj is not None:
            s += f" Holm {p_is(padj)}" + (" against the claim" if v.verdict == "contradicted" else "") + ","
        s += f" diff {signed(diff)}"
        if ci:
            s += " " + interval(*ci) + " (95%, unadjusted)"
        return s
    parts = []
    # The test that decided first, with the verdict's own adjustment; the interval after it
    # is descriptive (a 95% interval of the difference, not adjusted), and says so.
    if v.verdict == "contradicted" and _num(_g(v, "p_opposite_adjusted")) is not None:
        parts.append(f"Holm {p_is(v.p_opposite_adjusted)} against the claim")
    elif _num(v.p_adjusted) is not None:
        parts.append(f"Holm {p_is(v.p_adjusted)}")
    elif _num(v.p_value) is not None:
        parts.append(p_is(v.p_value))
    if _num(v.diff) is not None:
        parts.append(f"diff {signed(v.diff)}" + (" " + interval(*v.diff_ci) + " (95%, unadjusted)" if v.diff_ci else ""))
    if _d_meaningful(stats, v.effect_size):
        parts.append(f"d = {fmt(v.effect_size, 2)}")
    return ", ".join(parts) or "n < 2"


def forest_row(v: Any, rng_of) -> dict[str, Any] | None:
    """One row of the forest plot: the effect in the claimed direction with its interval,
    and the reference it is judged against, all as fractions of a symmetric per-row scale."""
    if v.verdict == "not run":
        return None
    band = None
    if v.kind == "value":
        if _num(v.claimed) is None or not v.stats:
            return None
        d = next(iter(v.stats.values()))
        if d is None or _num(getattr(d, "mean", None)) is None:
            return None
        rng = rng_of(v.metric)
        point = d.mean - v.claimed
        iv = _g(v, "interval")
        if not (isinstance(iv, (list, tuple)) and len(iv) == 2):
            iv = (d.ci_low, d.ci_high) if d.ci_low is not None else None
        lo = hi = None
        if iv and _num(iv[0]) is not None and _num(iv[1]) is not None:
            lo, hi = clip(iv[0], rng) - v.claimed, clip(iv[1], rng) - v.claimed
        tol = _num(_g(v, "tolerance"))
        band = tol
        label = "gap to the claimed value"
    else:
        p = _deciding_pair(v) if v.kind == "ordering" else None
        diff = p.get("diff") if p else v.diff
        ci = p.get("diff_ci") if p else v.diff_ci
        if _num(diff) is None:
            return None
        sign = _direction(v)
        if isinstance(v.claim, ComparisonClaim) and v.claim.relation == "within":
            sign = 1
            band = _num(v.claim.margin)
        point = sign * diff
        lo = hi = None
        if ci and _num(ci[0]) is not None and _num(ci[1]) is not None:
            lo, hi = sorted((sign * ci[0], sign * ci[1]))
        label = "difference in the claimed direction" if band is None else "difference (margin shaded)"
    ext = max(abs(x) for x in (point, lo, hi, band, 0.0) if x is not None) * 1.15 or 1.0

    def pos(x: float) -> float:
        return round(50 + 50 * x / ext, 2)

    return {
        "point": pos(point), "lo": pos(lo) if lo is not None else None, "hi": pos(hi) if hi is not None else None,
        "band_lo": pos(-band) if band else None, "band_hi": pos(band) if band else None,
        "text": f"{signed(point)}" + (f" {interval(lo, hi)}" if lo is not None else "")
                + (f" (±{fmt(band, 3)})" if band else ""),
        "what": label,
    }


def claimed_text(v: Any, unit=(1.0, "")) -> str:
    if v.kind == "value":
        if _num(v.claimed) is None:
            return "—"
        s = fmt(scaled(v.claimed, unit))
        if _num(v.claimed_spread) is not None:
            s += f" ± {spread(scaled(v.claimed_spread, unit))}"
        return with_unit(s, unit)
    return stated(v.claim, fmt)


def source_link(src: Any, pdf_url: str | None) -> tuple[str, str | None]:
    """'Table 3, p. 8' and a link to that page of the pinned PDF (None when no page is known)."""
    if not isinstance(src, dict):
        return "", None
    text = source_text(src)
    page = src.get("page")
    link = f"{pdf_url}#page={int(page)}" if pdf_url and isinstance(page, int) and page > 0 else None
    return text, link


def _stripped(x: Any) -> str | None:
    return (str(x).strip() or None) if x else None


def claim_view(i: int, v: Any, *, proxy: bool, pdf_url: str | None, rng_of, unit_of=None) -> dict[str, Any]:
    c: Claim = v.claim
    unit = unit_of(v.metric) if unit_of else (1.0, "")
    src_text, src_link = source_link(c.source, pdf_url)
    stats = v.stats or {}
    rng = rng_of(v.metric)
    if v.kind == "value":
        reproduced = [describe_text(d, rng=rng, unit=unit) for d in stats.values()][:1]
    else:
        reproduced = [f"{k}: {describe_text(d, ci=False, unit=unit)}" for k, d in stats.items()]
    status = _g(v, "status", c.status)
    context = []
    if v.verdict != "not run":
        if proxy:
            context.append("on the proxy")
        nt = n_text(v)
        if nt:
            context.append(nt)
    return {
        "n": i, "id": v.id, "text": _stripped(c.text),
        "kind": v.kind, "status": status, "confirmed": status == "confirmed",
        "sanity": is_sanity(v), "flags": flags_of(v),
        "metric": v.metric, "configs": list(v.configs or []), "verdict": v.verdict,
        "verdict_class": VERDICT_CLASS.get(v.verdict, "none"), "severity": SEVERITY.get(v.verdict, 3),
        "context": ", ".join(context), "reason": v.reason, "method": _g(v, "method"),
        "where": src_text, "where_url": src_link,
        "caption": _stripped((c.source or {}).get("caption")),
        "claimed": claimed_text(v, unit), "reproduced": reproduced, "evidence": evidence(v),
        "note": _stripped(c.note),
        "forest": forest_row(v, rng_of), "plot": None,
    }


# -- the page's headline --------------------------------------------------------------------------
def tally(claims: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts over judged claims (not `not run`, not sanity checks), confirmed and candidate apart."""
    judged = [c for c in claims if c["verdict"] != "not run" and not c["sanity"]]
    out: dict[str, Any] = {"judged": len(judged), "not_run": sum(c["verdict"] == "not run" for c in claims),
                           "sanity": sum(c["sanity"] for c in claims)}
    for name, verdicts in (("held", HELD), ("failed", FAILED), ("inconclusive", ("inconclusive",))):
        sel = [c for c in judged if c["verdict"] in verdicts]
        out[name] = len(sel)
        out[f"{name}_confirmed"] = sum(c["confirmed"] for c in sel)
    out["confirmed"] = sum(c["confirmed"] for c in judged)
    out["candidate"] = out["judged"] - out["confirmed"]
    out["share_held"] = out["held"] / out["judged"] if out["judged"] else None
    return out


def headline(t: dict[str, Any]) -> str:
    if not t["judged"]:
        return "No claim has been judged yet" + (f" ({t['not_run']} not run)." if t["not_run"] else ".")

    mixed = 0 < t["confirmed"] < t["judged"]  # say which counts are confirmed only when it varies

    def part(n: int, conf: int, what: str) -> str:
        return f"{n} {what}" + (f" ({conf} confirmed)" if n and mixed else "")

    s = f"Of {t['judged']} judged claim{'s' if t['judged'] != 1 else ''}"
    if t["candidate"] == t["judged"]:
        s += " (all still candidates, none confirmed by a person yet)"
    s += (f", {part(t['held'], t['held_confirmed'], 'held')}, "
          f"{part(t['failed'], t['failed_confirmed'], 'did not hold')} and "
          f"{part(t['inconclusive'], t['inconclusive_confirmed'], 'inconclusive')}.")
    if mixed:
        s += (f" {t['candidate']} of them {'are' if t['candidate'] != 1 else 'is'} still "
              f"candidate{'s' if t['candidate'] != 1 else ''} (not confirmed by a person).")
    if t["not_run"]:
        s += f" {t['not_run']} not run."
    return s


def not_run_groups(claims: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`not run` claims folded by their reason: the reason once, the claims listed under it."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for c in claims:
        if c["verdict"] == "not run":
            groups.setdefault(c["note"] or c["reason"] or "no finished run", []).append(c)
    return [{"reason": r, "claims": cs} for r, cs in sorted(groups.items(), key=lambda kv: -len(kv[1]))]


# -- the report's sections ---------------------------------------------------------------------------
def report_sections(markdown: str, names: tuple[str, ...] = ("Discussion", "Review")) -> dict[str, str]:
    """The body of each named level-2 section of report.md (outside code fences)."""
    out: dict[str, list[str]] = {}
    current: str | None = None
    for line, fence in fenced_lines(markdown):
        m = None if fence else re.match(r"^##\s+(.+?)\s*#*\s*$", line)
        if m:
            title = m.group(1).strip()
            current = next((n for n in names if title.lower().startswith(n.lower())), None)
            if current:
                out.setdefault(current, [])
            continue
        if current:
            out[current].append(line)
    return {k: "\n".join(v).strip() for k, v in out.items() if "\n".join(v).strip()}


# -- configs -----------------------------------------------------------------------------------------
_IGNORED = ("resources.", "description", "seed")


def _short_value(x: Any) -> str:
    if isinstance(x, float):
        return fmt(x)
    s = str(x)
    return s if len(s) <= 40 else s[:39] + "…"


def config_changes(configs: dict[str, Any], baseline: str | None) -> list[dict[str, Any]]:
    """What each config changes from the baseline, in words ('dropout 0.5 (baseline 0)')."""
    base = flatten(configs.get(baseline) or {}) if baseline else {}
    rows = []
    for name, cfg in configs.items():
        flat = flatten(cfg or {})
        desc = (cfg or {}).get("description") if isinstance(cfg, dict) else None
        changes = []
        if name != baseline and base:
            for k in sorted(set(flat) | set(base)):
                if k.startswith(_IGNORED):
                    continue
                if flat.get(k, "∅") != base.get(k, "∅"):
                    key = k.split(".", 1)[-1]
                    if k not in base:
                        changes.append(f"{key} {_short_value(flat[k])} (not set in the baseline)")
                    elif k not in flat:
                        changes.append(f"{key} not set (baseline {_short_value(base[k])})")
                    else:
                        changes.append(f"{key} {_short_value(flat[k])} (baseline {_short_value(base[k])})")
        rows.append({"name": name, "is_baseline": name == baseline,
                     "description": str(desc).strip() if desc else None,
                     "changes": changes})
    return rows


def metric_units(meta_metrics: Any):
    """A `unit_of(metric)` function: how paper.yaml says each metric is written."""
    declared = meta_metrics if isinstance(meta_metrics, dict) else {}
    return lambda m: unit_of(declared.get(m))


def metric_ranges(meta_metrics: Any, table: dict[str, dict[str, Any]]):
    """A `rng_of(metric)` function: each metric's range (paper.yaml's `range:`, else its name)."""
    cache: dict[str, tuple[float | None, float | None]] = {}
    declared = meta_metrics if isinstance(meta_metrics, dict) else {}

    def rng_of(m: str | None) -> tuple[float | None, float | None]:
        if m not in cache:
            vals = [x for row in table.values() for d in [row.get(m)] if d is not None
                    for x in (getattr(d, "values", None) or [])]
            spec = declared.get(m) if isinstance(declared.get(m), dict) else {}
            cache[m] = metric_range(m, vals, spec.get("range"))
        return cache[m]

    return rng_of
