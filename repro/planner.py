"""The plan of a sweep: every config x every seed, with cache keys and what is already done.

Pure file reading and hashing: planning, `--dry-run` and a no-op rerun never import torch.
"""

from __future__ import annotations

import hashlib
import json
import shlex
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from . import __version__
from .configs import ResolvedConfig, resolve_configs
from .paper import Paper
from .results import metrics_problem, read_summary, run_dir

# What to do with a run: skip it, start it, or continue it from its checkpoint.
CACHED, TODO, RESUME = "cached", "todo", "resume"


@dataclass
class RunSpec:
    """Everything a worker needs to execute one run; plain data, picklable."""

    paper_id: str
    paper_root: str
    config: str
    seed: int
    values: dict[str, Any]          # resolved config (model/data/trainer/resources/description)
    metrics: list[tuple[str, str]]  # (name, goal) from paper.yaml
    cache_key: str
    run_dir: str
    command: str
    git: dict[str, Any] = field(default_factory=dict)
    tracking: list[dict[str, Any]] = field(default_factory=list)  # repro.tracking.Tracker.to_json(); not in the cache key

    @property
    def name(self) -> str:
        return f"{self.config}/seed-{self.seed}"

    @property
    def timeout_s(self) -> float | None:
        t = self.values.get("resources", {}).get("timeout_s")
        return float(t) if t else None

    @property
    def gpus(self) -> int:
        """GPUs the run asks for (trainer.devices when the accelerator is a GPU)."""
        tr = self.values.get("trainer", {})
        if tr.get("accelerator") not in ("gpu", "cuda"):
            return 0
        d = tr.get("devices", 1)
        return d if isinstance(d, int) and d > 0 else (len(d) if isinstance(d, list) else 1)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class PlannedRun:
    spec: RunSpec
    action: str          # cached | todo | resume
    why: str             # a few words: "finished", "new", "config changed", "corrupt summary", ...


def code_hash(paper: Paper) -> str:
    """Hash of the paper folder's code: every .py file, by relative path and content."""
    h = hashlib.sha256()
    for p in sorted(paper.root.rglob("*.py")):
        if "__pycache__" in p.parts:
            continue
        h.update(str(p.relative_to(paper.root)).encode())
        h.update(b"\0")
        h.update(p.read_bytes())
        h.update(b"\0")
    return h.hexdigest()


def cache_key(values: dict[str, Any], seed: int, code: str) -> str:
    """Resolved config + seed + the paper's code + the package version."""
    # resources (time limit, memory) do not change what a run computes.
    payload = {
        "config": {k: v for k, v in values.items() if k not in ("resources", "description")},
        "seed": seed,
        "code": code,
        "repro": __version__,
    }
    blob = json.dumps(payload, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()


def decide(rdir: Path, key: str) -> tuple[str, str]:
    """(action, why) for the run folder `rdir` given the cache key the run should have."""
    summary, problem = read_summary(rdir)
    if problem:
        return TODO, f"corrupt summary, redo ({problem})"
    if summary is None:
        return TODO, "new"
    same = summary.get("cache_key") == key
    status = summary.get("status")
    if same and status == "finished":
        bad = metrics_problem(rdir / "metrics.jsonl")
        if bad:
            return TODO, f"corrupt metrics, redo ({bad})"
        return CACHED, "finished"
    if same and status == "running" and (rdir / "checkpoints" / "last.ckpt").is_file():
        return RESUME, "interrupted, resume from checkpoint"
    if not same:
        return TODO, "config or code changed"
    return TODO, f"previous attempt {status}"


_decide = decide  # the name before it was public


def plan(
    paper: Paper,
    results_root: Path,
    *,
    only: list[str] | None = None,
    seeds: list[int] | None = None,
    git: dict[str, Any] | None = None,
    configs: list[ResolvedConfig] | None = None,
) -> list[PlannedRun]:
    """The sweep for `paper`: one PlannedRun per (config, seed), in run order."""
    configs = configs if configs is not None else resolve_configs(paper, only)
    seeds = seeds if seeds is not None else paper.seeds
    metrics = [(m.name, m.goal) for m in paper.metrics]
    code = code_hash(paper)
    command = " ".join(shlex.quote(a) for a in ["repro", *sys.argv[1:]]) if sys.argv else "repro run"
    out: list[PlannedRun] = []
    for cfg in configs:
        for seed in seeds:
            key = cache_key(cfg.values, seed, code)
            rdir = run_dir(results_root, paper.id, cfg.name, seed, paper.config_set)
            action, why = decide(rdir, key)
            spec = RunSpec(
                paper_id=paper.id,
                paper_root=str(paper.root),
                config=cfg.name,
                seed=seed,
                values=cfg.values,
                metrics=metrics,
                cache_key=key,
                run_dir=str(rdir),
                command=command,
                git=dict(git or {}),
            )
            out.append(PlannedRun(spec, action, why))
    return out
