"""A run that spans several devices (DDP), as its own process: `python -m repro.runs.executors.ddp SPEC.json`.

A pool worker cannot host DDP (its children would be daemonic, and Lightning's launcher
re-executes the command line for ranks 1..N-1), so multi-device runs get a fresh process.
Lightning starts the other ranks by re-running this same command with LOCAL_RANK set;
under SLURM (one task per device) the rank comes from the scheduler.

Only rank 0 writes the run folder. Every other rank runs the identical code on a private
scratch copy of it (summary, metrics, last checkpoint), so collective calls (checkpoint
barriers, resume from last.ckpt) happen in the same order on every rank, and nothing a
rank > 0 writes can race with rank 0.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..planner import RunSpec
from ...results import RunStatus


def process_rank() -> int:
    """Global rank of this process in a DDP run (0 outside one)."""
    for var in ("RANK", "SLURM_PROCID", "LOCAL_RANK"):
        v = os.environ.get(var)
        if v is not None and v.strip().isdigit():
            return int(v)
    return 0


def spec_for_rank(spec: RunSpec, rank: int) -> tuple[RunSpec, Path | None]:
    """Rank 0 keeps the spec; other ranks get a scratch copy of the run folder to write in."""
    if rank == 0:
        return spec, None
    scratch = Path(tempfile.mkdtemp(prefix=f"repro-rank{rank}-"))
    src = Path(spec.run_dir)
    for rel in ("summary.json", "metrics.jsonl", "checkpoints/last.ckpt"):
        if (src / rel).is_file():
            (scratch / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src / rel, scratch / rel)
    return replace(spec, run_dir=str(scratch)), scratch


def run_spec(spec: RunSpec, emit=lambda *a, **k: None) -> dict[str, Any]:
    """Execute `spec` in this process as whatever rank it is."""
    from .. import training  # imports torch: only in the run's own process

    spec, scratch = spec_for_rank(spec, process_rank())
    try:
        return training.execute(spec, emit)
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


def spec_from_json(path: Path) -> RunSpec:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    data["metrics"] = [tuple(m) for m in data["metrics"]]
    return RunSpec(**data)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m repro.runs.executors.ddp SPEC.json", file=sys.stderr)
        return 2
    os.environ.setdefault("PYTHONWARNINGS", "ignore::UserWarning")
    from ..interrupts import die_with_parent, handle_stop_signals

    # Every rank stops with its parent (rank 0 with `repro run`, the others with rank 0), even
    # when the parent is killed with -9; a stop leaves the run `running`, resumable.
    handle_stop_signals()
    try:
        die_with_parent(sig=signal.SIGKILL)  # a rank blocked in a collective cannot handle SIGTERM
        summary = run_spec(spec_from_json(Path(argv[0])))
    except KeyboardInterrupt:
        return 130
    finally:
        from ..interrupts import ignore_stop_signals_now

        ignore_stop_signals_now()
    return 0 if summary and summary.get("status") in RunStatus.ENDED else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
