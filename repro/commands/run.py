"""`repro run papers/<id>`: every config x every seed, cached, resumable, in parallel."""

from __future__ import annotations

import time
from pathlib import Path

import click

from ..errors import RunsFailed, UsageError
from .common import (config_set_option, paper_argument, parse_int_list, results_option, results_root_for,
                     split_names)


@click.command("run")
@paper_argument
@click.option("--only", multiple=True, metavar="CONFIG", help="Run only these configs (repeat or comma-separate).")
@config_set_option
@click.option("--seeds", metavar="0,1,2", help="Seeds to run (default: paper.yaml's reproduction.seeds).")
@click.option("--workers", type=click.IntRange(min=1), help="Parallel run slots (default: one per GPU, else one per CPU core).")
@click.option("--devices", metavar="0,1,3", help="GPU indices to use (default: all visible).")
@click.option("--runs-per-device", type=click.IntRange(min=1), default=1, show_default=True, help="Small runs packed on one GPU.")
@click.option("--timeout", "timeout_s", type=click.FloatRange(min=1), help="Stop any run after this many seconds (configs may set resources.timeout_s).")
@click.option("--dry-run", is_flag=True, help="Print the plan (what runs, what is cached) and exit.")
@click.option("--wait", "wait_lock", is_flag=True, help="If another `repro run` holds this paper, wait for it instead of refusing.")
@click.option("--no-site", is_flag=True, help="Do not render the report and site afterwards.")
@click.option("--executor", type=click.Choice(["local", "slurm"]), default="local", show_default=True,
              help="Where runs go: this machine, or a SLURM cluster through submitit.")
