"""Training throughput of the shipped models under `repro run` vs a hand-written PyTorch loop.

For each shipped paper's baseline config (seed 0), three ways to train the same model class
on the same data module for the same epochs, with the same validation passes:

    repro      `repro run papers/<id> --only baseline --seeds 0 --workers 1`; the time is the
               run's own wall time from summary.json (model/data/Trainer set-up, fit, metrics,
               checkpoints): what Lightning plus repro's callbacks cost
    hand       the loop a user writes by hand: the model's training_step, backward, step, its
               per-batch/per-epoch training hooks, validation_step over the val loaders at the
               config's cadence, the LR schedule at its interval; no Lightning loop
    lightning  a plain `lightning.Trainer(**trainer)` with no repro callbacks

Each is a fresh process (imports not timed; model and data construction timed in all three).
samples/s = epochs x training samples / seconds; each side is the best of --repeat runs,
interleaved so that machine load hits all three alike. Ratios are repro / hand and
repro / lightning.

bench_paper() also takes a config set and trainer overrides (applied to a copy of the paper),
e.g. bench_paper("1706.03762", 1, "gpu", {"max_steps": 30, ...}) for the GPU-scale set.

    python bench/throughput.py [--repeat 2] [PAPER ...]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PAPERS = ("1611.03530", "1207.0580", "1502.03167", "1706.03762")
CONFIG = "baseline"

HAND_LOOP = r'''
import importlib.util, json, math, sys, time, warnings
warnings.filterwarnings("ignore")  # self.log outside a Trainer warns and does nothing
import torch, lightning as L
from repro.configs import resolve_configs
from repro.paper import load_paper

folder, config, mode = sys.argv[1], sys.argv[2], sys.argv[3]
config_set = sys.argv[4] if len(sys.argv) > 4 else None
cfg = {c.name: c for c in resolve_configs(load_paper(folder, config_set))}[config]
def load(name):
    spec = importlib.util.spec_from_file_location(name, f"{folder}/{name}.py")
    m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m); return m
def the_class(mod, base):
    return next(v for v in vars(mod).values() if isinstance(v, type) and issubclass(v, base) and v is not base)
def overrides(model, hook):
    return getattr(type(model), hook) is not getattr(L.LightningModule, hook)
model_cls, data_cls = the_class(load("model"), L.LightningModule), the_class(load("data"), L.LightningDataModule)
tr = dict(cfg.trainer)
epochs = tr.get("max_epochs", 1)
max_steps = tr.get("max_steps", -1)
L.seed_everything(0, verbose=False)
t0 = time.perf_counter()
model, data = model_cls(**cfg.model), data_cls(**cfg.data)
if mode == "lightning":  # a plain Trainer, no repro callbacks
    trainer = L.Trainer(**tr, accelerator="cpu", devices=1, logger=False, enable_progress_bar=False,
                        enable_model_summary=False, enable_checkpointing=False)
    trainer.fit(model, datamodule=data)
    print(json.dumps({"seconds": time.perf_counter() - t0, "steps": trainer.global_step}))
    sys.exit(0)

# What a model reads from its Trainer in validation_step (e.g. `self.trainer.sanity_checking`):
# the hand loop has none, and it never runs a sanity check.
class _NoTrainer:
    sanity_checking = False
model_cls.trainer = property(lambda self: _NoTrainer)
data.setup("fit")
opt = model.configure_optimizers()
sched, interval = None, "epoch"
if isinstance(opt, dict):
    opt, sched = opt["optimizer"], opt.get("lr_scheduler")
if isinstance(sched, dict):
    sched, interval = sched["scheduler"], sched.get("interval", "epoch")
vals = data.val_dataloader()
vals = list(vals) if isinstance(vals, (list, tuple)) else [vals]
every_epochs = tr.get("check_val_every_n_epoch", 1)   # None: count batches across epochs
n_batches = len(data.train_dataloader())
vci = tr.get("val_check_interval", 1.0)
val_every = max(1, int(n_batches * vci)) if isinstance(vci, float) else int(vci)
limit_val = tr.get("limit_val_batches", 1.0)
limit_val = int(limit_val) if isinstance(limit_val, int) else math.inf

def validate():
    model.eval()
    with torch.no_grad():
        for k, loader in enumerate(vals):
            for i, batch in enumerate(loader):
                if i >= limit_val:
                    break
                model.validation_step(batch, i, k) if len(vals) > 1 else model.validation_step(batch, i)
    model.train()

n = steps = 0
for epoch in range(epochs):
    model.train()
    if overrides(model, "on_train_epoch_start"):
        model.on_train_epoch_start()
    for i, batch in enumerate(data.train_dataloader()):
        loss = model.training_step(batch, i)
        loss = loss["loss"] if isinstance(loss, dict) else loss
        opt.zero_grad(); loss.backward(); opt.step()
        if sched is not None and interval == "step":
            sched.step()
        if overrides(model, "on_train_batch_end"):
            model.on_train_batch_end(loss, batch, i)
        n, steps = n + len(batch[0]), steps + 1
        if every_epochs is None and steps % val_every == 0:
            validate()
        elif every_epochs is not None and (epoch + 1) % every_epochs == 0 and (i + 1) % val_every == 0:
            validate()
        if steps == max_steps:
            break
    if steps == max_steps:
        break
    if sched is not None and interval == "epoch":
        sched.step()
print(json.dumps({"seconds": time.perf_counter() - t0, "samples": n, "steps": steps}))
'''


def _run(cmd: list[str]) -> subprocess.CompletedProcess:
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{r.stderr[-3000:]}")
    return r


def _repro_seconds(folder: Path, paper: str, config_set: str | None) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        _run([sys.executable, "-m", "repro", "run", str(folder), "--only", CONFIG, "--seeds", "0",
              "--results", tmp, "--no-site", "--workers", "1", *(["--config-set", config_set] if config_set else [])])
        name = f"{paper}@{config_set}" if config_set else paper
        summary = json.loads((Path(tmp) / name / CONFIG / "seed-0" / "summary.json").read_text())
    return float(summary["wall_time_s"])


def _copy_with_trainer(folder: Path, config_set: str | None, trainer: dict) -> Path:
    """A copy of the paper folder whose base.yaml has `trainer` merged in (e.g. a step cap)."""
    import shutil

    import yaml

    copy = Path(tempfile.mkdtemp()) / folder.name
    shutil.copytree(folder, copy)
    base = copy / (f"configs-{config_set}" if config_set else "configs") / "base.yaml"
    values = yaml.safe_load(base.read_text())
    values.setdefault("trainer", {}).update(trainer)
    base.write_text(yaml.safe_dump(values, sort_keys=False))
    return copy


def bench_paper(paper: str, repeat: int = 1, config_set: str | None = None, trainer: dict | None = None) -> dict | None:
    folder = REPO / "papers" / paper
    if not (folder / (f"configs-{config_set}" if config_set else "configs") / f"{CONFIG}.yaml").exists():
        return None
    if trainer:
        folder = _copy_with_trainer(folder, config_set, trainer)
    script = Path(tempfile.mkdtemp()) / "hand.py"
    script.write_text(HAND_LOOP)
    extra = [config_set] if config_set else []
    best = {"repro": float("inf"), "hand": float("inf"), "lightning": float("inf")}
    samples = steps = 0
    for _ in range(repeat):
        hand = json.loads(_run([sys.executable, str(script), str(folder), CONFIG, "hand", *extra]).stdout.splitlines()[-1])
        samples, steps = hand["samples"], hand["steps"]  # the same epochs and batches in all three
        best["hand"] = min(best["hand"], hand["seconds"])
        best["repro"] = min(best["repro"], _repro_seconds(folder, paper, config_set))
        lit = json.loads(_run([sys.executable, str(script), str(folder), CONFIG, "lightning", *extra]).stdout.splitlines()[-1])
        assert lit["steps"] == steps, (lit, steps)  # the hand loop mirrors the Trainer's step count
        best["lightning"] = min(best["lightning"], lit["seconds"])
    sps = {k: samples / v for k, v in best.items()}
    label = paper + (f" @{config_set}" if config_set else "") + (
        f" ({trainer['max_steps']} steps)" if trainer and "max_steps" in trainer else "")
    return {"paper": label, "config": CONFIG, "samples": samples, "steps": steps, "seconds": best,
            "extra_ms_per_step": 1000 * (best["repro"] - best["hand"]) / max(steps, 1),
            "repro_sps": sps["repro"], "plain_sps": sps["hand"], "lightning_sps": sps["lightning"],
            "ratio": sps["repro"] / sps["hand"], "ratio_lightning": sps["repro"] / sps["lightning"],
            "lightning_vs_hand": sps["lightning"] / sps["hand"]}


def bench_throughput(papers: tuple[str, ...] = PAPERS, repeat: int = 1) -> list[dict]:
    return [r for p in papers if (r := bench_paper(p, repeat)) is not None]


def format_rows(rows: list[dict]) -> str:
    lines = ["| paper (baseline, seed 0) | steps | samples | hand loop s | Lightning s | repro run s | repro/hand "
             "| repro/Lightning | repro - hand per step |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        s = r["seconds"]
        lines.append(f"| {r['paper']} | {r['steps']} | {r['samples']} | {s['hand']:.2f} | {s['lightning']:.2f} "
                     f"| {s['repro']:.2f} | **{r['ratio']:.2f}x** | {r['ratio_lightning']:.2f}x "
                     f"| {r['extra_ms_per_step']:.2f} ms |")
    return "\n".join(lines)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("papers", nargs="*", default=list(PAPERS))
    ap.add_argument("--repeat", type=int, default=2, help="runs per side; the best is kept (default 2)")
    a = ap.parse_args()
    print(format_rows(bench_throughput(tuple(a.papers), a.repeat)))
