"""GPU placement with fake device lists (no GPU here), and the local executor placing real runs."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from repro.runs.executors.local import LocalExecutor, make_slots, visible_gpus
from repro.runs.executors.placement import DeviceBook, gpu_mem_gb, gpus_needed
from repro.paper import load_paper
from repro.runs.planner import plan
from helpers.tinypaper import make_tiny_paper


def test_gpus_needed_reads_trainer_devices():
    assert gpus_needed({"trainer": {}}, gpu_machine=True) == 1
    assert gpus_needed({"trainer": {}}, gpu_machine=False) == 0
    assert gpus_needed({"trainer": {"devices": 4}}, gpu_machine=True) == 4
    assert gpus_needed({"trainer": {"devices": [0, 2]}}, gpu_machine=True) == 2
    assert gpus_needed({"trainer": {"devices": "auto"}}, gpu_machine=True) == 1
    # CPU DDP: two processes on a CPU-only machine, or forced onto the CPU on a GPU one.
    assert gpus_needed({"trainer": {"devices": 2}}, gpu_machine=False) == 2
    assert gpus_needed({"trainer": {"accelerator": "cpu"}}, gpu_machine=True) == 0
    assert gpu_mem_gb({"resources": {"gpu_mem_gb": 30}}) == 30.0 and gpu_mem_gb({}) is None


def test_visible_gpus_honours_cuda_visible_devices(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1,3")
    assert visible_gpus() == ["0", "1", "3"]
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert visible_gpus() == []


def test_slots_one_per_gpu_share_interleaved_and_cpu_fallback():
    slots = make_slots(workers=None, devices=["0", "1", "3"], runs_per_device=2, cpus=12)
    assert [s.devices for s in slots] == [("0",), ("1",), ("3",), ("0",), ("1",), ("3",)]
    assert all(s.threads == 2 for s in slots)
    assert slots[2].env() == {"CUDA_VISIBLE_DEVICES": "3"}
    # A sweep smaller than the slots still spreads over the GPUs.
    assert [s.devices for s in make_slots(workers=2, devices=["0", "1"], runs_per_device=4, cpus=8)] == [("0",), ("1",)]
    cpu = make_slots(workers=None, devices=[], cpus=4)
    assert len(cpu) == 4 and all(s.devices == () and s.env() == {"CUDA_VISIBLE_DEVICES": ""} for s in cpu)


def test_small_runs_pack_up_to_runs_per_device():
    book = DeviceBook(["0", "1"], runs_per_device=3)
    for i in range(3):
        assert book.can_share("0", None)
        book.take_share("0", f"r{i}", None)
    assert not book.can_share("0", None) and book.can_share("1", None)
    book.release("r1")
    assert book.can_share("0", None) and book.load("0") == 2


def test_memory_requirements_keep_big_runs_from_being_packed():
    book = DeviceBook(["0"], runs_per_device=4, memory_gb={"0": 80.0})
    book.take_share("0", "big", 60.0)
    assert not book.can_share("0", 30.0)       # 60 + 30 > 80
    assert book.can_share("0", 20.0)           # 60 + 20 fits
    assert book.can_share("0", None)           # an unstated run counts as 80/4 = 20: 60 + 20 fits
    book.release("big")
    book.take_share("0", "a", 10.0)
    assert book.can_share("0", None)
    # Unknown device memory: a run that states a requirement gets the device alone.
    blind = DeviceBook(["0"], runs_per_device=4)
    blind.take_share("0", "small", None)
    assert not blind.can_share("0", 24.0)
    blind.release("small")
    assert blind.can_share("0", 24.0)
    blind.take_share("0", "big", 24.0)
    assert not blind.can_share("0", None)


def test_ddp_runs_take_whole_idle_devices():
    book = DeviceBook(["0", "1", "3"], runs_per_device=2)
    book.take_share("1", "small", None)
    assert book.take_whole(3, "ddp3") is None          # GPU 1 is busy
    assert book.take_whole(2, "ddp2") == ["0", "3"]
    assert not book.can_share("0", None) and not book.can_share("3", None)
    book.release("ddp2")
    assert book.free_devices() == ["0", "3"]


def test_unknown_memory_run_alone_yet_packs_when_memory_fits():
    # The boundary of the 'unstated run' rule above, checked numerically.
    book = DeviceBook(["0"], runs_per_device=4, memory_gb={"0": 80.0})
    book.take_share("0", "big", 61.0)
    assert not book.can_share("0", None)   # 61 + 20 > 80


PROBE = '''

import os as _os
from pathlib import Path as _Path
_orig_setup = Blobs.setup


def _probe_setup(self, stage=None):
    # The tests read which GPUs each run was given, and when it held them.
    probe = _os.environ.get("REPRO_TEST_PROBE")
    if probe:
        (_Path(probe) / f"n{self.n}-{_os.getpid()}.txt").write_text(_os.environ.get("CUDA_VISIBLE_DEVICES", "<unset>"))
    _orig_setup(self, stage)


Blobs.setup = _probe_setup
'''


@pytest.mark.slow
def test_local_executor_places_runs_on_fake_gpus(tmp_path, monkeypatch):
    """Two fake GPUs, two runs per GPU; the 'big' config states 30 GB of a 40 GB GPU."""
    folder = make_tiny_paper(tmp_path, seeds=(0,), epochs=2, ablations={
        "big": "data:\n  n: 48\nmodel:\n  step_sleep: 0.05\nresources:\n  gpu_mem_gb: 30\n",
        "big2": "data:\n  n: 40\nmodel:\n  step_sleep: 0.05\nresources:\n  gpu_mem_gb: 30\n",
    })
    (folder / "data.py").write_text((folder / "data.py").read_text() + PROBE)
    probe = tmp_path / "probe"
    probe.mkdir()
    monkeypatch.setenv("REPRO_TEST_PROBE", str(probe))
    specs = [r.spec for r in plan(load_paper(folder), tmp_path / "results")]
    slots = make_slots(workers=None, devices=["0", "1"], runs_per_device=2, cpus=2)
    ex = LocalExecutor(slots, runs_per_device=2, memory_gb={"0": 40.0, "1": 40.0})
    jobs = [ex.submit(s) for s in specs]
    try:
        deadline = time.monotonic() + 150
        while not all(j.done for j in jobs):
            assert time.monotonic() < deadline, [(j.name, j.state) for j in jobs]
            ex.poll(0.2)
    finally:
        ex.shutdown()
    assert [j.state for j in jobs] == ["finished"] * 4, [(j.name, j.summary) for j in jobs]
    seen = {p.name.split("-")[0]: p.read_text() for p in probe.iterdir()}
    # Each run saw exactly one of the fake GPUs, through CUDA_VISIBLE_DEVICES.
    assert set(seen.values()) <= {"0", "1"} and len(seen) == 3  # n64 (baseline+method), n48, n40
    by_name = {j.name: j for j in jobs}
    dev = {n: j.where.split("gpu ")[1].rstrip(")") for n, j in by_name.items()}
    assert seen["n48"] == dev["big/seed-0"] and seen["n40"] == dev["big2/seed-0"]
    # A big run never shared its GPU with another run while it ran.
    for big in ("big/seed-0", "big2/seed-0"):
        b = by_name[big]
        for other in jobs:
            if other is b or dev[other.name] != dev[big]:
                continue
            overlap = min(b.t_end, other.t_end) - max(b.t_start, other.t_start)
            assert overlap <= 0, (big, other.name, overlap)


def test_run_rejects_no_wait_without_slurm(tmp_path):
    make_tiny_paper(tmp_path, seeds=(0,))
    r = subprocess.run([sys.executable, "-m", "repro", "run", "papers/0000.00001", "--no-wait"],
                       cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "--no-wait needs --executor slurm" in r.stderr and "Traceback" not in r.stderr


def test_slurm_executor_without_sbatch_is_a_clear_error(tmp_path):
    make_tiny_paper(tmp_path, seeds=(0,))
    env = {**os.environ, "PATH": str(Path(sys.executable).parent)}  # python, but no sbatch
    r = subprocess.run([sys.executable, "-m", "repro", "run", "papers/0000.00001", "--executor", "slurm"],
                       cwd=tmp_path, capture_output=True, text=True, timeout=60, env=env)
    assert r.returncode == 3 and "sbatch" in r.stderr and "hint:" in r.stderr and "Traceback" not in r.stderr


def test_status_without_runs_lists_every_planned_run(tmp_path):
    make_tiny_paper(tmp_path, seeds=(0, 1))
    code = ("import sys; from repro.cli import main; rc = main(['status', 'papers/0000.00001']);"
            "assert 'torch' not in sys.modules, 'imported torch'; sys.exit(rc)")
    r = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("not run") == 5 and "4 not run (4 runs)" in r.stdout
