"""The environment a run executed in: git state, packages, Python, CUDA, GPU."""

from __future__ import annotations

import functools
import importlib.metadata
import platform
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

PACKAGES = ("repro", "torch", "lightning", "numpy", "scipy", "scikit-learn", "pyyaml")


def git_state(path: Path) -> dict[str, Any]:
    """Commit and dirty flag of the repository holding `path` (gathered once per sweep)."""

    def git(*args: str) -> str | None:
        try:
            r = subprocess.run(
                ["git", "-C", str(path), *args], capture_output=True, text=True, timeout=10
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        return r.stdout.strip() if r.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    if commit is None:
        return {"commit": None, "dirty": None}
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "dirty": bool(status)}


def package_versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    return out


def runtime_env() -> dict[str, Any]:
    """Python/OS/torch/CUDA facts; called inside a worker, where torch is imported already."""
    import torch

    return {**_static_env(), "torch_threads": torch.get_num_threads()}


@functools.lru_cache(maxsize=1)
def _static_env() -> dict[str, Any]:
    """What cannot change within a worker's life (its packages, its GPUs): gathered once per
    worker, not per run (reading 7 packages' metadata costs 40-100 ms)."""
    import torch

    cuda = torch.cuda.is_available()
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "hostname": socket.gethostname(),
        "packages": package_versions(),
        "torch_cuda": torch.version.cuda,
        "cuda_available": cuda,
        "gpu": torch.cuda.get_device_name(0) if cuda else None,
        "gpu_count": torch.cuda.device_count() if cuda else 0,
    }
