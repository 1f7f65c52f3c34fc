"""The `repro` command line.

Each subcommand lives in its own module under repro/commands/ and is imported only when
it is invoked, so `repro site` or a no-op `repro run` never pays for torch.
"""

from __future__ import annotations

import importlib
import sys

import click

from .errors import ReproError

# name -> (module, attribute, one-line help shown by `repro --help`)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "new": ("repro.commands.new", "new", "Turn an arXiv paper into a runnable paper folder."),
    "run": ("repro.commands.run", "run", "Run every config x seed of a paper (cached, resumable)."),
    "status": ("repro.commands.status", "status", "Show queued, running, finished and failed runs."),
    "report": ("repro.commands.report", "report", "Judge the claims and render results/<id>/report.md."),
    "track": ("repro.commands.track", "track", "Send runs on disk to MLflow, W&B or TensorBoard."),
    "site": ("repro.commands.site", "site", "Render the static results site into site/."),
    "check": ("repro.commands.check", "check", "List claims that cannot fail or decide, before any run."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, attr, _ = COMMANDS[name]
        return getattr(importlib.import_module(module), attr)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Help text without importing every command module.
        with formatter.section("Commands"):
            formatter.write_dl([(n, h) for n, (_, _, h) in COMMANDS.items()])


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="repro")
def cli() -> None:
    """repro: reproduce ML papers, with honest statistics.

    \b
      repro new 1706.03762          fetch a paper, extract claims, scaffold papers/<id>/
      repro run papers/1611.03530   run baseline, method, ablations x seeds (cached)
      repro report papers/<id>      judge the claims, write results/<id>/report.md
      repro site                    render site/ (static HTML, opens from disk)
    """


def main(argv: list[str] | None = None) -> int:
    try:
        rv = cli.main(args=argv, prog_name="repro", standalone_mode=False)
    except ReproError as e:
        click.secho(f"error: {e}", fg="red", err=True)
        if e.hint:
            click.echo(f"hint: {e.hint}", err=True)
        return e.exit_code
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return 130
    except click.ClickException as e:
        e.show()
        return e.exit_code
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        return 130
    return rv if isinstance(rv, int) else 0


if __name__ == "__main__":
    sys.exit(main())
