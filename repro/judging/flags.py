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

import math
from typing import Any

from ..claims import Claim, ComparisonClaim, OrderingClaim, ValueClaim
from ..configs import SECTIONS, deep_merge
from ..paper import Paper
from .stats import Describe
from ..yamlio import flatten, load_mapping

IGNORED_SECTIONS = ("description", "resources")


def config_values(paper: Paper) -> dict[str, dict[str, Any]]:
    """Config name -> flattened merged values ({'model.dropout': 0.5, ...}); unreadable: skipped."""
    from ..errors import ReproError

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
        out[name] = flatten({k: v for k, v in merged.items() if k in SECTIONS and k not in IGNORED_SECTIONS})
    return out


_MISSING = object()


def differing_keys(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    return sorted(k for k in set(a) | set(b) if a.get(k, _MISSING) != b.get(k, _MISSING))


def _covered(key: str, factor: list[str]) -> bool:
    return any(key == f or key.startswith(f + ".") for f in factor)


def confounded(claim: Claim, values: dict[str, dict[str, Any]]) -> list[str]:
    """Flag sentences for the claim's config pairs that differ in more than its factor."""
    if not isinstance(claim, (ComparisonClaim, OrderingClaim)):
        return []
    cfgs = claim.configs if isinstance(claim, OrderingClaim) else [claim.a, claim.b]
    factor = claim.factor
    out = []
    for a, b in zip(cfgs, cfgs[1:]):
        if a not in values or b not in values:
            continue
        keys = differing_keys(values[a], values[b])
        extra = [k for k in keys if not _covered(k, factor)] if factor else (keys if len(keys) > 1 else [])
        if extra:
            about = f"its factor ({', '.join(factor)})" if factor else "one key"
            out.append(f"confounded: {a} and {b} differ in {len(keys)} keys ({', '.join(keys)}), more than "
                       f"{about}")
    return out


def tolerance_covers_range(claim: ValueClaim, rng: tuple[float, float] | None) -> str | None:
    tol, v = claim.tolerance_abs, claim.value
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


# -- `repro check`: the same findings before any run -----------------------------------------
def audit(paper: Paper, results: Any = None) -> dict[str, list[str]]:
    """What `repro check` lists, one sentence per finding, by section.

    cannot_fail: tolerances covering the metric's range, ties at a bound (when results exist),
    sanity claims; confounded: config pairs differing in more than the claim's factor;
    no_tolerance: value claims judged with a proposed tolerance; underpowered: directional
    comparisons whose planned seeds cannot detect the claimed (else observed) effect at 80%
    power. Before any run the spread is unknown, so the smallest detectable effect is given in
    standard deviations of the metric over seeds.
    """
    from ..claims import load_claims, metric_range
    from .stats import describe, mde, seeds_for_effect
    from .verdicts import ALPHA, POWER

    claims = load_claims(paper)
    values = config_values(paper)
    n = len(paper.seeds)
    out: dict[str, list[str]] = {"cannot_fail": [], "confounded": [], "no_tolerance": [], "underpowered": []}
    comparisons = [c for c in claims if not isinstance(c, ValueClaim) and c.runnable]
    family = sum(len(c.configs_involved) - 1 for c in comparisons)
    level = ALPHA / max(family, 1)

    def stats(cfg: str, metric: str):
        if results is None:
            return None
        vals = results.values(cfg, metric)
        return describe(vals) if vals else None

    for c in claims:
        cid = c.id
        if c.sanity:
            out["cannot_fail"].append(f"{cid}: kind: sanity (outcome fixed by construction; shown apart)")
        if isinstance(c, ValueClaim):
            if not c.runnable or c.value is None:
                continue
            flag = tolerance_covers_range(c, metric_range(paper, c.metric))
            if flag:
                out["cannot_fail"].append(f"{cid}: {flag}")
            if c.tolerance is None:
                out["no_tolerance"].append(f"{cid}: {c.tolerance_from}: ±{c.tolerance_abs:g}; "
                                           f"write tolerance: {{abs: x}} in claims.yaml")
            continue
        if not c.runnable:
            continue
        out["confounded"].extend(f"{cid}: {f}" for f in confounded(c, values))
        cfgs = c.configs_involved
        rng = metric_range(paper, c.metric)
        ds = [stats(x, c.metric) for x in cfgs]
        for (a, da), (b, db) in zip(zip(cfgs, ds), zip(cfgs[1:], ds[1:])):
            if da is not None and db is not None:
                flag = at_bound(a, b, da, db, rng)
                if flag:
                    out["cannot_fail"].append(f"{cid}: {flag}")
        if not isinstance(c, ComparisonClaim) or c.relation == "within":
            continue
        da, db = ds
        d_units = mde(1.0, n, level, POWER)
        if da is not None and db is not None and da.std is not None and db.std is not None:
            sd = math.sqrt((da.std ** 2 + db.std ** 2) / 2)
            effect = c.effect if c.effect is not None else da.mean - db.mean
            what = "claimed" if c.effect is not None else "observed"
            need = seeds_for_effect(effect, sd, level, POWER)
            against = c.effect is None and ((effect < 0) if c.relation == "greater" else (effect > 0))
            if against:
                out["underpowered"].append(f"{cid}: the observed effect {effect:.3g} goes against the claim; "
                                           f"{n} seeds detect differences ≥ {mde(sd, n, level, POWER):.3g}")
            elif need is None or need > n:
                out["underpowered"].append(
                    f"{cid}: {n} seeds detect differences ≥ {mde(sd, n, level, POWER):.3g} (sd {sd:.3g}); "
                    f"the {what} effect {effect:.3g} needs " + (f"{need} seeds" if need else "more than 1000 seeds"))
        elif d_units is not None:
            out["underpowered"].append(
                f"{cid}: before any run, {n} seeds detect only differences ≥ {d_units:.2f} standard "
                f"deviations of {c.metric} over seeds (80% power, level {level:.3g})"
                + (f"; the claimed effect is {c.effect:g}" if c.effect is not None else ""))
    return out
