"""Synthetic paper folders and results on disk, for the site tests and bench/site_build.py.

Writes exactly what `repro run` leaves (results.py: summary.json, metrics.jsonl, config.yaml,
env.json, run.log) without training anything, so the site can be built for 100 papers in a
test. Values are drawn from a seeded RNG: the same arguments give the same files.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import yaml

HOSTILE = "<script>alert(1)</script>"


def _w(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def make_paper(root: Path, pid: str, *, title: str | None = None, configs: tuple[str, ...] = ("baseline", "method", "small", "wide"),
               metrics: dict[str, str] | None = None, meta_extra: dict[str, Any] | None = None,
               claims: list[dict[str, Any]] | None = None, proxy: str | None = "tiny MLP on synthetic blobs") -> Path:
    """papers/<pid>/ with baseline, method and the other names as ablations."""
    metrics = metrics or {"test_acc": "max", "train_loss": "min"}
    folder = root / "papers" / pid
    meta = {
        "id": pid, "version": "v1", "title": title or f"Synthetic paper {pid}",
        "authors": ["Ada Lovelace", "Alan Turing"], "abstract": "We study things.\n\nAnd more things.",
        "published": "2020-01-01", "categories": ["cs.LG"],
        "links": {"code": ["https://github.com/example/code"], "data": [], "project": []},
        "reproduction": {"seeds": [0, 1, 2], "metrics": {m: {"goal": g} for m, g in metrics.items()},
                         "baseline": "baseline", "proxy": proxy},
    }
    meta.update(meta_extra or {})
    _w(folder / "paper.yaml", yaml.safe_dump(meta, sort_keys=False, allow_unicode=True))
    _w(folder / "model.py", "# synthetic\n")
    _w(folder / "data.py", "# synthetic\n")
    _w(folder / "configs" / "base.yaml", "model: {}\ndata: {}\ntrainer: {max_epochs: 5}\n")
    for c in configs:
        sub = "" if c in ("baseline", "method") else "ablations/"
        _w(folder / "configs" / f"{sub}{c}.yaml", "model: {hidden: 8}\n")
    if claims is None:
        m = next(iter(metrics))
        claims = [
            {"id": "method-value", "text": "The method reaches 0.9 test accuracy", "kind": "value",
             "config": "method", "metric": m, "value": 0.9, "spread": 0.01, "tolerance": {"abs": 0.02},
             "source": {"table": 1, "row": "method", "column": m, "page": 5}, "status": "confirmed"},
            {"id": "baseline-value", "text": "The baseline reaches 0.5", "kind": "value",
             "config": "baseline", "metric": m, "value": 0.5, "source": {"figure": "2a", "page": 6}},
            {"id": "method-beats-baseline", "text": "Method beats baseline", "kind": "comparison",
             "metric": m, "a": "method", "relation": "greater", "b": "baseline", "status": "confirmed"},
            {"id": "bleu", "text": "28.4 BLEU on WMT14", "kind": "value", "config": None, "metric": "bleu",
             "value": 28.4, "note": "WMT14 is not part of the proxy"},
        ]
    _w(folder / "claims.yaml", yaml.safe_dump({"claims": claims}, sort_keys=False, allow_unicode=True))
    return folder


def make_results(root: Path, pid: str, *, configs: tuple[str, ...] = ("baseline", "method", "small", "wide"),
                 seeds: tuple[int, ...] = (0, 1, 2, 3, 4), epochs: int = 10, metrics: tuple[str, ...] = ("test_acc", "train_loss"),
                 failed: tuple[tuple[str, int], ...] = (), rng_seed: int = 0, log_text: str | None = None) -> Path:
    """results/<pid>/<config>/seed-<n>/ for every config x seed; `failed` runs fail at epoch 2."""
    rng = random.Random(f"{pid}-{rng_seed}")
    base = root / "results" / pid
    for ci, config in enumerate(configs):
        level = {"baseline": 0.5, "method": 0.9}.get(config, 0.6 + 0.05 * ci)
        for seed in seeds:
            d = base / config / f"seed-{seed}"
            d.mkdir(parents=True, exist_ok=True)
            bad = (config, seed) in failed
            rows = []
            n_ep = 2 if bad else epochs
            for ep in range(n_ep):
                frac = (ep + 1) / epochs
                row: dict[str, Any] = {"kind": "epoch", "step": (ep + 1) * 10, "epoch": ep}
                for m in metrics:
                    if "loss" in m:
                        row[m] = (1 - level) * (2.0 - frac) + rng.gauss(0, 0.02)
                    else:
                        row[m] = level * (0.6 + 0.4 * frac) + rng.gauss(0, 0.01)
                rows.append(row)
                rows.append({"kind": "step", "step": (ep + 1) * 10, "epoch": ep, "loss": rng.random()})
            (d / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
            final = {m: rows[-2][m] for m in metrics}
            summary = {
                "status": "failed" if bad else "finished", "final": final, "best": final,
                "epochs": n_ep, "steps": n_ep * 10, "wall_time_s": 12.5 + seed, "device": "cpu",
                "n_devices": 1, "device_hours": round((12.5 + seed) / 3600, 6), "cache_key": f"k{pid}{config}{seed}",
                "started_at": f"2026-01-0{1 + seed % 9}T10:00:00", "ended_at": f"2026-01-0{1 + seed % 9}T10:00:{12 + seed}",
                "error": "ValueError: deliberate crash" if bad else None, "paper": pid, "config": config, "seed": seed,
                "log": "run.log",
            }
            (d / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
            (d / "config.yaml").write_text(yaml.safe_dump({"model": {"hidden": 8}, "data": {}, "trainer": {"max_epochs": epochs}}), encoding="utf-8")
            env = {"python": "3.11.2", "platform": "Linux", "hostname": "box", "packages": {"torch": "2.13.0", "repro": "0.1.0"},
                   "torch_cuda": None, "cuda_available": False, "gpu": None, "gpu_count": 0, "torch_threads": 1,
                   "git": {"commit": "abc123", "dirty": False}, "seed": seed, "command": f"repro run papers/{pid}",
                   "cache_key": summary["cache_key"], "cwd": "/x"}
            (d / "env.json").write_text(json.dumps(env), encoding="utf-8")
            (d / "run.log").write_text(log_text if log_text is not None else
                                       f"[repro] starting {pid} {config} seed {seed}\n" + ("Traceback ...\nValueError: deliberate crash\n" if bad else "[repro] finished\n"),
                                       encoding="utf-8")
    return base


def make_many(root: Path, n_papers: int, *, n_configs: int = 4, n_seeds: int = 5, epochs: int = 20) -> list[str]:
    """n_papers papers, each with n_configs x n_seeds runs (the benchmark's shape)."""
    names = ("baseline", "method") + tuple(f"abl{i}" for i in range(max(0, n_configs - 2)))
    names = names[:n_configs]
    ids = []
    for i in range(n_papers):
        pid = f"2001.{i:05d}"
        make_paper(root, pid, configs=names)
        make_results(root, pid, configs=names, seeds=tuple(range(n_seeds)), epochs=epochs)
        ids.append(pid)
    return ids
