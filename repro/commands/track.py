"""`repro track papers/<id>`: send runs already on disk to MLflow, W&B or TensorBoard."""

from __future__ import annotations

from pathlib import Path

import click

from ..results import RunStatus
from .common import config_set_option, paper_argument, results_option, results_root_for, track_options

DONE = RunStatus.ENDED


@click.command("track")
@paper_argument
@config_set_option
@results_option
@track_options
@click.option("--all", "resend", is_flag=True, help="Send every run again, not only those the tracker has not got.")
def track(paper: Path, config_set: str | None, results: str | None, track, no_track: bool, resend: bool) -> int:
    """Send PAPER's runs on disk to the trackers, then its verdicts.

    \b
    For the runs a tracker missed (it was down, misconfigured, or added later): each run's
    resolved config, every metrics.jsonl row with its step, its tags and its final status
    (finished, failed, diverged, timeout) go to a new tracker run; tracking.json beside the
    run's results records it, so a second `repro track` sends nothing twice (--all resends).

    \b
    Examples:
      repro track papers/1611.03530 --track mlflow=http://127.0.0.1:5000
      repro track papers/1611.03530 --track wandb --track tensorboard
      repro track papers/1611.03530            # the trackers of paper.yaml's tracking:
    """
    from ..errors import TrackerError, UsageError
    from ..runs.lock import paper_lock
    from ..paper import load_paper
    from ..results import iter_runs, paper_results_dir
    from ..runs.tracking import needs_sending, resolve_trackers, send_run

    p = load_paper(paper, config_set)
    results_root = results_root_for(p.root, results)
    trackers = resolve_trackers(p, track, project_root=results_root.parent, no_track=no_track)
    if not trackers:
        raise UsageError(f"no tracker for {p.results_name}",
                         hint="give --track mlflow|wandb|tensorboard, or add a tracking: section to paper.yaml")
    folder = paper_results_dir(results_root, p.id, p.config_set)
    failed: list[str] = []
    with paper_lock(folder, wait=True):
        runs = [r for r in iter_runs(results_root, p.id, p.config_set) if r.status in DONE]
        for t in trackers:
            todo = [r for r in runs if resend or needs_sending(t, r.path)]
            sent = 0
            for r in todo:
                try:
                    send_run(t, r)
                    sent += 1
                except Exception as e:  # noqa: BLE001 - say which tracker failed; the others still go
                    failed.append(f"{t.kind} ({t.where}): {type(e).__name__}: {e}")
                    break  # a tracker that refuses one run refuses the next: stop here
            click.echo(f"{t.kind}: sent {sent} of {len(todo)} run(s) to {t.where}"
                       + (f"; {len(runs) - len(todo)} already there" if len(runs) > len(todo) else ""))
        if runs:
            from ..api import judge
            from ..runs.sweep import send_verdicts_to

            judgement = judge(paper, config_set=config_set, results=results_root).judgement
            failed += [f"{k}: the verdicts" for k in send_verdicts_to(p, results_root, trackers, judgement)]
    if failed:
        raise TrackerError("not everything was sent:\n  " + "\n  ".join(failed),
                           hint=f"fix the tracker (is it running? the URI right?), then run `repro track {paper}` again")
    return 0
