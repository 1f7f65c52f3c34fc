"""Local executor: scheduler overhead per run and how busy it keeps every worker.

    python bench/executor_overhead.py [--runs 24] [--workers 2]

A sweep of many short runs (the tiny test paper, two epochs of 4 steps each) goes through the
LocalExecutor. Figures:
- per worker, busy time / wall time, wall measured from the worker's first run to the end of
  the sweep (worker start-up, i.e. importing torch once, is reported apart). Target >= 0.9.
- scheduler overhead per run: worker wall time not spent inside training.execute (dispatch,
  result hand-back, idle gaps), divided by the runs.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from helpers.tinypaper import make_tiny_paper  # noqa: E402

from repro.runs.executors.local import LocalExecutor, make_slots  # noqa: E402
from repro.paper import load_paper  # noqa: E402
from repro.runs.planner import plan  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=24)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--step-sleep", type=float, default=0.05, help="seconds per training step")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        seeds = tuple(range(max(1, args.runs // 2)))
        folder = make_tiny_paper(root, seeds=seeds, epochs=2)
        # ~0.5 s of (sleeping) training per run: short, and not skewed by other load on the cores.
        base = folder / "configs" / "base.yaml"
        base.write_text(base.read_text().replace("  lr: 0.1\n", f"  lr: 0.1\n  step_sleep: {args.step_sleep}\n"))
        specs = [r.spec for r in plan(load_paper(folder), root / "results")]
        ex = LocalExecutor(make_slots(workers=args.workers, devices=[], cpus=args.workers))
        t0 = time.monotonic()
        jobs = [ex.submit(s) for s in specs]
        try:
            while not all(j.done for j in jobs):
                ex.poll(0.05)
            t_end = time.monotonic()  # the sweep is done; worker shutdown is not part of it
        finally:
            ex.shutdown()
    failed = [j.name for j in jobs if j.state != "finished"]
    if failed:
        print(f"runs failed: {failed}", file=sys.stderr)
        return 1
    by_worker: dict[str, list] = defaultdict(list)
    for j in jobs:
        by_worker[j.where].append(j)
    print(f"sweep: {len(jobs)} runs on {len(by_worker)} workers, {t_end - t0:.1f} s wall")
    first_start = min(j.t_start for j in jobs)
    print(f"worker start-up (spawn + import torch, once per worker): {first_start - t0:.1f} s")
    utils, overheads = [], []
    for where, js in sorted(by_worker.items()):
        start, end = min(j.t_start for j in js), max(j.t_end for j in js)
        wall = t_end - start  # idle at the end of the sweep counts against the worker
        busy = sum(j.t_end - j.t_start for j in js)
        inside = sum(j.summary["wall_time_s"] for j in js)
        utils.append(busy / wall)
        overheads.append(wall - inside)
        print(f"  {where}: {len(js)} runs, busy/wall {busy / wall:.3f}, "
              f"mean run {inside / len(js):.2f} s in training.execute, {(busy - inside) / len(js) * 1000:.0f} ms hand-off per run")
    print(f"busy/wall per worker: min {min(utils):.3f}, mean {sum(utils) / len(utils):.3f} (target >= 0.9)")
    print(f"scheduler overhead per run: {sum(overheads) / len(jobs) * 1000:.0f} ms "
          "(worker wall time outside training.execute, incl. idle tail)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
