"""Which trackers a run mirrors to: `--track KIND[=URI]` flags, else paper.yaml's `tracking:`
section, resolved to absolute places in the parent so workers need no project root. Sending
runs there is repro/runs/tracking.py's job."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterable

from ..errors import UsageError, suggest


KINDS = ("mlflow", "wandb", "tensorboard")


PACKAGES = {"mlflow": "mlflow", "wandb": "wandb", "tensorboard": "tensorboard"}


@dataclass(frozen=True)
class Tracker:
    """Where one tracker sends runs; resolved in the parent so workers get absolute paths."""

    kind: str
    uri: str | None = None       # mlflow: tracking URI; wandb, tensorboard: a directory
    project: str | None = None   # mlflow: experiment name; wandb: project
    mode: str | None = None      # wandb: online | offline
    entity: str | None = None    # wandb: team or user

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def where(self) -> str:
        return " ".join(x for x in (self.uri, self.project and f"({self.project})", self.mode) if x)


def resolve_trackers(paper, track: Iterable[str] = (), *, project_root: Path, no_track: bool = False) -> list[Tracker]:
    """The trackers for a run of `paper`: `--track KIND[=URI]` flags, else paper.yaml's
    `tracking:` section. A flag takes its other settings from that section when it has them."""
    if no_track:
        return []
    where = str(Path(paper.root) / "paper.yaml")
    section = paper.meta.get("tracking") or {}
    if not isinstance(section, dict):
        raise UsageError("paper.yaml: tracking must map a tracker (mlflow, wandb, tensorboard) to its settings",
                         where=where, hint="e.g. tracking: {mlflow: {uri: http://127.0.0.1:5000, experiment: repro}}")
    for kind, body in section.items():
        _check_kind(kind, "paper.yaml tracking:", where)
        if body is not None and not isinstance(body, dict):
            raise UsageError(f"paper.yaml: tracking.{kind} must be a mapping of settings (uri, project, ...)", where=where)
    asked: dict[str, str | None] = {}
    for flag in track:
        kind, _, uri = str(flag).partition("=")
        _check_kind(kind.strip(), "--track")
        asked[kind.strip()] = uri.strip() or None
    kinds = list(asked) if asked else list(section)
    out = []
    for kind in kinds:
        cfg = dict(section.get(kind) or {})
        uri = asked.get(kind) or cfg.get("uri") or cfg.get("dir")
        out.append(_with_defaults(kind, uri, cfg, paper, Path(project_root)))
    return out


def _check_kind(kind: str, what: str, where: str | None = None) -> None:
    if kind not in KINDS:
        close = suggest(kind, KINDS, n=1, cutoff=0.6)
        raise UsageError(f"{what}: unknown tracker {kind!r}", where=where,
                         hint=(f"{close} " if close else "") + "trackers: " + ", ".join(KINDS))


def _with_defaults(kind: str, uri: str | None, cfg: dict, paper, root: Path) -> Tracker:
    project = cfg.get("experiment") or cfg.get("project") or paper.results_name
    if kind == "mlflow":
        uri = uri or os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{root / 'mlflow.db'}"
        return Tracker(kind, _absolute_uri(uri, root), str(project))
    if kind == "wandb":
        mode = cfg.get("mode") or os.environ.get("WANDB_MODE") or ("online" if os.environ.get("WANDB_API_KEY") else "offline")
        return Tracker(kind, str(_under(root, uri or ".")), str(project), str(mode), cfg.get("entity"))
    return Tracker(kind, str(_under(root, uri or "tensorboard")), None)


def _under(root: Path, p: str) -> Path:
    q = Path(p).expanduser()
    return q if q.is_absolute() else (root / q).resolve()


def _absolute_uri(uri: str, root: Path) -> str:
    """A bare path or relative sqlite/file URI is taken relative to the project root."""
    if "://" not in uri and not uri.startswith("file:"):
        return f"file:{_under(root, uri)}"
    if uri.startswith("sqlite:///") and not uri.startswith("sqlite:////"):
        return f"sqlite:///{_under(root, uri[len('sqlite:///'):])}"
    return uri


def trackers_of(raw: Iterable[dict]) -> list[Tracker]:
    return [Tracker(**d) for d in raw]
