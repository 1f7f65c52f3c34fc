"""repro.judging.stats against hand-computed values.

Student-t CDFs for 2 and 4 degrees of freedom have closed forms, so the expected p-values
below are computed independently of scipy:
    F2(t) = 1/2 + t / (2 sqrt(2 + t^2))
    F4(t) = 1/2 + (3/8) u (1 - t^2 / (12 (1 + t^2/4))),  u = t / sqrt(1 + t^2/4)
Quantiles from tables: t(0.975, 2) = 4.302653, t(0.975, 4) = 2.776445.
"""

from __future__ import annotations

import math

import pytest
from helpers.stats_ref import F2, F4, T975_2, T975_4
from hypothesis import given, settings
from hypothesis import strategies as st

from repro.judging.stats import describe, holm, welch


# -- describe --------------------------------------------------------------------------------
def test_describe_three_values():
    d = describe([1.0, 2.0, 3.0], n_failed=2)
    assert (d.n, d.mean, d.std, d.min, d.max, d.n_failed) == (3, 2.0, 1.0, 1.0, 3.0, 2)
    half = T975_2 * 1 / math.sqrt(3)  # t * s / sqrt(n) = 2.48414
    assert d.ci_low == pytest.approx(2 - half, abs=1e-5)
    assert d.ci_high == pytest.approx(2 + half, abs=1e-5)
    assert d.sem == pytest.approx(1 / math.sqrt(3))


def test_describe_one_value_has_no_spread():
    d = describe([0.7])
    assert (d.n, d.mean, d.min, d.max) == (1, 0.7, 0.7, 0.7)
    assert d.std is None and d.ci_low is None and d.ci_high is None and d.sem is None


def test_describe_nothing_keeps_failures():
    d = describe([], n_failed=3)
    assert d.n == 0 and d.mean is None and d.std is None and d.n_failed == 3


def test_describe_zero_variance_is_exact():
    # fsum([0.1]*3)/3 is 0.10000000000000002 and its std ~1e-17: must not leak out.
    d = describe([0.1, 0.1, 0.1])
    assert d.mean == 0.1 and d.std == 0.0 and (d.ci_low, d.ci_high) == (0.1, 0.1)
    assert d.zero_variance


def test_describe_rejects_nan():
    with pytest.raises(ValueError):
        describe([1.0, float("nan")])


# -- welch -----------------------------------------------------------------------------------
def test_welch_equal_variances_df4():
    a, b = [1.0, 2.0, 3.0], [4.0, 5.0, 6.0]
    # means 2 and 5, variances 1 and 1: se = sqrt(2/3), t = -3/se, df = (2/3)^2 / (2 (1/3)^2 / 2) = 4
    t = -3 / math.sqrt(2 / 3)
    two = welch(a, b, "two-sided")
    assert two.t == pytest.approx(t) and two.df == pytest.approx(4.0)
    assert two.p == pytest.approx(2 * F4(t), rel=1e-9)
    assert welch(a, b, "less").p == pytest.approx(F4(t), rel=1e-9)
    assert welch(a, b, "greater").p == pytest.approx(1 - F4(t), rel=1e-9)
    assert two.diff == -3.0
    half = T975_4 * math.sqrt(2 / 3)
    assert two.diff_ci == pytest.approx((-3 - half, -3 + half), abs=1e-5)
    assert two.cohen_d == pytest.approx(-3.0)


def test_welch_one_group_constant_df2():
    # b has zero variance: se = sqrt(1/3), t = 2 sqrt(3), df = n_a - 1 = 2; d = 2 / sqrt(1/2)
    r = welch([1.0, 2.0, 3.0], [0.0, 0.0, 0.0], "greater")
    t = 2 * math.sqrt(3)
    assert r.t == pytest.approx(t) and r.df == pytest.approx(2.0)
    assert r.p == pytest.approx(1 - F2(t), rel=1e-9)  # 0.03709
    assert r.cohen_d == pytest.approx(2 * math.sqrt(2))
    assert not r.exact


def test_welch_shifted_null():
    # H0: diff = -4 against diff > -4: t = (-3 + 4) / sqrt(2/3)
    r = welch([1.0, 2.0, 3.0], [4.0, 5.0, 6.0], "greater", null_diff=-4.0)
    t = 1 / math.sqrt(2 / 3)
    assert r.t == pytest.approx(t) and r.p == pytest.approx(1 - F4(t), rel=1e-9)
    assert r.diff == -3.0  # the reported difference is the raw one


