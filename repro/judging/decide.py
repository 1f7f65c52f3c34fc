"""Deciding one claim: the value claim's equivalence test, the Welch tests of a comparison or an
ordering's pairs (given their Holm-adjusted p-values), the seeds that would decide, and the
sentence each verdict gives. The rules are stated in repro/judging/verdicts.py's docstring."""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..claims import Claim, ComparisonClaim, OrderingClaim, ValueClaim
from ..numfmt import fmt, p_rel
from .stats import Describe, WelchResult, describe, mde, seeds_for_effect, smallest_n, t_quantile, welch, welch_df
from ..verdict_types import ALPHA, POWER, ClaimVerdict


def _g(x: float | None) -> str:
    # An ASCII minus, as the report's numbers (these reasons are printed in report.md too).
    return "n/a" if x is None else fmt(x, 4).replace("−", "-")


def _p(p: float | None) -> str:
    """'= 0.012' or '< 0.001', to follow 'p ' (as the report and the site write it)."""
    return "= n/a" if p is None else p_rel(p)


def _seeds(d: Describe) -> str:
    s = f"{d.n} seed{'s' if d.n != 1 else ''}"
    return s + (f", {d.n_failed} failed" if d.n_failed else "")


def _slack(*xs: float) -> float:
    return 1e-12 * max(1.0, *(abs(x) for x in xs))


def _value_se(d: Describe, sp: float | None, sn: int) -> tuple[float, float]:
    """Standard error of mean - claimed and its Welch-Satterthwaite df (paper's df: sn - 1, or
    infinite when the paper does not say how many runs its +- is over)."""
    assert d.sem is not None
    terms = [(d.sem ** 2, float(d.n - 1))]
    if sp is not None:
        terms.append((sp ** 2 / sn, float(sn - 1) if sn > 1 else math.inf))
    return math.sqrt(sum(v for v, _ in terms)), welch_df(terms)


def value_seeds_to_decide(gap: float, tol: float, sd: float, sp: float | None, sn: int, alpha: float,
                          power: float = POWER, cap: int = 1000) -> int | None:
    """Seeds (at least 3) at which a value claim whose true gap is `gap` would be decided with
    probability `power`, se_n = sqrt(sd^2/n + spread^2/spread_n):
    * |gap| < tol, equivalence (both one-sided tests must pass):
      F((tol - |gap|)/se_n - t(1-alpha)) + F((tol + |gap|)/se_n - t(1-alpha)) - 1 >= power,
      F the Student-t CDF with the Welch df (the usual TOST power approximation; one side alone,
      t(1-alpha) + t(power), overstates it near gap 0: bench/verdict_calibration.py measured 0.65);
    * |gap| > tol, difference: (|gap| - tol)/se_n >= t(1-alpha/2) + t(power).
    None: no number of seeds would (the paper's own +- alone is too wide, or the gap sits on the
    tolerance)."""
    from scipy import stats as st

    g = abs(gap)
    if g == tol:
        return None

    def ok(n: int) -> bool:
        terms = [(sd ** 2 / n, float(n - 1))]
        if sp is not None:
            terms.append((sp ** 2 / sn, float(sn - 1) if sn > 1 else math.inf))
        se = math.sqrt(sum(v for v, _ in terms))
        df = welch_df(terms)
        if se == 0:
            return True
        if g < tol:
            t1 = t_quantile(1 - alpha, df)
            cdf = st.norm.cdf if math.isinf(df) else (lambda x: st.t.cdf(x, df))
            return float(cdf((tol - g) / se - t1) + cdf((tol + g) / se - t1) - 1) >= power
        return (g - tol) / se >= t_quantile(1 - alpha / 2, df) + t_quantile(power, df)

    return smallest_n(ok, cap, start=3)


