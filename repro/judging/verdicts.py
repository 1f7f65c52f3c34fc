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
    repro.judging.stats): different means are a certain difference, equal means (a tie) never
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

Tests that cannot fail (repro.judging.flags)
    A metric at its bound with no variance in both configs of a pair; a value claim's
    tolerance covering the metric's whole range; configs compared by a claim differing in more
    keys than its `factor:` (one key when it names none; the keys are listed). The verdict is
    kept and shown with the flag, and a flagged success is never counted: `counts` leaves it
    out and `flagged` counts it.

Sanity claims
    `kind: sanity` (outcome fixed by construction) are judged by the same rules and tested in
    the same Holm family, shown apart and never counted (`sanity_counts`).

Until decided (repro.judging.sequential)
    With `repro run --until-decided`, seeds are added in rounds to the configs of undecided
    claims; look k is judged by these rules at the level alpha(t_k) - alpha(t_{k-1}) of the
    O'Brien-Fleming-type Lan-DeMets spending function on the first n_k seeds, and a claim's
    verdict is the one of the look it was decided in (`rounds`). The overall error stays at most
    alpha (union bound over looks).

`not run`: the claim names no config (the proxy cannot speak to it) or one of its configs
has no finished run with a value of the metric.

Where the code is: this module judges the paper (the config x metric table, the Holm family,
the ablation table); repro/judging/decide.py decides one claim and writes its sentence;
repro/verdict_types.py holds the records, re-exported here.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from ..claims import ComparisonClaim, OrderingClaim, ValueClaim, load_claims, metric_range
from .decide import (_finish, _judge_value, _missing, _not_runnable, _plan_power, _Test, _test, _verdict,
                     judge_pair, judge_value, value_seeds_to_decide)
from .stats import Describe, WelchResult, describe, holm, welch
# The records live in verdict_types (decide.py builds them too); callers import them from here.
from ..verdict_types import (ALPHA, FAILED_STATUSES, POWER, SUCCESSES, VERDICTS, AblationRow, ClaimVerdict,
                            PaperJudgement)

__all__ = ["ALPHA", "FAILED_STATUSES", "POWER", "SUCCESSES", "VERDICTS", "AblationRow", "ClaimVerdict",
           "PaperJudgement", "judge_pair", "judge_paper", "judge_value", "tally", "value_seeds_to_decide"]

if TYPE_CHECKING:  # pragma: no cover
    from ..paper import Paper
    from ..results import PaperResults, RunRecord


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


# -- the paper -----------------------------------------------------------------------------
def judge_paper(paper: "Paper", results: "PaperResults", *, alpha: float = ALPHA,
                seeds: "dict[str, list[int]] | None" = None, sequential: bool = True) -> PaperJudgement:
    """Every claim judged, the config x metric table, the ablation table, compute and failures.

    alpha: the level (a look's nominal level when judging sequentially); seeds: judge only these
    seeds of each config (a look of --until-decided); sequential: when the paper has a
    --until-decided record (repro/judging/sequential.py), report each claim's verdict from the look
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
        kind = c.kind
        if isinstance(c, ValueClaim):
            cfgs = [c.config] if c.config else []
            if not c.runnable or c.value is None:
                verdicts.append(_not_runnable(c, cfgs))
            else:
                v = _judge_value(c, stats_of(c.config, c.metric), alpha)
                flag = tolerance_covers_range(c, metric_range(paper, c.metric))
                if flag:
                    v.flags.append(flag)
                verdicts.append(v)
            continue
        assert isinstance(c, (ComparisonClaim, OrderingClaim))
        if not c.runnable:
            verdicts.append(_not_runnable(c, c.configs_involved))
            continue
        cfgs = c.configs_involved
        stats = {k: stats_of(k, c.metric) for k in cfgs}
        v = _missing(c, cfgs, stats)
        if v is None:
            v = _verdict(c, "inconclusive", "", cfgs, stats)
            rel = c.tested_relation
            margin = c.margin if isinstance(c, ComparisonClaim) else None
            tests = []
            for a, b in zip(cfgs, cfgs[1:]):
                t, w = _test(stats[a].values, stats[b].values, rel, margin)
                if t is not None:
                    family.append(t)
                tests.append((a, b, t, w))
            pending.append((v, tests))
            v.flags.extend(confounded(c, values))
            rng = metric_range(paper, c.metric)
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
