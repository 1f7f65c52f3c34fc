"""`repro run papers/<id>`: every config x every seed, cached, resumable, in parallel."""

from __future__ import annotations

from pathlib import Path

import click

from .common import config_set_option, paper_argument, results_option, track_options


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
@click.option("--executor", type=click.Choice(["local", "inline", "slurm"]), default="local", show_default=True,
              help="Where runs go: worker processes on this machine; inline: one by one in this process with "
                   "output on the terminal (breakpoint() in model.py works); or a SLURM cluster through submitit.")
@click.option("--partition", metavar="NAME", help="SLURM partition.")
@click.option("--time", "time_min", type=click.IntRange(min=1), metavar="MINUTES", help="SLURM time limit per run (default: resources.timeout_s, else 60).")
@click.option("--gpus-per-run", type=click.IntRange(min=0), help="SLURM GPUs per run (default: trainer.devices when the config asks for GPUs).")
@click.option("--cpus-per-run", type=click.IntRange(min=1), help="SLURM CPUs per run (default: resources.cpus, else 1).")
@click.option("--account", metavar="NAME", help="SLURM account to charge.")
@click.option("--sbatch", "sbatch_flags", multiple=True, metavar="FLAG", help="Extra sbatch flag, e.g. --sbatch=--qos=high (repeatable).")
@click.option("--no-wait", is_flag=True, help="SLURM: submit and return at once; follow with `repro status`.")
@click.option("--until-decided", is_flag=True, help="Then add seeds in rounds to the configs of undecided claims (alpha-spending looks) until each is decided or --max-seeds.")
@click.option("--keep-warm", is_flag=True, help="Keep a process with torch and Lightning imported for 10 minutes "
              "after this run; until then every `repro run` here (same Python, folder, environment and repro code) "
              "forks its workers from it, ready in milliseconds instead of seconds. Linux; local executor.")
@click.option("--max-seeds", type=click.IntRange(min=2), default=10, show_default=True, help="--until-decided: seeds per config at most.")
@results_option
@track_options
def run(paper: Path, only, config_set, seeds, workers, devices, runs_per_device, timeout_s, dry_run, wait_lock, no_site,
        executor, partition, time_min, gpus_per_run, cpus_per_run, account, sbatch_flags, no_wait, until_decided,
        max_seeds, keep_warm, results, track, no_track) -> int:
    """Run baseline, method and every ablation of PAPER over its seeds.

    \b
    Finished runs whose cache key (resolved config, seed, the paper folder's code and data
    files, repro's run code) matches are skipped; interrupted runs resume from their last
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
      repro run papers/1611.03530 --only method --seeds 0 --executor inline
      repro run papers/1611.03530 --until-decided --max-seeds 10
      repro run papers/1611.03530 --keep-warm      # the next `repro run` starts its workers at once
      repro run papers/1207.0580 --config-set gpu
      repro run papers/1611.03530 --devices 0,1 --runs-per-device 4
      repro run papers/1611.03530 --track mlflow=http://127.0.0.1:5000 --track tensorboard
      repro run papers/1611.03530 --executor slurm --partition gpu --gpus-per-run 1 --time 30 --no-wait
    """
    from ..runs.sweep import run_paper

    return run_paper(paper, only, config_set, seeds, workers, devices, runs_per_device, timeout_s, dry_run, wait_lock,
                     no_site, executor, partition, time_min, gpus_per_run, cpus_per_run, account, sbatch_flags,
                     no_wait, results, track, no_track, until_decided=until_decided, max_seeds=max_seeds,
                     keep_warm=keep_warm)
