"""How often are verdicts wrong? Simulated claims with a known truth, judged by the real code.

    python bench/verdict_calibration.py [--reps 2000] [--seed 0]

Value claims: the claimed number is the paper's true mean plus its own noise (the paper's +-, when
it gives one), our seeds are normal around the paper's mean plus a true gap, and the tolerance
is 0.02 (0.01 at the ceiling). A *wrong success* is `reproduced` when |true gap| >= tolerance; a
*wrong failure* is `not reproduced` when |true gap| < tolerance. Ceiling cells clip every seed at
1.0 (an accuracy near 100%).

Comparison claims ("a > b"): two groups of seeds, sd 1, true difference from none to large
(0, 0.5, 1, 2, 3 sd). A wrong success is `supported` when the true difference is <= 0; a wrong
failure is `contradicted` when it is > 0. Ceiling cells clip both groups at the same bound.
Power: `supported` at the seeds planned by repro.judging.stats.seeds_for_effect for the true effect
(80% power), and for value claims `reproduced` at the seeds repro.judging.verdicts.value_seeds_to_decide
plans for the true gap.

Sequential: the --until-decided procedure (repro.judging.sequential: looks at 3, 6, 9, 10 seeds,
O'Brien-Fleming-type spending, stop at the first decision), judged by the same code at each look.

Each verdict comes from repro.judging.verdicts (judge_value / judge_pair: judge_paper's own code for a
claim alone in its Holm family). Rates are over --reps simulated claims per cell; the Monte-Carlo
standard error of a rate of 0.05 over 2000 claims is 0.005.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from repro.judging.sequential import schedule  # noqa: E402
from repro.judging.stats import look_levels, seeds_for_effect  # noqa: E402
from repro.judging.verdicts import ALPHA, judge_pair, judge_value, value_seeds_to_decide  # noqa: E402

MAX_SEEDS = 10


def value_verdict(rng, n, gap, sd, spread, tol, claimed_true, ceiling, alpha=ALPHA, seq=False):
    claimed = claimed_true + (rng.normal(0, spread) if spread else 0.0)
    claimed = min(claimed, 1.0) if ceiling else claimed
    mu = claimed_true + gap
    vals = rng.normal(mu, sd, MAX_SEEDS if seq else n)
    if ceiling:
        vals = np.minimum(vals, 1.0)
    claim = {"value": float(claimed), "spread": spread, "tolerance_abs": tol}
    if not seq:
        return judge_value(claim, list(map(float, vals)), alpha).verdict, 1
    ns = schedule(3, MAX_SEEDS)
    for k, (m, level) in enumerate(zip(ns, look_levels([x / MAX_SEEDS for x in ns], alpha)), 1):
        v = judge_value(claim, list(map(float, vals[:m])), level).verdict
        if v != "inconclusive":
            return v, k
    return "inconclusive", len(ns)


def pair_verdict(rng, n, d, ceiling, alpha=ALPHA, seq=False):
    m = MAX_SEEDS if seq else n
    mu_b = 0.0
    a = rng.normal(mu_b + d, 1.0, m)
    b = rng.normal(mu_b, 1.0, m)
    if ceiling:  # both at the bound: everything above it is clipped (a tie at the ceiling)
        a, b = np.minimum(a, -3.0), np.minimum(b, -3.0)
    if not seq:
        return judge_pair(list(map(float, a)), list(map(float, b)), "greater", alpha=alpha), 1
    ns = schedule(3, MAX_SEEDS)
    for k, (n_k, level) in enumerate(zip(ns, look_levels([x / MAX_SEEDS for x in ns], alpha)), 1):
        v = judge_pair(list(map(float, a[:n_k])), list(map(float, b[:n_k])), "greater", alpha=level)
        if v != "inconclusive":
            return v, k
    return "inconclusive", len(ns)


def _cell(job):
    kind, kw, reps, seed = job
    rng = np.random.default_rng(seed)
    fn = value_verdict if kind == "value" else pair_verdict
    return [fn(rng, **kw) for _ in range(reps)]


def run_cells(jobs, procs):
    if procs <= 1:
        return [_cell(j) for j in jobs]
    import multiprocessing as mp

    with mp.get_context("fork").Pool(procs) as pool:
        return pool.map(_cell, jobs, chunksize=1)


def rate(xs):
    return sum(xs) / len(xs) if xs else float("nan")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--procs", type=int, default=2, help="worker processes (cells run in parallel)")
    args = ap.parse_args()
    t0 = time.time()
    seeds = iter(np.random.SeedSequence(args.seed).generate_state(10000))
    worst = {"value": 0.0, "comparison": 0.0}

    # -- the cells --------------------------------------------------------------------------
    vcells = []
    for sd in (0.005, 0.02):
        for spread in (None, 0.01):
            for g in (0.0, 0.5, 1.0, 1.5, 3.0):
                vcells.append(dict(sd=sd, spread=spread, g=g, tol=0.02, claimed=0.8, ceiling=False))
    for g in (0.0, 1.0, 2.0):  # near 100%: true mean 1 - g * tol, seeds clipped at 1
        vcells.append(dict(sd=0.01, spread=None, g=-g, tol=0.01, claimed=1.0, ceiling=True))
    ccells = [(0.0, False), (-0.5, False), (0.5, False), (1.0, False), (2.0, False), (3.0, False),
              (0.0, True), (1.0, True)]
    vrows, crows, jobs = [], [], []
    for mode in ("fixed", "sequential"):
        for n in ((3, 5, 10) if mode == "fixed" else (MAX_SEEDS,)):
            for c in vcells:
                kw = dict(n=n, gap=c["g"] * c["tol"], sd=c["sd"], spread=c["spread"], tol=c["tol"],
                          claimed_true=c["claimed"], ceiling=c["ceiling"], seq=mode == "sequential")
                vrows.append((mode, n, c))
                jobs.append(("value", kw, args.reps, int(next(seeds))))
            for d, ceiling in ccells:
                crows.append((mode, n, d, ceiling))
                jobs.append(("pair", dict(n=n, d=d, ceiling=ceiling, seq=mode == "sequential"), args.reps,
                             int(next(seeds))))
    vpow, cpow = [], []
    for sd in (0.005, 0.01, 0.02):
        for spread in (None, 0.005):
            for g in (0.0, 0.5):
                n = value_seeds_to_decide(g * 0.02, 0.02, sd, spread, 1, ALPHA)
                vpow.append((sd, spread, g, n))
                if n is not None and n <= 200:
                    jobs.append(("value", dict(n=n, gap=g * 0.02, sd=sd, spread=spread, tol=0.02, claimed_true=0.8,
                                               ceiling=False), args.reps, int(next(seeds))))
    for d in (0.5, 1.0, 1.5, 2.0, 3.0):
        n = seeds_for_effect(d, 1.0, ALPHA)
        cpow.append((d, n))
        jobs.append(("pair", dict(n=n, d=d, ceiling=False), args.reps, int(next(seeds))))
    results = iter(run_cells(jobs, args.procs))
    vres, cres = {}, {}
    for mode in ("fixed", "sequential"):
        for n in ((3, 5, 10) if mode == "fixed" else (MAX_SEEDS,)):
            for i, _ in enumerate(vcells):
                vres[(mode, n, i)] = next(results)
            for d, ceiling in ccells:
                cres[(mode, n, d, ceiling)] = next(results)

    # -- value claims -----------------------------------------------------------------------
    print("## Value claims (tolerance 0.02; ceiling: claimed 1.0, tolerance 0.01, seeds clipped at 1)\n")
    print("| mode | n | seed sd | paper ± | true gap / tol | wrong success | wrong failure | reproduced | mean rounds |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for (mode, n, i), out in vres.items():
        c = vcells[i]
        vs = [v for v, _ in out]
        equiv = abs(c["g"]) < 1.0
        ws = rate([v == "reproduced" for v in vs]) if not equiv else 0.0
        wf = rate([v == "not reproduced" for v in vs]) if equiv else 0.0
        worst["value"] = max(worst["value"], ws)
        rounds = f"{rate([k for _, k in out]):.2f}" if mode == "sequential" else ""
        print(f"| {mode}{' ceiling' if c['ceiling'] else ''} | {n if mode == 'fixed' else '3→10'} | {c['sd']:g} | "
              f"{c['spread'] or '—'} | {c['g']:g} | {ws:.3f} | {wf:.3f} | "
              f"{rate([v == 'reproduced' for v in vs]):.3f} | {rounds} |")
    print("\nPower of `reproduced` at the seeds planned for the true gap (value_seeds_to_decide):\n")
    print("| seed sd | paper ± | true gap / tol | planned seeds | reproduced |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    value_power = []
    for sd, spread, g, n in vpow:
        if n is None or n > 200:
            print(f"| {sd:g} | {spread or '—'} | {g:g} | none within 200 | — |")
            continue
        p = rate([v == "reproduced" for v, _ in next(results)])
        value_power.append(p)
        print(f"| {sd:g} | {spread or '—'} | {g:g} | {n} | {p:.3f} |")

    # -- comparisons ------------------------------------------------------------------------
    print("\n## Comparison claims \"a > b\" (sd 1; ceiling: both groups clipped at the same bound)\n")
    print("| mode | n | true effect (sd) | wrong success | wrong failure | supported | mean rounds |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for (mode, n, d, ceiling), out in cres.items():
        vs = [v for v, _ in out]
        ws = rate([v == "supported" for v in vs]) if d <= 0 or ceiling else 0.0
        wf = rate([v == "contradicted" for v in vs]) if d > 0 and not ceiling else 0.0
        worst["comparison"] = max(worst["comparison"], ws)
        rounds = f"{rate([k for _, k in out]):.2f}" if mode == "sequential" else ""
        print(f"| {mode}{' ceiling' if ceiling else ''} | {n if mode == 'fixed' else '3→10'} | {d:g} | "
              f"{ws:.3f} | {wf:.3f} | {rate([v == 'supported' for v in vs]):.3f} | {rounds} |")
    print("\nPower of `supported` at the seeds planned for the true effect (seeds_for_effect, 80%):\n")
    print("| true effect (sd) | planned seeds | supported |")
    print("| ---: | ---: | ---: |")
    comp_power = []
    for d, n in cpow:
        p = rate([v == "supported" for v, _ in next(results)])
        comp_power.append(p)
        print(f"| {d:g} | {n} | {p:.3f} |")

    # At the boundary (true gap = tolerance, true effect = 0) a level-alpha test is wrong with
    # probability alpha exactly, so single cells scatter around 0.05; pooled, the cells of each
    # kind give a rate precise to about 0.003. A cell misses the target only if its rate is
    # significantly above alpha (one-sided binomial test at 0.01).
    from scipy import stats as sst

    pooled = {}
    for (mode, n, i), out in vres.items():
        if vcells[i]["g"] in (1.0, -1.0):
            pooled.setdefault(("value", mode), []).extend(v == "reproduced" for v, _ in out)
    for (mode, n, d, ceiling), out in cres.items():
        if d == 0 and not ceiling:
            pooled.setdefault(("comparison", mode), []).extend(v == "supported" for v, _ in out)
    print("\nBoundary cells pooled (true gap = tolerance; true effect = 0):\n")
    print("| kind | mode | claims | wrong successes | rate | 95% interval |")
    print("| --- | --- | ---: | ---: | ---: | --- |")
    for (kind, mode), xs in pooled.items():
        k, m = sum(xs), len(xs)
        lo, hi = sst.binomtest(k, m).proportion_ci(0.95)
        print(f"| {kind} | {mode} | {m} | {k} | {k / m:.4f} | [{lo:.4f}, {hi:.4f}] |")
    worst_p = min(sst.binomtest(int(round(r * args.reps)), args.reps, ALPHA, alternative="greater").pvalue
                  for r in (worst["value"], worst["comparison"]))
    se = math.sqrt(0.05 * 0.95 / args.reps)
    print(f"\nWorst wrong-success rate: value {worst['value']:.3f}, comparison {worst['comparison']:.3f} "
          f"(target <= {ALPHA}; Monte-Carlo se at 0.05: {se:.3f}; binomial p of the worst against "
          f"{ALPHA}: {worst_p:.3f})")
    print(f"Lowest power at the planned seeds: value {min(value_power):.3f}, comparison {min(comp_power):.3f} "
          f"(target >= 0.8)")
    print(f"{args.reps} claims per cell, {len(jobs)} cells, {time.time() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
