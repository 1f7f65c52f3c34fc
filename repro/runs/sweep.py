"""The `repro run` flow as a library function: plan a paper's sweep, run it, publish.

`repro run` (repro/commands/run.py) parses its options and calls `run_paper`; notebooks and
scripts call it through `repro.run_paper`.
"""

from __future__ import annotations

import time
from pathlib import Path

import click

from ..commands.common import parse_int_list, results_root_for, split_names
from ..errors import RunsFailed, UsageError
from ..results import RunStatus


def run_paper(paper: Path, only=(), config_set=None, seeds=None, workers=None, devices=None, runs_per_device=1,
              timeout_s=None, dry_run=False, wait_lock=False, no_site=False, executor="local", partition=None,
              time_min=None, gpus_per_run=None, cpus_per_run=None, account=None, sbatch_flags=(), no_wait=False,
              results=None, track=(), no_track=False, until_decided=False, max_seeds=10, keep_warm=False) -> int:
    """Run baseline, method and every ablation of `paper` over its seeds (see `repro run --help`)."""
    from ..envinfo import git_state
    from .lock import paper_lock
    from ..paper import load_paper
    from ..configs import resolve_configs
    from .planner import CACHED, check_seeds, environment_changes, plan
    from ..results import paper_results_dir, usable_results_dir
    from .tracking import resolve_trackers

    t0 = time.monotonic()
    p = load_paper(paper, config_set)
    results_root = results_root_for(p.root, results)
    paper_results = paper_results_dir(results_root, p.id, p.config_set)  # results/<id>[@<set>]/
    label = p.results_name
    seed_list = parse_int_list(seeds, "--seeds")
    device_list = [d.strip() for d in devices.split(",") if d.strip()] if devices else None
    if until_decided and (executor == "slurm" or seeds or dry_run):
        raise UsageError("--until-decided runs locally from paper.yaml's seeds",
                         hint="leave out --executor slurm, --seeds and --dry-run")
    if keep_warm and executor != "local":
        raise UsageError(f"--keep-warm is for the local executor, not {executor}",
                         hint="leave out --keep-warm (inline runs in this process; SLURM jobs start on other machines)")
    if no_wait and executor != "slurm":
        raise UsageError("--no-wait needs --executor slurm", hint="local runs live in this process: it must wait for them")
    if executor == "slurm":
        from .executors.slurm import SlurmOptions

        slurm_opts = SlurmOptions(partition=partition, time_min=time_min, gpus_per_run=gpus_per_run,
                                  cpus_per_run=cpus_per_run, account=account, extra=list(sbatch_flags))

    # Everything a user can get wrong is checked before the lock: a bad config key, seed list
    # or metric must leave nothing behind, not even results/.
    configs = resolve_configs(p, split_names(only))
    seed_list = check_seeds(seed_list) if seed_list is not None else p.seeds
    if until_decided:
        from ..claims import load_claims

        load_claims(p)  # a bad claims.yaml fails now, not after the first round
    trackers = resolve_trackers(p, track, project_root=results_root.parent, no_track=no_track)

    def make_plan():
        planned = plan(p, results_root, seeds=seed_list, git=git_state(p.root), configs=configs)
        todo = [r for r in planned if r.action != CACHED]
        for r in todo:
            r.spec.tracking = [t.to_json() for t in trackers]
        if executor == "slurm":
            todo = _not_already_on_slurm(todo, paper_results)
        return planned, todo

    usable_results_dir(results_root, p.id, p.config_set, write=not dry_run)  # error + hint, not a traceback
    if dry_run:
        click.echo(f"{label}: configs from {p.configs_dir}/, results in {paper_results}/"
                   + (f" (config set {p.config_set})" if p.config_set else ""))
        planned = make_plan()[0]
        _print_plan(planned)
        for line in environment_changes(planned):
            click.echo(f"environment: {line}")
        return 0

    from .interrupts import handle_stop_signals

    handle_stop_signals()  # SIGTERM and SIGHUP stop a sweep as Ctrl-C does: runs stay resumable
    with paper_lock(paper_results, wait=wait_lock):
        # Planned under the lock: a run that waited (--wait) sees what the other one finished.
        planned, todo = make_plan()
        if not todo:
            click.echo(f"nothing to do: all {len(planned)} runs of {label} are cached ({time.monotonic() - t0:.2f} s)")
        else:
            click.echo(f"{label}: {len(todo)} to run, {len(planned) - len(todo)} cached")
            _prepare_trackers(trackers)
            if executor == "slurm":
                jobs = _execute_slurm([r.spec for r in todo], paper_results, slurm_opts, wait=not no_wait)
                if no_wait:
                    follow = f" --config-set {p.config_set}" if p.config_set else ""
                    click.echo(f"submitted; follow with: repro status {paper}{follow}")
                    return 0
            else:
                jobs = _execute([r.spec for r in todo], workers, device_list, runs_per_device, timeout_s, executor, keep_warm)
            failed = [j for j in jobs if j.state != RunStatus.FINISHED]
            _report_tracking(paper, trackers, [Path(j.spec.run_dir) for j in jobs])
            if failed:
                _publish(p, results_root, trackers, no_site)
                lines = "\n".join(
                    f"  {j.state:9s} {j.name}: {(j.summary or {}).get('error')}\n            log: {j.log_path}"
                    + "".join(f"\n            scheduler log: {x}" for x in j.extra_logs) for j in failed)
                raise RunsFailed(
                    f"{len(failed)} of {len(jobs)} runs did not finish:\n{lines}",
                    hint="read the logs above; rerunning `repro run` retries only these runs",
                )
        if until_decided:  # rounds of seeds for undecided claims only (repro/judging/sequential.py)
            from ..judging.sequential import run_until_decided

            run_until_decided(p, results_root, configs, lambda specs: _execute(
                specs, workers, device_list, runs_per_device, timeout_s, executor, keep_warm), max_seeds=max_seeds, echo=click.echo)
        _publish(p, results_root, trackers, no_site)
    return 0



