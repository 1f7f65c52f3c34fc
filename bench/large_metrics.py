"""A no-op `repro run` and the site against an 80 MB metrics.jsonl (issue 14, item 11).

Baseline, in the same run: reading the whole file and parsing every line, as the no-op check
and the site's curves did before. Prints seconds and peak Python memory (tracemalloc, measured
in a second pass so the timings are not slowed by it) and the ratios.

    python bench/large_metrics.py [MB]
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from repro.runs.planner import decide  # noqa: E402
from repro.results import metrics_problem, read_metrics  # noqa: E402


def whole_file(path: Path) -> int:
    """The old way: read_bytes, then json.loads of every line."""
    rows = [json.loads(line) for line in path.read_bytes().splitlines() if line.strip()]
    return len(rows)


def measure(fn) -> tuple[float, float]:
    t = time.perf_counter()
    fn()
    dt = time.perf_counter() - t
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return dt, peak / 1e6


def main() -> None:
    mb = float(sys.argv[1]) if len(sys.argv) > 1 else 80
    with tempfile.TemporaryDirectory() as d:
        rdir = Path(d) / "run"
        rdir.mkdir()
        f = rdir / "metrics.jsonl"
        with open(f, "w") as fh:
            e = 0
            while fh.tell() < mb * 1e6:
                for s in range(10000):
                    fh.write(json.dumps({"kind": "step", "step": e * 10000 + s, "epoch": e, "loss": 0.123456789}) + "\n")
                fh.write(json.dumps({"kind": "epoch", "step": e, "epoch": e, "val_acc": 0.5}) + "\n")
                e += 1
        size = f.stat().st_size
        (rdir / "summary.json").write_text(json.dumps({"status": "finished", "cache_key": "k", "final": {},
                                                       "metrics_bytes": size}))
        base_t, base_m = measure(lambda: whole_file(f))
        print(f"metrics.jsonl: {size / 1e6:.0f} MB, {e} epochs")
        print(f"baseline (whole file, every line parsed): {base_t:.2f} s, peak {base_m:.0f} MB")
        for name, fn in [
            ("no-op check with the recorded size", lambda: decide(rdir, "k")),
            ("no-op check of an older summary (streamed)", lambda: metrics_problem(f)),
            ("site: epoch rows only", lambda: read_metrics(f, epoch_only=True)),
        ]:
            t, m = measure(fn)
            print(f"{name}: {t:.3f} s ({t / base_t:.3f}x), peak {m:.1f} MB ({m / base_m:.4f}x)")


if __name__ == "__main__":
    main()
