"""`repro run --executor slurm` against a real single-node SLURM (slurmctld + slurmd + munge
on 127.0.0.1, started by slurm_cluster.py). Skipped only when slurmctld is not installed
(.ci/install installs it)."""

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers.slurm_cluster import SlurmCluster, slurm_available
from helpers.tinypaper import make_tiny_paper

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not slurm_available(), reason="slurmctld/slurmd/munged not installed (.ci/install adds them)"),
]
PID = "0000.00001"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    c = SlurmCluster(tmp_path_factory.mktemp("slurm"))
    try:
        c.start()
    except Exception:
        c.stop()
        raise
    yield c
    c.stop()


def repro(*args, cwd, env, timeout=150, **kw):
    return subprocess.run([sys.executable, "-m", "repro", *args], cwd=cwd, env={**os.environ, **env},
                          capture_output=True, text=True, timeout=timeout, **kw)


def layout(root: Path) -> dict[str, dict]:
    """Relative files of every run folder, and the summaries' statistics."""
    out = {}
    for s in sorted((root / "results" / PID).glob("*/seed-*/summary.json")):
        rdir = s.parent
        out[str(rdir.relative_to(root))] = {
            "files": sorted(str(p.relative_to(rdir)) for p in rdir.rglob("*") if p.is_file()),
            "summary": json.loads(s.read_text()),
        }
    return out


def wait_for(cond, timeout, what):
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.5)


def test_sweep_on_slurm_matches_local_layout_and_statistics(cluster, tmp_path):
    slurm, local = tmp_path / "slurm", tmp_path / "local"
    make_tiny_paper(slurm, epochs=2)
    make_tiny_paper(local, epochs=2)
    t0 = time.monotonic()
    r = repro("run", f"papers/{PID}", "--executor", "slurm", "--no-wait", "--time", "5", "--no-site",
              cwd=slurm, env=cluster.env())
    assert r.returncode == 0, r.stderr
    assert "submitted 4 run(s) as SLURM job array" in r.stdout and time.monotonic() - t0 < 60
    jobs = json.loads((slurm / "results" / PID / ".slurm" / "jobs.json").read_text())
    assert sorted(jobs) == ["baseline/seed-0", "baseline/seed-1", "method/seed-0", "method/seed-1"]
    assert len({j["job_id"].split("_")[0] for j in jobs.values()}) == 1  # one array for the sweep

    first = repro("status", f"papers/{PID}", cwd=slurm, env=cluster.env())
    assert first.returncode == 0 and "slurm " in first.stdout
    assert any(w in first.stdout for w in ("queued", "running", "finished"))
    # A second `repro run` while they are on the cluster submits nothing again.
    again = repro("run", f"papers/{PID}", "--executor", "slurm", "--no-wait", "--no-site", cwd=slurm, env=cluster.env())
    assert again.returncode == 0 and ("already on SLURM" in again.stdout or "nothing to do" in again.stdout)

    def all_finished() -> bool:
        out = repro("status", f"papers/{PID}", cwd=slurm, env=cluster.env()).stdout
        return "4 finished (4 runs)" in out
    wait_for(all_finished, 120, "the SLURM sweep")

    assert repro("run", f"papers/{PID}", "--workers", "2", "--no-site", cwd=local, env={}).returncode == 0
    a, b = layout(slurm), layout(local)
    assert sorted(a) == sorted(b) and len(a) == 4
    for k in a:
        assert a[k]["files"] == b[k]["files"], k
        sa, sb = a[k]["summary"], b[k]["summary"]
        assert sa["status"] == sb["status"] == "finished"
        assert sa["cache_key"] == sb["cache_key"] and sa["epochs"] == sb["epochs"]
        assert sa["final"] == pytest.approx(sb["final"], abs=1e-6), k
        assert sa["best"] == pytest.approx(sb["best"], abs=1e-6), k
    # The slurm results are cached like local ones.
    dry = repro("run", f"papers/{PID}", "--dry-run", cwd=slurm, env=cluster.env())
    assert dry.stdout.count("cached") >= 4 and "4 runs: 0 to run, 4 cached" in dry.stdout


def test_requeued_job_resumes_and_failed_job_shows_its_stderr(cluster, tmp_path):
    make_tiny_paper(tmp_path, seeds=(0,), epochs=8, ablations={
        "slow": "model:\n  step_sleep: 0.15\n",
        "hang": "model:\n  hang: true\n",
    })
    proc = subprocess.Popen(
        [sys.executable, "-m", "repro", "run", f"papers/{PID}", "--executor", "slurm", "--only", "slow,hang",
         "--time", "5", "--no-site"],
        cwd=tmp_path, env={**os.environ, **cluster.env()}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, start_new_session=True)
    try:
        reg = tmp_path / "results" / PID / ".slurm" / "jobs.json"
        wait_for(reg.exists, 60, "submission")
        jobs = json.loads(reg.read_text())
        slow = tmp_path / "results" / PID / "slow" / "seed-0"

        def mid_run() -> bool:
            m = slow / "metrics.jsonl"
            return (slow / "checkpoints" / "last.ckpt").exists() and m.exists() and m.read_text().count('"kind": "epoch"') >= 2
        wait_for(mid_run, 90, "the slow run's second checkpoint")
        env = {**os.environ, **cluster.env()}
        slow_id = jobs["slow/seed-0"]["job_id"]
        subprocess.run(["scontrol", "requeue", slow_id], env=env, check=True, timeout=30)

        def pending() -> bool:
            out = subprocess.run(["squeue", "-h", "-t", "all", "-o", "%T", "-j", slow_id], env=env,
                                 capture_output=True, text=True, timeout=30).stdout
            return out.strip() == "PENDING"
        wait_for(pending, 60, "the requeued job to be pending")
        # SLURM holds a requeued job for 120 s (BeginTime); a test need not wait that long.
        subprocess.run(["scontrol", "update", f"JobId={slow_id}", "StartTime=now"], env=env, check=True, timeout=30)
        hang_log = tmp_path / "results" / PID / "hang" / "seed-0" / "run.log"
        wait_for(hang_log.exists, 60, "the hanging run to start")
        subprocess.run(["scancel", jobs["hang/seed-0"]["job_id"]], env=env, check=True, timeout=30)
        out, err = proc.communicate(timeout=150)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, 9)
            proc.wait()
    assert proc.returncode == 1, (out, err)
    # The cancelled job is reported with the scheduler's stderr file.
    assert "hang/seed-0" in err and "scheduler log:" in err
    stderr_file = jobs["hang/seed-0"]["stderr"]
    assert stderr_file in err and stderr_file.endswith(".err")
    hang = json.loads((tmp_path / "results" / PID / "hang" / "seed-0" / "summary.json").read_text())
    assert hang["status"] == "failed" and "CANCELLED" in hang["error"]
    # The requeued run resumed from its checkpoint and has every epoch exactly once.
    s = json.loads((slow / "summary.json").read_text())
    assert s["status"] == "finished" and s["resumed"] is True, s
    rows = [json.loads(x) for x in (slow / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows if r["kind"] == "epoch"] == list(range(8))
    log = (slow / "run.log").read_text()
    assert "resuming" in log and "starting" in log
    st = subprocess.run([sys.executable, "-m", "repro", "status", f"papers/{PID}", "--only", "slow,hang"],
                        cwd=tmp_path, env={**os.environ, **cluster.env()}, capture_output=True, text=True, timeout=60)
    assert "finished" in st.stdout and "failed" in st.stdout and stderr_file in st.stdout
    assert shutil.which("sbatch")