def _judge_value(c: ValueClaim, d: Describe, alpha: float = ALPHA) -> ClaimVerdict:
    v, sp, sn = c.value, c.spread, c.spread_n or 1
    assert v is not None and c.config is not None
    base = _verdict(c, "inconclusive", "", [c.config], {c.config: d}, claimed=v, spread=sp)
    tol = base.tolerance
    if d.n == 0:
        base.verdict = "not run"
        base.reason = f"Not run: no finished run of {c.config} reports {c.metric}" + (
            f" ({d.n_failed} failed)." if d.n_failed else ".")
        return base
    assert d.mean is not None
    gap = d.mean - v
    if abs(gap) <= 1e-12 * max(1.0, abs(v)):
        gap = 0.0  # float noise from averaging (0.94, 0.95, 0.96 -> 0.9499999999999999)
    base.gap_abs = gap
    base.gap_rel = gap / abs(v) if v != 0 else None
    where = (f"mean {_g(d.mean)} over {_seeds(d)} vs claimed {_g(v)}" + (f" ± {_g(sp)}" if sp is not None else "")
             + f", tolerance ±{_g(tol)}")
    base.method = (f"equivalence: the {100 * (1 - 2 * alpha):.3g}% interval of mean - claimed "
                   f"(our seeds{' and the paper' + chr(39) + 's ±' if sp is not None else ''}) inside ± the "
                   f"tolerance; not reproduced when the {100 * (1 - alpha):.3g}% interval lies beyond it")
    if d.n < 2:
        base.reason = (f"Inconclusive: {where}; 1 finished seed gives no estimate of the spread, "
                       "so the gap cannot be judged against the tolerance.")
        base.seeds_to_decide = 2
        return base
    se, df = _value_se(d, sp, sn)
    h_eq = t_quantile(1 - alpha, df) * se if se > 0 else 0.0
    h_out = t_quantile(1 - alpha / 2, df) * se if se > 0 else 0.0
    base.interval = (gap - h_eq, gap + h_eq)                # equivalence interval of the difference
    eps = _slack(tol, v)
    if -tol - eps <= gap - h_eq and gap + h_eq <= tol + eps:
        base.verdict = "reproduced"
        base.reason = (f"Reproduced: {where}; the {100 * (1 - 2 * alpha):.3g}% interval of the difference "
                       f"[{_g(gap - h_eq)}, {_g(gap + h_eq)}] lies inside ±{_g(tol)}.")
    elif gap - h_out > tol + eps or gap + h_out < -tol - eps:
        base.verdict = "not reproduced"
        base.reason = (f"Not reproduced: {where}; the difference {_g(gap)} is shown to exceed the tolerance "
                       f"(its {100 * (1 - alpha):.3g}% interval [{_g(gap - h_out)}, {_g(gap + h_out)}] lies "
                       f"outside ±{_g(tol)})" + (" (every seed gave the same value)" if d.zero_variance else "")
                       + ".")
    else:
        sd = d.std or 0.0
        need = value_seeds_to_decide(gap, tol, sd, sp, sn, alpha)
        base.seeds_to_decide = need
        if need is None:
            would = ("no number of seeds would decide it: the paper's own ± alone is too wide for the "
                     "tolerance" if sp is not None and sp / math.sqrt(sn) * 1.645 >= tol
                     else "no number of seeds would decide it at this gap")
        elif need <= d.n:
            would = f"about {need} seeds would decide it at this gap; more seeds average out the noise"
        else:
            would = f"about {need} seeds would decide it at this gap"
        base.reason = (f"Inconclusive: {where}; {d.n} seeds give ±{_g(h_eq)} around the difference "
                       f"{_g(gap)} against a tolerance of ±{_g(tol)}; {would}.")
    return base


@dataclass
class _Test:
    """One member of the paper's Holm family."""

    p: float                    # claimed direction (TOST p for within)
    p_opp: float                # against the claim
    welch: WelchResult
    adj: float = 1.0
    adj_opp: float = 1.0


def _opposite(rel: str) -> str:
    return {"greater": "less", "less": "greater"}[rel]


def _test(a: list[float], b: list[float], relation: str, margin: float | None) -> tuple[_Test | None, WelchResult]:
    """The family member for `a relation b`, or None when no test is possible (n < 2)."""
    if relation == "within":
        assert margin is not None
        w = welch(a, b, "two-sided")
        if w.p is None:
            return None, w
        lo = welch(a, b, "greater", null_diff=-margin).p
        hi = welch(a, b, "less", null_diff=margin).p
        above = welch(a, b, "greater", null_diff=margin).p
        below = welch(a, b, "less", null_diff=-margin).p
        assert lo is not None and hi is not None and above is not None and below is not None
        return _Test(p=max(lo, hi), p_opp=min(1.0, 2 * min(above, below)), welch=w), w
    w = welch(a, b, relation)
    if w.p is None:
        return None, w
    opp = welch(a, b, _opposite(relation)).p
    assert opp is not None
    return _Test(p=w.p, p_opp=opp, welch=w), w


def judge_pair(a: list[float], b: list[float], relation: str, margin: float | None = None,
               alpha: float = ALPHA) -> str:
    """The verdict of one comparison `a relation b` alone in its Holm family (what judge_paper
    decides for a paper with one comparison); for bench/verdict_calibration.py."""
    t, _ = _test(a, b, relation, margin)
    if t is None:
        return "inconclusive"
    t.adj, t.adj_opp = t.p, t.p_opp
    return _decide(t, alpha)


