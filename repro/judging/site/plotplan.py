"""Planning a paper page's charts: one small multiple per judged claim (claims on the same
metric and configs share one), its payload and cache key for plots.py, and the final values
drawn in HTML beside it."""

from __future__ import annotations

import hashlib
import math
import re
from pathlib import Path
from typing import Any

from ...numfmt import fmt, interval as fmt_interval
from . import plots as plots_mod
from .markdown import url_segment
from .plots import PlotTask, file_key


def _unique_stem(name: str) -> str:
    """A file-name-safe stem for a metric or config name: not a slug (it keeps case), and the
    hash suffix keeps names apart that a slug would merge."""
    base = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-.")[:40] or "x"
    return f"{base}-{hashlib.sha256(name.encode()).hexdigest()[:8]}"


def _finals(points: list[dict[str, Any]], claimed: float | None, tol: float | None,
            rng: tuple[float | None, float | None]) -> dict[str, Any]:
    """Final values of a chart's configs as rows on one shared scale (HTML, drawn by CSS):
    mean with its 95% interval (clipped to the metric's range), each seed, the claim's value."""
    from ...numfmt import clip

    xs = [x for p in points for x in (p["lo"], p["hi"], p["mean"], *p["values"]) if x is not None]
    if claimed is not None:
        xs += [claimed - (tol or 0), claimed + (tol or 0)]
    xs = [clip(x, rng) for x in xs if isinstance(x, (int, float)) and math.isfinite(x)]
    if not xs:
        return {"rows": [], "lo": None, "hi": None}
    lo, hi = min(xs), max(xs)
    pad = (hi - lo) * 0.06 or abs(hi) * 0.05 or 0.05
    lo, hi = clip(lo - pad, rng), clip(hi + pad, rng)
    span = (hi - lo) or 1.0

    def pos(x: float | None) -> float | None:
        return None if x is None else round(100 * (clip(x, rng) - lo) / span, 2)

    rows = []
    for i, p in enumerate(points):
        rows.append({"label": p["label"], "note": p.get("note"), "color": i % len(plots_mod.PALETTE), "mean": pos(p["mean"]),
                     "lo": pos(p["lo"]), "hi": pos(p["hi"]), "seeds": [pos(v) for v in p["values"]],
                     "text": (fmt_interval(clip(p["lo"], rng), clip(p["hi"], rng)) if p["lo"] is not None else "")
                     if p["mean"] is not None else "no finished run",
                     "mean_text": fmt(p["mean"]) if p["mean"] is not None else "—", "n": len(p["values"])})
    return {"rows": rows, "lo": fmt(lo, 3), "hi": fmt(hi, 3), "claimed": pos(claimed),
            "band_lo": pos(claimed - tol) if claimed is not None and tol else None,
            "band_hi": pos(claimed + tol) if claimed is not None and tol else None}


def plan_plots(plots: list[PlotTask], out_dir: Path, j, results, claims: list[dict[str, Any]], rng_of,
                labels: dict[str, str], changes: dict[str, str] | None = None) -> None:
    """One small multiple per judged claim: its configs' curves and final values (claims on the
    same metric and configs share one). Each claim view gets its figure under `plot`."""
    drawn: dict[str, dict[str, Any]] = {}
    for c in claims:
        usable = [x for x in c["configs"] if x in j.table]
        cfgs = usable[:plots_mod.MAX_SERIES]  # more lines than this cannot be told apart
        m = c["metric"]
        if not cfgs or not m:
            continue
        claimed = tol = None
        if c["kind"] == "value":
            v = j.verdict(c["id"])
            claimed, tol = v.claimed, getattr(v, "tolerance", None)
        name = f"claim-{_unique_stem(m + '|' + '|'.join(cfgs) + '|' + str(claimed) + '|' + str(tol))}"
        if name not in drawn:
            files, points = [], []
            for cfg in cfgs:
                fs = [str(r.path / "metrics.jsonl") for r in sorted(results.finished(cfg), key=lambda r: r.seed)]
                files.append({"name": cfg, "label": labels.get(cfg, cfg), "files": fs})
                d = j.table[cfg].get(m)
                points.append({"name": cfg, "label": labels.get(cfg, cfg), "note": (changes or {}).get(cfg),
                               "mean": d.mean if d is not None and d.n else None,
                               "lo": d.ci_low if d is not None else None, "hi": d.ci_high if d is not None else None,
                               "values": list(getattr(d, "values", []) or []) if d is not None else []})
            payload = {"metric": m, "configs": files, "points": points, "claimed": claimed, "tolerance": tol,
                       "range": list(rng_of(m))}
            key = dict(payload, configs=[[f["name"], f["label"], [file_key(Path(x)) for x in f["files"]]] for f in files])
            path = out_dir / "plots" / f"{name}.svg"
            alt = (f"Learning curves of {m} for {', '.join(cfgs)}: mean over seeds with a 95% band, against "
                   "the training steps evaluated"
                   + (f"; the claimed value {fmt(claimed)} as a dashed line" if claimed is not None else "") + ".")
            plots.append(PlotTask(kind="claim", path=path, payload=payload, key=key, alt=alt))
            drawn[name] = {"src": f"plots/{url_segment(name)}.svg", "alt": alt, "series": len(cfgs),
                           "caption": f"{m}: {', '.join(cfgs)}" + (
                               f" (the first {len(cfgs)} of the claim's {len(usable)} configs)" if len(usable) > len(cfgs) else ""), "finals": _finals(points, claimed, tol, rng_of(m))}
        c["plot"] = drawn[name]
