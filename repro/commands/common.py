"""Helpers shared by the commands: where papers/ and results/ are."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import UsageError


def project_root_of(paper_dir: Path) -> Path:
    """papers/<id>/ lives in the project root; results/ and site/ sit beside papers/."""
    paper_dir = paper_dir.resolve()
    return paper_dir.parent.parent if paper_dir.parent.name == "papers" else Path.cwd()


def results_root_for(paper_dir: Path, results: str | None) -> Path:
    return Path(results).resolve() if results else project_root_of(paper_dir) / "results"


def parse_int_list(value: str | None, what: str) -> list[int] | None:
    if value is None:
        return None
    try:
        out = [int(x) for x in value.split(",") if x.strip() != ""]
    except ValueError:
        raise UsageError(f"{what} must be comma-separated integers, got {value!r}", hint=f"e.g. {what} 0,1,2") from None
    if not out:
        raise UsageError(f"{what} is empty")
    return out


def split_names(values: tuple[str, ...]) -> list[str] | None:
    names = [n.strip() for v in values for n in v.split(",") if n.strip()]
    return names or None


paper_argument = click.argument("paper", type=click.Path(path_type=Path))
config_set_option = click.option(
    "--config-set", "config_set", metavar="NAME", default=None,
    help="Use the paper's config set NAME, papers/<id>/configs-NAME/ (e.g. gpu: the GPU-scale "
         "set in configs-gpu/), instead of configs/. Its results are kept apart, in "
         "results/<id>@NAME/.",
)
results_option = click.option(
    "--results", "results", metavar="DIR", default=None,
    help="Results folder (default: results/ beside papers/).",
)


def track_options(f):
    """--track KIND[=URI] (repeatable) and --no-track, shared by `repro run` and `repro track`."""
    f = click.option("--no-track", is_flag=True, help="Ignore paper.yaml's tracking: section for this command.")(f)
    return click.option(
        "--track", "track", multiple=True, metavar="KIND[=URI]",
        help="Mirror runs to mlflow, wandb or tensorboard (repeatable); URI: MLflow tracking URI or "
             "the W&B/TensorBoard directory. Default: paper.yaml's tracking: section.")(f)