@click.option("--partition", metavar="NAME", help="SLURM partition.")
@click.option("--time", "time_min", type=click.IntRange(min=1), metavar="MINUTES", help="SLURM time limit per run (default: resources.timeout_s, else 60).")
@click.option("--gpus-per-run", type=click.IntRange(min=0), help="SLURM GPUs per run (default: trainer.devices when the config asks for GPUs).")
@click.option("--cpus-per-run", type=click.IntRange(min=1), help="SLURM CPUs per run (default: resources.cpus, else 1).")
@click.option("--account", metavar="NAME", help="SLURM account to charge.")
@click.option("--sbatch", "sbatch_flags", multiple=True, metavar="FLAG", help="Extra sbatch flag, e.g. --sbatch=--qos=high (repeatable).")
@click.option("--no-wait", is_flag=True, help="SLURM: submit and return at once; follow with `repro status`.")
@click.option("--until-decided", is_flag=True, help="Then add seeds in rounds to the configs of undecided claims (alpha-spending looks) until each is decided or --max-seeds.")
@click.option("--max-seeds", type=click.IntRange(min=2), default=10, show_default=True, help="--until-decided: seeds per config at most.")
@results_option
def run(paper: Path, only, config_set, seeds, workers, devices, runs_per_device, timeout_s, dry_run, wait_lock, no_site,
        executor, partition, time_min, gpus_per_run, cpus_per_run, account, sbatch_flags, no_wait, until_decided,
        max_seeds, results) -> int:
    """Run baseline, method and every ablation of PAPER over its seeds.

    \b
    Finished runs whose cache key (resolved config, seed, the paper folder's code, the
    repro version) matches are skipped; interrupted runs resume from their last
    checkpoint. Results go to results/<id>/<config>/seed-<n>/. A failing run does not stop
    the others: the command ends non-zero and names the failed runs and their logs.

    \b
    --config-set NAME runs papers/<id>/configs-NAME/ (same layout and checks as configs/;
    configs-gpu/ is the GPU-scale set) into results/<id>@NAME/<config>/seed-<n>/: its own
    cache, lock, report and site page, never mixed with the default set's results.

    \b
    Examples:
      repro run papers/1611.03530
      repro run papers/1611.03530 --only method --seeds 0
      repro run papers/1611.03530 --dry-run
      repro run papers/1611.03530 --until-decided --max-seeds 10
      repro run papers/1207.0580 --config-set gpu
      repro run papers/1611.03530 --devices 0,1 --runs-per-device 4
      repro run papers/1611.03530 --executor slurm --partition gpu --gpus-per-run 1 --time 30 --no-wait
    """
    from ..envinfo import git_state
    from ..lock import paper_lock
    from ..paper import load_paper
    from ..configs import resolve_configs
    from ..planner import CACHED, plan
    from ..results import paper_results_dir

    t0 = time.monotonic()
    p = load_paper(paper, config_set)
    results_root = results_root_for(p.root, results)
    paper_results = paper_results_dir(results_root, p.id, p.config_set)  # results/<id>[@<set>]/
    label = p.results_name
    seed_list = parse_int_list(seeds, "--seeds")
    device_list = [d.strip() for d in devices.split(",") if d.strip()] if devices else None
    if until_decided and (executor != "local" or seeds or dry_run):
        raise UsageError("--until-decided runs locally from paper.yaml's seeds",
                         hint="leave out --executor slurm, --seeds and --dry-run")
    if no_wait and executor != "slurm":
        raise UsageError("--no-wait needs --executor slurm", hint="local runs live in this process: it must wait for them")
    if executor == "slurm":
        from ..executors.slurm import SlurmOptions

        slurm_opts = SlurmOptions(partition=partition, time_min=time_min, gpus_per_run=gpus_per_run,
                                  cpus_per_run=cpus_per_run, account=account, extra=list(sbatch_flags))

    # Everything a user can get wrong is checked before the lock: a bad config key, seed list
    # or metric must leave nothing behind, not even results/.
    configs = resolve_configs(p, split_names(only))
    seed_list = seed_list if seed_list is not None else p.seeds
    p.metrics  # noqa: B018 - validates paper.yaml's metrics
    if until_decided:
        from ..claims import load_claims

        load_claims(p)  # a bad claims.yaml fails now, not after the first round

    def make_plan():
        planned = plan(p, results_root, seeds=seed_list, git=git_state(p.root), configs=configs)
        todo = [r for r in planned if r.action != CACHED]
        if executor == "slurm":
            todo = _not_already_on_slurm(todo, paper_results)
        return planned, todo

    if dry_run:
        click.echo(f"{label}: configs from {p.configs_dir}/, results in {paper_results}/"
                   + (f" (config set {p.config_set})" if p.config_set else ""))
        _print_plan(make_plan()[0])
        return 0

    with paper_lock(paper_results, wait=wait_lock):
        # Planned under the lock: a run that waited (--wait) sees what the other one finished.
        planned, todo = make_plan()
        if not todo:
            click.echo(f"nothing to do: all {len(planned)} runs of {label} are cached ({time.monotonic() - t0:.2f} s)")
        else:
            click.echo(f"{label}: {len(todo)} to run, {len(planned) - len(todo)} cached")
            if executor == "slurm":
                jobs = _execute_slurm([r.spec for r in todo], paper_results, slurm_opts, wait=not no_wait)
                if no_wait:
                    follow = f" --config-set {p.config_set}" if p.config_set else ""
                    click.echo(f"submitted; follow with: repro status {paper}{follow}")
                    return 0
            else:
                jobs = _execute([r.spec for r in todo], workers, device_list, runs_per_device, timeout_s)
            failed = [j for j in jobs if j.state != "finished"]
            if failed:
                if not no_site:
                    _publish(p, results_root)
                lines = "\n".join(
                    f"  {j.state:9s} {j.name}: {(j.summary or {}).get('error')}\n            log: {j.log_path}"
                    + "".join(f"\n            scheduler log: {x}" for x in j.extra_logs) for j in failed)
                raise RunsFailed(
                    f"{len(failed)} of {len(jobs)} runs did not finish:\n{lines}",
                    hint="read the logs above; rerunning `repro run` retries only these runs",
                )
        if until_decided:  # rounds of seeds for undecided claims only (repro/sequential.py)
            from ..sequential import run_until_decided

            run_until_decided(p, results_root, configs, lambda specs: _execute(
                specs, workers, device_list, runs_per_device, timeout_s), max_seeds=max_seeds, echo=click.echo)
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
    if len(slots) > len(specs) and not any(s.devices for s in slots):
        slots = slots[: len(specs)]  # GPU slots stay: a DDP run needs every device to be known
    if not slots:
        raise UsageError("no run slots: --devices named no GPU")
    ex = LocalExecutor(slots, default_timeout_s=timeout_s, runs_per_device=runs_per_device)
    click.echo(ex.describe())
    jobs = [ex.submit(s) for s in specs]
    try:
        with SweepProgress(jobs) as progress:
            while not all(j.done for j in jobs):
                progress.update(ex.poll(0.5))
    finally:
        ex.shutdown()
    return jobs


def _not_already_on_slurm(todo, paper_results: Path):
    """Leave out runs whose SLURM job (from an earlier --no-wait) is still queued or running."""
    from ..executors.slurm import job_state, read_jobs, squeue_states

    known = read_jobs(paper_results)
    mine = {r.spec.name: known[r.spec.name] for r in todo
            if r.spec.name in known and known[r.spec.name].get("cache_key") == r.spec.cache_key}
    states = squeue_states([v["job_id"] for v in mine.values()]) or {}
    active = {n for n, v in mine.items() if job_state(states.get(v["job_id"])) is not None}
    for n in sorted(active):
        click.echo(f"  {n}: already on SLURM as job {mine[n]['job_id']}, not submitted again")
    return [r for r in todo if r.spec.name not in active]


def _execute_slurm(specs, paper_results: Path, options, *, wait: bool):
    from ..executors.slurm import SlurmExecutor, slurm_folder
    from ..progress import SweepProgress

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


def _publish(paper, results_root: Path) -> None:
    """Render the paper's report and update the site; print where to look."""
    from ..report import render_report
    from ..results import load_results
    from ..site.build import build_site
    from ..verdicts import judge_paper

    judgement = judge_paper(paper, load_results(results_root, paper.id, paper.config_set))
    report = render_report(paper, judgement, results_root)
    click.echo(f"report: {report}")
    index = build_site(paper.root.parent, results_root, results_root.parent / "site", only=[paper.results_name])
    page = index.parent / "papers" / paper.results_name / "index.html"
    click.echo(f"site:   {page if page.exists() else index}")
