"""`repro site`: render site/ (static HTML that opens from disk) from papers/ and results/."""

from __future__ import annotations

import time
from pathlib import Path

import click

from ..errors import UsageError


@click.command("site")
@click.option("--papers", "papers", metavar="DIR", default="papers", show_default=True,
              help="Folder holding one folder per paper.")
@click.option("--results", "results", metavar="DIR", default="results", show_default=True,
              help="Results folder written by `repro run`.")
@click.option("--out", "out", metavar="DIR", default="site", show_default=True,
              help="Where to write the site (a new folder, or one made by `repro site`).")
@click.option("--only", multiple=True, metavar="ID", help="Rebuild only these papers' pages (and the index).")
@click.option("--jobs", type=click.IntRange(min=1), default=None, help="Processes for drawing plots (default: all cores).")
def site(papers: str, results: str, out: str, only: tuple[str, ...], jobs: int | None) -> int:
    """Render the results site into OUT: an index of papers and one page per paper.

    \b
    Plots are redrawn only when their inputs changed, so rebuilding is cheap.
    The site is self-contained (run logs and configs are copied in): open
    OUT/index.html in a browser, no server needed.

    \b
    Examples:
      repro site
      repro site --out /tmp/site --only 1611.03530
    """
    from ..judging.site.build import build_site

    papers_dir = Path(papers)
    if not papers_dir.is_dir():
        raise UsageError(f"no papers folder at {papers_dir}",
                         hint="run `repro site` in the project root (beside papers/), or pass --papers DIR",
                         where=str(papers_dir))
    t0 = time.monotonic()
    only_ids = [i.strip() for v in only for i in v.split(",") if i.strip()] or None
    index = build_site(papers_dir, Path(results), Path(out), only=only_ids, jobs=jobs)
    click.echo(f"site: {index.resolve()} ({time.monotonic() - t0:.1f} s)")
    return 0
