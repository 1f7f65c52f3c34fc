"""`repro run papers/<id>`: every config x every seed, cached, resumable, in parallel."""

from __future__ import annotations

import time
from pathlib import Path

import click

from ..errors import RunsFailed, UsageError
from .common import paper_argument, parse_int_list, results_option, results_root_for, split_names


@click.command("run")
@paper_argument
@click.option("--only", multiple=True, metavar="CONFIG", help="Run only these configs (repeat or comma-separate).")
@click.option("--seeds", metavar="0,1,2", help="Seeds to run (default: paper.yaml's reproduction.seeds).")
@click.option("--workers", type=click.IntRange(min=1), help="Parallel run slots (default: one per GPU, else one per CPU core).")
@click.option("--devices", metavar="0,1,3", help="GPU indices to use (default: all visible).")
@click.option("--runs-per-device", type=click.IntRange(min=1), default=1, show_default=True, help="Small runs packed on one GPU.")
@click.option("--timeout", "timeout_s", type=click.FloatRange(min=1), help="Stop any run after this many seconds (configs may set resources.timeout_s).")
@click.option("--dry-run", is_flag=True, help="Print the plan (what runs, what is cached) and exit.")
@click.option("--wait", "wait_lock", is_flag=True, help="If another `repro run` holds this paper, wait for it instead of refusing.")
@click.option("--no-site", is_flag=True, help="Do not render the report and site afterwards.")
@results_option
def run(paper: Path, only, seeds, workers, devices, runs_per_device, timeout_s, dry_run, wait_lock, no_site, results) -> int:
    """Run baseline, method and every ablation of PAPER over its seeds.

    \b
    Finished runs whose cache key (resolved config, seed, the paper folder's code, the
    repro version) matches are skipped; interrupted runs resume from their last
    checkpoint. Results go to results/<id>/<config>/seed-<n>/. A failing run does not stop
    the others: the command ends non-zero and names the failed runs and their logs.

    \b
    Examples:
      repro run papers/1611.03530
      repro run papers/1611.03530 --only method --seeds 0
      repro run papers/1611.03530 --dry-run
    """
    from ..envinfo import git_state
    from ..lock import paper_lock
    from ..paper import load_paper
    from ..planner import CACHED, plan

    t0 = time.monotonic()
    p = load_paper(paper)
    results_root = results_root_for(p.root, results)
    seed_list = parse_int_list(seeds, "--seeds")
    device_list = [d.strip() for d in devices.split(",") if d.strip()] if devices else None
    planned = plan(p, results_root, only=split_names(only), seeds=seed_list, git=git_state(p.root))
    todo = [r for r in planned if r.action != CACHED]

    if dry_run:
        _print_plan(planned)
        return 0

    with paper_lock(results_root / p.id, wait=wait_lock):
        if not todo:
            click.echo(f"nothing to do: all {len(planned)} runs of {p.id} are cached ({time.monotonic() - t0:.2f} s)")
        else:
            click.echo(f"{p.id}: {len(todo)} to run, {len(planned) - len(todo)} cached")
            jobs = _execute([r.spec for r in todo], workers, device_list, runs_per_device, timeout_s)
            failed = [j for j in jobs if j.state != "finished"]
            if failed:
                if not no_site:
                    _publish(p, results_root)
                lines = "\n".join(f"  {j.state:9s} {j.name}: {(j.summary or {}).get('error')}\n            log: {j.log_path}" for j in failed)
                raise RunsFailed(
                    f"{len(failed)} of {len(jobs)} runs did not finish:\n{lines}",
                    hint="read the logs above; rerunning `repro run` retries only these runs",
                )
        if not no_site:
            _publish(p, results_root)
    return 0


def _print_plan(planned) -> None:
    width = max(len(r.spec.name) for r in planned)
    for r in planned:
        click.echo(f"  {r.spec.name:<{width}}  {r.action:7s} {r.spec.cache_key[:12]}  {r.why}")
    n_cached = sum(r.action == "cached" for r in planned)
    click.echo(f"{len(planned)} runs: {len(planned) - n_cached} to run, {n_cached} cached")


def _execute(specs, workers, devices, runs_per_device, timeout_s):
    from ..executors.local import LocalExecutor, make_slots
    from ..progress import SweepProgress

    slots = make_slots(workers=workers, devices=devices, runs_per_device=runs_per_device)
    if len(slots) > len(specs):
        slots = slots[: len(specs)]
    if not slots:
        raise UsageError("no run slots: --devices named no GPU")
    ex = LocalExecutor(slots, default_timeout_s=timeout_s)
    click.echo(ex.describe())
    jobs = [ex.submit(s) for s in specs]
    try:
        with SweepProgress(jobs) as progress:
            while not all(j.done for j in jobs):
                progress.update(ex.poll(0.5))
    finally:
        ex.shutdown()
    return jobs


def _publish(paper, results_root: Path) -> None:
    """Render the paper's report and update the site; print where to look."""
    try:
        from ..report import render_report
        from ..results import load_results
        from ..verdicts import judge_paper
    except ImportError:  # pragma: no cover - during development only
        return
    judgement = judge_paper(paper, load_results(results_root, paper.id))
    report = render_report(paper, judgement, results_root)
    click.echo(f"report: {report}")
    try:
        from ..site.build import build_site
    except ImportError:  # pragma: no cover
        return
    index = build_site(paper.root.parent, results_root, results_root.parent / "site", only=[paper.id])
    page = index.parent / "papers" / paper.id / "index.html"
    click.echo(f"site:   {page if page.exists() else index}")
