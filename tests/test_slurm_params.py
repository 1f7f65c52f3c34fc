"""SlurmExecutor's sbatch parameters against recorded expectations, and the #SBATCH lines
submitit writes from them (no cluster needed; test_slurm.py runs a real one)."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("submitit")
from submitit.slurm.slurm import _make_sbatch_string  # noqa: E402

from repro.runs.executors.slurm import SlurmExecutor, SlurmOptions  # noqa: E402
from repro.runs.planner import RunSpec  # noqa: E402


@pytest.fixture
def make(tmp_path, monkeypatch):
    """A SlurmExecutor on a machine with an `sbatch` on PATH (never called here)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "sbatch").write_text("#!/bin/sh\nexit 1\n")
    (bin_dir / "sbatch").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{Path('/usr/bin')}:{Path('/bin')}")

    def make(**options) -> SlurmExecutor:
        return SlurmExecutor(tmp_path / ".slurm", SlurmOptions(**options))

    return make


def spec(trainer: dict, resources: dict | None = None) -> RunSpec:
    values = {"model": {}, "data": {}, "trainer": trainer, "resources": resources or {}}
    return RunSpec("0000.00001", "/papers/x", "baseline", 0, values, [], "key", "/results/x", "repro run")


def sbatch_lines(params: dict, tmp: Path) -> list[str]:
    text = _make_sbatch_string(command="run", folder=str(tmp), job_name="repro-0000.00001", **params)
    return [line for line in text.splitlines()
            if line.startswith("#SBATCH") and not line.startswith(("#SBATCH --output", "#SBATCH --error"))]


def test_a_cpu_run_asks_one_task_one_cpu_and_its_timeout_in_minutes(make, tmp_path):
    p = make()._params(spec({"accelerator": "cpu", "max_epochs": 3}, {"timeout_s": 120}))
    assert p == {"time": 3, "ntasks_per_node": 1, "cpus_per_task": 1, "nodes": 1}
    assert sbatch_lines(p, tmp_path) == [
        "#SBATCH --cpus-per-task=1", "#SBATCH --job-name=repro-0000.00001", "#SBATCH --nodes=1",
        "#SBATCH --ntasks-per-node=1", "#SBATCH --open-mode=append", "#SBATCH --signal=USR2@90",
        "#SBATCH --time=3", "#SBATCH --wckey=submitit",
    ]


def test_a_ddp_gpu_run_asks_a_task_and_a_gpu_per_device(make, tmp_path):
    p = make(partition="gpu", account="lab")._params(
        spec({"accelerator": "gpu", "devices": 2}, {"cpus": 4, "timeout_s": 600}))
    assert p == {"time": 11, "ntasks_per_node": 2, "cpus_per_task": 4, "nodes": 1, "gpus_per_node": 2,
                 "partition": "gpu", "account": "lab"}
    lines = sbatch_lines(p, tmp_path)
    for flag in ("--gpus-per-node=2", "--ntasks-per-node=2", "--cpus-per-task=4", "--partition=gpu",
                 "--account=lab", "--time=11"):
        assert f"#SBATCH {flag}" in lines


@pytest.mark.parametrize("trainer, gpus_per_run, expected", [
    ({"accelerator": "auto"}, None, None),           # not asked for GPUs: none
    ({"accelerator": "cuda", "devices": [0, 1, 2]}, None, 3),
    ({"accelerator": "gpu", "devices": 2}, 1, 2),   # --gpus-per-run never below trainer.devices
    ({"accelerator": "gpu", "devices": 1}, 4, 4),
    ({"accelerator": "gpu"}, 0, None),              # --gpus-per-run 0: none
    ({"accelerator": "cpu", "devices": 2}, 2, None),  # a CPU run never gets GPUs
])
def test_gpus_per_node(make, trainer, gpus_per_run, expected):
    p = make(gpus_per_run=gpus_per_run)._params(spec(trainer))
    assert p.get("gpus_per_node") == expected


def test_options_override_the_config(make):
    p = make(time_min=30, cpus_per_run=8)._params(spec({"accelerator": "cpu"}, {"cpus": 2, "timeout_s": 6000}))
    assert p["time"] == 30 and p["cpus_per_task"] == 8
    assert make()._params(spec({}))["time"] == 60  # no timeout anywhere: an hour


def test_extra_sbatch_flags_reach_the_script(make, tmp_path):
    p = make(extra=["--qos=high", "--constraint=a100"])._params(spec({"accelerator": "cpu"}))
    assert p["additional_parameters"] == {"qos": "high", "constraint": "a100"}
    lines = sbatch_lines(p, tmp_path)
    assert "#SBATCH --qos=high" in lines and "#SBATCH --constraint=a100" in lines


def test_a_flag_without_a_value_stays_bare(make, tmp_path):
    # sbatch rejects "--exclusive=None" (what a None value became).
    p = make(extra=["--exclusive", "--requeue"])._params(spec({"accelerator": "cpu"}))
    lines = sbatch_lines(p, tmp_path)
    assert "#SBATCH --exclusive" in lines and "#SBATCH --requeue" in lines
    assert not any("None" in line for line in lines)