def _print_plan(planned) -> None:
    width = max(len(r.spec.name) for r in planned)
    for r in planned:
        click.echo(f"  {r.spec.name:<{width}}  {r.action:7s} {r.spec.cache_key[:12]}  {r.why}")
    n_cached = sum(r.action == "cached" for r in planned)
    click.echo(f"{len(planned)} runs: {len(planned) - n_cached} to run, {n_cached} cached")


def _execute(specs, workers, devices, runs_per_device, timeout_s, executor="local", keep_warm=False):
    """Run `specs` on this machine: worker processes (local; forked from a warm-start process
    when one is up or --keep-warm starts one), or one by one in this process (inline: output on
    the terminal, `breakpoint()` works, no live table drawn over it)."""
    if executor == "inline":
        from .executors.inline import InlineExecutor

        return _drive(InlineExecutor(), specs, live=False)
    from .executors.local import LocalExecutor, make_slots

    slots = make_slots(workers=workers, devices=devices, runs_per_device=runs_per_device)
    if len(slots) > len(specs) and not any(s.devices for s in slots):
        slots = slots[: len(specs)]  # GPU slots stay: a DDP run needs every device to be known
    if not slots:
        raise UsageError("no run slots: --devices named no GPU")
    from .warm import WarmStart, supported

    warm = WarmStart(start=keep_warm)
    if keep_warm and not supported():
        click.echo("--keep-warm: warm start needs Linux (fork, pidfd); workers are spawned as usual")
    if warm.available():
        click.echo(f"workers forked from the warm-start process ({warm.path.name}; it exits after "
                   f"{warm.idle_s / 60:.0f} min idle, or now with `python -m repro.runs.warm stop`)")
    else:
        warm = None
    return _drive(LocalExecutor(slots, default_timeout_s=timeout_s, runs_per_device=runs_per_device, warm=warm), specs)


def _drive(ex, specs, live=None):
    from .progress import SweepProgress

    click.echo(ex.describe())
    jobs = [ex.submit(s) for s in specs]
    try:
        with SweepProgress(jobs, live=live) as progress:
            while not all(j.done for j in jobs):
                progress.update(ex.poll(0.5))
    finally:
        ex.shutdown()
    return jobs


def _not_already_on_slurm(todo, paper_results: Path):
    """Leave out runs whose SLURM job (from an earlier --no-wait) is still queued or running."""
    from .executors.slurm import job_state, read_jobs, squeue_states

    known = read_jobs(paper_results)
    mine = {r.spec.name: known[r.spec.name] for r in todo
            if r.spec.name in known and known[r.spec.name].get("cache_key") == r.spec.cache_key}
    states = squeue_states([v["job_id"] for v in mine.values()]) or {}
    active = {n for n, v in mine.items() if job_state(states.get(v["job_id"])) is not None}
    for n in sorted(active):
        click.echo(f"  {n}: already on SLURM as job {mine[n]['job_id']}, not submitted again")
    return [r for r in todo if r.spec.name not in active]


