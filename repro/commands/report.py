"""`repro report papers/<id>`: judge the claims, print the verdicts, write results/<id>/report.md."""

from __future__ import annotations

from pathlib import Path

import click

from .common import config_set_option, paper_argument, results_option, results_root_for


@click.command("report")
@paper_argument
@config_set_option
@results_option
def report(paper: Path, config_set: str | None, results: str | None) -> int:
    """Judge every claim of PAPER against its results and render the report.

    \b
    Prints one line per claim (verdict, claimed, reproduced, evidence) and writes
    results/<id>/report.md from templates/report.md.j2 (or papers/<id>/report.md.j2).
    No training happens here; runs come from `repro run`. With --config-set NAME the
    claims are judged against results/<id>@NAME/ and the report is written there.

    \b
    Examples:
      repro report papers/1611.03530
      repro report papers/1611.03530 --results /data/results
      repro report papers/1207.0580 --config-set gpu
    """
    from ..api import judge
    from ..paper import load_paper
    from ..judging.report import claimed_text, evidence_text, render_report, reproduced_text, verdict_text
    from ..results import usable_results_dir

    p = load_paper(paper, config_set)
    results_root = results_root_for(p.root, results)
    usable_results_dir(results_root, p.id, p.config_set, write=True)  # report.md goes there
    judgement = judge(paper, config_set=config_set, results=results_root).judgement
    if not judgement.verdicts:
        click.echo(f"{p.results_name}: claims.yaml lists no claims")
    else:
        width = max(len(v.id) for v in judgement.verdicts)
        for v in judgement.verdicts:
            colour = {"reproduced": "green", "supported": "green", "not reproduced": "red",
                      "contradicted": "red", "inconclusive": "yellow"}.get(v.verdict)
            click.echo(f"{v.id:<{width}}  " + click.style(f"{verdict_text(v):<14}", fg=colour)
                       + f"  claimed {claimed_text(v)}; got {reproduced_text(v)}; {evidence_text(v)}")
        totals = ", ".join(f"{n} {k}" for k, n in judgement.counts.items() if n)
        extra = (f"; {judgement.flagged} success(es) that could not have failed, not counted" if judgement.flagged
                 else "") + (f"; sanity checks apart: " + ", ".join(f"{n} {k}" for k, n in judgement.sanity_counts.items() if n)
                             if any(judgement.sanity_counts.values()) else "")
        click.echo(f"{len(judgement.verdicts)} claims: {totals}{extra}")
    if judgement.failures:
        click.echo(f"{len(judgement.failures)} run(s) did not finish: "
                   + ", ".join(f"{r.config}/seed-{r.seed} ({r.status})" for r in judgement.failures))
    out = render_report(p, judgement, results_root)
    click.echo(f"report: {out}")
    return 0
