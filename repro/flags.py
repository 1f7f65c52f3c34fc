"""Tests that cannot fail: found from the claim, the configs and (when there are any) the results.

A flagged claim is shown with its flags and never counted among the successes (DESIGN.md,
"Judging a claim"). Three cases:

* `range`: a value claim's tolerance covers the metric's whole range (paper.yaml
  `metrics: {m: {range: [lo, hi]}}`, or [0, 1] for accuracy and error rates): any result would
  be within it.
* `bound`: both configs of a comparison pair sit at a bound of the metric's range with no
  variance over seeds (e.g. both fit the training set to 100%): nothing the models did could
  separate them. A tie with no variance on a metric of unknown range is flagged the same way.
* `confounded`: two configs compared by a claim differ in more keys than the claim is about
  (its `factor:`, or one key when it names none); the keys are listed. `description` and
  `resources` are not part of what is trained and are ignored.

Reading the configs is plain YAML merging (no signature checks, no torch), so `repro check`
can do it before any run.
"""

from __future__ import annotations

from typing import Any

from .configs import SECTIONS, deep_merge
from .paper import Paper
from .stats import Describe
from .yamlio import load_mapping

IGNORED_SECTIONS = ("description", "resources")


def config_values(paper: Paper) -> dict[str, dict[str, Any]]:
    """Config name -> flattened merged values ({'model.dropout': 0.5, ...}); unreadable: skipped."""
    from .errors import ReproError

    try:
        base = load_mapping(paper.configs_dir / "base.yaml")
    except (ReproError, OSError):
        return {}
    out = {}
    for name, path in paper.config_files().items():
        try:
            merged = deep_merge(base, load_mapping(path))
        except (ReproError, OSError):
            continue
        out[name] = _flatten({k: v for k, v in merged.items() if k in SECTIONS and k not in IGNORED_SECTIONS})
    return out


def _flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and v:
            out.update(_flatten(v, key + "."))
        else:
            out[key] = v
    return out


_MISSING = object()


def differing_keys(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    return sorted(k for k in set(a) | set(b) if a.get(k, _MISSING) != b.get(k, _MISSING))


def _covered(key: str, factor: list[str]) -> bool:
    return any(key == f or key.startswith(f + ".") for f in factor)


def confounded(claim: dict[str, Any], values: dict[str, dict[str, Any]]) -> list[str]:
    """Flag sentences for the claim's config pairs that differ in more than its factor."""
    if claim["kind"] == "comparison":
        pairs = [(claim["a"], claim["b"])]
    elif claim["kind"] == "ordering":
        cfgs = claim["configs"]
        pairs = list(zip(cfgs, cfgs[1:]))
    else:
        return []
    factor = claim.get("factor")
    out = []
    for a, b in pairs:
        if a not in values or b not in values:
            continue
        keys = differing_keys(values[a], values[b])
        extra = [k for k in keys if not _covered(k, factor)] if factor else (keys if len(keys) > 1 else [])
        if extra:
            about = f"its factor ({', '.join(factor)})" if factor else "one key"
            out.append(f"confounded: {a} and {b} differ in {len(keys)} keys ({', '.join(keys)}), more than "
                       f"{about}")
    return out


def tolerance_covers_range(claim: dict[str, Any], rng: tuple[float, float] | None) -> str | None:
    tol, v = claim.get("tolerance_abs"), claim.get("value")
    if rng is None or tol is None or v is None:
        return None
    lo, hi = rng
    if v - tol <= lo and v + tol >= hi:
        return (f"cannot fail: the tolerance ±{tol:g} around {v:g} covers the metric's whole range "
                f"[{lo:g}, {hi:g}]")
    return None


def at_bound(a: str, b: str, da: Describe, db: Describe, rng: tuple[float, float] | None) -> str | None:
    if not (da.zero_variance and db.zero_variance and da.mean == db.mean):
        return None
    if rng is not None and da.mean in rng:
        return (f"cannot fail: {a} and {b} both sit at the metric's bound {da.mean:g} with no variance "
                "over seeds")
    return f"cannot fail: every seed of {a} and {b} gave the same value {da.mean:g} (a tie with no variance)"
