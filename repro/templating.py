"""Where the Jinja2 templates are, installed or in a checkout."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=1)
def templates_dir() -> Path:
    # In a wheel, templates/ is force-included as repro/templates; in a checkout
    # (editable install) it sits beside the package at the top level.
    here = Path(__file__).resolve().parent
    for cand in (here / "templates", here.parent / "templates"):
        if cand.is_dir():
            return cand
    raise FileNotFoundError("repro's templates/ folder is missing from this installation")


def jinja_env(*, html: bool, extra_dirs: list[Path] | None = None):
    """A Jinja2 environment over templates/ (and `extra_dirs` first, for per-paper overrides).

    html=True turns autoescape on: everything from a paper or a user is escaped.
    """
    import jinja2

    loader = jinja2.FileSystemLoader([str(d) for d in (extra_dirs or [])] + [str(templates_dir())])
    return jinja2.Environment(
        loader=loader,
        autoescape=html,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
