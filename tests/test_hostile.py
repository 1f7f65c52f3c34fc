"""What a hostile user tried (issue 14): each case ends in a clear error or a correct result,
never a traceback, a lost run, a second writer, or a run counted under the wrong config."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers.cli import run_repro
from repro.paper import load_paper
from repro.runs.planner import TODO, CACHED, plan
from helpers.tinypaper import make_tiny_paper

PID = "0000.00001"


def _no_traceback(r: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in r.stderr + r.stdout, r.stderr


# -- 2 and 10: seeds -------------------------------------------------------------------------
@pytest.mark.parametrize("seeds, says", [
    ("0,0", "given twice"),
    ("-1,1", "out of range"),
    ("1,99999999999", "out of range"),
])
@pytest.mark.parametrize("dry", [True, False])
def test_bad_or_duplicate_seeds_are_refused_before_anything_runs(tmp_path, seeds, says, dry):
    make_tiny_paper(tmp_path)
    r = run_repro("run", f"papers/{PID}", f"--seeds={seeds}", "--no-site", *(["--dry-run"] if dry else []),
                  cwd=tmp_path, timeout=120)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "error:" in r.stderr and says in r.stderr and "hint:" in r.stderr
    _no_traceback(r)
    assert not (tmp_path / "results").exists()


@pytest.mark.parametrize("seeds, says", [("[0, 1, 0]", "twice"), ("[-3]", "out of range"), ("[4294967296]", "out of range")])
def test_bad_or_duplicate_seeds_in_paper_yaml_are_refused(tmp_path, seeds, says):
    folder = make_tiny_paper(tmp_path)
    y = folder / "paper.yaml"
    y.write_text(y.read_text().replace("seeds: [0, 1]", f"seeds: {seeds}"))
    r = run_repro("run", f"papers/{PID}", "--dry-run", cwd=tmp_path, timeout=120)
    assert r.returncode == 2 and says in r.stderr and "paper.yaml" in r.stderr, r.stdout + r.stderr
    _no_traceback(r)


def test_largest_numpy_seed_is_accepted(tmp_path):
    make_tiny_paper(tmp_path)
    r = run_repro("run", f"papers/{PID}", "--seeds=0,4294967295", "--dry-run", cwd=tmp_path, timeout=120)
    assert r.returncode == 0 and "seed-4294967295" in r.stdout, r.stderr


# -- 7: names that escape their folder -------------------------------------------------------
@pytest.mark.parametrize("fname", ["...yaml", "..yaml", ".lock.yaml", "report.md.yaml", "a@b.yaml"])
def test_config_names_that_would_escape_or_collide_are_refused(tmp_path, fname):
    folder = make_tiny_paper(tmp_path)
    (folder / "configs" / "ablations" / fname).write_text("model:\n  hidden: 2\n")
    r = run_repro("run", f"papers/{PID}", "--no-site", cwd=tmp_path, timeout=120)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "error:" in r.stderr and fname in r.stderr and "hint:" in r.stderr
    _no_traceback(r)
    assert not (tmp_path / "results").exists()


def test_paper_folder_with_an_at_sign_cannot_share_a_config_sets_results(tmp_path):
    make_tiny_paper(tmp_path, pid="p@gpu")
    r = run_repro("run", "papers/p@gpu", "--no-site", cwd=tmp_path, timeout=120)
    assert r.returncode == 2 and "'@'" in r.stderr and "hint:" in r.stderr, r.stdout + r.stderr
    _no_traceback(r)
    assert not (tmp_path / "results").exists()


# -- 12: the cache key -----------------------------------------------------------------------
def _keys(folder: Path, results: Path) -> dict[str, str]:
    return {r.spec.name: r.spec.cache_key for r in plan(load_paper(folder), results)}


def test_cache_key_follows_data_files_and_repros_run_code_not_package_versions(tmp_path, monkeypatch):
    from repro.runs import planner

    folder = make_tiny_paper(tmp_path)
    (folder / "vocab.txt").write_text("a b c\n")
    results = tmp_path / "results"
    before = _keys(folder, results)
    (folder / "vocab.txt").write_text("a b c d\n")           # a data file beside data.py
    after_data = _keys(folder, results)
    assert all(before[k] != after_data[k] for k in before)

    # Files that only describe the paper keep the results.
    (folder / "REVIEW.md").write_text("reviewed\n")
    (folder / "claims.yaml").write_text("claims: []\n# edited\n")
    assert _keys(folder, results) == after_data

    # Package versions are recorded (env.json) and shown by --dry-run, not keyed: results made
    # on a GPU machine or with another Lightning stay judged.
    import importlib.metadata
    real_version = importlib.metadata.version
    monkeypatch.setattr(importlib.metadata, "version", lambda name: "0.0.1" if name in ("torch", "lightning") else real_version(name))
    assert _keys(folder, results) == after_data
    monkeypatch.setattr(importlib.metadata, "version", real_version)

    monkeypatch.setattr(planner, "_repro_hash", "a changed training loop")
    assert all(_keys(folder, results)[k] != after_data[k] for k in before)


def test_repro_run_code_hash_covers_the_training_loop_not_the_site():
    from repro.runs import planner

    assert "runs/training.py" in planner.RUN_MODULES and "runs/executors/ddp.py" in planner.RUN_MODULES
    assert not any(m.startswith(("judging/site", "judging/report", "commands", "judging/verdicts")) for m in planner.RUN_MODULES)
    here = Path(planner.__file__).parents[1]
    assert all((here / m).is_file() for m in planner.RUN_MODULES)


def test_dry_run_shows_a_changed_environment_that_does_not_invalidate(tmp_path):
    folder = make_tiny_paper(tmp_path, seeds=(0,))
    results = tmp_path / "results"
    # A finished run recorded with another scipy than this machine's.
    r = next(iter(plan(load_paper(folder), results, seeds=[0])))
    rdir = Path(r.spec.run_dir)
    rdir.mkdir(parents=True)
    (rdir / "summary.json").write_text(json.dumps({"status": "finished", "cache_key": r.spec.cache_key,
                                                   "final": {"val_acc": 1.0}}))
    (rdir / "metrics.jsonl").write_text(json.dumps({"kind": "epoch", "epoch": 0, "val_acc": 1.0}) + "\n")
    (rdir / "env.json").write_text(json.dumps({"python": sys.version.split()[0],
                                               "packages": {"scipy": "0.0.0-old"}}))
    out = run_repro("run", f"papers/{PID}", "--only", "baseline", "--seeds", "0", "--dry-run", cwd=tmp_path, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "cached" in out.stdout
    assert "scipy 0.0.0-old ->" in out.stdout and "not in the cache key" in out.stdout


# -- 1: outdated runs are never judged -------------------------------------------------------
def _fake_finished(spec, value: float) -> None:
    rdir = Path(spec.run_dir)
    rdir.mkdir(parents=True, exist_ok=True)
    (rdir / "metrics.jsonl").write_text(json.dumps({"kind": "epoch", "epoch": 0, "val_acc": value, "train_loss": 1 - value}) + "\n")
    (rdir / "summary.json").write_text(json.dumps({
        "status": "finished", "cache_key": spec.cache_key, "final": {"val_acc": value, "train_loss": 1 - value},
        "best": {}, "paper": PID, "config": spec.config, "seed": spec.seed, "ended_at": "2026-01-01T00:00:00"}))


def test_report_verdicts_and_site_count_only_runs_of_the_current_config(tmp_path):
    from repro.results import load_results
    from repro.judging.verdicts import judge_paper

    folder = make_tiny_paper(tmp_path)
    (folder / "claims.yaml").write_text(
        "claims:\n- id: m\n  kind: value\n  config: method\n  metric: val_acc\n  value: 0.9\n  tolerance: {abs: 0.05}\n")
    results = tmp_path / "results"
    old = {r.spec.name: r.spec for r in plan(load_paper(folder), results, seeds=[0, 1])}
    _fake_finished(old["method/seed-1"], 0.1)            # made under the old method.yaml
    (folder / "configs" / "method.yaml").write_text("model:\n  hidden: 32\n")
    new = {r.spec.name: r.spec for r in plan(load_paper(folder), results, seeds=[0, 1])}
    _fake_finished(new["method/seed-0"], 0.9)
    _fake_finished(new["baseline/seed-0"], 0.5)

    j = judge_paper(load_paper(folder), load_results(results, PID))
    assert j.table["method"]["val_acc"].n == 1 and j.table["method"]["val_acc"].mean == pytest.approx(0.9)
    # One current seed: the outdated 0.1 is not averaged in (that would be not reproduced) and one
    # seed alone decides nothing.
    assert j.verdict("m").verdict == "inconclusive" and j.verdict("m").stats["method"].n == 1
    assert [(r.config, r.seed) for r in j.outdated] == [("method", 1)]
    assert j.seeds_used == [0]

    r = run_repro("report", f"papers/{PID}", cwd=tmp_path, timeout=120)
    assert r.returncode == 0, r.stderr
    text = (results / PID / "report.md").read_text()
    assert "Outdated runs" in text and "method/seed-1" in text.split("Outdated runs")[1]
    assert "Seeds used: 0 (paper.yaml lists 0, 1)" in text

    # The site judges through the same judge_paper: its plots read only current runs.
    res = load_results(results, PID)
    judge_paper(load_paper(folder), res)
    assert [r.seed for r in res.finished("method")] == [0] and [r.seed for r in res.outdated["method"]] == [1]


# -- 8: the site never follows a link out of results/ ----------------------------------------
def test_site_copies_only_regular_files_inside_the_results_folder(tmp_path):
    from helpers.site_synth import make_paper, make_results

    from repro.judging.site.build import build_site

    make_paper(tmp_path, "2001.00001", configs=("baseline", "method"))
    make_results(tmp_path, "2001.00001", configs=("baseline", "method"), seeds=(0, 1))
    secret = tmp_path / "private.txt"
    secret.write_text("SECRET-TOKEN\n")
    base = tmp_path / "results" / "2001.00001"
    (base / "baseline" / "seed-0" / "run.log").unlink(missing_ok=True)
    (base / "baseline" / "seed-0" / "run.log").symlink_to(secret)
    (base / "method" / "seed-1" / "config.yaml").unlink()
    (base / "method" / "seed-1" / "config.yaml").symlink_to(secret)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "run.log").write_text("SECRET-TOKEN in a linked folder\n")
    (base / "method" / "seed-0" / "run.log").unlink(missing_ok=True)
    (base / "method" / "seed-0" / "run.log").symlink_to(outside / "run.log")
    (base / "baseline" / "seed-1" / "run.log").write_text("an ordinary log\n")
    build_site(tmp_path / "papers", tmp_path / "results", tmp_path / "site", jobs=1)
    site = tmp_path / "site"
    copied = [p for p in site.rglob("*") if p.is_file()]
    assert not [p for p in copied if b"SECRET-TOKEN" in p.read_bytes()]
    assert (site / "papers" / "2001.00001" / "runs" / "baseline" / "seed-1" / "run.log.txt").read_text() == "an ordinary log\n"


# -- 3: the lock admits one holder -----------------------------------------------------------
def _contender(folder: str, barrier, out: str) -> None:
    from repro.errors import LockError
    from repro.runs.lock import paper_lock

    barrier.wait()
    try:
        with paper_lock(Path(folder)):
            with open(out, "a") as fh:
                fh.write(f"{os.getpid()}\n")
            time.sleep(0.3)  # far longer than the contenders take to try
    except LockError:
        pass


@pytest.mark.parametrize("start", ["free", "stale"])
def test_four_processes_taking_the_lock_at_once_get_one_holder(tmp_path, start):
    import multiprocessing as mp
    import socket

    ctx = mp.get_context("fork")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    for trial in range(30):
        folder = tmp_path / f"t{trial}"
        folder.mkdir()
        if start == "stale":
            (folder / ".lock").write_text(json.dumps({"pid": dead.pid, "host": socket.gethostname(), "since": "x"}))
        out = tmp_path / f"held{trial}"
        out.touch()
        barrier = ctx.Barrier(4)
        procs = [ctx.Process(target=_contender, args=(str(folder), barrier, str(out))) for _ in range(4)]
        for p in procs:
            p.start()
        for p in procs:
            p.join(30)
            assert p.exitcode == 0
        holders = out.read_text().split()
        assert len(holders) == 1, f"trial {trial}: {len(holders)} holders at once"
        assert sorted(x.name for x in folder.iterdir()) == []  # no temp or stale files left


# -- 6: sys.exit() in a model is a failure, recorded -----------------------------------------
@pytest.mark.slow
def test_a_model_that_calls_sys_exit_is_recorded_failed_with_its_traceback(tmp_path):
    folder = make_tiny_paper(tmp_path, seeds=(0,), epochs=2)
    model = folder / "model.py"
    model.write_text(model.read_text().replace('raise ValueError("deliberate crash for the test")',
                                               'import sys; sys.exit(3)'))
    (folder / "configs" / "baseline.yaml").write_text("model:\n  hidden: 4\n  crash: true\n")
    r = run_repro("run", f"papers/{PID}", "--only", "baseline", "--no-site", cwd=tmp_path, timeout=300)
    assert r.returncode == 1, r.stdout + r.stderr
    _no_traceback(r)
    rdir = tmp_path / "results" / PID / "baseline" / "seed-0"
    s = json.loads((rdir / "summary.json").read_text())
    assert s["status"] == "failed" and s["error"].startswith("SystemExit"), s
    log = (rdir / "run.log").read_text()
    assert "Traceback" in log and "sys.exit(3)" in log
    dry = run_repro("run", f"papers/{PID}", "--only", "baseline", "--dry-run", cwd=tmp_path, timeout=120)
    assert "previous attempt failed" in dry.stdout


# -- 5 and 4: signals to `repro run` alone; DDP runs stop with it ---------------------------
def _group_gone(pgid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


def _ddp_procs(cwd: Path) -> list[int]:
    """DDP rank processes started from `cwd` (by the `repro run` under test)."""
    out = []
    for d in Path("/proc").iterdir():
        try:
            if b"repro.runs.executors.ddp" in (d / "cmdline").read_bytes() and os.readlink(d / "cwd") == str(cwd):
                out.append(int(d.name))
        except (OSError, ValueError):
            continue
    return out


def _in_flight(runs: Path, need: int, epochs: int) -> list[Path]:
    from repro.results import read_metrics, read_summary

    mid = []
    for d in runs.glob("*/seed-*"):
        s, _ = read_summary(d)
        n = sum(r.get("kind") == "epoch" for r in read_metrics(d / "metrics.jsonl"))
        if s and s["status"] == "running" and (d / "checkpoints/last.ckpt").is_file() and 1 <= n < epochs:
            mid.append(d)
    return mid if len(mid) >= need else []


def _signal_parent_alone(tmp_path: Path, sig: int, args: list[str], need: int, epochs: int) -> list[Path]:
    proc = subprocess.Popen([sys.executable, "-m", "repro", *args], cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True, text=True)
    runs = tmp_path / "results" / PID
    try:
        deadline = time.monotonic() + 150
        while not (mid := _in_flight(runs, need, epochs)):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "never saw the runs in flight"
            time.sleep(0.05)
        os.kill(proc.pid, sig)  # the `repro run` process alone, not its group
        out, err = proc.communicate(timeout=60)
        assert "Traceback" not in err, err
        # Every worker / DDP rank is gone soon after: none keeps training or writing.
        assert _group_gone(proc.pid, 30), "run processes outlived `repro run`"
        deadline = time.monotonic() + 30
        while _ddp_procs(tmp_path) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _ddp_procs(tmp_path), "DDP ranks outlived `repro run`"
    finally:
        for pid in [proc.pid, *_ddp_procs(tmp_path)]:
            try:
                os.killpg(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
    return mid


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGKILL])
def test_signal_to_repro_run_alone_leaves_in_flight_runs_resumable(tmp_path, sig):
    from repro.results import read_summary

    epochs = 30
    folder = make_tiny_paper(tmp_path, seeds=(0,), epochs=epochs)
    base = folder / "configs" / "base.yaml"
    base.write_text(base.read_text().replace("  lr: 0.1\n", "  lr: 0.1\n  step_sleep: 0.05\n")
                    + "resources:\n  checkpoint_every_s: 0\n")
    mid = _signal_parent_alone(tmp_path, sig, ["run", f"papers/{PID}", "--no-site", "--workers", "2"], 2, epochs)
    for d in mid:
        s, _ = read_summary(d)
        assert s["status"] == "running", (d, s)  # not `failed`: nothing to redo from scratch
    dry = run_repro("run", f"papers/{PID}", "--dry-run", cwd=tmp_path, timeout=120)
    actions = {line.split()[0]: line.split()[1] for line in dry.stdout.splitlines() if "/seed-" in line}
    for d in mid:
        assert actions[f"{d.parent.name}/{d.name}"] == "resume", dry.stdout


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_ddp_run_stops_with_repro_run_and_the_rerun_resumes_it(tmp_path, sig):
    from repro.results import read_summary

    epochs = 40
    folder = make_tiny_paper(tmp_path, seeds=(0,), epochs=epochs, ablations={
        "ddp": "data:\n  batch_size: 32\ntrainer:\n  accelerator: cpu\n  devices: 2\n  strategy: ddp\n"})
    base = folder / "configs" / "base.yaml"
    base.write_text(base.read_text().replace("  lr: 0.1\n", "  lr: 0.1\n  step_sleep: 0.05\n")
                    + "resources:\n  checkpoint_every_s: 0\n")
    args = ["run", f"papers/{PID}", "--only", "ddp", "--no-site", "--workers", "2"]
    mid = _signal_parent_alone(tmp_path, sig, args, 1, epochs)
    s, _ = read_summary(mid[0])
    assert s["status"] == "running", s
    # The rerun resumes it (no rank of the old run is left to write beside it) and finishes.
    r = run_repro(*args, cwd=tmp_path, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    s, _ = read_summary(mid[0])
    assert s["status"] == "finished" and s["resumed"] is True, s


# -- 9: a results folder repro cannot use is an error with a hint ----------------------------
def _error(r: subprocess.CompletedProcess, *says: str) -> None:
    assert r.returncode == 2, r.stdout + r.stderr
    _no_traceback(r)
    assert "error:" in r.stderr and "hint:" in r.stderr, r.stderr
    for s in says:
        assert s in r.stderr, r.stderr


@pytest.mark.parametrize("command", ["run", "report", "status"])
def test_results_option_that_is_a_file_or_cannot_be_created(tmp_path, command):
    make_tiny_paper(tmp_path)
    (tmp_path / "afile").write_text("x")
    extra = ["--no-site"] if command == "run" else []
    _error(run_repro(command, f"papers/{PID}", "--results", "afile", *extra, cwd=tmp_path, timeout=120),
           "is a file, not a folder")
    if command != "status":  # status only reads: a folder that does not exist has no runs
        for where in ("/proc/nonexistent/results", "/proc/self"):  # not creatable / not writable, even as root
            _error(run_repro(command, f"papers/{PID}", "--results", where, *extra, cwd=tmp_path, timeout=120),
                   "results folder")


@pytest.mark.parametrize("command", ["run", "report", "status"])
def test_paper_results_folder_that_is_a_file(tmp_path, command):
    make_tiny_paper(tmp_path)
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / PID).write_text("not a folder")
    extra = ["--no-site"] if command == "run" else []
    _error(run_repro(command, f"papers/{PID}", *extra, cwd=tmp_path, timeout=120), "is a file, not a folder")


def test_lock_that_is_a_folder(tmp_path):
    make_tiny_paper(tmp_path)
    (tmp_path / "results" / PID / ".lock").mkdir(parents=True)
    _error(run_repro("run", f"papers/{PID}", "--no-site", cwd=tmp_path, timeout=120), ".lock is a folder")
    assert sorted(p.name for p in (tmp_path / "results" / PID).iterdir()) == [".lock"]  # no .lock.stale.<pid>


def test_metrics_file_that_is_a_folder_stops_the_site_with_a_hint(tmp_path):
    from helpers.site_synth import make_paper, make_results

    make_paper(tmp_path, "2001.00001", configs=("baseline", "method"))
    make_results(tmp_path, "2001.00001", configs=("baseline", "method"), seeds=(0, 1))
    m = tmp_path / "results" / "2001.00001" / "method" / "seed-0" / "metrics.jsonl"
    m.unlink()
    m.mkdir()
    _error(run_repro("site", cwd=tmp_path, timeout=300), "metrics.jsonl is not a regular file", "rm -r")


# -- 11: large metrics files are streamed, never read whole ---------------------------------
def _big_finished_run(rdir: Path, key: str, *, record_size: bool) -> int:
    rdir.mkdir(parents=True)
    with open(rdir / "metrics.jsonl", "w") as fh:
        for e in range(20):
            for s in range(10000):
                fh.write(json.dumps({"kind": "step", "step": e * 10000 + s, "epoch": e, "loss": 0.123456789}) + "\n")
            fh.write(json.dumps({"kind": "epoch", "step": e, "epoch": e, "val_acc": 0.5 + e / 100}) + "\n")
    size = (rdir / "metrics.jsonl").stat().st_size
    summary = {"status": "finished", "cache_key": key, "final": {"val_acc": 0.69}}
    if record_size:
        summary["metrics_bytes"] = size
    (rdir / "summary.json").write_text(json.dumps(summary))
    return size


def _peak(fn):
    import tracemalloc

    tracemalloc.start()
    try:
        out = fn()
        return out, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("record_size", [True, False])
def test_no_op_run_checks_a_large_metrics_file_without_reading_it_whole(tmp_path, record_size):
    from repro.runs.planner import decide

    rdir = tmp_path / "run"
    size = _big_finished_run(rdir, "k", record_size=record_size)
    assert size > 10_000_000
    (action, _), peak = _peak(lambda: decide(rdir, "k"))
    assert action == CACHED
    assert peak < size / 10, f"{peak} bytes held to check a {size}-byte file"
    if record_size and Path("/proc/self/io").is_file():
        # With the size the run recorded, the check reads only the end of the file.
        def rchar() -> int:
            return int(next(x for x in Path("/proc/self/io").read_text().splitlines() if x.startswith("rchar:")).split()[1])

        before = rchar()
        assert decide(rdir, "k")[0] == CACHED
        assert rchar() - before < size / 10


def test_site_reads_only_the_epoch_rows_of_a_large_metrics_file(tmp_path):
    from repro.results import read_metrics

    rdir = tmp_path / "run"
    size = _big_finished_run(rdir, "k", record_size=True)
    rows, peak = _peak(lambda: read_metrics(rdir / "metrics.jsonl", epoch_only=True))
    assert [r["epoch"] for r in rows] == list(range(20)) and all(r["kind"] == "epoch" for r in rows)
    assert peak < size / 10, f"{peak} bytes held to read the epoch rows of a {size}-byte file"


@pytest.mark.slow
def test_sigterm_to_a_worker_alone_leaves_its_run_resumable_not_failed(tmp_path):
    from repro.runs.executors.local import LocalExecutor, make_slots
    from repro.runs.planner import RESUME, decide
    from repro.results import read_summary

    epochs = 30
    folder = make_tiny_paper(tmp_path, seeds=(0,), epochs=epochs)
    base = folder / "configs" / "base.yaml"
    base.write_text(base.read_text().replace("  lr: 0.1\n", "  lr: 0.1\n  step_sleep: 0.05\n")
                    + "resources:\n  checkpoint_every_s: 0\n")
    spec = next(r.spec for r in plan(load_paper(folder), tmp_path / "results", only=["baseline"]))
    ex = LocalExecutor(make_slots(workers=1, devices=[], cpus=1))
    job = ex.submit(spec)
    try:
        deadline = time.monotonic() + 120
        while not _in_flight(tmp_path / "results" / PID, 1, epochs):
            assert time.monotonic() < deadline and not job.done, job.summary
            ex.poll(0.1)
        os.kill(ex._workers[0].proc.pid, signal.SIGTERM)
        while not job.done:
            assert time.monotonic() < deadline
            ex.poll(0.1)
    finally:
        ex.shutdown()
    s, _ = read_summary(Path(spec.run_dir))
    assert s["status"] == "running" and "signal" in job.summary["error"]
    assert decide(Path(spec.run_dir), spec.cache_key)[0] == RESUME


def test_lightnings_sigterm_exception_is_a_stop_not_a_failure():
    # A scheduler's SIGTERM reaches the Trainer as Lightning's SIGTERMException (a SystemExit):
    # the run must stay resumable (SLURM requeue), unlike a model's own sys.exit().
    from lightning.pytorch.utilities.exceptions import SIGTERMException

    from repro.runs.interrupts import deliberate

    assert deliberate(SIGTERMException())
    assert not deliberate(SystemExit(3))