def _execute_slurm(specs, paper_results: Path, options, *, wait: bool):
    from .executors.slurm import SlurmExecutor, slurm_folder
    from .progress import SweepProgress

    ex = SlurmExecutor(slurm_folder(paper_results), options)
    click.echo(ex.describe())
    jobs = [ex.submit(s) for s in specs]
    ex.flush()
    ids = sorted({j.job_id.split("_")[0] for j in jobs if j.job_id})
    click.echo(f"submitted {len(jobs)} run(s) as SLURM job array {', '.join(ids)}")
    if not wait:
        return jobs
    with SweepProgress(jobs) as progress:
        while not all(j.done for j in jobs):
            progress.update(ex.poll(2.0))
    return jobs


def _publish(paper, results_root: Path, trackers=(), no_site: bool = False) -> None:
    """Render the paper's report and update the site (unless no_site); send the verdicts to
    the trackers; print where to look."""
    if no_site and not trackers:
        return
    from ..results import paper_results_dir
    from ..judging.site import freshness

    site_dir = results_root.parent / "site"
    report_path = paper_results_dir(results_root, paper.id, paper.config_set) / "report.md"
    page_path = site_dir / "papers" / paper.results_name / "index.html"
    if not trackers:
        # Nothing is rewritten when no input changed since the last publish.
        digest = freshness.inputs_digest(paper.root, report_path.parent)
        if freshness.is_current(site_dir, paper.results_name, digest, [report_path, page_path]):
            click.echo(f"report: {report_path} (unchanged)")
            click.echo(f"site:   {page_path} (unchanged)")
            return
    from ..judging.report import render_report
    from ..results import load_results
    from ..judging.site.build import build_site
    from ..judging.verdicts import judge_paper

    judgement = judge_paper(paper, load_results(results_root, paper.id, paper.config_set))
    if not no_site:
        report = render_report(paper, judgement, results_root)
        click.echo(f"report: {report}")
        index = build_site(paper.root.parent, results_root, site_dir, only=[paper.results_name])
        click.echo(f"site:   {page_path if page_path.exists() else index}")
        freshness.mark(site_dir, paper.results_name, freshness.inputs_digest(paper.root, report_path.parent))
    if trackers:
        send_verdicts_to(paper, results_root, trackers, judgement)


def send_verdicts_to(paper, results_root: Path, trackers, judgement) -> list[str]:
    """The paper's verdicts to every tracker; the trackers that failed (each said on stderr)."""
    from ..api import verdict_rows
    from ..results import paper_results_dir
    from .tracking import send_verdicts

    rows = verdict_rows(judgement)
    failed = []
    for t in trackers:
        try:
            send_verdicts(t, paper.results_name, rows, paper_results_dir(results_root, paper.id, paper.config_set))
            click.echo(f"{t.kind}: {len(rows)} verdict(s) sent to {t.where}")
        except Exception as e:  # noqa: BLE001 - a tracker that is down never fails the sweep
            failed.append(t.kind)
            click.secho(f"warning: tracker {t.kind} ({t.where}) did not take the verdicts: {type(e).__name__}: {e}",
                        fg="yellow", err=True)
    return failed


def _prepare_trackers(trackers) -> None:
    if not trackers:
        return
    from .tracking import prepare

    for kind, error in prepare(trackers).items():
        click.secho(f"warning: tracker {kind} is not usable, the runs go ahead without it: {error[:300]}",
                    fg="yellow", err=True)


def _report_tracking(paper: Path, trackers, run_dirs: list[Path]) -> None:
    """Say which tracker failed for which runs, and how to send them once it is back."""
    if not trackers:
        return
    from .tracking import tracker_failures

    for kind, runs in tracker_failures(run_dirs).items():
        click.secho(f"warning: tracker {kind} failed for {len(runs)} of {len(run_dirs)} run(s): {runs[0][1]}",
                    fg="yellow", err=True)
        click.echo(f"  every run is in results/ all the same; send them once it works: repro track {paper} --track {kind}",
                   err=True)
