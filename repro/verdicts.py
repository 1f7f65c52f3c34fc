"""Judging a paper's claims against its results on disk.

Decisions, stated so that they can be checked (alpha = 0.05 unless a sequential look sets it;
bench/verdict_calibration.py measures how often each kind of verdict is wrong):

Which runs count
    A config's numbers are the final values of the metric over its *finished* runs (every
    seed found on disk, not only paper.yaml's seeds: extra seeds add power). Runs that
    failed, diverged, timed out or whose summary is corrupt are counted in `n_failed` and
    listed in `failures`; a finished run without a finite value of the metric is counted in
    that metric's `n_failed` too. None of them is ever averaged in.

Value claims ("test accuracy is 0.953"): equivalence, so that noise never helps
    Every value claim has a tolerance `tol` (claims.yaml `tolerance: {abs|rel}`, or proposed by
    repro.claims.propose_tolerance from the printed precision and the paper's +- and marked
    "no tolerance: proposed from precision"; `tolerance_from` says which). With gap =
    mean - claimed, se = sqrt(sem^2 + spread^2 / spread_n) (the paper's +- `spread` is the
    uncertainty of the claimed number; spread_n = 1 when the paper does not say over how many
    runs, the most cautious reading now that a wider interval can only hurt) and df by
    Welch-Satterthwaite (the paper's df infinite when spread_n is not given):
    * `reproduced` when the 1 - 2*alpha (90%) interval gap +- t(1-alpha, df) * se lies inside
      [-tol, tol]: two one-sided tests (TOST) of |gap| >= tol, each at alpha. A wider interval
      (more noise, fewer seeds, a larger paper +-) makes it harder, never easier.
    * `not reproduced` when the 1 - alpha (95%) interval gap +- t(1-alpha/2, df) * se lies wholly
      beyond tol on one side: the one-sided test of gap > tol or gap < -tol, Bonferroni over
      the two sides because the side is chosen by the data.
    * otherwise `inconclusive`, saying the interval's half-width against the tolerance and the
      seeds that would decide it at 80% power if the true gap were the observed one
      (value_seeds_to_decide: the TOST power approximation, se_n with the observed seed std, at
      least 3 seeds); none when the paper's +- alone is too wide for the tolerance.
    * With one seed there is no spread: `inconclusive` (2 seeds would be the least to decide).
      Zero variance over seeds (and no paper +-) gives the point interval [gap, gap].
    Boundaries are inclusive up to float rounding (0.83 - 0.81 is 0.0200000000000001).

Comparison claims ("a greater than b", "a within x of b")
    Welch's t-test over seeds. A directional claim is `supported` when its Holm-adjusted
    one-sided p-value in the claimed direction is < 0.05, `contradicted` when the reverse claim
    would be supported by the same rule (its one-sided p in the opposite direction, Holm-
    adjusted in the same family in place of the claim's own), else `inconclusive`. The two
    are exclusive (the one-sided p-values sum to 1). One-sided tests match what a directional
    claim asserts; the price is that when the true difference is exactly 0 either direction
    can be declared with probability alpha each.
    "within x" claims are equivalence claims, judged by TOST (two one-sided Welch tests of
    diff > -x and diff < x; p_TOST = the larger p), which is the same as the 90% interval of
    the difference lying inside (-x, x). `contradicted` when the difference is significantly
    outside the margin: the one-sided tests of diff > x and diff < -x, Bonferroni over the two
    sides (p = 2 * the smaller), since the side is chosen by the data.
    With fewer than 2 finished seeds in a group there is no test: `inconclusive`, saying why.
    When both groups have zero variance the test is decided from the means exactly (see
    repro.stats): different means are a certain difference, equal means (a tie) never
    support a directional claim.

Ordering claims ("test accuracy falls as corruption grows")
    Every adjacent pair of the claimed order is a directional comparison in the Holm family.
    The ordering is `supported` when every pair is (an intersection-union test: its p-value is
    the largest of the pairs'), `contradicted` when any pair is reversed significantly, else
    `inconclusive`.

The Holm family
    All comparison p-values of one paper: each comparison claim and each adjacent pair of each
    ordering claim, candidate and confirmed alike. Comparisons that could not be tested (n < 2)
    are not in it. The ablation table is a separate, exploratory family per metric: each
    config against paper.yaml's baseline, two-sided Welch, Holm across the configs.

Power (directional comparisons and orderings)
    Each gets the smallest true difference its seeds detect with 80% power,
    (t(1-a') + t(0.8)) * sd * sqrt(2/n) with df 2n-2, sd the RMS of the two configs' stds and n
    the smaller group, at a' = alpha / m (m the Holm family's size: Holm rejects whatever
    Bonferroni does, so the power is at least this); and the seeds per config that would detect
    the effect the claim states (`effect:`, mean(a) - mean(b) on the proxy's scale) or else
    the observed difference, at least 3 (with 2, Welch's df drops to 1-2 and the formula
    overstates the power). For an ordering, the pair closest to failing is planned.

Tests that cannot fail (repro.flags)
    A metric at its bound with no variance in both configs of a pair; a value claim's
    tolerance covering the metric's whole range; configs compared by a claim differing in more
    keys than its `factor:` (one key when it names none; the keys are listed). The verdict is
    kept and shown with the flag, and a flagged success is never counted: `counts` leaves it
    out and `flagged` counts it.

Sanity claims
    `kind: sanity` (outcome fixed by construction) are judged by the same rules and tested in
    the same Holm family, shown apart and never counted (`sanity_counts`).

Until decided (repro.sequential)
    With `repro run --until-decided`, seeds are added in rounds to the configs of undecided
    claims; look k is judged by these rules at the level alpha(t_k) - alpha(t_{k-1}) of the
    O'Brien-Fleming-type Lan-DeMets spending function on the first n_k seeds, and a claim's
    verdict is the one of the look it was decided in (`rounds`). The overall error stays at most
    alpha (union bound over looks).

`not run`: the claim names no config (the proxy cannot speak to it) or one of its configs
has no finished run with a value of the metric.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .claims import load_claims, metric_range
from .numfmt import fmt, p_rel
from .results import RunStatus
from .stats import (Describe, WelchResult, describe, holm, mde, seeds_for_effect, smallest_n, t_quantile, welch,
                    welch_df)

if TYPE_CHECKING:  # pragma: no cover
    from .paper import Paper
    from .results import PaperResults, RunRecord

VERDICTS = ("reproduced", "not reproduced", "supported", "contradicted", "inconclusive", "not run")
ALPHA = 0.05
POWER = 0.8
SUCCESSES = ("reproduced", "supported")
FAILED_STATUSES = RunStatus.NOT_FINISHED


@dataclass
class ClaimVerdict:
    claim: dict
    id: str
    kind: str
    verdict: str
    reason: str                                   # one human sentence
    metric: str | None
    configs: list[str]
    stats: dict[str, Describe]                    # per involved config
    claimed: float | None
    claimed_spread: float | None
    gap_abs: float | None                         # mean - claimed (value claims)
    gap_rel: float | None                         # (mean - claimed) / |claimed|
    p_value: float | None                         # raw one-sided p in the claimed direction (TOST p for within)
    p_adjusted: float | None                      # Holm-adjusted over the paper's comparisons
    effect_size: float | None                     # Cohen's d of mean(a) - mean(b)
    diff: float | None                            # mean(a) - mean(b)
    diff_ci: tuple[float, float] | None           # Welch 95% interval of the difference
    # -- extras (not part of the agreed minimum) -------------------------------------------
    status: str = "candidate"                     # candidate | confirmed (from claims.yaml)
    relation: str | None = None                   # comparison: greater | less | within; ordering: direction
    margin: float | None = None
    tolerance: float | None = None                # value claims: the tolerance in metric units
    interval: tuple[float, float] | None = None   # value claims: the interval the claimed value is checked against
    p_opposite: float | None = None               # one-sided p against the claim (contradiction)
    p_opposite_adjusted: float | None = None
    pairs: list[dict[str, Any]] = field(default_factory=list)   # ordering: one entry per adjacent pair
    method: str | None = None                     # the test used, in words
    # -- issue 13: verdicts that can fail --------------------------------------------------
    tolerance_from: str | None = None             # value claims: where the tolerance came from
    seeds_to_decide: int | None = None            # value claims left inconclusive: seeds that would decide
    mde: float | None = None                      # comparisons: smallest difference detectable at 80% power
    seeds_needed: int | None = None               # comparisons: seeds per config for the planned effect
    planned_effect: float | None = None           # the effect seeds_needed is for (claim's `effect`, else observed)
    planned_from: str | None = None               # "claim" | "observed"
    flags: list[str] = field(default_factory=list)  # tests that cannot fail (repro/flags.py)
    sanity: bool = False                          # kind: sanity, shown apart and never counted
    rounds: int | None = None                     # --until-decided: the round the verdict was reached in
    alpha: float = ALPHA                          # the level it was judged at (a look's level when sequential)

    @property
    def counted_success(self) -> bool:
        return self.verdict in SUCCESSES and not self.flags and not self.sanity


@dataclass
class AblationRow:
    config: str
    metric: str
    stats: Describe
    baseline: Describe
    diff: float | None
    p_value: float | None                         # two-sided Welch
    p_adjusted: float | None                      # Holm over this metric's rows
    effect_size: float | None
    diff_ci: tuple[float, float] | None = None
    better: bool | None = None                    # significantly better than baseline (None: not significant)
    note: str | None = None


@dataclass
class PaperJudgement:
    paper_id: str
    verdicts: list[ClaimVerdict]
    table: dict[str, dict[str, Describe]]        # config -> metric -> Describe
    ablations: list[AblationRow]
    counts: dict[str, int]                       # verdict -> n (paper's claims; flagged successes left out)
    device_hours: dict[str, float]               # config -> total (all runs, failed ones too)
    failures: list                               # RunRecords not finished
    last_run: str | None                         # latest ended_at
    wall_time_s: dict[str, float] = field(default_factory=dict)
    devices: dict[str, list[str]] = field(default_factory=dict)   # config -> devices used
    outdated: list = field(default_factory=list)  # RunRecords made under another config or code: not judged
    seeds_used: list[int] = field(default_factory=list)  # seeds of the judged (finished, current) runs
    flagged: int = 0                             # successes that could not have failed (not in counts)
    sanity_counts: dict[str, int] = field(default_factory=dict)  # kind: sanity claims, apart
    sequential: dict | None = None               # --until-decided state (repro/sequential.py), when judged so

    def verdict(self, claim_id: str) -> ClaimVerdict:
        for v in self.verdicts:
            if v.id == claim_id:
                return v
        raise KeyError(claim_id)


# -- formatting helpers for reasons --------------------------------------------------------
def _g(x: float | None) -> str:
    # An ASCII minus, as the report's numbers (these reasons are printed in report.md too).
    return "n/a" if x is None else fmt(x, 4).replace("−", "-")


def _p(p: float | None) -> str:
    """'= 0.012' or '< 0.001', to follow 'p ' (as the report and the site write it)."""
    return "= n/a" if p is None else p_rel(p)


def _seeds(d: Describe) -> str:
    s = f"{d.n} seed{'s' if d.n != 1 else ''}"
    return s + (f", {d.n_failed} failed" if d.n_failed else "")


# -- the table -----------------------------------------------------------------------------
def _describe_config(results: "PaperResults", config: str, metric: str,
                     seeds: "dict[str, list[int]] | None" = None) -> Describe:
    runs = results.runs.get(config, [])
    if seeds is not None:
        keep = set(seeds.get(config, ()))
        runs = [r for r in runs if r.seed in keep]
    failed = sum(r.status in FAILED_STATUSES for r in runs)
    finished = [r for r in runs if r.finished]
    values = [v for v in (r.final(metric) for r in finished) if v is not None]
    missing = len(finished) - len(values)   # finished but no finite value: treated as a failure
    return describe(values, n_failed=failed + missing)


def _slack(*xs: float) -> float:
    return 1e-12 * max(1.0, *(abs(x) for x in xs))


# -- value claims --------------------------------------------------------------------------
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


def _judge_value(c: dict, d: Describe, alpha: float = ALPHA) -> ClaimVerdict:
    v, sp, sn = c["value"], c["spread"], c.get("spread_n") or 1
    base = _verdict(c, "inconclusive", "", [c["config"]], {c["config"]: d}, claimed=v, spread=sp)
    base.tolerance = tol = c["tolerance_abs"]
    base.tolerance_from = c.get("tolerance_from")
    if d.n == 0:
        base.verdict = "not run"
        base.reason = f"Not run: no finished run of {c['config']} reports {c['metric']}" + (
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


# -- comparisons ---------------------------------------------------------------------------
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
    c = {"kind": "value", "status": "confirmed", "spread": None, "spread_n": None, "tolerance_from": None,
         "config": "config", "metric": "metric", "id": "claim", **claim}
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
        if verdict == "supported":
            core = f"the difference is inside ±{_g(margin)} (TOST Holm p {_p(t.adj)})"
        elif verdict == "contradicted":
            core = f"the difference is outside ±{_g(margin)} (Holm p {_p(t.adj_opp)})"
        else:
            core = (f"equivalence within ±{_g(margin)} is not shown (TOST Holm p {_p(t.adj)}) "
                    f"nor ruled out (Holm p {_p(t.adj_opp)})")
    else:
        sym = _rel_words(rel, margin)
        if verdict == "supported":
            core = f"{a} {sym} {b} (one-sided Holm p {_p(t.adj)})"
        elif verdict == "contradicted":
            core = f"the reverse holds, {a} {_rel_words(_opposite(rel), None)} {b} (Holm p {_p(t.adj_opp)})"
        elif w.diff == 0:
            core = f"a tie: the means are equal (one-sided Holm p {_p(t.adj)})"
        else:
            core = f"{a} {sym} {b} is not significant (one-sided Holm p {_p(t.adj)}) nor reversed"
    return f"{verdict.capitalize()}: {core}{exact}; {nums}."


def _decide(t: _Test, alpha: float = ALPHA) -> str:
    if t.adj < alpha:
        return "supported"
    if t.adj_opp < alpha:
        return "contradicted"
    return "inconclusive"


def _verdict(c: dict, verdict: str, reason: str, configs: list[str], stats: dict[str, Describe],
             claimed: float | None = None, spread: float | None = None) -> ClaimVerdict:
    return ClaimVerdict(
        claim=c, id=c["id"], kind=c["kind"], verdict=verdict, reason=reason, metric=c.get("metric"),
        configs=configs, stats=stats, claimed=claimed, claimed_spread=spread, gap_abs=None,
        gap_rel=None, p_value=None, p_adjusted=None, effect_size=None, diff=None, diff_ci=None,
        status=c.get("status", "candidate"),
        relation=c.get("relation") if c["kind"] == "comparison" else c.get("direction"),
        margin=c.get("margin"), sanity=bool(c.get("sanity")),
        tolerance=c.get("tolerance_abs"), tolerance_from=c.get("tolerance_from"),
    )


def _not_runnable(c: dict, configs: list[str]) -> ClaimVerdict:
    note = (c.get("note") or "").strip()
    reason = "Not run: the claim names no config that runs on this reproduction"
    reason += f" ({note.rstrip('.')})." if note else "."
    return _verdict(c, "not run", reason, configs, {}, claimed=c.get("value"), spread=c.get("spread"))


def _missing(c: dict, configs: list[str], stats: dict[str, Describe]) -> ClaimVerdict | None:
    empty = [k for k in configs if stats[k].n == 0]
    if not empty:
        return None
    fails = sum(stats[k].n_failed for k in empty)
    return _verdict(c, "not run", f"Not run: no finished run of {', '.join(empty)} reports {c['metric']}"
                    + (f" ({fails} failed)." if fails else "."), configs, stats)


def _few(c: dict, configs: list[str], stats: dict[str, Describe]) -> str | None:
    few = [f"{k} has {stats[k].n}" for k in configs if stats[k].n < 2]
    if few:
        return ("Inconclusive: fewer than 2 finished seeds (" + ", ".join(few)
                + "); Welch's t-test needs at least 2 per config to estimate the spread.")
    return None


# -- the paper -----------------------------------------------------------------------------
def judge_paper(paper: "Paper", results: "PaperResults", *, alpha: float = ALPHA,
                seeds: "dict[str, list[int]] | None" = None, sequential: bool = True) -> PaperJudgement:
    """Every claim judged, the config x metric table, the ablation table, compute and failures.

    alpha: the level (a look's nominal level when judging sequentially); seeds: judge only these
    seeds of each config (a look of --until-decided); sequential: when the paper has a
    --until-decided record (repro/sequential.py), report each claim's verdict from the look
    it stopped at, as the procedure decided it.
    """
    if sequential and seeds is None:
        from .sequential import judge_sequential, read_state

        state = read_state(results, paper)
        if state is not None:
            return judge_sequential(paper, results, state)
    claims = load_claims(paper)
    metrics = [m.name for m in paper.metrics]
    configs = list(paper.config_files())
    results = results.judged(paper)  # only runs of the current configs and code count
    table = {c: {m: _describe_config(results, c, m, seeds) for m in metrics} for c in configs}

    def stats_of(cfg: str, metric: str) -> Describe:
        if cfg in table and metric in table[cfg]:
            return table[cfg][metric]
        return _describe_config(results, cfg, metric, seeds)

    from .flags import at_bound, config_values, confounded, tolerance_covers_range

    values = config_values(paper)

    verdicts: list[ClaimVerdict] = []
    family: list[_Test] = []
    pending: list[tuple[ClaimVerdict, list[tuple[str, str, _Test | None, WelchResult]]]] = []
    for c in claims:
        kind = c["kind"]
        if kind == "value":
            cfgs = [c["config"]] if c["config"] else []
            if not c["runnable"] or c["value"] is None:
                verdicts.append(_not_runnable(c, cfgs))
            else:
                v = _judge_value(c, stats_of(c["config"], c["metric"]), alpha)
                flag = tolerance_covers_range(c, metric_range(paper, c["metric"]))
                if flag:
                    v.flags.append(flag)
                verdicts.append(v)
            continue
        cfgs = [c["a"], c["b"]] if kind == "comparison" else list(c["configs"])
        if not c["runnable"]:
            verdicts.append(_not_runnable(c, [x for x in cfgs if x]))
            continue
        stats = {k: stats_of(k, c["metric"]) for k in cfgs}
        v = _missing(c, cfgs, stats)
        if v is None:
            v = _verdict(c, "inconclusive", "", cfgs, stats)
            if kind == "comparison":
                rel, pairs = c["relation"], [(c["a"], c["b"])]
            else:
                rel = "greater" if c["direction"] == "decreasing" else "less"
                pairs = list(zip(cfgs, cfgs[1:]))
            tests = []
            for a, b in pairs:
                t, w = _test(stats[a].values, stats[b].values, rel, c.get("margin"))
                if t is not None:
                    family.append(t)
                tests.append((a, b, t, w))
            pending.append((v, tests))
            v.flags.extend(confounded(c, values))
            rng = metric_range(paper, c["metric"])
            for a, b in zip(cfgs, cfgs[1:]):
                flag = at_bound(a, b, stats[a], stats[b], rng)
                if flag:
                    v.flags.append(flag)
            if kind == "comparison":
                v.method = ("TOST with Welch's t-test (equivalence), Holm-adjusted" if rel == "within"
                            else "one-sided Welch's t-test, Holm-adjusted")
            else:
                v.method = "one-sided Welch's t-test per adjacent pair, Holm-adjusted; all pairs must hold"
        verdicts.append(v)

    # Holm over the paper's family; a contradiction is the reverse claim judged in the same family.
    ps = [t.p for t in family]
    for t, adj in zip(family, holm(ps)):
        t.adj = adj
    for i, t in enumerate(family):
        swapped = ps.copy()
        swapped[i] = t.p_opp
        t.adj_opp = holm(swapped)[i]

    for v, tests in pending:
        _finish(v, tests, alpha)
        _plan_power(v, alpha / max(len(family), 1))
    for v in verdicts:
        v.alpha = alpha

    ablations = _ablations(paper, results, table, metrics)
    counts, sanity_counts, flagged = tally(verdicts)
    device_hours: dict[str, float] = {}
    wall: dict[str, float] = {}
    devices: dict[str, list[str]] = {}
    failures: list[RunRecord] = []
    ended: list[str] = []
    for cfg, runs in results.runs.items():
        for r in runs:
            s = r.summary or {}
            dh = s.get("device_hours")
            if isinstance(dh, (int, float)) and math.isfinite(dh):
                device_hours[cfg] = device_hours.get(cfg, 0.0) + float(dh)
            wt = s.get("wall_time_s")
            if isinstance(wt, (int, float)) and math.isfinite(wt):
                wall[cfg] = wall.get(cfg, 0.0) + float(wt)
            if s.get("device") and str(s["device"]) not in devices.setdefault(cfg, []):
                devices[cfg].append(str(s["device"]))
            if isinstance(s.get("ended_at"), str):
                ended.append(s["ended_at"])
            if cfg in table and r.status in FAILED_STATUSES:
                failures.append(r)
    return PaperJudgement(
        paper_id=paper.id, verdicts=verdicts, table=table, ablations=ablations, counts=counts,
        device_hours=device_hours, failures=failures, last_run=max(ended) if ended else None,
        wall_time_s=wall, devices={k: v for k, v in devices.items() if v},
        outdated=[r for rs in results.outdated.values() for r in sorted(rs, key=lambda r: r.seed)],
        seeds_used=results.seeds_used(),
        flagged=flagged, sanity_counts=sanity_counts,
    )


def tally(verdicts: list[ClaimVerdict]) -> tuple[dict[str, int], dict[str, int], int]:
    """(counts of the paper's claims, counts of sanity claims, flagged successes left out)."""
    counts = {k: 0 for k in VERDICTS}
    sanity = {k: 0 for k in VERDICTS}
    flagged = 0
    for v in verdicts:
        if v.sanity:
            sanity[v.verdict] += 1
        elif v.verdict in SUCCESSES and v.flags:
            flagged += 1
        else:
            counts[v.verdict] += 1
    return counts, sanity, flagged


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
    effect = v.claim.get("effect") if v.kind == "comparison" else None
    v.planned_from = "claim" if effect is not None else "observed"
    v.planned_effect = effect if effect is not None else (da.mean - db.mean if da.mean is not None and db.mean is not None else None)
    if v.planned_effect is not None:
        v.seeds_needed = seeds_for_effect(v.planned_effect, sd, level, POWER)


def _finish(v: ClaimVerdict, tests: list[tuple[str, str, _Test | None, WelchResult]], alpha: float = ALPHA) -> None:
    rel = v.claim["relation"] if v.kind == "comparison" else (
        "greater" if v.claim["direction"] == "decreasing" else "less")
    margin = v.claim.get("margin")
    if v.kind == "comparison":
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


def _ablations(paper: "Paper", results: "PaperResults", table: dict[str, dict[str, Describe]],
               metrics: list[str]) -> list[AblationRow]:
    base = paper.baseline_config
    if base not in table:
        return []
    goals = {m.name: m.goal for m in paper.metrics}
    rows: list[AblationRow] = []
    for metric in metrics:
        bd = table[base][metric]
        these: list[AblationRow] = []
        for cfg in table:
            if cfg == base:
                continue
            d = table[cfg][metric]
            w = welch(d.values, bd.values, "two-sided")
            these.append(AblationRow(config=cfg, metric=metric, stats=d, baseline=bd, diff=w.diff,
                                     p_value=w.p, p_adjusted=None, effect_size=w.cohen_d,
                                     diff_ci=w.diff_ci, note=w.note))
        tested = [r for r in these if r.p_value is not None]
        for r, adj in zip(tested, holm([r.p_value for r in tested])):  # type: ignore[misc]
            r.p_adjusted = adj
            if adj < ALPHA and r.diff:
                r.better = (r.diff > 0) == (goals.get(metric, "max") == "max")
        rows.extend(these)
    return rows