def test_welch_zero_variance_both_decides_from_means():
    a, b = [0.1] * 3, [0.2] * 3
    assert welch(a, b, "less").p == 0.0
    assert welch(a, b, "greater").p == 1.0
    r = welch(a, b, "two-sided")
    assert r.p == 0.0 and r.exact and r.cohen_d is None and "same value" in r.note
    assert r.diff_ci == (r.diff, r.diff)


def test_welch_zero_variance_tie_is_never_evidence():
    for alt in ("greater", "less", "two-sided"):
        r = welch([0.5] * 4, [0.5] * 3, alt)
        assert r.p == 1.0 and r.diff == 0.0 and r.exact


def test_welch_equal_means_with_variance():
    r = welch([1.0, 2.0, 3.0], [3.0, 2.0, 1.0], "greater")
    assert r.t == 0.0 and r.p == pytest.approx(0.5)


def test_welch_needs_two_per_group():
    r = welch([1.0], [1.0, 2.0, 3.0], "greater")
    assert r.p is None and r.t is None and "at least 2" in r.note and "a has 1" in r.note
    assert r.diff == -1.0


def test_welch_bad_alternative():
    with pytest.raises(ValueError):
        welch([1, 2], [3, 4], "bigger")


# -- holm ------------------------------------------------------------------------------------
def test_holm_hand_computed():
    # sorted: .005*4 = .02, .01*3 = .03, .03*2 = .06, .04*1 = .04 -> monotone .06
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])


def test_holm_ties_and_cap():
    assert holm([0.02, 0.02]) == pytest.approx([0.04, 0.04])
    assert holm([0.6, 0.5]) == [1.0, 1.0]
    assert holm([0.3]) == [0.3]
    assert holm([]) == []


def test_holm_rejects_bad_p():
    with pytest.raises(ValueError):
        holm([0.1, 1.5])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(min_value=0, max_value=1), min_size=1, max_size=12))
def test_holm_properties(ps):
    adj = holm(ps)
    assert all(p <= q <= 1.0 for p, q in zip(ps, adj))
    # the order of the p-values is kept, and Bonferroni bounds Holm from above
    for i in range(len(ps)):
        assert adj[i] <= min(1.0, len(ps) * ps[i]) + 1e-12
        for j in range(len(ps)):
            if ps[i] <= ps[j]:
                assert adj[i] <= adj[j] + 1e-12


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(min_value=-1e3, max_value=1e3), min_size=2, max_size=8))
def test_describe_interval_brackets_mean(values):
    d = describe(values)
    assert d.min <= d.mean <= d.max or math.isclose(d.mean, d.min) or math.isclose(d.mean, d.max)
    assert d.ci_low <= d.mean <= d.ci_high


# -- power and sequential looks (issue 13) ------------------------------------------------------
def test_mde_and_seeds_for_effect():
    from repro.judging.stats import mde, seeds_for_effect

    # (t(0.95, 4) + t(0.8, 4)) * 1 * sqrt(2/3) = (2.131847 + 0.940965) * 0.816497
    assert mde(1.0, 3, 0.05) == pytest.approx(2.508938, abs=1e-5)
    assert mde(2.0, 3, 0.05) == pytest.approx(2 * 2.508938, abs=1e-5)   # linear in sd
    assert mde(1.0, 1, 0.05) is None
    n = seeds_for_effect(2.50894, 1.0, 0.05)
    assert n == 3                                   # the MDE at 3 seeds needs 3 seeds
    assert seeds_for_effect(0.0, 1.0, 0.05) is None
    assert seeds_for_effect(1e-6, 1.0, 0.05, cap=50) is None


def test_obrien_fleming_spending():
    from repro.judging.stats import look_levels, obf_spent

    assert obf_spent(1.0, 0.05) == pytest.approx(0.05)
    # 2 - 2 Phi(1.959964 / sqrt(0.5)) = 2 - 2 Phi(2.771808) = 0.0055746
    assert obf_spent(0.5, 0.05) == pytest.approx(0.0055746, abs=1e-6)
    assert obf_spent(0.0, 0.05) == 0.0
    levels = look_levels([0.3, 0.6, 1.0], 0.05)
    assert sum(levels) == pytest.approx(0.05)       # the whole alpha, and no more, over the looks
    assert levels[0] < levels[1] < levels[2]        # almost nothing spent early
    assert levels[0] == pytest.approx(obf_spent(0.3, 0.05))