def judge_value(claim: dict, values: list[float], alpha: float = ALPHA) -> ClaimVerdict:
    """A value claim (keys as load_claims returns them: id, value, spread, spread_n, tolerance_abs,
    config, metric) judged on the given per-seed values."""
    c = ValueClaim(**{"status": "confirmed", "config": "config", "metric": "metric", "id": "claim", **claim})
    return _judge_value(c, describe(values), alpha)


def _rel_words(rel: str, margin: float | None) -> str:
    return {"greater": ">", "less": "<"}.get(rel) or f"within ±{_g(margin)} of"


def _comparison_sentence(verdict: str, a: str, b: str, rel: str, margin: float | None, da: Describe,
                         db: Describe, t: _Test) -> str:
    w = t.welch
    nums = (f"{a} {_g(da.mean)} ({_seeds(da)}) vs {b} {_g(db.mean)} ({_seeds(db)}), "
            f"diff {_g(w.diff)}" + (f" [{_g(w.diff_ci[0])}, {_g(w.diff_ci[1])}]" if w.diff_ci else "")
            + (f", d = {_g(w.cohen_d)}" if w.cohen_d is not None else ""))
    exact = " (every seed gave the same value in both: decided from the means exactly)" if w.exact else ""
    if rel == "within":
        m = _g(margin)
        said = {"supported": f"the difference is inside ±{m} (TOST Holm p {_p(t.adj)})",
                "contradicted": f"the difference is outside ±{m} (Holm p {_p(t.adj_opp)})"}
        undecided = (f"equivalence within ±{m} is not shown (TOST Holm p {_p(t.adj)}) "
                     f"nor ruled out (Holm p {_p(t.adj_opp)})")
    else:
        sym = _rel_words(rel, margin)
        said = {"supported": f"{a} {sym} {b} (one-sided Holm p {_p(t.adj)})",
                "contradicted": f"the reverse holds, {a} {_rel_words(_opposite(rel), None)} {b} "
                                f"(Holm p {_p(t.adj_opp)})"}
        undecided = (f"a tie: the means are equal (one-sided Holm p {_p(t.adj)})" if w.diff == 0
                     else f"{a} {sym} {b} is not significant (one-sided Holm p {_p(t.adj)}) nor reversed")
    core = said.get(verdict, undecided)
    return f"{verdict.capitalize()}: {core}{exact}; {nums}."


def _decide(t: _Test, alpha: float = ALPHA) -> str:
    if t.adj < alpha:
        return "supported"
    if t.adj_opp < alpha:
        return "contradicted"
    return "inconclusive"


def _verdict(c: Claim, verdict: str, reason: str, configs: list[str], stats: dict[str, Describe],
             claimed: float | None = None, spread: float | None = None) -> ClaimVerdict:
    v = ClaimVerdict(
        claim=c, id=c.id, kind=c.kind, verdict=verdict, reason=reason, metric=c.metric,
        configs=configs, stats=stats, claimed=claimed, claimed_spread=spread, gap_abs=None,
        gap_rel=None, p_value=None, p_adjusted=None, effect_size=None, diff=None, diff_ci=None,
        status=c.status, sanity=c.sanity,
    )
    if isinstance(c, ComparisonClaim):
        v.relation, v.margin = c.relation, c.margin
    elif isinstance(c, OrderingClaim):
        v.relation = c.direction
    elif isinstance(c, ValueClaim):
        v.tolerance, v.tolerance_from = c.tolerance_abs, c.tolerance_from
    return v


def _not_runnable(c: Claim, configs: list[str]) -> ClaimVerdict:
    note = (c.note or "").strip()
    reason = "Not run: the claim names no config that runs on this reproduction"
    reason += f" ({note.rstrip('.')})." if note else "."
    if isinstance(c, ValueClaim):
        return _verdict(c, "not run", reason, configs, {}, claimed=c.value, spread=c.spread)
    return _verdict(c, "not run", reason, configs, {})


def _missing(c: Claim, configs: list[str], stats: dict[str, Describe]) -> ClaimVerdict | None:
    empty = [k for k in configs if stats[k].n == 0]
    if not empty:
        return None
    fails = sum(stats[k].n_failed for k in empty)
    return _verdict(c, "not run", f"Not run: no finished run of {', '.join(empty)} reports {c.metric}"
                    + (f" ({fails} failed)." if fails else "."), configs, stats)


def _few(c: Claim, configs: list[str], stats: dict[str, Describe]) -> str | None:
    few = [f"{k} has {stats[k].n}" for k in configs if stats[k].n < 2]
    if few:
        return ("Inconclusive: fewer than 2 finished seeds (" + ", ".join(few)
                + "); Welch's t-test needs at least 2 per config to estimate the spread.")
    return None


