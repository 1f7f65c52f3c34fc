"""Warm start (repro/runs/warm.py): workers forked from a process that imported torch once."""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import time
from pathlib import Path

import pytest

from helpers.tinypaper import make_tiny_paper
from repro.paper import load_paper
from repro.runs import warm
from repro.runs.executors.local import LocalExecutor, make_slots
from repro.runs.planner import plan

pytestmark = pytest.mark.skipif(not warm.supported(), reason="warm start needs Linux (fork, pidfd)")


@pytest.fixture
def warm_dir(monkeypatch):
    d = Path(tempfile.mkdtemp(prefix="rw", dir="/tmp"))  # short: it holds a socket
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(d))
    yield d
    warm.stop_all()
    shutil.rmtree(d, ignore_errors=True)


def test_key_follows_what_a_worker_depends_on(monkeypatch, tmp_path):
    k = warm.key()
    assert warm.key() == k
    monkeypatch.setenv("REPRO_SOME_SETTING", "1")
    k_env = warm.key()
    assert k_env != k
    monkeypatch.chdir(tmp_path)
    assert warm.key() not in (k, k_env)
    monkeypatch.setenv("OLDPWD", "/somewhere")  # shells change it all the time: not part of the key
    assert warm.key() == warm.key()


def test_too_long_a_runtime_folder_falls_back_to_tmp(monkeypatch):
    monkeypatch.setenv("XDG_RUNTIME_DIR", "/tmp/" + "x" * 90)
    assert warm.folder().parent == Path("/tmp")
    assert len(str(warm.socket_path("0" * 16))) < 107


@pytest.mark.slow
def test_forked_workers_run_a_sweep_and_report_how_they_ended(tmp_path, warm_dir):
    folder = make_tiny_paper(tmp_path, seeds=(0, 1), epochs=2)
    specs = [r.spec for r in plan(load_paper(folder), tmp_path / "results")]
    ws = warm.WarmStart(start=True)
    assert ws.available() and ws.path.exists()
    ex = LocalExecutor(make_slots(workers=2, devices=[], cpus=2), warm=ws)
    jobs = [ex.submit(s) for s in specs]
    while not all(j.done for j in jobs):
        ex.poll(0.1)
    procs = [w.proc for w in ex._workers]
    assert procs and all(isinstance(p, warm.ForkedProcess) for p in procs)
    ex.shutdown()
    assert [j.state for j in jobs] == ["finished"] * len(jobs)
    assert all(p.exitcode == 0 for p in procs)  # told to stop, they exited cleanly

    # A worker killed mid-run: its run is failed with the exit code, and a new worker is forked.
    slow = make_tiny_paper(tmp_path / "slow", seeds=(0,), epochs=2)
    base = slow / "configs" / "base.yaml"
    base.write_text(base.read_text().replace("  lr: 0.1\n", "  lr: 0.1\n  hang: true\n"))
    ex = LocalExecutor(make_slots(workers=1, devices=[], cpus=1), warm=ws)
    spec = [r.spec for r in plan(load_paper(slow), tmp_path / "results2")][0]
    job = ex.submit(spec)
    deadline = time.monotonic() + 60
    while not (ex._workers and ex._workers[0].job is job and ex._workers[0].ready):
        ex.poll(0.1)
        assert time.monotonic() < deadline
    ex._workers[0].proc.kill()
    while not job.done:
        ex.poll(0.1)
        assert time.monotonic() < deadline
    ex.shutdown()
    assert job.state == "failed" and f"exit code {-signal.SIGKILL}" in job.summary["error"]


@pytest.mark.slow
def test_the_zygote_exits_when_idle(warm_dir):
    ws = warm.WarmStart(start=True, idle_s=0.5)
    assert ws.available()
    pid = ws.server_pid
    deadline = time.monotonic() + 60  # it imports torch first, then idles out
    while ws.path.exists() or _alive(pid):
        assert time.monotonic() < deadline, "the warm-start process never idled out"
        time.sleep(0.1)
    assert not ws.path.with_suffix(".log").exists()  # a clean end leaves nothing behind


def _alive(pid: int) -> bool:
    try:
        os.waitpid(pid, os.WNOHANG)  # reap it if it is our exited child
        os.kill(pid, 0)
    except (ChildProcessError, ProcessLookupError):
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] != "Z"


def test_a_folder_someone_else_could_write_is_never_used(warm_dir):
    (warm_dir / f"repro-warm-{os.getuid()}").mkdir(mode=0o777)
    os.chmod(warm_dir / f"repro-warm-{os.getuid()}", 0o777)
    ws = warm.WarmStart(start=True)
    assert not ws.available() and ws.server_pid is None  # nothing started, nothing connected


def test_keep_warm_with_another_executor_is_a_usage_error(tmp_path):
    import subprocess
    import sys

    make_tiny_paper(tmp_path, seeds=(0,))
    r = subprocess.run([sys.executable, "-m", "repro", "run", "papers/0000.00001", "--keep-warm", "--executor", "inline"],
                       cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "--keep-warm is for the local executor, not inline" in r.stderr
    assert "Traceback" not in r.stderr and not (tmp_path / "results").exists()


def test_a_run_that_does_not_ask_makes_nothing(warm_dir):
    assert not warm.WarmStart(start=False).available()
    assert not warm.folder().exists()  # no folder, no process, for runs without --keep-warm
