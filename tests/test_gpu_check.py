"""bench/gpu_check.sh + gpu_check.py rehearsed on CPU with a fake device list (issue 19)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_gpu_check_runs_every_phase_on_a_fake_device(tmp_path):
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    r = subprocess.run(
        ["bash", str(REPO / "bench" / "gpu_check.sh"), str(out), "300",
         "--fake-devices", "0", "--packing", "1,2", "--config-set", "", "--slice-s", "3"],
        capture_output=True, text=True, env=env, timeout=500)
    assert (out / "gpu_check.json").is_file(), r.stdout[-3000:] + r.stderr[-3000:]
    rep = json.loads((out / "gpu_check.json").read_text())
    text = (out / "gpu_check.txt").read_text()
    assert rep["env"]["fake_devices"] == ["0"] and rep["env"]["torch"]
    # Packing: both settings ran every run on the (fake) device, each for the same slice.
    assert [p["runs_per_device"] for p in rep["packing"]] == [1, 2], text
    for p in rep["packing"]:
        assert len(p["runs"]) == p["runs_per_device"], text
        assert all(run["steps"] > 0 for run in p["runs"]), text
        assert p["speedup_vs_1"] is not None and p["runs_per_hour"] > 0
        assert isinstance(p["slowed_beyond_1_2x"], bool)
    assert rep["packing"][0]["speedup_vs_1"] == 1.0
    assert rep["full_run_steps"] and rep["full_run_steps"] >= rep["steps_per_epoch"] > 0
    # The one-device DDP run finished through `repro run`.
    assert rep["ddp"]["status"] == "finished", text
    # Host reads per step: the recorder no longer reads the loss every step.
    s = rep["sync"]
    assert s["audited_steps"] >= 50 and s["syncs_per_step"] < 0.5, text
    assert sum(n for src, n in s["by_source"].items() if "callbacks.py" in src) <= 2 * 6 + 2, text
    assert "| runs/device |" in text and "packing: best speed-up" in text
    assert r.returncode == 0, r.stdout[-3000:]
