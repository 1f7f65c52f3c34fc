"""`repro check papers/<id>`: claims that cannot fail, confounded configs, missing tolerances,
comparisons with too few seeds. Reads YAML (and results when there are any); never trains."""

from __future__ import annotations

from pathlib import Path

import click

from .common import config_set_option, paper_argument, results_option, results_root_for

SECTIONS = (
    ("cannot_fail", "Claims that cannot fail (never counted as successes)"),
    ("confounded", "Configs that differ in more than their claim's factor"),
    ("no_tolerance", "Value claims without a tolerance"),
    ("underpowered", "Comparisons with too few seeds for their effect"),
)


@click.command("check")
@paper_argument
@config_set_option
@results_option
@click.option("--architecture/--no-architecture", default=True, show_default=True,
              help="Also build every config of configs-paper/ on the meta device and judge the paper's "
                   "parameter counts (in a child process: this command itself never imports torch).")
def check(paper: Path, config_set: str | None, results: str | None, architecture: bool) -> int:
    """List what would make PAPER's verdicts unable to fail or to decide, before any run.

    \b
    - claims that cannot fail: a tolerance covering the metric's whole range, two configs tied
      at the metric's bound with no variance (once results exist), `kind: sanity` claims;
    - configs compared by a claim that differ in more keys than its `factor:` (keys listed);
    - value claims without a tolerance (the one proposed from the printed precision is shown);
    - directional comparisons whose seeds cannot detect the claimed (else observed) effect at
      80% power, or before any run the smallest effect in standard deviations.
    - with configs-paper/ (the paper's own sizes): each config built on the meta device, its
      parameters counted, and the paper's "params" numbers judged (repro/literature/archcheck.py).
    No training and no torch import here. Exit status 0 whatever is found.

    \b
    Examples:
      repro check papers/1611.03530
      repro check papers/1207.0580 --config-set gpu
    """
    from ..judging.flags import audit
    from ..paper import load_paper
    from ..results import load_results

    p = load_paper(paper, config_set)
    root = results_root_for(p.root, results)
    res = load_results(root, p.id, p.config_set)
    found = audit(p, res if res.runs else None)
    total = 0
    for key, title in SECTIONS:
        items = found[key]
        total += len(items)
        click.echo(f"{title}: {len(items) or 'none'}")
        for line in items:
            click.echo(f"  - {line}")
    click.echo(f"{p.results_name}: {total} finding(s)")
    if architecture and (p.root / "configs-paper").is_dir():
        click.echo(_architecture(p.root))
    return 0


def _architecture(root: Path) -> str:
    """The meta-device check of configs-paper/, run in a child process so that this command
    stays free of torch (seconds of import) for papers without a paper-scale set."""
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", "repro.literature.archcheck", str(root)], capture_output=True, text=True)
    if r.returncode != 0:
        tail = (r.stderr or r.stdout).strip().splitlines()[-1:] or ["no output"]
        return f"Architecture check of {root}/configs-paper/ failed: {tail[0]}"
    return r.stdout.rstrip()
