"""Verdicts on hand-computed cases: results on disk are summary.json files written here.

Most comparisons use groups of 3 seeds {x, x+1, x+2}: both variances are 1, so Welch's
se = sqrt(2/3) and df = 4, and a shift of k*sqrt(6) gives t = 3k exactly. One-sided p-values
then come from the closed-form Student-t CDF with 4 df (see test_stats.py):
    t = 3 -> p = 1 - F4(3) = 0.0199710,   t = 6 -> p = 1 - F4(6) = 0.0019413.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import yaml

from repro.paper import Paper
from repro.results import load_results
from repro.judging.verdicts import VERDICTS, judge_paper
from helpers.stats_ref import F4
from helpers.results_data import make_paper, write_group, write_run

R6 = math.sqrt(6)
P3 = 1 - F4(3.0)   # 0.0199710
P6 = 1 - F4(6.0)   # 0.0019413


def judge(paper: Paper, results: Path):
    return judge_paper(paper, load_results(results, paper.id))


def by_id(j):
    return {v.id: v for v in j.verdicts}


# -- value claims: equivalence against the tolerance ------------------------------------------
# Seeds 0.80, 0.81, 0.82, 0.81, 0.81: mean 0.81, std sqrt(0.0002/4) = 0.0070711, sem 0.0031623,
# df 4: t(0.95, 4) = 2.131847 -> the 90% half-width 0.0067416; t(0.975, 4) = 2.776445 -> 0.0087798.
T95_4, T975_4 = 2.131847, 2.776445
SEM5 = math.sqrt(0.00005 / 5)
VALUE_CLAIMS = """\
- id: inside
  kind: value
  config: method
  metric: acc
  value: 0.815
  tolerance: {abs: 0.02}
- id: on-the-edge
  kind: value
  config: method
  metric: acc
  value: 0.83
  tolerance: {abs: 0.02}
- id: beyond
  kind: value
  config: method
  metric: acc
  value: 0.85
  tolerance: {abs: 0.02}
- id: rel-inside
  kind: value
  config: method
  metric: acc
  value: 0.85
  tolerance: {rel: 0.1}
- id: own-spread-wide-tol
  kind: value
  config: method
  metric: acc
  value: 0.83
  spread: 0.01
  tolerance: {abs: 0.05}
- id: own-spread
  kind: value
  config: method
  metric: acc
  value: 0.83
  spread: 0.01
  tolerance: {abs: 0.03}
- id: no-tolerance
  kind: value
  config: method
  metric: acc
  value: 0.812
