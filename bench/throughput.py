"""Training throughput of a shipped model under `repro run` vs a hand-written PyTorch loop.

Both train the same model class on the same data module for the same epochs, including
the validation passes; samples/s = epochs x training samples / wall seconds of the run.
The `repro run` side is the run's own wall time (summary.json: model/data/Trainer set-up,
fit, checkpoints, metrics), so the ratio is what Lightning plus repro's callbacks cost.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PAPER, CONFIG = "1611.03530", "baseline"

HAND_LOOP = r'''
import importlib.util, json, sys, time
import torch, lightning as L
from repro.configs import resolve_configs
from repro.paper import load_paper

folder, config = sys.argv[1], sys.argv[2]
cfg = {c.name: c for c in resolve_configs(load_paper(folder))}[config]
def load(name):
    spec = importlib.util.spec_from_file_location(name, f"{folder}/{name}.py")
    m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m); return m
def the_class(mod, base):
    return next(v for v in vars(mod).values() if isinstance(v, type) and issubclass(v, base) and v is not base)
torch.manual_seed(0)
t0 = time.perf_counter()
model = the_class(load("model"), L.LightningModule)(**cfg.model)
data = the_class(load("data"), L.LightningDataModule)(**cfg.data)
data.setup("fit")
opt = model.configure_optimizers()
sched = None
if isinstance(opt, dict):
    opt, sched = opt["optimizer"], opt.get("lr_scheduler")
elif isinstance(opt, (list, tuple)):
    opt, sched = opt[0][0], (opt[1][0] if len(opt) > 1 and opt[1] else None)
if isinstance(sched, dict):
    sched = sched["scheduler"]
epochs, n = cfg.trainer.get("max_epochs", 1), 0
if len(sys.argv) > 3 and sys.argv[3] == "lightning":  # a plain Trainer, no repro callbacks
    tr = L.Trainer(**cfg.trainer, accelerator="cpu", devices=1, logger=False, enable_progress_bar=False,
                   enable_model_summary=False, enable_checkpointing=False)
    tr.fit(model, datamodule=data)
    print(json.dumps({"seconds": time.perf_counter() - t0, "samples": epochs * len(data.train_dataloader().dataset)}))
    sys.exit(0)
for epoch in range(epochs):
    model.train()
    for i, batch in enumerate(data.train_dataloader()):
        loss = model.training_step(batch, i)
        loss = loss["loss"] if isinstance(loss, dict) else loss
        opt.zero_grad(); loss.backward(); opt.step()
        n += len(batch[0])
    if sched is not None:
        sched.step()
    model.eval()
    with torch.no_grad():
        vals = data.val_dataloader()
        for k, loader in enumerate(vals if isinstance(vals, (list, tuple)) else [vals]):
            for i, batch in enumerate(loader):
                model.validation_step(batch, i, k) if isinstance(vals, (list, tuple)) and len(vals) > 1 else model.validation_step(batch, i)
print(json.dumps({"seconds": time.perf_counter() - t0, "samples": n}))
'''


def bench_throughput() -> dict | None:
    folder = REPO / "papers" / PAPER
    if not (folder / "paper.yaml").exists():
        return None
    with tempfile.TemporaryDirectory() as tmp:
        r = subprocess.run([sys.executable, "-m", "repro", "run", str(folder), "--only", CONFIG, "--seeds", "0",
                            "--results", tmp, "--no-site", "--workers", "1"], capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit(r.stderr)
        summary = json.loads((Path(tmp) / PAPER / CONFIG / "seed-0" / "summary.json").read_text())
    script = Path(tempfile.mkdtemp()) / "hand.py"
    script.write_text(HAND_LOOP)
    import warnings  # noqa: F401  (self.log outside a Trainer only warns)
    out = subprocess.run([sys.executable, str(script), str(folder), CONFIG], capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(out.stderr)
    hand = json.loads(out.stdout.strip().splitlines()[-1])
    lit = subprocess.run([sys.executable, str(script), str(folder), CONFIG, "lightning"], capture_output=True, text=True)
    if lit.returncode != 0:
        raise SystemExit(lit.stderr)
    plain_lightning = json.loads(lit.stdout.strip().splitlines()[-1])
    samples = hand["samples"]  # the same epochs over the same training set in both
    repro_sps = samples / summary["wall_time_s"]
    plain_sps = samples / hand["seconds"]
    lightning_sps = plain_lightning["samples"] / plain_lightning["seconds"]
    return {"paper": PAPER, "config": CONFIG, "repro_sps": repro_sps, "plain_sps": plain_sps,
            "ratio": repro_sps / plain_sps, "lightning_sps": lightning_sps,
            "ratio_lightning": repro_sps / lightning_sps}


if __name__ == "__main__":
    print(bench_throughput())
