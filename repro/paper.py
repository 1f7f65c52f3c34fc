"""A paper folder (`papers/<id>/`): locating it and reading its files.

Nothing here imports torch: `repro run` with nothing to do, `repro report` and
`repro site` only read YAML and results.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import PaperFolderError, UsageError, suggest
from .results import results_name
from .yamlio import load_mapping

REQUIRED_FILES = ("paper.yaml", "model.py", "data.py", "configs/base.yaml")
RESERVED_CONFIG_NAMES = ("base",)
DEFAULT_SEEDS = (0, 1, 2)
# Config sets: `configs/` is the default set; `configs-<name>/` (same layout) is the set <name>,
# e.g. configs-gpu/ (the GPU-scale set), chosen with `--config-set <name>`.
CONFIGS_DIR = "configs"
CONFIG_SET_PREFIX = "configs-"
CONFIG_SET_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


MAX_SEED = 2**32 - 1  # numpy's RandomState (seeded by Lightning's seed_everything) takes 0..2**32-1


def seed_problem(seed: object) -> str | None:
    """Why `seed` cannot seed a run, or None."""
    if not isinstance(seed, int) or isinstance(seed, bool):
        return "is not an integer"
    if not 0 <= seed <= MAX_SEED:
        return f"is out of range (seeds go from 0 to {MAX_SEED})"
    return None


# Config names and paper folder names become folders under results/: like claim ids they start
# with a letter or digit (never `.`, `..`, `.lock`), and they contain no `@` (it separates a
# config set: results/<id>@<set>/) and no `/`.
NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
# Files that live beside the config folders in results/<id>/ (report.md, the lock, jobs.json).
RESERVED_RESULT_NAMES = ("report.md", "jobs.json")


def name_problem(name: str) -> str | None:
    """Why `name` cannot be a config or paper folder name (it would escape or collide), or None."""
    if not NAME_RE.fullmatch(name):
        return "must start with a letter or digit and use only letters, digits, '.', '_' and '-'"
    if name in RESERVED_RESULT_NAMES or name.endswith((".md", ".json", ".log", ".tmp")):
        return "is the name of a file repro keeps in the results folder"
    return None


def config_dir_name(config_set: str | None) -> str:
    """`configs` for the default set, `configs-<name>` for the set <name>."""
    return CONFIGS_DIR if not config_set else f"{CONFIG_SET_PREFIX}{config_set}"


def config_sets(paper_root: str | Path) -> list[str]:
    """Names of the paper's non-default config sets (its `configs-<name>/` folders), sorted."""
    root = Path(paper_root)
    try:
        entries = list(root.iterdir())
    except OSError:
        return []
    out = []
    for d in entries:
        name = d.name[len(CONFIG_SET_PREFIX):]
        if d.name.startswith(CONFIG_SET_PREFIX) and CONFIG_SET_NAME.fullmatch(name) and d.is_dir():
            out.append(name)
    return sorted(out)


@dataclass(frozen=True)
class MetricSpec:
    name: str
    goal: str  # "max" or "min": which direction is better


