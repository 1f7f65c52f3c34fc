"""Issue 7: faults during `repro run` never cost finished work nor leave corrupt files.

Fast unit tests (atomic writes, corrupt records, stale locks) and slow end-to-end ones on the
tiny paper (kill -9 of a 2-worker sweep, --wait, disk full on a small tmpfs).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from helpers.cli import run_repro
from repro import atomic
from repro.atomic import atomic_write_json, atomic_write_text
from repro.errors import LockError
from repro.runs.lock import paper_lock
from repro.paper import load_paper
from repro.runs.planner import CACHED, TODO, plan
from repro.results import load_results, metrics_problem, read_metrics, read_summary
from helpers.tinypaper import make_tiny_paper

PID = "0000.00001"


def summaries(results: Path) -> dict[str, dict]:
    return {f"{f.parent.parent.name}/{f.parent.name}": json.loads(f.read_text())
            for f in sorted((results / PID).glob("*/seed-*/summary.json"))}


def tree_digest(folder: Path) -> dict[str, str]:
    """sha256 of every file under `folder` (to prove nothing was touched)."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


# -- atomic writes --------------------------------------------------------------------------
def test_atomic_write_failing_midway_keeps_the_old_file_and_leaves_no_temp(tmp_path, monkeypatch):
    target = tmp_path / "summary.json"
    atomic_write_json(target, {"status": "finished", "final": {"acc": 0.9}})
    before = target.read_bytes()

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(atomic.os, "fsync", full)
    with pytest.raises(OSError, match="No space left"):
        atomic_write_json(target, {"status": "running"})
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["summary.json"]


def test_atomic_write_replaces_whole_files_with_shareable_permissions(tmp_path):
    target = tmp_path / "a" / "b.txt"
    atomic_write_text(target, "one\n")
    atomic_write_text(target, "two\n")
    assert target.read_text() == "two\n"
    assert target.stat().st_mode & 0o044  # not mkstemp's 0600: results are shared
    assert sorted(p.name for p in target.parent.iterdir()) == ["b.txt"]