"""


def test_value_claims_by_equivalence(tmp_path):
    paper = make_paper(tmp_path, VALUE_CLAIMS)
    res = tmp_path / "results"
    write_group(res, "method", [0.80, 0.81, 0.82, 0.81, 0.81])
    v = by_id(judge(paper, res))
    h = T95_4 * SEM5
    # gap -0.005: [-0.011742, 0.001742] inside +-0.02
    assert v["inside"].verdict == "reproduced"
    assert v["inside"].interval == pytest.approx((-0.005 - h, -0.005 + h), abs=1e-6)
    # gap -0.02 on the tolerance: neither inside nor shown beyond it (the old rule said reproduced)
    edge = v["on-the-edge"]
    assert edge.verdict == "inconclusive" and edge.gap_abs == pytest.approx(-0.02)
    assert "seeds" in edge.reason
    # gap -0.04: its 95% interval reaches -0.04 + 0.0087798 = -0.03122 < -0.02
    assert v["beyond"].verdict == "not reproduced" and v["beyond"].tolerance == pytest.approx(0.02)
    assert v["beyond"].gap_rel == pytest.approx(-0.04 / 0.85)
    assert v["rel-inside"].verdict == "reproduced" and v["rel-inside"].tolerance == pytest.approx(0.085)
    # The paper's +-: se^2 = 0.00001 + 0.0001, df = 484, t(0.95, 484) = 1.647972 -> 0.017284
    wide = v["own-spread-wide-tol"]
    assert wide.verdict == "reproduced"
    assert wide.interval[1] - (-0.02) == pytest.approx(1.647972 * math.sqrt(0.00011), abs=1e-5)
    # ... and the same claim with a tolerance of 0.03: [-0.0373, -0.0027] is not inside, and the
    # 95% interval [-0.0406, 0.0006] is not beyond: the paper's own spread never helps a success
    assert v["own-spread"].verdict == "inconclusive"
    assert v["inside"].tolerance_from == "claims.yaml"
    # No tolerance: 5 units of the last digit of 0.812 = 0.005, said so
    nt = v["no-tolerance"]
    assert nt.tolerance == pytest.approx(0.005)
    assert nt.tolerance_from.startswith("no tolerance: proposed from precision")
    # gap -0.002: [-0.00874, 0.00474] reaches past -0.005, so 5 seeds do not show it yet
    assert nt.verdict == "inconclusive"


@pytest.mark.parametrize("values", [[0.58, 0.70, 0.82], [0.70, 0.80, 0.90]])
@pytest.mark.parametrize("how", ["tolerance", "spread"])
def test_the_issues_noisy_cases_are_not_reproduced(tmp_path, values, how):
    """0.80 +- 0.02 against 3 noisy seeds: the old rule said `reproduced` (the claim lay in a wide
    interval). Mean 0.70 or 0.80, std 0.12 or 0.10, sem = std/sqrt(3), t(0.95, 2) = 2.919986."""
    extra = "tolerance: {abs: 0.02}" if how == "tolerance" else "spread: 0.02\n      tolerance: {abs: 0.02}"
    paper = make_paper(tmp_path, f"""\
    - id: noisy
      kind: value
      config: method
      metric: acc
      value: 0.80
      {extra}
    """)
    res = tmp_path / "results"
    write_group(res, "method", values)
    v = judge(paper, res).verdicts[0]
    assert v.verdict == "inconclusive"
    std = 0.12 if values[0] == 0.58 else 0.10
    if how == "tolerance":
        assert v.interval[1] - v.interval[0] == pytest.approx(2 * 2.919986 * std / math.sqrt(3), rel=1e-5)
        assert f"3 seeds give ±{2.919986 * std / math.sqrt(3):.4g}" in v.reason
    assert v.seeds_to_decide is None or v.seeds_to_decide > 3
    assert "seeds would decide" in v.reason


def test_value_claim_one_seed_and_zero_variance(tmp_path):
    claims = """\
    - id: one-seed
      kind: value
      config: method
      metric: acc
      value: 0.9
      tolerance: {abs: 0.05}
    - id: const-far
      kind: value
      config: baseline
      metric: acc
      value: 0.9
      tolerance: {abs: 0.05}
    - id: const-exact
      kind: value
      config: baseline
      metric: acc
      value: 1.0
      tolerance: {abs: 0.01}
    - id: const-own-spread
      kind: value
      config: baseline
      metric: acc
      value: 0.99
      spread: 0.01
      tolerance: {abs: 0.01}
    """
    paper = make_paper(tmp_path, claims)
    res = tmp_path / "results"
    write_run(res, "method", 0, acc=0.9)
    write_group(res, "baseline", [1.0, 1.0, 1.0])
    v = by_id(judge(paper, res))
    # one seed, even exactly on the claim: no spread, no verdict
    assert v["one-seed"].verdict == "inconclusive" and "1 finished seed" in v["one-seed"].reason
    assert v["one-seed"].seeds_to_decide == 2
    # zero variance: the interval is the point gap
    assert v["const-far"].verdict == "not reproduced" and "same value" in v["const-far"].reason
    assert v["const-exact"].verdict == "reproduced" and v["const-exact"].gap_abs == 0.0
    # sem 0, the paper's +- alone: df infinite, 90% half 1.644854 * 0.01 > 0.01 - 0.01: never decidable
    cs = v["const-own-spread"]
    assert cs.verdict == "inconclusive"
    assert cs.interval[0] == pytest.approx(0.01 - 0.01644854, abs=1e-6)
    assert cs.seeds_to_decide is None and "paper's own ± alone is too wide" in cs.reason


def test_a_tolerance_covering_the_metrics_range_is_flagged_and_not_counted(tmp_path):
    paper = make_paper(tmp_path, """\
    - id: anything-goes
      kind: value
      config: method
      metric: acc
      value: 0.5
      tolerance: {abs: 0.5}
    - id: honest
      kind: value
      config: method
      metric: acc
      value: 0.5
      tolerance: {abs: 0.1}
    """)
    res = tmp_path / "results"
    write_group(res, "method", [0.5, 0.51, 0.49])
    j = judge(paper, res)
    v = by_id(j)
    assert v["anything-goes"].verdict == "reproduced"
    assert v["anything-goes"].flags and "whole range [0, 1]" in v["anything-goes"].flags[0]
    assert not v["anything-goes"].counted_success
    assert v["honest"].verdict == "reproduced" and not v["honest"].flags
    assert j.counts["reproduced"] == 1 and j.flagged == 1


def test_failed_runs_are_counted_never_averaged(tmp_path):
    paper = make_paper(tmp_path, """\
    - id: m
      kind: value
      config: method
      metric: acc
      value: 0.5
    """)
    res = tmp_path / "results"
    write_run(res, "method", 0, acc=0.4)
    write_run(res, "method", 1, acc=0.6)
    write_run(res, "method", 2, status="diverged", acc=0.0)
    write_run(res, "method", 3, status="timeout")
    write_run(res, "method", 4, acc=float("nan"))          # finished, but no finite value
    (res / paper.id / "method" / "seed-5").mkdir()
    (res / paper.id / "method" / "seed-5" / "summary.json").write_text("{not json")
    j = judge(paper, res)
    d = j.table["method"]["acc"]
    assert d.n == 2 and d.mean == pytest.approx(0.5) and d.n_failed == 4
    assert sorted(r.status for r in j.failures) == ["corrupt", "diverged", "timeout"]
    assert j.verdicts[0].stats["method"].n_failed == 4
    assert j.device_hours["method"] == pytest.approx(0.25 * 5)


# -- comparisons and Holm ----------------------------------------------------------------------
def test_holm_across_comparison_claims(tmp_path):
    claims = """\
    - id: method-beats-baseline
      kind: comparison
      metric: acc
      a: method
      relation: greater
      b: baseline
    - id: big-beats-baseline
      kind: comparison
      metric: acc
      a: big
      relation: greater
      b: baseline
    - id: tie-beats-baseline
      kind: comparison
      metric: acc
      a: tie
      relation: greater
      b: baseline
    - id: big-beats-method
      kind: comparison
      metric: acc
      a: big
      relation: better
      b: method
    """
    paper = make_paper(tmp_path, claims, ablations=("big", "tie"))
    res = tmp_path / "results"
    write_group(res, "baseline", [1.0, 2.0, 3.0])
    write_group(res, "method", [1 + R6, 2 + R6, 3 + R6])          # t = 3 vs baseline
    write_group(res, "big", [1 + 2 * R6, 2 + 2 * R6, 3 + 2 * R6])  # t = 6 vs baseline, 3 vs method
    write_group(res, "tie", [3.0, 2.0, 1.0])                      # equal means: t = 0, p = 0.5
    v = by_id(judge(paper, res))
    assert v["method-beats-baseline"].p_value == pytest.approx(P3, rel=1e-6)
    assert v["big-beats-baseline"].p_value == pytest.approx(P6, rel=1e-6)
    assert v["tie-beats-baseline"].p_value == pytest.approx(0.5)
    # Holm over {P3, P6, 0.5, P3}: P6*4, then max(P3*3, P3*2) = P3*3 for both, 0.5*1
    assert v["big-beats-baseline"].p_adjusted == pytest.approx(4 * P6, rel=1e-6)
    assert v["method-beats-baseline"].p_adjusted == pytest.approx(3 * P3, rel=1e-6)   # 0.0599
    assert v["big-beats-method"].p_adjusted == pytest.approx(3 * P3, rel=1e-6)
    assert v["tie-beats-baseline"].p_adjusted == pytest.approx(0.5)
    assert v["big-beats-baseline"].verdict == "supported"
    # significant alone (p = 0.02) but not after Holm over the paper's four comparisons
    assert v["method-beats-baseline"].verdict == "inconclusive"
    assert v["big-beats-method"].verdict == "inconclusive"
    assert v["tie-beats-baseline"].verdict == "inconclusive"
    big = v["big-beats-baseline"]
    assert big.diff == pytest.approx(2 * R6) and big.effect_size == pytest.approx(2 * R6)
    half = 2.776445 * math.sqrt(2 / 3)
    assert big.diff_ci == pytest.approx((2 * R6 - half, 2 * R6 + half), abs=1e-5)


def test_single_comparison_supported_and_contradicted(tmp_path):
    claims = """\
    - id: forward
      kind: comparison
      metric: acc
      a: method
      relation: greater
      b: baseline
    - id: reverse
      kind: comparison
      metric: acc
      a: baseline
      relation: greater
      b: method
    """
    paper = make_paper(tmp_path, claims)
    res = tmp_path / "results"
    write_group(res, "baseline", [1.0, 2.0, 3.0])
    write_group(res, "method", [1 + 2 * R6, 2 + 2 * R6, 3 + 2 * R6])
    v = by_id(judge(paper, res))
    # family {P6, 1 - P6}: forward adj = 2*P6; reverse's opposite p (P6) replaces its own: 2*P6
    assert v["forward"].verdict == "supported" and v["forward"].p_adjusted == pytest.approx(2 * P6, rel=1e-6)
    assert v["reverse"].verdict == "contradicted"
    assert v["reverse"].p_opposite_adjusted == pytest.approx(2 * P6, rel=1e-6)
    assert "reverse holds" in v["reverse"].reason


def test_goal_min_better_means_less(tmp_path):
    claims = """\
    - id: lower-loss
      kind: comparison
      metric: loss
      a: method
      relation: better
      b: baseline
    """
    paper = make_paper(tmp_path, claims)
    res = tmp_path / "results"
    write_group(res, "baseline", [5.0, 6.0, 7.0], metric="loss")
    write_group(res, "method", [1.0, 2.0, 3.0], metric="loss")
    v = by_id(judge(paper, res))["lower-loss"]
    assert v.relation == "less" and v.verdict == "supported"
    assert v.p_value == pytest.approx(F4(-4 / math.sqrt(2 / 3)), rel=1e-6)


def test_ties_zero_variance_and_one_seed(tmp_path):
    claims = """\
    - id: exact-tie
      kind: comparison
      metric: acc
      a: method
      relation: greater
      b: baseline
    - id: exact-win
      kind: comparison
      metric: acc
      a: const
      relation: greater
      b: baseline
    - id: one-seed
      kind: comparison
      metric: acc
      a: single
      relation: greater
      b: baseline
    - id: nothing
      kind: comparison
      metric: acc
      a: empty
      relation: greater
      b: baseline
    """
    paper = make_paper(tmp_path, claims, ablations=("const", "single", "empty"))
    res = tmp_path / "results"
    write_group(res, "baseline", [0.9, 0.9, 0.9])
    write_group(res, "method", [0.9, 0.9, 0.9])
    write_group(res, "const", [0.95, 0.95])
    write_run(res, "single", 0, acc=0.99)
    write_run(res, "empty", 0, status="failed")
    v = by_id(judge(paper, res))
    tie = v["exact-tie"]
    assert tie.verdict == "inconclusive" and tie.p_value == 1.0 and "tie" in tie.reason
    assert "decided from the means exactly" in tie.reason and tie.effect_size is None
    win = v["exact-win"]
    assert win.verdict == "supported" and win.p_value == 0.0 and win.diff == pytest.approx(0.05)
    one = v["one-seed"]
    assert one.verdict == "inconclusive" and one.p_value is None
    assert "fewer than 2" in one.reason and "single has 1" in one.reason
    assert v["nothing"].verdict == "not run" and "1 failed" in v["nothing"].reason
    # untestable claims stay out of the Holm family: {1.0, 0.0} only
    assert win.p_adjusted == 0.0 and tie.p_adjusted == 1.0


def test_within_claims_tost(tmp_path):
    claims = """\
    - id: close
      kind: comparison
      metric: acc
      a: method
      relation: within
      margin: 10
      b: baseline
    - id: far
      kind: comparison
      metric: acc
      a: far
      relation: within
      margin: 1
      b: baseline
    - id: unclear
      kind: comparison
      metric: acc
      a: method
      relation: within
      margin: 1.5
      b: baseline
    """
    paper = make_paper(tmp_path, claims, ablations=("far",))
    res = tmp_path / "results"
    write_group(res, "baseline", [1.0, 2.0, 3.0])
    write_group(res, "method", [1.5, 2.5, 3.5])
    write_group(res, "far", [1 + 1 + 2 * R6, 2 + 1 + 2 * R6, 3 + 1 + 2 * R6])
    v = by_id(judge(paper, res))
    se = math.sqrt(2 / 3)
    # close: diff 0.5, TOST p = max(1 - F4((0.5 + 10)/se), F4((0.5 - 10)/se))
    p_close = max(1 - F4(10.5 / se), F4(-9.5 / se))
    assert v["close"].p_value == pytest.approx(p_close, rel=1e-6)
    assert v["close"].verdict == "supported"
    # far: diff = 1 + 2 sqrt(6), above the margin by 2 sqrt(6): t = 6 -> p = 2 * P6 (two sides)
    assert v["far"].p_opposite == pytest.approx(2 * P6, rel=1e-6)
    assert v["far"].verdict == "contradicted"
    assert v["unclear"].verdict == "inconclusive"


def test_ordering_claims(tmp_path):
    claims = """\
    - id: falls
      kind: ordering
      metric: acc
      configs: [baseline, method, worst]
      direction: decreasing
    - id: wrong-way
      kind: ordering
      metric: acc
      configs: [worst, baseline]
      direction: decreasing
    """
    paper = make_paper(tmp_path, claims, ablations=("worst",))
    res = tmp_path / "results"
    write_group(res, "baseline", [1 + 4 * R6, 2 + 4 * R6, 3 + 4 * R6])
    write_group(res, "method", [1 + 2 * R6, 2 + 2 * R6, 3 + 2 * R6])
    write_group(res, "worst", [1.0, 2.0, 3.0])
    v = by_id(judge(paper, res))
    falls = v["falls"]
    # family: pairs (baseline, method) t=6, (method, worst) t=6, and (worst, baseline) t=-12
    assert [p["verdict"] for p in falls.pairs] == ["supported", "supported"]
    assert falls.verdict == "supported"
    assert falls.p_value == pytest.approx(P6, rel=1e-6)
    assert v["wrong-way"].verdict == "contradicted" and "reversed" in v["wrong-way"].reason


def test_ordering_with_a_missing_pair_is_inconclusive(tmp_path):
    paper = make_paper(tmp_path, """\
    - id: order
      kind: ordering
      metric: acc
      configs: [baseline, method]
      direction: increasing
    """)
    res = tmp_path / "results"
    write_group(res, "baseline", [1.0, 2.0, 3.0])
    write_run(res, "method", 0, acc=9.0)
    v = judge(paper, res).verdicts[0]
    assert v.verdict == "inconclusive" and v.pairs[0]["p_value"] is None and "fewer than 2" in v.reason


def test_not_run_and_counts(tmp_path):
    claims = """\
    - id: bleu
      kind: value
      config: null
      metric: bleu
      value: 28.4
      note: WMT14 does not fit on the proxy
    - id: method-acc
      kind: value
      config: method
      metric: acc
      value: 0.9
    """
    paper = make_paper(tmp_path, claims)
    j = judge(paper, tmp_path / "results")
    v = by_id(j)
    assert v["bleu"].verdict == "not run" and "WMT14" in v["bleu"].reason
    assert v["method-acc"].verdict == "not run" and "no finished run of method" in v["method-acc"].reason
    assert j.counts == {**{k: 0 for k in VERDICTS}, "not run": 2}
    assert j.last_run is None and j.failures == []


def test_ablation_table_holm_per_metric(tmp_path):
    paper = make_paper(tmp_path, "[]\n", ablations=("big",))
    res = tmp_path / "results"
    for cfg, shift in (("baseline", 0.0), ("method", R6), ("big", 2 * R6)):
        for s, x in enumerate([1.0, 2.0, 3.0]):
            write_run(res, cfg, s, acc=x + shift, loss=x)
    j = judge(paper, res)
    rows = {(r.config, r.metric): r for r in j.ablations}
    assert set(rows) == {("method", "acc"), ("big", "acc"), ("method", "loss"), ("big", "loss")}
    # two-sided p: 2*P3 and 2*P6; Holm over the two acc rows
    assert rows["method", "acc"].p_value == pytest.approx(2 * P3, rel=1e-6)
    assert rows["big", "acc"].p_adjusted == pytest.approx(4 * P6, rel=1e-6)
    assert rows["method", "acc"].p_adjusted == pytest.approx(2 * P3, rel=1e-6)
    assert rows["big", "acc"].better is True and rows["method", "acc"].better is True
    assert rows["method", "loss"].p_value == pytest.approx(1.0) and rows["method", "loss"].better is None
    assert j.last_run == "2025-01-03T10:00:00+00:00"


# -- tests that cannot fail, sanity claims, power ------------------------------------------------
def test_ceiling_tie_is_flagged_never_a_success(tmp_path):
    paper = make_paper(tmp_path, """\
    - id: same-fit
      kind: comparison
      metric: acc
      a: method
      relation: within
      margin: 0.01
      b: baseline
    - id: beats
      kind: comparison
      metric: acc
      a: method
      relation: greater
      b: baseline
    """)
    res = tmp_path / "results"
    write_group(res, "method", [1.0, 1.0, 1.0])
    write_group(res, "baseline", [1.0, 1.0, 1.0])
    j = judge(paper, res)
    v = by_id(j)
    # the exact rule says "within 0.01" holds, but both sit at acc's bound 1 with no variance
    assert v["same-fit"].verdict == "supported"
    assert any("bound 1" in f for f in v["same-fit"].flags)
    assert v["beats"].verdict == "inconclusive" and v["beats"].flags
    assert j.counts["supported"] == 0 and j.flagged == 1


def test_confounded_comparison_lists_the_keys(tmp_path):
    claims = """\
    - id: wider-is-better
      kind: comparison
      metric: acc
      a: method
      relation: greater
      b: baseline
    - id: wider-is-better-declared
      kind: comparison
      metric: acc
      a: method
      relation: greater
      b: baseline
      factor: [model.width, model.depth]
    - id: model-section
      kind: comparison
      metric: acc
      a: method
      relation: greater
      b: baseline
      factor: model
    """
    paper = make_paper(tmp_path, claims)
    cdir = paper.root / "configs"
    (cdir / "baseline.yaml").write_text("model: {width: 8, depth: 2}\ndescription: small\nresources: {timeout_s: 5}\n")
    (cdir / "method.yaml").write_text("model: {width: 16, depth: 3}\ndescription: big\n")
    res = tmp_path / "results"
    write_group(res, "method", [0.9, 0.91, 0.92])
    write_group(res, "baseline", [0.5, 0.51, 0.52])
    j = judge(paper, res)
    v = by_id(j)
    assert v["wider-is-better"].verdict == "supported"
    (flag,) = v["wider-is-better"].flags
    assert "model.depth, model.width" in flag and "2 keys" in flag   # description/resources ignored
    assert not v["wider-is-better-declared"].flags and not v["model-section"].flags
    assert j.counts["supported"] == 2 and j.flagged == 1


def test_sanity_claims_are_shown_apart(tmp_path):
    paper = make_paper(tmp_path, """\
    - id: fits-by-construction
      kind: sanity
      metric: acc
      a: method
      relation: greater
      b: baseline
    - id: real
      kind: comparison
      metric: acc
      a: method
      relation: greater
      b: baseline
    """)
    res = tmp_path / "results"
    write_group(res, "method", [0.9, 0.91, 0.92])
    write_group(res, "baseline", [0.5, 0.51, 0.52])
    j = judge(paper, res)
    s = by_id(j)["fits-by-construction"]
    assert s.sanity and s.kind == "comparison" and s.verdict == "supported"
    assert j.counts["supported"] == 1 and j.sanity_counts["supported"] == 1


def test_power_of_a_comparison(tmp_path):
    """{x, x+1, x+2} groups: sd 1, n 3, one test in the family (level 0.05):
    MDE = (t(0.95, 4) + t(0.8, 4)) * sqrt(2/3) = (2.131847 + 0.940965) * 0.816497 = 2.508938."""
    paper = make_paper(tmp_path, """\
    - id: planned
      kind: comparison
      metric: acc
      a: method
      relation: greater
      b: baseline
      effect: 1.0
    """)
    res = tmp_path / "results"
    write_group(res, "method", [10.5, 11.5, 12.5])
    write_group(res, "baseline", [10.0, 11.0, 12.0])
    v = judge(paper, res).verdicts[0]
    assert v.verdict == "inconclusive"
    assert v.mde == pytest.approx(2.508938, abs=1e-5)
    # seeds for an effect of 1 sd: the smallest n with (t(.95,2n-2) + t(.8,2n-2)) sqrt(2/n) <= 1
    from scipy import stats as st

    def m(n):
        return (st.t.ppf(0.95, 2 * n - 2) + st.t.ppf(0.8, 2 * n - 2)) * math.sqrt(2 / n)
    assert v.planned_from == "claim" and v.planned_effect == 1.0
    assert m(v.seeds_needed) <= 1 < m(v.seeds_needed - 1)
    assert v.seeds_needed == 14
