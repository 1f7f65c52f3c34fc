"""`repro new` writes the paper's architecture: how long its CPU proxy takes, how close its counts are.

    python bench/scaffold_family.py [--workers 2] [--skip-run]

On the real 1706.03762 fixtures (../shared/fixtures), into a temporary folder:
  1. `repro new 1706.03762 --pdf --source --offline` (the Transformer family is expected);
  2. the meta-device parameter count of every configs-paper/ config against Table 3's
     "params x10^6" column: computed / claimed per row (ground truth: the paper);
  3. `repro run <paper> --seeds 0` on the CPU proxy (configs/): wall time against the
     2-minute target, and the CPU seconds the runs used (what an idle 2-core machine needs,
     about CPU / 2).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PAPER = REPO.parent / "shared" / "fixtures" / "papers" / "1706.03762"
TARGET_S = 120.0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--skip-run", action="store_true")
    args = ap.parse_args()
    if not (PAPER / "paper.pdf").is_file():
        print("../shared/fixtures is absent")
        return 1
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with tempfile.TemporaryDirectory() as tmp:
        env["REPRO_CACHE"] = str(Path(tmp) / "cache")
        t = time.perf_counter()
        new = subprocess.run([sys.executable, "-m", "repro", "new", "1706.03762", "--pdf", str(PAPER / "paper.pdf"),
                              "--source", str(PAPER / "source.tex"), "--offline", "--papers-dir", f"{tmp}/papers"],
                             env=env, capture_output=True, text=True, check=True)
        print(f"repro new: {time.perf_counter() - t:.1f} s")
        print("\n".join(line for line in new.stdout.splitlines() if "family" in line or "proxy" in line))
        folder = Path(tmp) / "papers" / "1706.03762"

        sys.path.insert(0, str(REPO))
        from repro.literature.archcheck import check_architecture

        rep = check_architecture(folder)
        print("\nconfig                         paper  computed  computed/paper")
        for c in rep.claims:
            if c.computed is not None:
                print(f"{c.config:30s} {c.printed:>5s}  {c.computed:8.2f}  {c.computed / c.claimed:.3f}")
        print(rep.summary)
        if args.skip_run:
            return 0

        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        run = subprocess.run([sys.executable, "-m", "repro", "run", str(folder), "--seeds", "0", "--no-site",
                              "--workers", str(args.workers)], env=env, capture_output=True, text=True, cwd=tmp)
        wall = time.perf_counter() - t
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        runs = sorted((Path(tmp) / "results" / "1706.03762").glob("*/seed-0/summary.json"))
        done = [json.loads(p.read_text()) for p in runs]
        ok = sum(d.get("status") == "finished" for d in done)
        print(f"\nrepro run --seeds 0 --workers {args.workers}: rc {run.returncode}, {ok}/{len(done)} runs finished, "
              f"wall {wall:.1f} s = {wall / TARGET_S:.2f}x the {TARGET_S:.0f} s target; CPU {cpu:.1f} s "
              f"(an idle {args.workers}-core machine: about {cpu / args.workers:.0f} s)")
        base = next((d for d in done if d.get("config") == "baseline"), None)
        if base:
            print(f"baseline: {base['final']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
