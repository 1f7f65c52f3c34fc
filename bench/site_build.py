"""Benchmark `repro site`: 100 papers x 20 runs each (4 configs x 5 seeds), cold and warm.

    python bench/site_build.py [--papers 100] [--configs 4] [--seeds 5] [--epochs 20] [--jobs N]

Generates synthetic results in a temporary folder (nothing is trained), then times:
cold (empty site: every plot drawn), warm (nothing changed: no plot redrawn), and a
one-paper update as `repro run` does it (`only=[id]` after that paper's results changed).
The target (issue 5) is at most 10 s for the cold build on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from helpers.site_synth import make_many, make_results  # noqa: E402


def _cpu() -> float:
    """CPU seconds of this process and its waited-for children (the plot workers)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--papers", type=int, default=100)
    ap.add_argument("--configs", type=int, default=4)
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--jobs", type=int, default=None, help="plot processes (default: all cores)")
    args = ap.parse_args(argv)

    from repro.judging.site.build import build_site

    with tempfile.TemporaryDirectory(prefix="repro-site-bench-") as tmp:
        root = Path(tmp)
        t = time.perf_counter()
        ids = make_many(root, args.papers, n_configs=args.configs, n_seeds=args.seeds, epochs=args.epochs)
        runs = args.papers * args.configs * args.seeds
        print(f"generated {args.papers} papers, {runs} runs in {time.perf_counter() - t:.1f} s")
        site = root / "site"
        n_svg = lambda: sum(1 for _ in site.glob("papers/*/plots/*.svg"))  # noqa: E731

        t, c = time.perf_counter(), _cpu()
        build_site(root / "papers", root / "results", site, jobs=args.jobs)
        cold, cold_cpu = time.perf_counter() - t, _cpu() - c
        plots = n_svg()
        print(f"cold: {cold:6.2f} s wall, {cold_cpu:6.2f} s CPU  ({cold / args.papers * 1000:.0f} ms per paper page, "
              f"{plots} plots, {cold_cpu / max(plots, 1) * 1000:.0f} ms CPU per plot at most)")

        t, c = time.perf_counter(), _cpu()
        build_site(root / "papers", root / "results", site, jobs=args.jobs)
        warm, warm_cpu = time.perf_counter() - t, _cpu() - c
        print(f"warm: {warm:6.2f} s wall, {warm_cpu:6.2f} s CPU  ({warm / args.papers * 1000:.0f} ms per paper page, "
              "0 plots redrawn)")

        # One paper re-run with different numbers: its plots are redrawn, nothing else.
        configs = tuple(p.name for p in sorted((root / "results" / ids[0]).iterdir()) if p.is_dir())
        make_results(root, ids[0], configs=configs, seeds=tuple(range(args.seeds)), epochs=args.epochs, rng_seed=1)
        t = time.perf_counter()
        build_site(root / "papers", root / "results", site, only=[ids[0]], jobs=args.jobs)
        one = time.perf_counter() - t
        print(f"one paper updated (only=[{ids[0]}]): {one:.2f} s")
        ok = cold <= 10.0
        print(f"target cold <= 10 s: {'met' if ok else 'NOT met'} (load average {os.getloadavg()[0]:.1f}: "
              "on a busy machine compare CPU seconds / cores instead)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
