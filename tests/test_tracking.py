"""Experiment trackers (MLflow server, W&B offline files, TensorBoard event files), replay of
runs a tracker missed, and the library API (`import repro`)."""

from __future__ import annotations

import contextlib
import glob
import json
import os
import re
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import pytest

from helpers.cli import REPO, run_repro
from helpers.tinypaper import make_tiny_paper

PID = "0000.00001"
CLAIMS = textwrap.dedent("""\
    claims:
      - id: method-acc
        kind: value
        metric: val_acc
        config: method
        value: 0.8
        tolerance: {abs: 0.3}
        text: the method reaches 0.8 validation accuracy
    """)


def tiny(tmp_path: Path, **kw) -> Path:
    folder = make_tiny_paper(tmp_path, epochs=2, **kw)
    (folder / "claims.yaml").write_text(CLAIMS)
    return folder


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def mlflow_server(folder: Path, port: int):
    """A real MLflow tracking server on 127.0.0.1:port (sqlite backend), stopped with its
    whole process group (uvicorn and its job runner) on the way out."""
    folder.mkdir(parents=True, exist_ok=True)
    log = open(folder / "server.log", "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", f"sqlite:///{folder / 'mlflow.db'}",
         "--artifacts-destination", str(folder / "artifacts"), "--host", "127.0.0.1", "--port", str(port),
         "--workers", "1"],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=folder)
    try:
        deadline = time.monotonic() + 240
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            assert proc.poll() is None, (folder / "server.log").read_text()
            assert time.monotonic() < deadline, "MLflow server did not start"
            time.sleep(0.5)
        yield f"http://127.0.0.1:{port}"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


def same_points(got, want) -> bool:
    """Equal steps and (float32-)equal values, point for point."""
    return [s for s, _ in got] == [s for s, _ in want] and [v for _, v in got] == pytest.approx([v for _, v in want], rel=1e-6)