@dataclass
class Paper:
    """A loaded paper folder."""

    root: Path
    meta: dict[str, Any]
    config_set: str | None = None  # None: configs/; "gpu": configs-gpu/

    @property
    def id(self) -> str:
        return self.root.name

    @property
    def configs_dir(self) -> Path:
        """The folder this paper's configs are read from (configs/ or configs-<set>/)."""
        return self.root / config_dir_name(self.config_set)

    @property
    def results_name(self) -> str:
        """The paper's folder under results/: `<id>`, or `<id>@<set>` for a config set."""
        return results_name(self.id, self.config_set)

    @property
    def title(self) -> str:
        return str(self.meta.get("title") or self.id)

    @property
    def reproduction(self) -> dict[str, Any]:
        return self.meta.get("reproduction") or {}

    @property
    def seeds(self) -> list[int]:
        seeds = self.reproduction.get("seeds", list(DEFAULT_SEEDS))
        where = str(self.root / "paper.yaml")
        if not isinstance(seeds, list) or not all(isinstance(s, int) and not isinstance(s, bool) for s in seeds) \
                or not seeds:
            raise PaperFolderError("reproduction.seeds must be a non-empty list of integers", where=where)
        for s in seeds:
            if seed_problem(s):
                raise PaperFolderError(f"reproduction.seeds: seed {s} {seed_problem(s)}",
                                       hint="seeds are integers from 0 to 4294967295", where=where)
        dup = sorted({s for s in seeds if seeds.count(s) > 1})
        if dup:
            # Two runs of one seed would share (and corrupt) one run folder.
            raise PaperFolderError(f"reproduction.seeds lists seed {', '.join(map(str, dup))} twice",
                                   hint="list each seed once", where=where)
        return seeds

    metrics: list[MetricSpec] = field(init=False, repr=False)  # checked once, when the folder loads

    def __post_init__(self) -> None:
        self.metrics = self._check_metrics()

    def _check_metrics(self) -> list[MetricSpec]:
        raw = self.reproduction.get("metrics") or {}
        out: list[MetricSpec] = []
        if isinstance(raw, list):  # plain list: assume bigger is better unless named *loss*/ppl
            raw = {m: {} for m in raw}
        if not isinstance(raw, dict):
            raise PaperFolderError("reproduction.metrics must map metric names to {goal: max|min}",
                                   where=str(self.root / "paper.yaml"))
        for name, spec in raw.items():
            goal = (spec or {}).get("goal") if isinstance(spec, dict) else spec
            if goal is None:
                goal = "min" if any(k in name for k in ("loss", "ppl", "perplexity", "error")) else "max"
            if goal not in ("max", "min"):
                raise PaperFolderError(f"metric {name!r}: goal must be 'max' or 'min', not {goal!r}",
                                       where=str(self.root / "paper.yaml"))
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
        cdir = self.configs_dir
        found: dict[str, Path] = {}
        for name in ("baseline", "method"):
            p = cdir / f"{name}.yaml"
            if p.exists():
                found[name] = p
        abl = cdir / "ablations"
        if abl.is_dir():
            for p in sorted(abl.glob("*.yaml")):  # pathlib matches dotfiles too: `..yaml`
                name = p.stem
                why = name_problem(name)
                if why:
                    raise PaperFolderError(
                        f"ablation file {p.name!r}: the config name {name!r} {why}",
                        hint="rename the file, e.g. configs/ablations/no-dropout.yaml; the name becomes "
                             "the folder results/<id>/<config>/",
                        where=str(p),
                    )
                if name in found or name in RESERVED_CONFIG_NAMES:
                    raise PaperFolderError(f"ablation {p.name} has the same name as another config",
                                           hint="rename the ablation file; config names must be unique", where=str(p))
                found[name] = p
        return found


def load_paper(path: str | Path, config_set: str | None = None) -> Paper:
    """Load `papers/<id>/`, checking the files a run needs are there.

    config_set: read configs from `configs-<config_set>/` instead of `configs/` (None: the
    default set); an unknown set is a usage error naming the sets the folder has.
    """
    root = Path(path).resolve()
    if not root.is_dir():
        raise PaperFolderError(f"no paper folder at {path}",
                               hint="give the folder made by `repro new`, e.g. papers/1611.03530")
    missing = [f for f in REQUIRED_FILES if not (root / f).is_file()]
    if missing:
        raise PaperFolderError(f"paper folder {path} is missing {', '.join(missing)}",
                               hint="`repro new <arxiv-id>` scaffolds a complete folder", where=str(root))
    why = name_problem(root.name)
    if why:
        raise PaperFolderError(
            f"paper folder name {root.name!r} {why}" + (" ('@' marks a config set in results/<id>@<set>/)"
                                                         if "@" in root.name else ""),
            hint="rename the folder, e.g. papers/1611.03530 or papers/my-paper",
            where=str(root),
        )
    if config_set is not None:
        _check_config_set(root, path, config_set)
    meta = load_mapping(root / "paper.yaml")
    return Paper(root=root, meta=meta, config_set=config_set or None)


def _check_config_set(root: Path, path: str | Path, config_set: str) -> None:
    sets = config_sets(root)
    if config_set in sets:
        base = root / config_dir_name(config_set) / "base.yaml"
        if not base.is_file():
            raise PaperFolderError(f"config set {config_set!r} of {path} is missing {config_dir_name(config_set)}/base.yaml",
                                   hint="a config set has the layout of configs/: base.yaml, baseline.yaml, method.yaml, ablations/",
                                   where=str(base.parent))
        return
    if sets:
        listed = ", ".join(f"{s} ({config_dir_name(s)}/)" for s in sets)
        close = suggest(config_set, sets, n=1)
        hint = (f"{close} " if close else "") + f"config sets of {path}: {listed}; " \
            "leave out --config-set for configs/"
    else:
        hint = f"{path} has only the default set, configs/: leave out --config-set (a set is a configs-<name>/ folder)"
    why = "is not a valid set name (letters, digits, '.', '_', '-')" if not CONFIG_SET_NAME.fullmatch(config_set) \
        else f"is not a config set of {path} (it has no {config_dir_name(config_set)}/ folder)"
    raise UsageError(f"invalid value for --config-set: {config_set!r} {why}", hint=hint)


def find_papers(papers_dir: str | Path) -> list[Path]:
    """Every paper folder under papers/ (a folder with a paper.yaml), sorted."""
    base = Path(papers_dir)
    if not base.is_dir():
        return []
    return sorted(p for p in base.iterdir() if p.is_dir() and (p / "paper.yaml").is_file())
