"""`repro status papers/<id>`: queued, running, finished and failed runs, from either executor.

The command parses and prints; the states come from repro/runs/status.py (repro.api.run_status). Never imports torch.
"""

from __future__ import annotations

from pathlib import Path

import click

from .common import config_set_option, paper_argument, results_option, split_names


@click.command("status")
@paper_argument
@click.option("--only", multiple=True, metavar="CONFIG", help="Show only these configs.")
@config_set_option
@results_option
def status(paper: Path, only, config_set, results) -> int:
    """Show every run of PAPER: queued, running, finished, failed (local or SLURM).

    \b
    Examples:
      repro status papers/1611.03530
      repro status papers/1207.0580 --config-set gpu
    """
    from ..api import run_status
    from ..runs.status import summary_line

    rows = run_status(paper, config_set=config_set, results=results, only=split_names(only))
    width = max((len(r.run) for r in rows), default=3)
    for r in rows:
        click.echo(f"  {r.run:<{width}}  {r.state:11s} {r.where:<16s} {r.detail}".rstrip())
    click.echo(summary_line(rows))
    return 0
