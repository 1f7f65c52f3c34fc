"""The SLURM executor, through submitit: one job array per sweep.

Each array task runs the same code as a local worker (`training.execute` via
executors/ddp.run_spec) and writes the same results folder. submitit's own files (the
pickled run, the job's stdout/stderr) go to results/<id>/.slurm/, and
results/<id>/.slurm/jobs.json maps each run to its job id and log files, so
`repro status` and a later `repro run` can find them.

States come from `squeue -t all` (sacct needs an accounting database, which many clusters
and our test cluster lack) and outcomes from the run's summary.json. On preemption or time-out
SLURM sends USR2; submitit calls `SlurmRun.checkpoint`, which resubmits the same run, and the
run resumes from checkpoints/last.ckpt (training.execute does that by itself when the summary
says `running` with the same cache key). A plain `scontrol requeue` reruns the same pickled
run and resumes the same way.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...atomic import atomic_write_json, read_json_dict
from ...clock import utc_now
from ...errors import ReproError
from ..planner import RunSpec
from ...results import read_summary
from .base import Executor, Job, JobState
from .placement import devices_asked


class SlurmError(ReproError):
    """SLURM or submitit is missing, or sbatch refused the job."""

    exit_code = 3


# squeue's long state names -> ours; anything else (COMPLETED, FAILED, CANCELLED, ...) is final.
_QUEUED = {"PENDING", "CONFIGURING", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED", "RESV_DEL_HOLD", "SUSPENDED", "RESIZING"}
_RUNNING = {"RUNNING", "COMPLETING", "STAGE_OUT", "SIGNALING"}


class SlurmRun:
    """The callable each array task runs; checkpointable so preemption requeues it."""

    def __call__(self, spec: RunSpec) -> dict[str, Any]:
        from .ddp import run_spec

        return run_spec(spec)

    def checkpoint(self, spec: RunSpec):  # submitit calls this on USR2 (preemption / time-out)
        import submitit

        # Resumption state lives in the run folder (last.ckpt, summary `running`): rerun as is.
        return submitit.helpers.DelayedSubmission(SlurmRun(), spec)


@dataclass
class SlurmOptions:
    partition: str | None = None
    time_min: int | None = None          # per run; default: resources.timeout_s, else 60
    gpus_per_run: int | None = None      # default: trainer.devices when the config asks for GPUs
    cpus_per_run: int | None = None
    account: str | None = None
    extra: list[str] = field(default_factory=list)  # raw sbatch flags: "--qos=high", "--constraint=a100"


def slurm_folder(results_paper_dir: Path) -> Path:
    return results_paper_dir / ".slurm"


def read_jobs(results_paper_dir: Path) -> dict[str, dict[str, Any]]:
    """results/<id>/.slurm/jobs.json: run name -> {job_id, stdout, stderr, submitted_at}."""
    return read_json_dict(slurm_folder(results_paper_dir) / "jobs.json") or {}


def squeue_states(job_ids: list[str], timeout: float = 30) -> dict[str, str] | None:
    """{array task id ("12_3") or job id: squeue state}; None when squeue cannot be asked."""
    if not job_ids:
        return {}
    if shutil.which("squeue") is None:
        return None
    parents = sorted({j.split("_")[0] for j in job_ids})
    try:
        r = subprocess.run(["squeue", "-h", "-r", "-t", "all", "-o", "%i|%T", "-j", ",".join(parents)],
                           capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if r.returncode != 0:
        # squeue -j with ids the controller has already purged exits non-zero: "Invalid job id".
        if "Invalid job id" in r.stderr:
            return {}
        return None
    out = {}
    for line in r.stdout.splitlines():
        if "|" in line:
            jid, state = line.strip().split("|", 1)
            out[jid] = state.split()[0].rstrip("+")
    return out


def job_state(squeue_state: str | None) -> str | None:
    if squeue_state in _QUEUED:
        return JobState.QUEUED
    if squeue_state in _RUNNING:
        return JobState.RUNNING
    return None  # final, or unknown to squeue


class SlurmExecutor(Executor):
    """Buffers submissions; the first `poll` (or `flush`) sends them as job array(s)."""

    def __init__(self, folder: Path, options: SlurmOptions | None = None, *, poll_every_s: float = 2.0) -> None:
        try:
            import submitit  # noqa: F401
        except ImportError as e:  # pragma: no cover - submitit is a dependency
            raise SlurmError("submitit is not installed", hint="pip install submitit") from e
        if shutil.which("sbatch") is None:
            raise SlurmError("`sbatch` is not on PATH: this machine is not a SLURM login node",
                             hint="run on the cluster's login node, or use the default local executor")
        self.folder = Path(folder)
        self.options = options or SlurmOptions()
        self.poll_every_s = poll_every_s
        self._pending: list[Job] = []
        self._jobs: list[Job] = []
        self._previous: dict[str, Any] = {}  # run name -> started_at of the summary before submission
        self._missing: dict[str, int] = defaultdict(int)
        self._last_poll = 0.0

    def describe(self) -> str:
        o = self.options
        bits = [f"partition {o.partition}" if o.partition else "default partition"]
        if o.account:
            bits.append(f"account {o.account}")
        return f"slurm: {', '.join(bits)}; submitit folder {self.folder}"

    def _enqueue(self, job: Job) -> None:
        self._pending.append(job)

    # -- submission ---------------------------------------------------------------------------
    def _params(self, spec: RunSpec) -> dict[str, Any]:
        o = self.options
        tr = spec.values.get("trainer", {}) or {}
        ndev = devices_asked(tr)
        if tr.get("accelerator") == "cpu":
            n = 0
        elif o.gpus_per_run is not None:
            n = max(o.gpus_per_run, ndev) if o.gpus_per_run else 0
        else:
            n = ndev if tr.get("accelerator") in ("gpu", "cuda") else 0
        ddp_tasks = ndev if ndev > 1 else 1  # Lightning on SLURM: one task per device
        time_min = o.time_min or (math.ceil(spec.timeout_s / 60) + 1 if spec.timeout_s else 60)
        cpus = o.cpus_per_run or int((spec.values.get("resources", {}) or {}).get("cpus") or 1)
        p: dict[str, Any] = {"time": int(time_min), "ntasks_per_node": ddp_tasks, "cpus_per_task": cpus, "nodes": 1}
        if n > 0:
            p["gpus_per_node"] = n
        if o.partition:
            p["partition"] = o.partition
        if o.account:
            p["account"] = o.account
        extra: dict[str, Any] = {}
        for flag in o.extra:
            key, _, value = flag.lstrip("-").partition("=")
            extra[key.replace("-", "_")] = value if value else True  # submitit writes True as a bare flag
        if extra:
            p["additional_parameters"] = extra
        return p

    def flush(self) -> None:
        """Submit buffered runs: one job array per group of runs with the same resources."""
        if not self._pending:
            return
        import submitit

        self.folder.mkdir(parents=True, exist_ok=True)
        groups: dict[str, list[Job]] = defaultdict(list)
        for job in self._pending:
            groups[json.dumps(self._params(job.spec), sort_keys=True)].append(job)
        registry = read_jobs(self.folder.parent)
        for key, jobs in groups.items():
            params = json.loads(key)
            ex = submitit.SlurmExecutor(folder=str(self.folder / "%j"), max_num_timeout=3)
            ex.update_parameters(job_name=f"repro-{jobs[0].spec.paper_id}", array_parallelism=len(jobs), **params)
            for job in jobs:
                old, _ = read_summary(Path(job.spec.run_dir))
                self._previous[job.name] = (old or {}).get("started_at")
            try:
                sjobs = ex.map_array(SlurmRun(), [j.spec for j in jobs])
            except Exception as e:  # noqa: BLE001 - sbatch errors come as submitit exceptions
                raise SlurmError(f"sbatch refused the sweep: {e}",
                                 hint="check --partition/--account/--sbatch flags against `sinfo`/`sacctmgr`") from e
            now = utc_now()
            for job, sj in zip(jobs, sjobs):
                job.job_id = str(sj.job_id)
                job.where = f"slurm job {sj.job_id}"
                job.extra_logs = [str(sj.paths.stderr)]
                job.t_start = time.monotonic()
                registry[job.name] = {"job_id": job.job_id, "stdout": str(sj.paths.stdout),
                                      "stderr": str(sj.paths.stderr), "submitted_at": now,
                                      "cache_key": job.spec.cache_key}
        atomic_write_json(slurm_folder(self.folder.parent) / "jobs.json", registry)
        self._jobs.extend(self._pending)
        self._pending.clear()

    # -- progress -----------------------------------------------------------------------------
    def poll(self, timeout: float) -> list[Job]:
        self.flush()
        wait = max(0.0, self.poll_every_s - (time.monotonic() - self._last_poll))
        time.sleep(min(timeout, wait) if wait else 0)
        if time.monotonic() - self._last_poll < self.poll_every_s:
            return []
        self._last_poll = time.monotonic()
        live = [j for j in self._jobs if not j.done]
        states = squeue_states([j.job_id for j in live if j.job_id])
        if states is None:
            return []  # squeue unreachable for now: ask again later
        changed = []
        for job in live:
            st = states.get(job.job_id)
            mapped = job_state(st)
            if mapped is not None:
                self._missing[job.name] = 0
                if mapped == JobState.RUNNING:
                    self._read_epoch(job)
                if mapped != job.state or mapped == JobState.RUNNING:
                    job.state = mapped
                    changed.append(job)
                continue
            # Final in squeue (or purged): the summary says how it ended.
            summary, _ = read_summary(Path(job.spec.run_dir))
            fresh = summary is not None and summary.get("started_at") != self._previous.get(job.name) \
                and summary.get("cache_key") == job.spec.cache_key
            if fresh and summary.get("status") in JobState.DONE:
                changed.append(self.ended(job, summary))
                continue
            self._missing[job.name] += 1
            if st is None and self._missing[job.name] < 3:
                continue  # not listed yet / just purged: look again before calling it failed
            why = f"SLURM job {job.job_id} ended {st or 'without a trace in squeue'} before the run wrote a result"
            changed.append(self.ended(job, state=JobState.FAILED, note_in_log=False,
                                      error=f"{why}; stderr: {job.extra_logs[0] if job.extra_logs else '?'}"))
        return changed

    @staticmethod
    def _read_epoch(job: Job) -> None:
        """Epoch of a running run, from its metrics file (the job cannot send us events)."""
        f = Path(job.spec.run_dir) / "metrics.jsonl"
        try:
            lines = f.read_text(encoding="utf-8").splitlines()
        except OSError:
            return
        epochs = sum('"kind": "epoch"' in line for line in lines)
        job.epoch = epochs + 1 if epochs or lines else job.epoch
        job.max_epochs = (job.spec.values.get("trainer", {}) or {}).get("max_epochs")

    def shutdown(self) -> None:
        """Nothing to stop: submitted jobs keep running on the cluster (see `repro status`)."""
        self.flush()
