"""The static results site (`repro site`): index of papers, one page per paper, plots.

`build_site` lives in repro.judging.site.build; matplotlib is imported only by repro.judging.site.plots,
and only when a plot has to be redrawn.
"""

from __future__ import annotations

from pathlib import Path


def build_site(papers_dir: str | Path, results_root: str | Path, site_dir: str | Path,
               only: list[str] | None = None, **kwargs) -> Path:
    """See repro.judging.site.build.build_site (imported lazily: this package is cheap to import)."""
    from .build import build_site as _build

    return _build(papers_dir, results_root, site_dir, only=only, **kwargs)


__all__ = ["build_site"]
