"""`repro run` end to end on a tiny paper made by the tests: caching, failures, resume."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers.cli import run_repro
from helpers.processes import _kill_when
from repro.paper import load_paper
from repro.runs.planner import CACHED, RESUME, TODO, plan
from repro.results import load_results
from helpers.tinypaper import make_tiny_paper

pytestmark = pytest.mark.slow


def summaries(root: Path, pid: str = "0000.00001") -> dict[str, dict]:
    out = {}
    for f in sorted((root / "results" / pid).glob("*/seed-*/summary.json")):
        out[f"{f.parent.parent.name}/{f.parent.name}"] = json.loads(f.read_text())
    return out


def test_sweep_runs_every_config_and_seed_then_is_cached(tmp_path):
    make_tiny_paper(tmp_path, ablations={"wide": "model:\n  hidden: 32\n"})
    r = run_repro("run", "papers/0000.00001", "--workers", "2", "--no-site", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    s = summaries(tmp_path)
    assert sorted(s) == [f"{c}/seed-{n}" for c in ("baseline", "method", "wide") for n in (0, 1)]
    assert all(v["status"] == "finished" for v in s.values())
    run = tmp_path / "results/0000.00001/method/seed-1"
    for f in ("config.yaml", "metrics.jsonl", "summary.json", "env.json", "run.log", "checkpoints/last.ckpt"):
        assert (run / f).is_file(), f
    env = json.loads((run / "env.json").read_text())
    assert env["seed"] == 1 and env["packages"]["torch"] and "repro run" in env["command"]
    epochs = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in epochs if r["kind"] == "epoch"] == [0, 1, 2]
    assert s["method/seed-1"]["final"]["val_acc"] == epochs[-1]["val_acc"] if epochs[-1]["kind"] == "epoch" else True

    # Second run: nothing to do, nothing rewritten.
    mtimes = {f: f.stat().st_mtime_ns for f in (tmp_path / "results").rglob("summary.json")}
    r2 = run_repro("run", "papers/0000.00001", "--no-site", cwd=tmp_path)
    assert r2.returncode == 0 and "nothing to do" in r2.stdout
    assert mtimes == {f: f.stat().st_mtime_ns for f in (tmp_path / "results").rglob("summary.json")}


def test_metric_logged_at_epoch_end_lands_in_its_own_epoch_row(tmp_path):
    # A model that logs in its own on_train_epoch_end (e.g. a loss summed over the epoch):
    # Lightning calls plain callbacks before that hook, so a recorder there would file the
    # value one epoch late and lose the last one.
    folder = make_tiny_paper(tmp_path, seeds=(0,), epochs=3)
    model = folder / "model.py"
    model.write_text(model.read_text().replace(
        "    def configure_optimizers(self):",
        "    def on_train_epoch_end(self):\n"
        "        self.log('epoch_seen', float(self.current_epoch))\n\n"
        "    def configure_optimizers(self):"))
    r = run_repro("run", "papers/0000.00001", "--only", "baseline", "--no-site", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    run = tmp_path / "results/0000.00001/baseline/seed-0"
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    epochs = [row for row in rows if row["kind"] == "epoch"]
    assert [(row["epoch"], row.get("epoch_seen")) for row in epochs] == [(0, 0.0), (1, 1.0), (2, 2.0)]
    assert json.loads((run / "summary.json").read_text())["final"]["train_loss"] > 0


def test_noop_rerun_does_not_import_torch(tmp_path):
    folder = make_tiny_paper(tmp_path, seeds=(0,))
    assert run_repro("run", "papers/0000.00001", "--no-site", cwd=tmp_path).returncode == 0
    code = (
        "import sys; from repro.cli import main; rc = main(['run', 'papers/0000.00001', '--no-site']);"
        "assert rc == 0; assert 'torch' not in sys.modules and 'lightning' not in sys.modules, 'imported torch'"
    )
    r = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert folder.exists()


def test_changed_config_or_code_invalidates_only_what_changed(tmp_path):
    folder = make_tiny_paper(tmp_path, seeds=(0,))
    assert run_repro("run", "papers/0000.00001", "--no-site", cwd=tmp_path).returncode == 0
    paper = load_paper(folder)
    assert {p.action for p in plan(paper, tmp_path / "results")} == {CACHED}
    (folder / "configs" / "method.yaml").write_text("model:\n  hidden: 17\n")
    actions = {p.spec.config: (p.action, p.why) for p in plan(paper, tmp_path / "results")}
    assert actions["baseline"][0] == CACHED and actions["method"] == (TODO, "config or code changed")
    (folder / "model.py").write_text((folder / "model.py").read_text() + "\n# a comment changes the code hash\n")
    assert {p.action for p in plan(paper, tmp_path / "results")} == {TODO}


def test_resources_do_not_change_the_cache_key(tmp_path):
    folder = make_tiny_paper(tmp_path, seeds=(0,))
    paper = load_paper(folder)
    before = {p.spec.name: p.spec.cache_key for p in plan(paper, tmp_path / "results")}
    (folder / "configs" / "method.yaml").write_text("model:\n  hidden: 16\nresources:\n  timeout_s: 99\n")
    after = {p.spec.name: p.spec.cache_key for p in plan(paper, tmp_path / "results")}
    assert before == after


def test_failures_are_isolated_recorded_and_reported(tmp_path):
    make_tiny_paper(tmp_path, seeds=(0,), ablations={
        "nan": "model:\n  explode: true\n", "crash": "model:\n  crash: true\n"})
    r = run_repro("run", "papers/0000.00001", "--no-site", cwd=tmp_path)
    assert r.returncode == 1
    s = summaries(tmp_path)
    assert s["baseline/seed-0"]["status"] == "finished" and s["method/seed-0"]["status"] == "finished"
    assert s["nan/seed-0"]["status"] == "diverged" and "nan" in s["nan/seed-0"]["error"]
    assert s["crash/seed-0"]["status"] == "failed"
    log = (tmp_path / "results/0000.00001/crash/seed-0/run.log").read_text()
    assert "Traceback" in log and "deliberate crash for the test" in log
    assert "crash/seed-0" in r.stderr and "crash/seed-0/run.log" in r.stderr
    res = load_results(tmp_path / "results", "0000.00001")
    assert res.values("nan", "val_acc") == []  # a diverged run is never averaged in
    # A rerun retries only the runs that did not finish.
    dry = run_repro("run", "papers/0000.00001", "--dry-run", cwd=tmp_path)
    lines = {line.split()[0]: line.split()[1] for line in dry.stdout.splitlines() if "/seed-" in line}
    assert lines == {"baseline/seed-0": "cached", "method/seed-0": "cached", "crash/seed-0": "todo", "nan/seed-0": "todo"}


def test_run_past_its_time_limit_is_stopped_and_marked_timeout(tmp_path):
    make_tiny_paper(tmp_path, seeds=(0,), ablations={
        "hang": "model:\n  hang: true\nresources:\n  timeout_s: 8\n"})
    t0 = time.monotonic()
    r = run_repro("run", "papers/0000.00001", "--no-site", "--workers", "1", cwd=tmp_path)
    assert r.returncode == 1
    s = summaries(tmp_path)
    assert s["hang/seed-0"]["status"] == "timeout"
    assert s["baseline/seed-0"]["status"] == "finished" and s["method/seed-0"]["status"] == "finished"
    assert time.monotonic() - t0 < 120


def test_kill_9_then_rerun_resumes_and_matches_an_uninterrupted_sweep(tmp_path):
    body = "model:\n  step_sleep: 0.1\n"  # ~0.4 s per epoch: slow enough to kill mid-run
    ref = tmp_path / "ref"
    make_tiny_paper(ref, seeds=(0,), epochs=8, ablations={"slow": body})
    assert run_repro("run", "papers/0000.00001", "--no-site", "--workers", "1", cwd=ref).returncode == 0

    work = tmp_path / "work"
    make_tiny_paper(work, seeds=(0,), epochs=8, ablations={"slow": body})
    proc = subprocess.Popen([sys.executable, "-m", "repro", "run", "papers/0000.00001", "--no-site", "--workers", "1"],
                            cwd=work, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    slow = work / "results/0000.00001/slow/seed-0"

    def mid_run() -> bool:  # the slow run has a checkpoint from epoch >= 2 but is not finished
        rows = [line for line in (slow / "metrics.jsonl").read_text().splitlines() if '"epoch"' in line] \
            if (slow / "metrics.jsonl").exists() else []
        return (slow / "checkpoints" / "last.ckpt").exists() and sum('"kind": "epoch"' in r for r in rows) >= 3
    _kill_when(proc, mid_run)
    finished_before = {k: v for k, v in summaries(work).items() if v["status"] == "finished"}
    assert json.loads((slow / "summary.json").read_text())["status"] == "running"
    if finished_before:
        stamp = {k: v["ended_at"] for k, v in finished_before.items()}

    dry = run_repro("run", "papers/0000.00001", "--dry-run", cwd=work)
    assert any(line.split()[:2] == ["slow/seed-0", "resume"] for line in dry.stdout.splitlines())
    r = run_repro("run", "papers/0000.00001", "--no-site", "--workers", "1", cwd=work)
    assert r.returncode == 0, r.stderr
    after = summaries(work)
    assert after["slow/seed-0"]["resumed"] is True
    if finished_before:
        assert {k: after[k]["ended_at"] for k in stamp} == stamp  # finished runs untouched
    refs = summaries(ref)
    for k in refs:
        assert after[k]["final"] == pytest.approx(refs[k]["final"], abs=1e-6), k
    rows = [json.loads(x) for x in (slow / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows if r["kind"] == "epoch"] == list(range(8))


def test_second_concurrent_run_is_refused_and_stale_lock_cleared(tmp_path):
    make_tiny_paper(tmp_path, seeds=(0,), ablations={"slow": "model:\n  step_sleep: 0.2\n"})
    proc = subprocess.Popen([sys.executable, "-m", "repro", "run", "papers/0000.00001", "--no-site"],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    lock = tmp_path / "results/0000.00001/.lock"
    deadline = time.monotonic() + 60
    while not lock.exists():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    r = run_repro("run", "papers/0000.00001", "--no-site", cwd=tmp_path)
    assert r.returncode == 4 and "another `repro run`" in r.stderr and "--wait" in r.stderr
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert lock.exists()  # left behind by kill -9: stale
    r = run_repro("run", "papers/0000.00001", "--no-site", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert not lock.exists()


def test_user_errors_exit_cleanly_without_traceback(tmp_path):
    folder = make_tiny_paper(tmp_path)
    (folder / "configs" / "method.yaml").write_text("model:\n  hiden: 3\n")
    r = run_repro("run", "papers/0000.00001", cwd=tmp_path)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr and "method.yaml" in r.stderr and "hint:" in r.stderr
    r = run_repro("run", "papers/nope", cwd=tmp_path)
    assert r.returncode == 2 and "no paper folder" in r.stderr
    r = run_repro("run", "papers/0000.00001", "--seeds", "a,b", cwd=tmp_path)
    assert r.returncode == 2 and "--seeds" in r.stderr
    assert not (tmp_path / "results").exists()  # nothing half-written


def test_inline_executor_runs_in_process_with_output_on_the_terminal(tmp_path):
    """--executor inline: the same results folder as a local run, the run's own output on
    stdout (not only in run.log), so a breakpoint() in model.py would stop in this terminal."""
    for sub in ("local", "inline"):
        make_tiny_paper(tmp_path / sub, seeds=(0,))
    loud = "print('TINY-MODEL-SAYS-HELLO', flush=True)\n"
    model = tmp_path / "inline/papers/0000.00001/model.py"
    model.write_text(model.read_text().replace("    def training_step(self, batch, i):\n",
                                               "    def training_step(self, batch, i):\n        " + loud))
    local = run_repro("run", "papers/0000.00001", "--only", "method", "--no-site", cwd=tmp_path / "local")
    inline = run_repro("run", "papers/0000.00001", "--only", "method", "--no-site", "--executor", "inline",
                       cwd=tmp_path / "inline")
    assert local.returncode == 0, local.stderr
    assert inline.returncode == 0, inline.stderr
    assert "TINY-MODEL-SAYS-HELLO" in inline.stdout and "inline" in inline.stdout

    def layout(root: Path) -> list[str]:
        return sorted(str(f.relative_to(root)) for f in (root / "results").rglob("*") if f.is_file())
    assert layout(tmp_path / "inline") == layout(tmp_path / "local")
    run = tmp_path / "inline/results/0000.00001/method/seed-0"
    s = json.loads((run / "summary.json").read_text())
    assert s["status"] == "finished" and "val_acc" in s["final"]
    log = (run / "run.log").read_text()
    assert "[repro]" in log and "finished" in log and "TINY-MODEL-SAYS-HELLO" not in log