def epoch_rows(run_dir: Path, metric: str) -> list[tuple[int, float]]:
    """(step, value) of each epoch row of metrics.jsonl, at the step a Lightning logger files it
    (the last batch's index: metrics.jsonl counts steps done, one more)."""
    rows = [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return [(r["step"] - 1, r[metric]) for r in rows if r.get("kind") == "epoch" and metric in r]


# -- fast ------------------------------------------------------------------------------------------
def test_import_repro_loads_neither_torch_nor_any_tracker():
    code = ("import sys, repro, repro.api, repro.runs.tracking, repro.runs.sweep, repro.commands.track, repro.commands.run; "
            "repro.run_paper, repro.judge, repro.load_results; "
            "bad = [m for m in ('torch', 'lightning', 'mlflow', 'wandb', 'tensorboard') if m in sys.modules]; "
            "assert not bad, bad")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert r.returncode == 0, r.stderr


def test_trackers_come_from_flags_or_paper_yaml(tmp_path):
    from repro.errors import UsageError
    from repro.paper import load_paper
    from repro.runs.tracking import resolve_trackers

    folder = tiny(tmp_path)
    p = load_paper(folder)
    assert resolve_trackers(p, (), project_root=tmp_path) == []
    with pytest.raises(UsageError) as e:
        resolve_trackers(p, ("mlflw",), project_root=tmp_path)
    assert "mlflow" in e.value.hint
    (mlf,) = resolve_trackers(p, ("mlflow=http://127.0.0.1:1",), project_root=tmp_path)
    assert (mlf.uri, mlf.project) == ("http://127.0.0.1:1", PID)

    with open(folder / "paper.yaml", "a") as fh:
        fh.write("tracking:\n  mlflow: {uri: 'sqlite:///m.db', experiment: exp}\n  tensorboard: {dir: tb}\n")
    p = load_paper(folder)
    got = {t.kind: t for t in resolve_trackers(p, (), project_root=tmp_path)}
    assert got["mlflow"].uri == f"sqlite:///{tmp_path / 'm.db'}" and got["mlflow"].project == "exp"
    assert got["tensorboard"].uri == str(tmp_path / "tb")
    # A flag picks one tracker of the section, keeping its settings; --no-track drops them all.
    (only,) = resolve_trackers(p, ("mlflow",), project_root=tmp_path)
    assert only.project == "exp"
    assert resolve_trackers(p, (), project_root=tmp_path, no_track=True) == []

    with open(folder / "paper.yaml", "a") as fh:
        fh.write("  neptune: {}\n")
    r = run_repro("run", str(folder), "--dry-run", cwd=tmp_path)
    assert r.returncode == 2 and "unknown tracker 'neptune'" in r.stderr and "Traceback" not in r.stderr


def test_a_tracker_error_never_reaches_the_trainer(tmp_path):
    from repro.runs.tracking import RunInfo, Tracker, guarded

    class Broken:
        def log_metrics(self, metrics, step=None):
            raise ConnectionError("connection refused")

    seen = []
    g = guarded(Tracker("mlflow", "http://x"), Broken(), seen.append)
    g.log_metrics({"a": 1.0}, step=0)   # swallowed, noted once
    g.log_metrics({"a": 2.0}, step=1)   # not tried again
    assert seen == [g] and "connection refused" in g.error
    assert RunInfo.of_run_dir(tmp_path / "results" / f"{PID}@gpu" / "method" / "seed-1", PID, "method", 1, "k", None
                              ).tags("running")["repro.config_set"] == "gpu"


# -- MLflow: a real server ------------------------------------------------------------------------
@pytest.mark.slow
def test_mlflow_server_gets_runs_params_metrics_tags_verdicts_and_resumes(tmp_path):
    from mlflow.tracking import MlflowClient

    folder = tiny(tmp_path, seeds=(0, 1), ablations={"explode": "model:\n  explode: true\n"})
    with mlflow_server(tmp_path / "server", free_port()) as uri:
        r = run_repro("run", str(folder), "--track", f"mlflow={uri}", "--no-site", cwd=tmp_path, timeout=900)
        assert r.returncode == 1, r.stdout + r.stderr   # the two explode runs diverge
        assert "diverged" in r.stderr and "tracker mlflow failed" not in r.stderr

        client = MlflowClient(uri)
        exp = client.get_experiment_by_name(PID)
        runs = {x.data.tags.get("repro.config", "") + "/" + x.data.tags.get("repro.seed", ""): x
                for x in client.search_runs([exp.experiment_id])}
        assert set(runs) == {"baseline/0", "baseline/1", "method/0", "method/1", "explode/0", "explode/1", "/"}
        results = tmp_path / "results" / PID
        for name in ("method/0", "baseline/1"):
            config, seed = name.split("/")
            run_dir = results / config / f"seed-{seed}"
            run = runs[name]
            summary = json.loads((run_dir / "summary.json").read_text())
            assert run.info.status == "FINISHED"
            assert run.data.params["model.hidden"] == ("16" if config == "method" else "4")
            assert run.data.params["trainer.max_epochs"] == "2"
            tags = run.data.tags
            assert tags["repro.paper"] == PID and tags["repro.runs.status"] == "finished"
            assert tags["repro.cache_key"] == summary["cache_key"]
            history = [(m.step, m.value) for m in client.get_metric_history(run.info.run_id, "val_acc")]
            assert same_points(history, epoch_rows(run_dir, "val_acc")), (history, epoch_rows(run_dir, "val_acc"))
            state = json.loads((run_dir / "tracking.json").read_text())["mlflow"]
            assert state["run_id"] == run.info.run_id and state["state"] == "sent"
        assert runs["explode/0"].info.status == "FAILED" and runs["explode/0"].data.tags["repro.runs.status"] == "diverged"

        verdicts = runs["/"]
        assert verdicts.data.tags["repro.kind"] == "verdicts"
        assert verdicts.data.tags["verdict.method-acc"] in ("reproduced", "not reproduced")
        table = json.loads(Path(client.download_artifacts(verdicts.info.run_id, "verdicts.json", str(tmp_path))).read_text())
        row = dict(zip(table["columns"], table["data"][0]))
        assert row["claim"] == "method-acc" and row["claimed"] == 0.8
        assert row["reproduced"] == pytest.approx(sum(v for _, v in [epoch_rows(results / "method" / f"seed-{s}", "val_acc")[-1] for s in (0, 1)]) / 2)

        # An interrupted run that resumes continues its tracker run (tracking.json: running).
        from repro.runs.tracking import LiveTracking, RunInfo, Tracker

        run_dir = results / "method" / "seed-0"
        state = json.loads((run_dir / "tracking.json").read_text())
        state["mlflow"]["state"] = "running"
        (run_dir / "tracking.json").write_text(json.dumps(state))
        t = Tracker(**state["mlflow"]["tracker"])
        live = LiveTracking([t], run_dir, RunInfo.of_run_dir(run_dir, PID, "method", 0, "k", None), {"a": 1}, resume=True)
        live.loggers[0].log_metrics({"resumed_metric": 1.0}, step=99)
        live.close("finished")
        assert json.loads((run_dir / "tracking.json").read_text())["mlflow"]["run_id"] == runs["method/0"].info.run_id
        assert [m.step for m in client.get_metric_history(runs["method/0"].info.run_id, "resumed_metric")] == [99]
        assert len(client.search_runs([exp.experiment_id])) == 7


@pytest.mark.slow
def test_refused_tracker_loses_no_run_and_replay_sends_them(tmp_path):
    from mlflow.tracking import MlflowClient

    folder = tiny(tmp_path, seeds=(0,))
    port = free_port()   # nothing listens there yet: connections are refused
    uri = f"http://127.0.0.1:{port}"
    r = run_repro("run", str(folder), "--track", f"mlflow={uri}", "--no-site", cwd=tmp_path, timeout=900)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "tracker mlflow failed for 2 of 2 run(s)" in r.stderr
    assert f"repro track {folder} --track mlflow" in r.stderr
    results = tmp_path / "results" / PID
    for config in ("baseline", "method"):
        run_dir = results / config / "seed-0"
        assert json.loads((run_dir / "summary.json").read_text())["status"] == "finished"
        assert json.loads((run_dir / "tracking.json").read_text())["mlflow"]["state"] == "failed"

    r = run_repro("track", str(folder), "--track", f"mlflow={uri}", cwd=tmp_path, timeout=600)
    assert r.returncode != 0 and "not everything was sent" in r.stderr and "Traceback" not in r.stderr

    with mlflow_server(tmp_path / "server", port):
        r = run_repro("track", str(folder), "--track", f"mlflow={uri}", cwd=tmp_path, timeout=600)
        assert r.returncode == 0, r.stdout + r.stderr
        assert "sent 2 of 2 run(s)" in r.stdout
        client = MlflowClient(uri)
        exp = client.get_experiment_by_name(PID)
        runs = {x.data.tags.get("repro.config"): x for x in client.search_runs([exp.experiment_id])}
        assert set(runs) == {"baseline", "method", None}   # None: the verdicts run
        run_dir = results / "method" / "seed-0"
        history = [(m.step, m.value) for m in client.get_metric_history(runs["method"].info.run_id, "val_acc")]
        assert same_points(history, epoch_rows(run_dir, "val_acc")), (history, epoch_rows(run_dir, "val_acc"))
        assert runs["method"].data.params["model.hidden"] == "16"
        assert runs["method"].info.status == "FINISHED"
        # Nothing is sent twice.
        r = run_repro("track", str(folder), "--track", f"mlflow={uri}", cwd=tmp_path, timeout=600)
        assert r.returncode == 0 and "sent 0 of 0 run(s)" in r.stdout
        assert len(client.search_runs([exp.experiment_id])) == 3


# -- W&B offline and TensorBoard: files read back -----------------------------------------------
@pytest.mark.slow
def test_wandb_offline_and_tensorboard_files_read_back(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from helpers.wandb_files import read_run

    folder = tiny(tmp_path, seeds=(0,))
    env = {"WANDB_MODE": "offline", "WANDB_API_KEY": ""}
    r = run_repro("run", str(folder), "--track", "wandb=wb", "--track", "tensorboard=tb", "--no-site",
                  cwd=tmp_path, timeout=900, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    results = tmp_path / "results" / PID

    runs = {}
    for f in glob.glob(str(tmp_path / "wb" / "wandb" / "offline-run-*" / "run-*.wandb")):
        run = read_run(Path(f))
        runs[run["name"]] = run
    assert set(runs) == {f"{PID}/baseline/seed-0", f"{PID}/method/seed-0", f"{PID} verdicts"}
    method = runs[f"{PID}/method/seed-0"]
    assert method["config"]["model.hidden"] == 16 and method["config"]["repro"]["repro.cache_key"]
    assert "status:finished" in method["tags"] and method["exit_code"] == 0
    assert method["summary"]["repro.runs.status"] == "finished"
    logged = [(h["trainer/global_step"], h["val_acc"]) for h in method["history"] if "val_acc" in h]
    assert same_points(logged, epoch_rows(results / "method" / "seed-0", "val_acc")), (logged, epoch_rows(results / "method" / "seed-0", "val_acc"))
    state = json.loads((results / "method" / "seed-0" / "tracking.json").read_text())["wandb"]
    assert state["run_id"] == method["id"] and state["state"] == "sent"
    verdicts = runs[f"{PID} verdicts"]
    (table_path,) = [h["verdicts/path"] for h in verdicts["history"] if "verdicts/path" in h]
    (run_folder,) = glob.glob(str(tmp_path / "wb" / "wandb" / f"offline-run-*-{verdicts['id']}"))
    table = json.loads((Path(run_folder) / "files" / table_path).read_text())
    row = dict(zip(table["columns"], table["data"][0]))
    judged = _judged(tmp_path)  # what repro itself concluded is what the tracker got
    assert row["claim"] == "method-acc" and row["claimed"] == 0.8 and row["verdict"] == judged
    assert verdicts["summary"]["verdict.method-acc"] == judged

    acc = EventAccumulator(str(tmp_path / "tb" / PID / "method" / "seed-0"), size_guidance={"scalars": 0, "tensors": 0})
    acc.Reload()
    scalars = [(e.step, e.value) for e in acc.Scalars("val_acc")]
    assert same_points(scalars, epoch_rows(results / "method" / "seed-0", "val_acc")), (scalars, epoch_rows(results / "method" / "seed-0", "val_acc"))
    assert "repro/status/text_summary" in acc.Tags()["tensors"]
    status = acc.Tensors("repro/status/text_summary")[-1].tensor_proto.string_val[0].decode()
    assert status == "finished"
    vacc = EventAccumulator(str(tmp_path / "tb" / PID / "verdicts"), size_guidance={"tensors": 0})
    vacc.Reload()
    text = vacc.Tensors("verdicts/text_summary")[-1].tensor_proto.string_val[0].decode()
    assert "method-acc" in text


def _judged(tmp_path: Path, claim: str = "method-acc") -> str:
    from repro.api import judge

    return judge(tmp_path / "papers" / PID, results=tmp_path / "results")[claim].verdict


# -- the library API --------------------------------------------------------------------------------
def readme_example() -> str:
    text = (REPO / "README.md").read_text()
    m = re.search(r"<!-- library-api-example[^>]*-->\s*```python\n(.*?)```", text, re.S)
    assert m, "README.md lost its library API example"
    return m.group(1)


@pytest.mark.slow
def test_readme_library_example_runs_and_returns_typed_records(tmp_path):
    tiny(tmp_path, seeds=(0,))
    code = readme_example().replace("papers/1611.03530", f"papers/{PID}").replace('"test_acc"', '"val_acc"')
    code += textwrap.dedent("""
        import json, sys
        assert [r.status for r in results] == ["finished", "finished"], results
        assert rows[0]["config"] == "baseline" and "final.val_acc" in rows[0] and "best.train_loss" in rows[0]
        v = verdicts["method-acc"]
        assert v.verdict == "inconclusive" and v.claimed == 0.8 and v.metric == "val_acc"   # one seed decides nothing
        assert v.reproduced == results.values("method", "val_acc")[0]
        print(json.dumps(verdicts.to_rows()))
        """)
    r = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=900,
                       env={**os.environ, "PYTHONPATH": str(REPO)})
    assert r.returncode == 0, r.stdout + r.stderr
    assert re.search(r"^method 0 finished 0\.\d+", r.stdout, re.M)
    assert json.loads(r.stdout.strip().splitlines()[-1])[0]["claim"] == "method-acc"
    assert (tmp_path / "tensorboard" / PID / "method" / "seed-0").is_dir()
    assert (tmp_path / "results" / PID / "report.md").is_file()


@pytest.mark.slow
def test_killed_run_resumes_into_the_same_mlflow_run(tmp_path):
    from mlflow.tracking import MlflowClient

    from helpers.processes import _kill_when

    make_tiny_paper(tmp_path, seeds=(0,), epochs=8, ablations={"slow": "model:\n  step_sleep: 0.1\n"})
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    args = ["run", f"papers/{PID}", "--only", "slow", "--no-site", "--workers", "1", "--track", f"mlflow={uri}"]
    run_dir = tmp_path / "results" / PID / "slow" / "seed-0"
    proc = subprocess.Popen([sys.executable, "-m", "repro", *args], cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)

    def mid_run() -> bool:
        rows = (run_dir / "metrics.jsonl").read_text().count('"kind": "epoch"') if (run_dir / "metrics.jsonl").exists() else 0
        return (run_dir / "checkpoints" / "last.ckpt").exists() and rows >= 3
    _kill_when(proc, mid_run)
    before = json.loads((run_dir / "tracking.json").read_text())["mlflow"]
    assert before["state"] == "running" and before["run_id"]

    r = run_repro(*args, cwd=tmp_path, timeout=900)
    assert r.returncode == 0, r.stdout + r.stderr
    assert json.loads((run_dir / "summary.json").read_text())["resumed"] is True
    after = json.loads((run_dir / "tracking.json").read_text())["mlflow"]
    assert after["run_id"] == before["run_id"] and after["state"] == "sent"
    client = MlflowClient(uri)
    runs = client.search_runs([client.get_experiment_by_name(PID).experiment_id])
    (run,) = [x for x in runs if x.data.tags.get("repro.kind") != "verdicts"]
    assert run.info.run_id == before["run_id"] and run.info.status == "FINISHED"
    # Every epoch is in that one run (epochs after the checkpoint were logged again on resume).
    history = {m.step: m.value for m in client.get_metric_history(run.info.run_id, "val_acc")}
    want = epoch_rows(run_dir, "val_acc")
    assert len(want) == 8 and sorted(history) == [s for s, _ in want]
    assert [history[s] for s, _ in want] == pytest.approx([v for _, v in want], rel=1e-6)


@pytest.mark.slow
def test_replay_closes_the_tracker_run_of_a_run_whose_worker_died(tmp_path):
    """A timed-out run's worker is killed with the tracker run still open: `repro track`
    reopens that tracker run and marks it, rather than sending a second copy."""
    from mlflow.tracking import MlflowClient

    from repro.results import load_run
    from repro.runs.tracking import LiveTracking, RunInfo, Tracker, send_run

    run_dir = tmp_path / "results" / PID / "method" / "seed-0"
    run_dir.mkdir(parents=True)
    t = Tracker("mlflow", f"sqlite:///{tmp_path / 'mlflow.db'}", PID)
    live = LiveTracking([t], run_dir, RunInfo.of_run_dir(run_dir, PID, "method", 0, "k" * 64, None), {"lr": 0.1}, False)
    live.loggers[0].log_metrics({"val_acc": 0.5}, step=3)   # ... then the worker is killed: no close()
    (run_dir / "summary.json").write_text(json.dumps({"status": "timeout", "cache_key": "k" * 64, "final": {}, "best": {}}))
    (run_dir / "metrics.jsonl").write_text(json.dumps({"kind": "epoch", "step": 4, "epoch": 0, "val_acc": 0.5}) + "\n")
    run_id = json.loads((run_dir / "tracking.json").read_text())["mlflow"]["run_id"]

    assert send_run(t, load_run(tmp_path / "results", PID, "method", 0)) == run_id
    client = MlflowClient(t.uri)
    (run,) = client.search_runs([client.get_experiment_by_name(PID).experiment_id])
    assert run.info.run_id == run_id and run.info.status == "FAILED" and run.data.tags["repro.runs.status"] == "timeout"
    assert [(m.step, m.value) for m in client.get_metric_history(run_id, "val_acc")] == [(3, 0.5)]
    assert json.loads((run_dir / "tracking.json").read_text())["mlflow"]["state"] == "sent"
