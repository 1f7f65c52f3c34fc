"""DDP for real on CPU: 2 processes on gloo match 1 process with the same global batch."""

import json
from pathlib import Path

import pytest

from repro.runs.executors.local import LocalExecutor, make_slots
from repro.paper import load_paper
from repro.runs.planner import plan
from helpers.tinypaper import make_tiny_paper

pytestmark = pytest.mark.slow


def test_two_process_gloo_ddp_matches_single_process_with_same_global_batch(tmp_path):
    # n=64 with a full batch per step: both runs take the same gradient steps, whatever the
    # sampling order, so their weights must agree up to float summation order.
    folder = make_tiny_paper(tmp_path, seeds=(0,), epochs=3, ablations={
        "single": "data:\n  batch_size: 64\ntrainer:\n  accelerator: cpu\n  devices: 1\n",
        "ddp": "data:\n  batch_size: 32\ntrainer:\n  accelerator: cpu\n  devices: 2\n  strategy: ddp\n",
    })
    specs = [r.spec for r in plan(load_paper(folder), tmp_path / "results", only=["single", "ddp"])]
    ex = LocalExecutor(make_slots(workers=2, devices=[], cpus=2))
    jobs = [ex.submit(s) for s in specs]
    try:
        import time

        deadline = time.monotonic() + 180
        while not all(j.done for j in jobs):
            assert time.monotonic() < deadline, [(j.name, j.state) for j in jobs]
            ex.poll(0.2)
    finally:
        ex.shutdown()
    by = {j.spec.config: j for j in jobs}
    assert by["ddp"].state == "finished", by["ddp"].summary
    assert by["single"].state == "finished", by["single"].summary
    assert by["ddp"].where.startswith("ddp pid") and by["single"].where.startswith("worker")
    ddp_dir = Path(by["ddp"].spec.run_dir)
    summary = json.loads((ddp_dir / "summary.json").read_text())
    assert summary["n_devices"] == 2 and summary["epochs"] == 3 and summary["steps"] == 3
    # Only rank 0 wrote the run folder: one row per epoch, not one per rank.
    rows = [json.loads(x) for x in (ddp_dir / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows if r["kind"] == "epoch"] == [0, 1, 2]

    import torch

    def weights(job):
        ckpt = torch.load(Path(job.spec.run_dir) / "checkpoints" / "last.ckpt", weights_only=False)
        return ckpt["state_dict"]

    a, b = weights(by["single"]), weights(by["ddp"])
    assert a.keys() == b.keys()
    for k in a:
        assert torch.allclose(a[k], b[k], atol=1e-5), (k, (a[k] - b[k]).abs().max())
    # The runs did train (a trivially equal pair of untrained models would also match).
    losses = [r["train_loss"] for r in rows if r["kind"] == "epoch"]
    assert losses[-1] < losses[0], losses