# -- corrupt and truncated records ----------------------------------------------------------
def _finished_run(rdir: Path, key: str = "k") -> None:
    rdir.mkdir(parents=True)
    rows = [{"kind": "epoch", "epoch": e, "step": 4 * (e + 1), "val_acc": 0.5 + e / 10} for e in range(3)]
    (rdir / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    atomic_write_json(rdir / "summary.json", {"status": "finished", "cache_key": key, "final": {"val_acc": 0.7}})


@pytest.mark.parametrize("damage, why", [
    (lambda t: t[: len(t) // 2], "corrupt"),               # truncated mid-object
    (lambda t: "", "corrupt"),                              # emptied
    (lambda t: "\x00\x00\x00garbage", "corrupt"),           # overwritten
    (lambda t: '{"status": "done"}', "no valid 'status'"),  # parses, but is not a summary
    (lambda t: '{"status": "finished", "final": [1, 2]}', "'final' is not a mapping"),
    (lambda t: '[' * 100000, "corrupt"),                    # would blow the recursion limit
])
def test_corrupt_summary_is_reported_and_redone(tmp_path, damage, why):
    rdir = tmp_path / "run"
    _finished_run(rdir)
    f = rdir / "summary.json"
    f.write_text(damage(f.read_text()))
    summary, problem = read_summary(rdir)
    assert summary is None and why in problem and str(f) in problem
    from repro.runs.planner import decide
    action, reason = decide(rdir, "k")
    assert action == TODO and "corrupt summary" in reason


def test_summary_that_is_not_utf8_is_corrupt_not_a_crash(tmp_path):
    rdir = tmp_path / "run"
    _finished_run(rdir)
    (rdir / "summary.json").write_bytes(b"\xff\xfe\x00{bad")
    summary, problem = read_summary(rdir)
    assert summary is None and "not UTF-8" in problem


@pytest.mark.parametrize("damage, why", [
    (lambda b: b[:-7], "line 3"),                     # cut mid-row
    (lambda b: b[:-1], "truncated"),                  # cut just before the final newline
    (lambda b: b.replace(b'"epoch", "epoch": 1', b'"epo\xffch", "epoch": 1'), "line 2"),
    (lambda b: b"", "no epoch rows"),
    (lambda b: b + b"[1, 2]\n", "line 4"),
])
def test_corrupt_metrics_of_a_finished_run_are_reported_and_redone(tmp_path, damage, why):
    rdir = tmp_path / "run"
    _finished_run(rdir)
    from repro.runs.planner import decide
    assert decide(rdir, "k") == (CACHED, "finished")
    m = rdir / "metrics.jsonl"
    m.write_bytes(damage(m.read_bytes()))
    assert why in metrics_problem(m)
    action, reason = decide(rdir, "k")
    assert action == TODO and reason.startswith("corrupt metrics") and why in reason
    m.unlink()
    assert "missing" in decide(rdir, "k")[1]


def test_reader_drops_a_torn_last_metrics_line(tmp_path):
    f = tmp_path / "metrics.jsonl"
    f.write_text('{"kind": "epoch", "epoch": 0}\n{"kind": "ep')
    assert read_metrics(f) == [{"kind": "epoch", "epoch": 0}]


def test_load_results_never_counts_a_corrupt_run(tmp_path):
    root = tmp_path / "results"
    for seed in (0, 1):
        _finished_run(root / PID / "method" / f"seed-{seed}")
    (root / PID / "method" / "seed-1" / "summary.json").write_text('{"status": "finish')
    res = load_results(root, PID)
    assert res.values("method", "val_acc") == [0.7]
    assert [r.status for r in res.runs["method"]] == ["finished", "corrupt"]


# -- the lock ---------------------------------------------------------------------------------
def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


@pytest.mark.parametrize("content", [
    lambda: json.dumps({"pid": _dead_pid(), "host": socket.gethostname(), "since": "x"}),
    lambda: '{"pid": 12',                # torn write
    lambda: '{"pid": "not a number"}',
    lambda: "[1, 2, 3]",
    lambda: '{"pid": 0}',               # os.kill(0) would signal our own group
    lambda: "",
])
def test_stale_or_garbage_lock_is_cleared(tmp_path, content):
    (tmp_path / ".lock").write_text(content())
    with paper_lock(tmp_path) as path:
        assert json.loads(path.read_text())["pid"] == os.getpid()
    assert not (tmp_path / ".lock").exists()
    assert list(tmp_path.iterdir()) == []


def test_live_lock_is_refused_with_a_hint_and_left_alone(tmp_path):
    owner = json.dumps({"pid": os.getppid(), "host": socket.gethostname(), "since": "earlier"})
    (tmp_path / ".lock").write_text(owner)
    with pytest.raises(LockError) as e:
        with paper_lock(tmp_path):
            pass
    assert "another `repro run`" in e.value.message and "--wait" in e.value.hint
    assert e.value.where.endswith(".lock") and e.value.exit_code != 0
    assert (tmp_path / ".lock").read_text() == owner


# -- end to end -----------------------------------------------------------------------------
def _slow_paper(root: Path, epochs: int, step_sleep: float) -> Path:
    folder = make_tiny_paper(root, seeds=(0, 1), epochs=epochs)
    base = folder / "configs" / "base.yaml"
    base.write_text(base.read_text().replace("  lr: 0.1\n", f"  lr: 0.1\n  step_sleep: {step_sleep}\n"))
    return folder


def _epochs_done(rdir: Path) -> int:
    return sum(r.get("kind") == "epoch" for r in read_metrics(rdir / "metrics.jsonl"))


def _zygote_children(warm_dir: Path) -> list[int]:
    """Live processes forked by the warm-start process whose socket is in `warm_dir`."""
    pids = []
    for log in warm_dir.glob("repro-warm-*/*.log"):
        for line in log.read_text().splitlines():
            if "serving" in line:
                pids.append(int(line.rsplit("pid ", 1)[1].rstrip(")")))
    kids = []
    for pid in pids:
        with contextlib.suppress(OSError):
            kids += [int(k) for k in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    return kids


@pytest.mark.slow
@pytest.mark.parametrize("warm", [False, True], ids=["spawned-workers", "forked-from-warm-start"])
def test_kill_9_of_a_two_worker_sweep_loses_nothing_and_matches_an_uninterrupted_one(tmp_path, warm):
    epochs = 7
    ref, work = tmp_path / "ref", tmp_path / "work"
    _slow_paper(ref, epochs, 0.06)
    _slow_paper(work, epochs, 0.06)
    args = ["run", f"papers/{PID}", "--no-site", "--workers", "2"]
    r = run_repro(*args, cwd=ref)  # the reference: spawned workers
    assert r.returncode == 0, r.stderr
    # With warm start, the interrupted sweep's workers are forked by a zygote outside its process
    # group: the kill below does not reach them; they must stop on their own, resumable.
    warm_dir = Path(tempfile.mkdtemp(prefix="rw", dir="/tmp"))  # short: it holds a socket
    env = {"XDG_RUNTIME_DIR": str(warm_dir)} if warm else {}
    if warm:
        args.append("--keep-warm")

    proc = subprocess.Popen([sys.executable, "-m", "repro", *args], cwd=work, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True, env={**os.environ, **env})
    runs = work / "results" / PID

    def state() -> tuple[list[Path], list[Path]]:
        done, mid = [], []
        for d in runs.glob("*/seed-*"):
            s, _ = read_summary(d)
            if s and s["status"] == "finished":
                done.append(d)
            elif s and s["status"] == "running" and (d / "checkpoints/last.ckpt").is_file() \
                    and 2 <= _epochs_done(d) < epochs:
                mid.append(d)
        return done, mid

    deadline = time.monotonic() + 150
    while True:  # both workers mid-run, with some runs already finished
        done, mid = state()
        if done and len(mid) == 2:
            break
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "never saw two runs in flight after a finished one"
        time.sleep(0.03)
    if warm:
        assert len(_zygote_children(warm_dir)) == 2  # the two workers, forked
    os.killpg(proc.pid, signal.SIGKILL)
    out, _ = proc.communicate()
    assert (b"workers forked from the warm-start process" in out) == warm, out
    if warm:
        deadline = time.monotonic() + 20
        while _zygote_children(warm_dir):
            assert time.monotonic() < deadline, "forked workers outlived the repro run that asked for them"
            time.sleep(0.05)
    done, mid = state()
    assert len(mid) == 2, "a run finished between the check and the kill; the test needs it in flight"
    untouched = {d: tree_digest(d) for d in done}
    assert (runs / ".lock").exists()  # stale: its owner was killed

    dry = run_repro("run", f"papers/{PID}", "--dry-run", cwd=work)
    actions = {line.split()[0]: line.split()[1] for line in dry.stdout.splitlines() if "/seed-" in line}
    for d in done:
        assert actions[f"{d.parent.name}/{d.name}"] == "cached"
    for d in mid:
        assert actions[f"{d.parent.name}/{d.name}"] == "resume"

    r = run_repro(*args, cwd=work, env=env)
    assert r.returncode == 0, r.stderr
    assert ("workers forked from the warm-start process" in r.stdout) == warm
    if warm:
        stop = subprocess.run([sys.executable, "-m", "repro.runs.warm", "stop"], capture_output=True, text=True,
                              env={**os.environ, **env})
        assert "stopped 1 " in stop.stdout, stop.stdout + stop.stderr
    shutil.rmtree(warm_dir, ignore_errors=True)
    for d, digest in untouched.items():
        assert tree_digest(d) == digest, f"finished run {d} was touched"
    after = summaries(work / "results")
    for d in mid:
        assert after[f"{d.parent.name}/{d.name}"]["resumed"] is True
        rows = read_metrics(d / "metrics.jsonl")
        assert [x["epoch"] for x in rows if x["kind"] == "epoch"] == list(range(epochs))
    assert all(s["status"] == "finished" for s in after.values()) and len(after) == 4

    # The statistics a report is built from: identical to the uninterrupted sweep.
    got, want = load_results(work / "results", PID), load_results(ref / "results", PID)
    assert sorted(got.runs) == sorted(want.runs) == ["baseline", "method"]
    for config in want.runs:
        for metric in ("val_acc", "train_loss"):
            assert len(want.values(config, metric)) == 2
            assert got.values(config, metric) == pytest.approx(want.values(config, metric), abs=1e-6), (config, metric)


@pytest.mark.slow
def test_second_run_with_wait_queues_then_finds_everything_cached(tmp_path):
    folder = make_tiny_paper(tmp_path, seeds=(0,), epochs=3)
    base = folder / "configs" / "base.yaml"
    base.write_text(base.read_text().replace("  lr: 0.1\n", "  lr: 0.1\n  step_sleep: 0.15\n"))
    args = ["run", f"papers/{PID}", "--no-site", "--workers", "1"]
    first = subprocess.Popen([sys.executable, "-m", "repro", *args], cwd=tmp_path, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, start_new_session=True)
    lock = tmp_path / "results" / PID / ".lock"
    deadline = time.monotonic() + 60
    while not lock.exists():
        assert first.poll() is None and time.monotonic() < deadline, first.communicate()
        time.sleep(0.05)
    refused = run_repro(*args, cwd=tmp_path)
    assert refused.returncode == 4 and "another `repro run`" in refused.stderr

    second = subprocess.Popen([sys.executable, "-m", "repro", *args, "--wait"], cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    out1, err1 = first.communicate(timeout=240)
    assert first.returncode == 0, err1
    assert second.poll() is None or second.returncode == 0  # it was waiting, not refused
    finished = {k: v["ended_at"] for k, v in summaries(tmp_path / "results").items()}
    stamps = tree_digest(tmp_path / "results" / PID / "method")
    out2, err2 = second.communicate(timeout=240)
    assert second.returncode == 0, err2
    assert {k: v["ended_at"] for k, v in summaries(tmp_path / "results").items()} == finished
    assert tree_digest(tmp_path / "results" / PID / "method") == stamps  # nothing rerun or rewritten
    assert not lock.exists()


@pytest.fixture
def small_disk(tmp_path):
    """A 1 MB tmpfs: a disk that really fills up (root only)."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({r.stderr.strip() or 'not permitted'})")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def _fill(disk: Path, leave: int) -> None:
    """Fill `disk` up, then give back `leave` bytes."""
    filler = disk / "filler"
    with open(filler, "wb", buffering=0) as fh:
        try:
            while True:
                fh.write(b"\0" * 4096)
        except OSError as e:
            assert e.errno == errno.ENOSPC
    os.truncate(filler, max(0, filler.stat().st_size - leave))


@pytest.mark.slow
def test_disk_full_marks_the_run_failed_with_the_reason_and_keeps_earlier_results(tmp_path, small_disk):
    # `big` has a ~120 kB checkpoint; the disk keeps 48 kB free: enough for the small files.
    make_tiny_paper(tmp_path, seeds=(0,), epochs=2, ablations={"big": "model:\n  hidden: 4096\n"})
    res = small_disk / "results"
    ok = run_repro("run", f"papers/{PID}", "--only", "baseline", "--no-site", "--results", str(res), cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    earlier = tree_digest(res / PID / "baseline")
    _fill(small_disk, 48 * 1024)

    r = run_repro("run", f"papers/{PID}", "--only", "baseline,big", "--no-site", "--results", str(res), cwd=tmp_path)
    assert r.returncode == 1
    assert "big/seed-0" in r.stderr and "No space left on device" in r.stderr
    big = res / PID / "big" / "seed-0"
    summary, problem = read_summary(big)
    assert problem is None and summary["status"] == "failed"
    assert "No space left on device" in summary["error"] and "disk full" in summary["error"]
    assert tree_digest(res / PID / "baseline") == earlier  # earlier results intact
    assert not list(big.glob("checkpoints/.*tmp*")), "half-written checkpoint left behind"
    assert not list(res.rglob(".*.tmp")), "temp files left behind"

    # Space freed: the rerun redoes only the failed run.
    (small_disk / "filler").unlink()
    paper = load_paper(tmp_path / "papers" / PID)
    actions = {p.spec.config: p.action for p in plan(paper, res, only=["baseline", "big"])}
    assert actions == {"baseline": CACHED, "big": TODO}


@pytest.mark.parametrize("fake_torch, says", [
    # Python starts, then `import torch` kills the process: the worker never reports "ready".
    ("import os\nos._exit(3)\n", "died before they were ready (last exit code 3)"),
    # `import torch` raises: the worker reports the traceback itself.
    ("raise ImportError('libtorch_cpu.so: cannot open shared object file')\n", "libtorch_cpu.so"),
], ids=["dies", "raises"])
def test_workers_that_cannot_start_stop_the_sweep_with_a_clear_error(tmp_path, fake_torch, says):
    make_tiny_paper(tmp_path, seeds=(0, 1))
    shadow = tmp_path / "shadow"
    shadow.mkdir()
    (shadow / "torch.py").write_text(fake_torch)  # shadows the real torch in the workers only
    t0 = time.monotonic()
    r = run_repro("run", f"papers/{PID}", "--no-site", "--workers", "2", cwd=tmp_path,
                  env={"PYTHONPATH": os.pathsep.join([str(shadow), os.environ.get("PYTHONPATH", "")])}, timeout=120)
    assert r.returncode == 1, r.stderr
    assert says in r.stderr and "hint:" in r.stderr and "Traceback" not in r.stderr.split("error:")[-1]
    assert time.monotonic() - t0 < 60  # no endless respawning
    # No run was charged with it: nothing recorded as failed, all of them still to do.
    assert not list((tmp_path / "results").rglob("summary.json"))
    paper = load_paper(tmp_path / "papers" / PID)
    assert {p.action for p in plan(paper, tmp_path / "results")} == {TODO}
