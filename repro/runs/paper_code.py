"""Importing a paper's code: model.py and data.py loaded by path, and the one class of each.

Used by the run (training.py) and the architecture check (archcheck.py), so both import a
paper's files the same way. Imports no torch itself; the paper's files do.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from pathlib import Path
from typing import Any

_modules: dict[str, Any] = {}


def load_paper_module(path: Path):
    """Import a paper file by path, once per content (a changed file is re-imported)."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    key = f"{path}:{digest}"
    if key not in _modules:
        name = f"repro_paper_{path.parent.name.replace('.', '_').replace('-', '_')}_{path.stem}_{digest}"
        spec = importlib.util.spec_from_file_location(name, path)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod  # pickling (checkpoints, DDP) needs the module registered
        # data.py may import helpers that sit beside it in the paper folder.
        sys.path.insert(0, str(path.parent))
        try:
            spec.loader.exec_module(mod)
        finally:
            sys.path.remove(str(path.parent))
        _modules[key] = mod
    return _modules[key]


def the_class(mod, base: type) -> type:
    found = [
        v for v in vars(mod).values()
        if isinstance(v, type) and issubclass(v, base) and v is not base and v.__module__ == mod.__name__
    ]
    if len(found) != 1:
        raise RuntimeError(f"{mod.__file__}: expected exactly one {base.__name__} subclass, found {len(found)}")
    return found[0]

