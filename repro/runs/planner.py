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

from .. import __version__
from ..atomic import read_json_dict
from ..configs import ResolvedConfig, resolve_configs
from ..errors import UsageError
from ..paper import Paper, seed_problem
from ..results import metrics_problem, read_summary, run_dir

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
    tracking: list[dict[str, Any]] = field(default_factory=list)  # repro.runs.tracking.Tracker.to_json(); not in the cache key

    @property
    def name(self) -> str:
        return f"{self.config}/seed-{self.seed}"

    @property
    def timeout_s(self) -> float | None:
        t = self.values.get("resources", {}).get("timeout_s")
        return float(t) if t else None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class PlannedRun:
    spec: RunSpec
    action: str          # cached | todo | resume
    why: str             # a few words: "finished", "new", "config changed", "corrupt summary", ...


def check_seeds(seeds: list[int], what: str = "--seeds") -> list[int]:
    """The seeds, checked before anything runs: each within numpy's range, none twice.

    Two runs of one seed would share one run folder: both would write it at once, the second
    "resuming" the first's checkpoint mid-training.
    """
    for s in seeds:
        why = seed_problem(s)
        if why:
            raise UsageError(f"{what}: seed {s!r} {why}", hint="seeds are integers from 0 to 4294967295, e.g. 0,1,2")
    dup = sorted({s for s in seeds if seeds.count(s) > 1})
    if dup:
        raise UsageError(f"{what}: seed {', '.join(map(str, dup))} given twice",
                         hint="each seed is one run folder, seed-<n>; list each seed once")
    return list(seeds)


# What belongs in the cache key (ARCHITECTURE.md, "The cache key"): everything that can change
# what a run computes. Files that never change a run's outcome (the report template, REVIEW.md,
# claims.yaml, configs of other runs, the site, any markdown note) stay out, so editing them
# keeps results: a tuning log written while runs are going must not orphan them.
_NOT_RUN_INPUTS = ("claims.yaml", "report.md.j2", "paper.yaml", "paper.txt")
_NOT_RUN_DIRS = ("__pycache__", "lightning_logs", ".git", ".ipynb_checkpoints")
# repro's own modules that decide a run's outcome (the training loop, seeding, checkpoints,
# resuming, metrics recording, the DDP entry point). Not the site, report or CLI.
RUN_MODULES = ("runs/training.py", "runs/callbacks.py", "runs/paper_code.py", "runs/diskfull.py", "runs/worker.py",
               "runs/executors/ddp.py", "atomic.py")


def code_hash(paper: Paper) -> str:
    """Hash of the paper folder's run inputs: every file (code and data files beside it) by
    relative path and content, except the configs (hashed per run, resolved) and the files
    that only describe the paper (claims, review, report template)."""
    h = hashlib.sha256()
    root = paper.root
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root)
        if any(part in _NOT_RUN_DIRS for part in rel.parts) or not p.is_file():
            continue
        top = rel.parts[0]
        if len(rel.parts) == 1 and top in _NOT_RUN_INPUTS:
            continue
        if any(part.startswith(".") for part in rel.parts):
            continue  # editor swap files, .DS_Store
        if top == "configs" or top.startswith("configs-") or p.suffix in (".pyc", ".md"):
            continue  # the resolved config is hashed per run
        h.update(str(rel).encode())
        h.update(b"\0")
        h.update(p.read_bytes())
        h.update(b"\0")
    return h.hexdigest()


_repro_hash: str | None = None


def repro_code_hash() -> str:
    """Hash of repro's modules that determine a run's outcome (RUN_MODULES)."""
    global _repro_hash
    if _repro_hash is None:
        here = Path(__file__).resolve().parents[1]
        h = hashlib.sha256()
        for rel in RUN_MODULES:
            h.update(rel.encode() + b"\0" + (here / rel).read_bytes() + b"\0")
        _repro_hash = h.hexdigest()
    return _repro_hash


def cache_key(values: dict[str, Any], seed: int, code: str) -> str:
    """Resolved config + seed + the paper's run inputs + repro's run code.

    Package versions (torch, Lightning, numpy, Python) are not in it: they are recorded in each
    run's env.json and `--dry-run` lists every change, but a results folder made on a GPU machine
    or with last month's Lightning stays judged (ARCHITECTURE.md, "The cache key")."""
    # resources (time limit, memory) do not change what a run computes.
    payload = {
        "config": {k: v for k, v in values.items() if k not in ("resources", "description")},
        "seed": seed,
        "code": code,
        "repro": __version__,
        "repro_code": repro_code_hash(),
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
        size = summary.get("metrics_bytes")
        bad = metrics_problem(rdir / "metrics.jsonl", size if isinstance(size, int) else None)
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
    seeds = check_seeds(seeds) if seeds is not None else paper.seeds
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


def environment_changes(planned: list[PlannedRun]) -> list[str]:
    """How this machine's environment differs from the one the cached runs recorded (env.json):
    one line per changed package or Python version. Shown by `--dry-run`; none of them is in the
    cache key, so cached runs are kept (rerun into a fresh --results to compare)."""
    from ..envinfo import package_versions

    now = {**package_versions(), "python": sys.version.split()[0]}
    seen: dict[tuple[str, str], list[str]] = {}
    for r in planned:
        env = read_json_dict(Path(r.spec.run_dir) / "env.json")
        if env is None:
            continue
        old = {**(env.get("packages") if isinstance(env.get("packages"), dict) else {}), "python": env.get("python")}
        for name, version in now.items():
            if name in old and old[name] != version:
                seen.setdefault((name, f"{old[name]} -> {version}"), []).append(r.spec.name)
    lines = []
    for (name, change), runs in sorted(seen.items()):
        lines.append(f"{name} {change} since {len(runs)} cached run(s) (not in the cache key: cached runs are kept)")
    return lines
