"""YAML reading and writing with errors that name the file and the line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .atomic import atomic_write_text
from .errors import YamlError


def load_yaml(path: str | Path, *, required: bool = True) -> Any:
    """Parse a YAML file; a syntax error becomes a YamlError naming file and line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if not required:
            return None
        raise YamlError(f"file not found: {path}", where=str(path)) from None
    except UnicodeDecodeError as e:
        raise YamlError(f"not UTF-8 text ({e.reason})", where=str(path)) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise YamlError(
            f"YAML syntax error: {problem}",
            hint="check indentation and quoting on that line",
            where=line,
        ) from None


def load_mapping(path: str | Path, *, required: bool = True) -> dict:
    """Like load_yaml, but the top level must be a mapping (an empty file is {})."""
    data = load_yaml(path, required=required)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise YamlError(
            f"expected a mapping at the top level, got {type(data).__name__}", where=str(path)
        )
    return data


def dump_yaml(obj: Any) -> str:
    return yaml.safe_dump(obj, sort_keys=False, allow_unicode=True, default_flow_style=False)


def write_yaml(path: str | Path, obj: Any) -> None:
    atomic_write_text(path, dump_yaml(obj))


def flatten(d: Any, prefix: str = "") -> dict[str, Any]:
    """{"model": {"lr": 0.1}} -> {"model.lr": 0.1} (an empty mapping stays a value; not a
    mapping: {})."""
    out: dict[str, Any] = {}
    if isinstance(d, dict):
        for k, v in d.items():
            key = f"{prefix}{k}"
            if isinstance(v, dict) and v:
                out.update(flatten(v, key + "."))
            else:
                out[key] = v
    return out