def _plan_power(v: ClaimVerdict, level: float) -> None:
    """Directional comparisons: the smallest difference the seeds detect at 80% power and the
    seeds per config the planned effect needs, at the Bonferroni level alpha/m (m = the Holm
    family's size: Holm rejects at least what Bonferroni does, so the power is at least this)."""
    if v.relation == "within" or v.verdict == "not run":
        return
    if v.kind == "ordering" and v.pairs:
        weakest = max(v.pairs, key=lambda p: -1 if p["p_adjusted"] is None else p["p_adjusted"])
        a, b = weakest["a"], weakest["b"]
    elif v.kind == "comparison":
        a, b = v.configs
    else:
        return
    da, db = v.stats[a], v.stats[b]
    if da.std is None or db.std is None:
        return
    sd = math.sqrt((da.std ** 2 + db.std ** 2) / 2)
    n = min(da.n, db.n)
    v.mde = mde(sd, n, level, POWER)
    effect = v.claim.effect if isinstance(v.claim, ComparisonClaim) else None
    v.planned_from = "claim" if effect is not None else "observed"
    v.planned_effect = effect if effect is not None else (da.mean - db.mean if da.mean is not None and db.mean is not None else None)
    if v.planned_effect is not None:
        v.seeds_needed = seeds_for_effect(v.planned_effect, sd, level, POWER)


def _finish(v: ClaimVerdict, tests: list[tuple[str, str, _Test | None, WelchResult]], alpha: float = ALPHA) -> None:
    c = v.claim
    assert isinstance(c, (ComparisonClaim, OrderingClaim))
    rel = c.tested_relation
    margin = c.margin if isinstance(c, ComparisonClaim) else None
    if isinstance(c, ComparisonClaim):
        a, b, t, w = tests[0]
        v.diff, v.diff_ci, v.effect_size = w.diff, w.diff_ci, w.cohen_d
        if t is None:
            v.verdict, v.reason = "inconclusive", _few(v.claim, [a, b], v.stats) or (w.note or "")
            return
        v.p_value, v.p_adjusted = t.p, t.adj
        v.p_opposite, v.p_opposite_adjusted = t.p_opp, t.adj_opp
        v.verdict = _decide(t, alpha)
        v.reason = _comparison_sentence(v.verdict, a, b, rel, margin, v.stats[a], v.stats[b], t)
        return
    # ordering: every adjacent pair must hold
    pair_verdicts = []
    for a, b, t, w in tests:
        pv = "inconclusive" if t is None else _decide(t, alpha)
        pair_verdicts.append(pv)
        v.pairs.append({
            "a": a, "b": b, "relation": rel, "verdict": pv, "diff": w.diff, "diff_ci": w.diff_ci,
            "effect_size": w.cohen_d, "p_value": t.p if t else None, "p_adjusted": t.adj if t else None,
            "p_opposite_adjusted": t.adj_opp if t else None, "exact": w.exact,
            "reason": (_comparison_sentence(pv, a, b, rel, None, v.stats[a], v.stats[b], t) if t
                       else _few(v.claim, [a, b], v.stats)),
        })
    tested = [(p, t) for p, (_, _, t, _) in zip(v.pairs, tests) if t is not None]
    if tested:
        v.p_value = max(t.p for _, t in tested)        # intersection-union test
        v.p_adjusted = max(t.adj for _, t in tested)
    # The weakest link: the pair closest to failing carries the effect size shown.
    weakest = max(tested, key=lambda pt: pt[1].adj)[0] if tested else None
    if weakest is not None:
        v.diff, v.diff_ci, v.effect_size = weakest["diff"], weakest["diff_ci"], weakest["effect_size"]
    sym = _rel_words(rel, None)
    chain = f" {sym} ".join(v.configs)
    means = ", ".join(f"{k} {_g(v.stats[k].mean)}" for k in v.configs)
    if "contradicted" in pair_verdicts:
        bad = [f"{p['a']} vs {p['b']}" for p in v.pairs if p["verdict"] == "contradicted"]
        v.verdict = "contradicted"
        v.reason = (f"Contradicted: the claimed order {chain} is significantly reversed for "
                    f"{', '.join(bad)}; means {means}.")
    elif all(pv == "supported" for pv in pair_verdicts):
        v.verdict = "supported"
        v.reason = (f"Supported: every adjacent pair of {chain} is significant (largest one-sided "
                    f"Holm p {_p(v.p_adjusted)}); means {means}.")
    else:
        open_ = [f"{p['a']} vs {p['b']}" for p in v.pairs if p["verdict"] != "supported"]
        untested = [p for p in v.pairs if p["p_value"] is None]
        extra = " (fewer than 2 seeds for some configs)" if untested else ""
        v.verdict = "inconclusive"
        v.reason = (f"Inconclusive: the order {chain} is not shown for {', '.join(open_)}{extra}; "
                    f"means {means}.")
