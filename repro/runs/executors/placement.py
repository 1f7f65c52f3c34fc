"""Where a run goes on this machine: which GPU(s), and whether it may share them.

Pure bookkeeping (no torch, no processes), so it is tested with fake device lists.

- A run needs `gpus_needed(spec)` devices: trainer.devices when it is an int > 1 (DDP),
  else 1 on a GPU machine, 0 on a CPU-only one.
- A GPU holds at most `runs_per_device` single-GPU runs at once.
- `resources.gpu_mem_gb` keeps big runs from being packed: runs on one device must fit in
  its memory together (runs that state no requirement count as memory / runs_per_device);
  when the device memory is unknown, a run that states a requirement gets the device alone.
- A multi-device run takes whole, idle devices (it runs DDP across them).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from ...envinfo import nvidia_smi


def devices_asked(trainer: dict[str, Any]) -> int:
    """trainer.devices as a count (int or list); 1 by default, and for "auto" or -1: one
    device per run is the sane default for a sweep."""
    d = trainer.get("devices", 1)
    if isinstance(d, list):
        return len(d)
    return d if isinstance(d, int) and not isinstance(d, bool) and d > 0 else 1


def gpus_needed(values: dict[str, Any], gpu_machine: bool) -> int:
    """Devices a run asks for on this machine (0: a single CPU process)."""
    tr = values.get("trainer", {}) or {}
    n = devices_asked(tr)
    if not gpu_machine or tr.get("accelerator") == "cpu":
        return 0 if n <= 1 else n  # CPU DDP: n processes, n CPU slots
    return n


def gpu_mem_gb(values: dict[str, Any]) -> float | None:
    v = (values.get("resources", {}) or {}).get("gpu_mem_gb")
    return float(v) if v else None


def gpu_memory_gb() -> dict[str, float]:
    """Total memory per visible GPU index, from nvidia-smi (empty when unknown)."""
    out = nvidia_smi("--query-gpu=index,memory.total", "--format=csv,noheader,nounits")
    if out is None:
        return {}
    mem: dict[str, float] = {}
    for line in out.splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) == 2 and parts[1].replace(".", "", 1).isdigit():
            mem[parts[0]] = float(parts[1]) / 1024
    # Indices are physical; CUDA_VISIBLE_DEVICES renumbers, so map visible order if set.
    env = os.environ.get("CUDA_VISIBLE_DEVICES")
    if env:
        return {d.strip(): mem[d.strip()] for d in env.split(",") if d.strip() in mem}
    return mem


@dataclass
class DeviceBook:
    """Who uses which GPU right now."""

    devices: list[str]
    runs_per_device: int = 1
    memory_gb: dict[str, float] = field(default_factory=dict)
    _users: dict[str, list[tuple[str, float | None]]] = field(default_factory=dict)  # dev -> [(run, mem)]
    _whole: dict[str, str] = field(default_factory=dict)  # dev -> run holding it alone

    def __post_init__(self) -> None:
        for d in self.devices:
            self._users.setdefault(d, [])

    def _share_mem(self, dev: str) -> float | None:
        total = self.memory_gb.get(dev)
        return total / self.runs_per_device if total else None

    def can_share(self, dev: str, mem: float | None) -> bool:
        """May a single-GPU run needing `mem` GB start on `dev` now?"""
        if dev in self._whole:
            return False
        users = self._users[dev]
        if len(users) >= self.runs_per_device:
            return False
        total = self.memory_gb.get(dev)
        if mem is None:
            if any(m is not None for _, m in users) and total is None:
                return False  # someone asked for the device alone
            need = self._share_mem(dev) or 0.0
        else:
            if total is None:
                return not users  # unknown memory: a stated requirement runs alone
            if mem > total:
                return not users  # will probably not fit at all; at least do not crowd it
            need = mem
        if total is None:
            return True
        used = sum(m if m is not None else (self._share_mem(dev) or 0.0) for _, m in users)
        return used + need <= total + 1e-9

    def take_share(self, dev: str, run: str, mem: float | None) -> None:
        self._users[dev].append((run, mem))

    def free_devices(self) -> list[str]:
        return [d for d in self.devices if not self._users[d] and d not in self._whole]

    def take_whole(self, n: int, run: str) -> list[str] | None:
        """n idle devices for a DDP run, or None when not that many are idle."""
        free = self.free_devices()
        if len(free) < n:
            return None
        got = free[:n]
        for d in got:
            self._whole[d] = run
        return got

    def release(self, run: str) -> None:
        for d in self.devices:
            self._users[d] = [(r, m) for r, m in self._users[d] if r != run]
            if self._whole.get(d) == run:
                del self._whole[d]

    def load(self, dev: str) -> int:
        return len(self._users[dev]) + (self.runs_per_device if dev in self._whole else 0)
