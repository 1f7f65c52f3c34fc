"""A paper folder (`papers/<id>/`): locating it and reading its files.

Nothing here imports torch: `repro run` with nothing to do, `repro report` and
`repro site` only read YAML and results.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import PaperFolderError
from .yamlio import load_mapping

REQUIRED_FILES = ("paper.yaml", "model.py", "data.py", "configs/base.yaml")
RESERVED_CONFIG_NAMES = ("base",)
DEFAULT_SEEDS = (0, 1, 2)


@dataclass(frozen=True)
class MetricSpec:
    name: str
    goal: str  # "max" or "min": which direction is better


@dataclass
class Paper:
    """A loaded paper folder."""

    root: Path
    meta: dict[str, Any]

    @property
    def id(self) -> str:
        return self.root.name

    @property
    def title(self) -> str:
        return str(self.meta.get("title") or self.id)

    @property
    def reproduction(self) -> dict[str, Any]:
        return self.meta.get("reproduction") or {}

    @property
    def seeds(self) -> list[int]:
        seeds = self.reproduction.get("seeds", list(DEFAULT_SEEDS))
        if not isinstance(seeds, list) or not all(isinstance(s, int) for s in seeds) or not seeds:
            raise PaperFolderError(
                "reproduction.seeds must be a non-empty list of integers",
                where=str(self.root / "paper.yaml"),
            )
        return seeds

    @property
    def metrics(self) -> list[MetricSpec]:
        raw = self.reproduction.get("metrics") or {}
        out: list[MetricSpec] = []
        if isinstance(raw, list):  # plain list: assume bigger is better unless named *loss*/ppl
            raw = {m: {} for m in raw}
        if not isinstance(raw, dict):
            raise PaperFolderError(
                "reproduction.metrics must map metric names to {goal: max|min}",
                where=str(self.root / "paper.yaml"),
            )
        for name, spec in raw.items():
            goal = (spec or {}).get("goal") if isinstance(spec, dict) else spec
            if goal is None:
                goal = "min" if any(k in name for k in ("loss", "ppl", "perplexity", "error")) else "max"
            if goal not in ("max", "min"):
                raise PaperFolderError(
                    f"metric {name!r}: goal must be 'max' or 'min', not {goal!r}",
                    where=str(self.root / "paper.yaml"),
                )
            out.append(MetricSpec(str(name), goal))
        return out

    @property
    def proxy(self) -> str | None:
        return self.reproduction.get("proxy")

    @property
    def baseline_config(self) -> str:
        return str(self.reproduction.get("baseline", "baseline"))

    # -- configs -----------------------------------------------------------------
    def config_files(self) -> dict[str, Path]:
        """Config name -> override file, in run order: baseline, method, ablations A-Z."""
        cdir = self.root / "configs"
        found: dict[str, Path] = {}
        for name in ("baseline", "method"):
            p = cdir / f"{name}.yaml"
            if p.exists():
                found[name] = p
        abl = cdir / "ablations"
        if abl.is_dir():
            for p in sorted(abl.glob("*.yaml")):
                name = p.stem
                if name in found or name in RESERVED_CONFIG_NAMES:
                    raise PaperFolderError(
                        f"ablation {p.name} has the same name as another config",
                        hint="rename the ablation file; config names must be unique",
                        where=str(p),
                    )
                found[name] = p
        return found


def load_paper(path: str | Path) -> Paper:
    """Load `papers/<id>/`, checking the files a run needs are there."""
    root = Path(path).resolve()
    if not root.is_dir():
        raise PaperFolderError(
            f"no paper folder at {path}",
            hint="give the folder made by `repro new`, e.g. papers/1611.03530",
        )
    missing = [f for f in REQUIRED_FILES if not (root / f).is_file()]
    if missing:
        raise PaperFolderError(
            f"paper folder {path} is missing {', '.join(missing)}",
            hint="`repro new <arxiv-id>` scaffolds a complete folder",
            where=str(root),
        )
    meta = load_mapping(root / "paper.yaml")
    return Paper(root=root, meta=meta)


def find_papers(papers_dir: str | Path) -> list[Path]:
    """Every paper folder under papers/ (a folder with a paper.yaml), sorted."""
    base = Path(papers_dir)
    if not base.is_dir():
        return []
    return sorted(p for p in base.iterdir() if p.is_dir() and (p / "paper.yaml").is_file())
