"""A paper folder with claims and hand-written run results, for the verdict, report and check tests."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import yaml

from repro.paper import Paper


def make_paper(root: Path, claims: str, configs=("baseline", "method"), ablations=(),
               metrics: dict | None = None, review: str | None = None,
               template: str | None = None) -> Paper:
    """A paper folder with the given claims.yaml body (YAML under `claims:`)."""
    folder = root / "papers" / "0000.00002"
    (folder / "configs" / "ablations").mkdir(parents=True, exist_ok=True)
    meta = {"id": "0000.00002", "version": "v3", "title": "A paper with claims", "authors": ["Ada", "Bob"],
            "reproduction": {"seeds": [0, 1, 2], "metrics": metrics or {"acc": {"goal": "max"}, "loss": {"goal": "min"}},
                             "proxy": "digits instead of ImageNet"}}
    (folder / "paper.yaml").write_text(yaml.safe_dump(meta, sort_keys=False))
    (folder / "model.py").write_text("")
    (folder / "data.py").write_text("")
    (folder / "configs" / "base.yaml").write_text("model: {}\n")
    for c in configs:
        (folder / "configs" / f"{c}.yaml").write_text("model: {}\n")
    for c in ablations:
        (folder / "configs" / "ablations" / f"{c}.yaml").write_text("model: {}\n")
    (folder / "claims.yaml").write_text("claims:\n" + textwrap.indent(textwrap.dedent(claims), "  "))
    if review is not None:
        (folder / "REVIEW.md").write_text(review)
    if template is not None:
        (folder / "report.md.j2").write_text(template)
    from repro.yamlio import load_mapping

    return Paper(root=folder.resolve(), meta=load_mapping(folder / "paper.yaml"))


def write_run(results: Path, config: str, seed: int, status: str = "finished",
              paper_id: str = "0000.00002", **final: float) -> Path:
    d = results / paper_id / config / f"seed-{seed}"
    d.mkdir(parents=True, exist_ok=True)
    summary = {"status": status, "final": final, "best": final, "device_hours": 0.25,
               "wall_time_s": 900.0, "device": "cpu", "ended_at": f"2025-01-0{seed + 1}T10:00:00+00:00",
               "error": None if status == "finished" else f"{status} at epoch 3",
               "paper": paper_id, "config": config, "seed": seed}
    (d / "summary.json").write_text(json.dumps(summary))
    (d / "env.json").write_text(json.dumps({
        "python": "3.11.7", "platform": "Linux", "packages": {"torch": "2.13.0", "scipy": "1.17.1"},
        "git": {"commit": "0123abc", "dirty": False}, "gpu": None, "gpu_count": 0,
        "seed": seed, "command": f"repro run papers/{paper_id}"}))
    return d


def write_group(results: Path, config: str, values, metric: str = "acc") -> None:
    for s, v in enumerate(values):
        write_run(results, config, s, **{metric: v})
