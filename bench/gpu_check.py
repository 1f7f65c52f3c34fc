"""The prepared GPU check (issue 19): packing, one-GPU DDP and host syncs, in one time-boxed run.

    python bench/gpu_check.py --out DIR [--budget-s 450] [--paper 1207.0580] [--config-set gpu]
    python bench/gpu_check.py --out DIR --fake-devices 0 --budget-s 60      # CPU rehearsal

What it does, each phase in a subprocess with its own time limit (the whole stays inside
--budget-s; a phase that would not fit is skipped and says so):

1. env: python, torch, lightning, CUDA, the GPU's name, nvidia-smi; what is missing.
2. packing: `repro run` on a copy of the paper's config set whose trainer stops after a fixed
   training time (trainer.max_time, the same slice for every run), the baseline config with
   seeds 0..N-1 on one device with --runs-per-device N, for N in 1, 2, 4, 8. Each run's
   training rate is steps / slice; the device's rate is their sum. Printed per N: runs per
   hour at the config's full length (device rate / full steps x 3600), GPU utilisation (mean of
   nvidia-smi samples while every run was training) and peak memory used (nvidia-smi), the
   speed-up over N=1, and each run's slow-down against running alone (flagged above 1.2x).
3. ddp: one run with trainer.strategy=ddp on one device through `repro run`.
4. sync: host syncs per training step. On a GPU: repro's recorder on a non-logged step under
   torch.cuda.set_sync_debug_mode("error") (must not raise), then a short fit of the same
   model with repro's callbacks under "warn", every sync counted by where it comes from. On
   CPU (--fake-devices): Tensor.item/__float__/__bool__/tolist calls per step, counted.

Everything goes to DIR/gpu_check.json and DIR/gpu_check.txt. Run folders go to a scratch
directory (--work, default a temp dir), never to DIR. Exit status 0 when every phase ran,
1 when one failed or was skipped, 2 when torch or lightning is missing.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
PY = sys.executable
SLOWDOWN_FLAG = 1.2
CONFIG = "baseline"


def log(msg: str) -> None:
    print(f"[gpu_check {time.strftime('%H:%M:%S')}] {msg}", flush=True)


# -- subprocesses, time-boxed --------------------------------------------------------------
def run_boxed(cmd: list[str], timeout_s: float, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run `cmd` in its own process group; kill the whole group when it outlives timeout_s."""
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, cwd=REPO, env={**os.environ, **(env or {})}, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        out, _ = p.communicate(timeout=max(1.0, timeout_s))
        timed_out = False
    except subprocess.TimeoutExpired:
        with contextlib.suppress(OSError):
            os.killpg(p.pid, signal.SIGKILL)
        out, _ = p.communicate()
        timed_out = True
    return {"rc": p.returncode, "timed_out": timed_out, "seconds": round(time.monotonic() - t0, 2),
            "tail": (out or "")[-2500:]}


# -- nvidia-smi sampling ------------------------------------------------------------------
class GpuSampler:
    """Samples utilisation (%) and memory used (MiB) of one GPU every `period_s` (no-op without nvidia-smi)."""

    def __init__(self, device: str, period_s: float = 0.5) -> None:
        self.device, self.period_s = device, period_s
        self.samples: list[tuple[float, float, float]] = []  # (time, util %, MiB used)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.available = shutil.which("nvidia-smi") is not None

    def _read(self) -> tuple[float, float] | None:
        try:
            out = subprocess.run(["nvidia-smi", "-i", self.device, "--query-gpu=utilization.gpu,memory.used",
                                  "--format=csv,noheader,nounits"], capture_output=True, text=True, timeout=5).stdout
            util, mem = (float(x) for x in out.strip().splitlines()[0].split(","))
            return util, mem
        except (OSError, ValueError, IndexError, subprocess.TimeoutExpired):
            return None

    def _loop(self) -> None:
        while not self._stop.is_set():
            r = self._read()
            if r is not None:
                self.samples.append((time.time(), *r))
            self._stop.wait(self.period_s)

    def __enter__(self) -> "GpuSampler":
        if self.available:
            self._thread = threading.Thread(target=self._loop, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def idle_mib(self) -> float | None:
        r = self._read() if self.available else None
        return r[1] if r else None

    def summary(self, window: tuple[float, float] | None) -> dict[str, Any]:
        if not self.samples:
            return {"util_mean_pct": None, "util_samples": 0, "mem_peak_mib": None}
        inside = [s for s in self.samples if window and window[0] <= s[0] <= window[1]]
        use = inside or self.samples
        return {"util_mean_pct": round(statistics.fmean(s[1] for s in use), 1), "util_samples": len(use),
                "util_window": "all runs training" if inside else "whole phase",
                "mem_peak_mib": max(s[2] for s in self.samples)}


# -- the paper copy -----------------------------------------------------------------------
def sliced_copy(paper: str, config_set: str | None, work: Path, trainer: dict[str, Any],
                drop_gpu_mem: bool) -> tuple[Path, dict[str, Any]]:
    """A copy of papers/<paper> whose config set's base.yaml has `trainer` merged in.

    Returns the copy and the baseline's original trainer section (for the full run length).
    """
    import yaml

    src = REPO / "papers" / paper
    dst = work / "papers" / paper
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__"))
    folder = dst / (f"configs-{config_set}" if config_set else "configs")
    base_file = folder / "base.yaml"
    base = yaml.safe_load(base_file.read_text()) or {}
    own = yaml.safe_load((folder / f"{CONFIG}.yaml").read_text()) or {}
    full_trainer = {**(base.get("trainer") or {}), **(own.get("trainer") or {})}
    base.setdefault("trainer", {}).update(trainer)
    if drop_gpu_mem:  # fake devices: no memory known, and a stated need would forbid packing
        (base.get("resources") or {}).pop("gpu_mem_gb", None)
    base_file.write_text(yaml.safe_dump(base, sort_keys=False))
    for f in folder.rglob("*.yaml"):  # the copy's configs must not undo the slice
        if f == base_file:
            continue
        v = yaml.safe_load(f.read_text()) or {}
        tr = v.get("trainer") or {}
        changed = [k for k in ("max_epochs", "max_steps", "max_time") if k in tr]
        for k in changed:
            tr.pop(k)
        if drop_gpu_mem and "gpu_mem_gb" in (v.get("resources") or {}):
            v["resources"].pop("gpu_mem_gb")
            changed.append("gpu_mem_gb")
        if changed:
            f.write_text(yaml.safe_dump(v, sort_keys=False))
    return dst, full_trainer


def read_runs(results: Path) -> list[dict[str, Any]]:
    runs = []
    for s in sorted(results.rglob("summary.json")):
        try:
            summary = json.loads(s.read_text())
        except (OSError, ValueError):
            continue
        runs.append(summary)
    return runs


def _ts(iso: str | None) -> float | None:
    if not iso:
        return None
    from datetime import datetime

    with contextlib.suppress(ValueError):
        return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()
    return None


def full_steps(trainer: dict[str, Any], steps_per_epoch: int | None) -> int | None:
    if isinstance(trainer.get("max_steps"), int) and trainer["max_steps"] > 0:
        by_steps = trainer["max_steps"]
    else:
        by_steps = None
    by_epochs = trainer.get("max_epochs", 1000) * steps_per_epoch if steps_per_epoch else None
    known = [x for x in (by_steps, by_epochs) if x]
    return min(known) if known else None


# -- phases ------------------------------------------------------------------------------
def phase_env(fake: list[str] | None) -> dict[str, Any]:
    code = ("import json, platform\nr = {'python': platform.python_version()}\n"
            "for m in ('torch', 'lightning', 'yaml', 'click', 'numpy'):\n"
            "    try:\n        mod = __import__(m); r[m] = getattr(mod, '__version__', 'yes')\n"
            "    except Exception as e:\n        r[m] = None; r.setdefault('missing', []).append(f'{m} ({type(e).__name__}: {e})')\n"
            "try:\n    import torch\n    r['cuda'] = torch.cuda.is_available()\n"
            "    r['gpu'] = torch.cuda.get_device_name(0) if r['cuda'] else None\n"
            "    r['gpus'] = torch.cuda.device_count() if r['cuda'] else 0\n"
            "except Exception as e:\n    r['cuda'] = False\n"
            "print('ENV' + json.dumps(r))\n")
    res = run_boxed([PY, "-c", code], 120)
    env: dict[str, Any] = {"python_exe": PY, "machine": platform.machine(), "cpus": os.cpu_count(),
                           "nvidia_smi": shutil.which("nvidia-smi"), "fake_devices": fake}
    line = next((l for l in res["tail"].splitlines() if l.startswith("ENV")), None)
    if line is None:
        env["error"] = res["tail"][-800:]
    else:
        env.update(json.loads(line[3:]))
    if env["nvidia_smi"]:
        q = run_boxed(["nvidia-smi", "--query-gpu=name,memory.total,driver_version", "--format=csv,noheader"], 20)
        env["nvidia_smi_gpus"] = q["tail"].strip()
    return env


STEPS_CODE = r'''
import json, sys
from pathlib import Path
import lightning as L
from repro.configs import resolve_configs
from repro.paper import load_paper
from repro.runs import paper_code
folder, config_set = sys.argv[1], (sys.argv[2] or None)
cfg = {c.name: c for c in resolve_configs(load_paper(folder, config_set))}["baseline"]
data_cls = paper_code.the_class(paper_code.load_paper_module(Path(folder) / "data.py"), L.LightningDataModule)
data = data_cls(**cfg.data)
data.setup("fit")
print("STEPS" + json.dumps(len(data.train_dataloader())))
'''


def steps_per_epoch(folder: Path, config_set: str | None, timeout_s: float) -> int | None:
    """Training batches per epoch of the baseline (its data module, built in a subprocess)."""
    res = run_boxed([PY, "-c", STEPS_CODE, str(folder), config_set or ""], timeout_s)
    line = next((l for l in res["tail"].splitlines() if l.startswith("STEPS")), None)
    return int(json.loads(line[5:])) if line else None


def phase_packing(folder: Path, config_set: str | None, n: int, device: str, work: Path, slice_s: float,
                  timeout_s: float, fake: bool) -> dict[str, Any]:
    results = work / f"results-pack{n}"
    shutil.rmtree(results, ignore_errors=True)
    cmd = [PY, "-m", "repro", "run", str(folder), "--only", CONFIG, "--seeds", ",".join(str(s) for s in range(n)),
           "--devices", device, "--runs-per-device", str(n), "--results", str(results), "--no-site"]
    if config_set:
        cmd += ["--config-set", config_set]
    env = {"CUDA_VISIBLE_DEVICES": device} if fake else {}
    sampler = GpuSampler(device)
    idle = sampler.idle_mib()
    t0 = time.time()
    with sampler:
        res = run_boxed(cmd, timeout_s, env)
    wall = time.time() - t0
    runs = read_runs(results)
    out: dict[str, Any] = {"runs_per_device": n, "command": " ".join(cmd[1:]), "rc": res["rc"],
                           "timed_out": res["timed_out"], "wall_s": round(wall, 2), "slice_s": slice_s,
                           "runs": []}
    if res["rc"] != 0 or len(runs) < n:
        out["error_tail"] = res["tail"][-1500:]
    starts, ends = [], []
    for r in runs:
        steps = int(r.get("steps") or 0)
        out["runs"].append({"seed": r.get("seed"), "status": r.get("status"), "device": r.get("device"),
                            "steps": steps, "rate_steps_per_s": round(steps / slice_s, 3),
                            "wall_time_s": r.get("wall_time_s"),
                            "error": (r.get("error") or "")[:200] or None})
        s, e = _ts(r.get("started_at")), _ts(r.get("ended_at"))
        if s and e:
            starts.append(s)
            ends.append(e)
    # Training in every run: from the last start (+ set-up) to the first end.
    window = (max(starts) + 2.0, min(ends)) if starts and min(ends) > max(starts) + 2.0 else None
    out["gpu"] = sampler.summary(window)
    if idle is not None and out["gpu"]["mem_peak_mib"] is not None:
        out["gpu"]["mem_idle_mib"] = idle
        out["gpu"]["mem_peak_over_idle_mib"] = out["gpu"]["mem_peak_mib"] - idle
    out["device_rate_steps_per_s"] = round(sum(r["rate_steps_per_s"] for r in out["runs"]), 3)
    return out


def phase_ddp(folder: Path, config_set: str | None, device: str, work: Path, timeout_s: float,
              fake: bool) -> dict[str, Any]:
    """One run with strategy=ddp on one device, through `repro run` (process group, sampler, barriers)."""
    import yaml

    cfg_dir = folder / (f"configs-{config_set}" if config_set else "configs")
    own = yaml.safe_load((cfg_dir / f"{CONFIG}.yaml").read_text()) or {}
    ddp = dict(own)
    ddp["description"] = "the baseline under DDP on one device (gpu_check)"
    ddp.setdefault("trainer", {}).update({"strategy": "ddp", "devices": 1})
    (cfg_dir / "ablations").mkdir(exist_ok=True)
    (cfg_dir / "ablations" / "ddp-check.yaml").write_text(yaml.safe_dump(ddp, sort_keys=False))
    results = work / "results-ddp"
    shutil.rmtree(results, ignore_errors=True)
    cmd = [PY, "-m", "repro", "run", str(folder), "--only", "ddp-check", "--seeds", "0", "--devices", device,
           "--results", str(results), "--no-site"]
    if config_set:
        cmd += ["--config-set", config_set]
    res = run_boxed(cmd, timeout_s, {"CUDA_VISIBLE_DEVICES": device} if fake else {})
    runs = read_runs(results)
    out: dict[str, Any] = {"command": " ".join(cmd[1:]), "rc": res["rc"], "timed_out": res["timed_out"],
                           "seconds": res["seconds"]}
    if runs:
        r = runs[0]
        out.update({"status": r.get("status"), "device": r.get("device"), "n_devices": r.get("n_devices"),
                    "steps": r.get("steps"), "final": r.get("final"), "error": r.get("error")})
        log_file = next(iter(results.rglob("run.log")), None)
        if log_file is not None:
            text = log_file.read_text(errors="replace")
            out["ddp_in_log"] = "distributed" in text.lower() or "ddp" in text.lower()
    if res["rc"] != 0 or not runs or runs[0].get("status") != "finished":
        out["error_tail"] = res["tail"][-1500:]
    return out


SYNC_CODE = r'''
# Host syncs per training step (run by gpu_check.py in its own process).
import json, math, sys, tempfile, warnings, collections, time
from pathlib import Path
import torch, lightning as L
from repro.configs import resolve_configs
from repro.paper import load_paper
from repro.runs import callbacks, paper_code

folder, config_set, steps = sys.argv[1], (sys.argv[2] or None), int(sys.argv[3])
cfg = {c.name: c for c in resolve_configs(load_paper(folder, config_set))}["baseline"]
root = Path(folder)
model_cls = paper_code.the_class(paper_code.load_paper_module(root / "model.py"), L.LightningModule)
data_cls = paper_code.the_class(paper_code.load_paper_module(root / "data.py"), L.LightningDataModule)
cuda = torch.cuda.is_available()
out = {"cuda": cuda, "steps": steps}
tmp = Path(tempfile.mkdtemp())

# 1. repro's recorder alone, on a step it does not log and on one it logs.
rec = callbacks.MetricsRecorder(tmp / "m.jsonl", every_n_steps=10)
class T:  # the two trainer attributes the recorder reads
    global_step, current_epoch = 3, 0
loss = torch.tensor(1.5, device="cuda" if cuda else "cpu")
if cuda:
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        for step in range(1, 10):  # steps 1..9: none of them logs a row (every 10th does)
            T.global_step = step
            rec.on_train_batch_end(T, None, {"loss": loss}, None, 0)
        out["recorder_unlogged_step_error_mode"] = "no sync in 9 unlogged steps"
    except RuntimeError as e:
        out["recorder_unlogged_step_error_mode"] = f"SYNCED: {e}"[:300]
    finally:
        torch.cuda.set_sync_debug_mode(0)

# 2. a short fit with repro's callbacks; count syncs (GPU) or Tensor.item & co (CPU) per step.
counts = collections.Counter()
class Audit(L.Callback):
    def on_train_batch_start(self, trainer, *a):
        if trainer.global_step == 5 and cuda:  # after warm-up (first steps allocate, cudnn picks)
            torch.cuda.set_sync_debug_mode("warn")
    def on_train_end(self, trainer, *a):
        if cuda:
            torch.cuda.set_sync_debug_mode(0)
names = ("item", "__float__", "__bool__", "tolist")
if not cuda:
    originals = {n: getattr(torch.Tensor, n) for n in names}
    def wrap(n):
        def f(self, *a, **k):
            fr = sys._getframe(1)
            counts[f"Tensor.{n} from {Path(fr.f_code.co_filename).name}:{fr.f_lineno}"] += 1
            return originals[n](self, *a, **k)
        return f
L.seed_everything(0, verbose=False)
model, data = model_cls(**cfg.model), data_cls(**cfg.data)
recorder = callbacks.MetricsRecorder(tmp / "fit.jsonl")
tr = {k: v for k, v in cfg.trainer.items() if k not in ("max_epochs", "max_steps", "max_time")}
trainer = L.Trainer(**tr, max_steps=steps, accelerator="gpu" if cuda else "cpu", devices=1,
                    callbacks=[recorder, callbacks.RunState(recorder), Audit()], logger=False,
                    enable_progress_bar=False, enable_model_summary=False, enable_checkpointing=False,
                    num_sanity_val_steps=0)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    if not cuda:
        for n in names:
            setattr(torch.Tensor, n, wrap(n))
    t0 = time.perf_counter()
    try:
        trainer.fit(model, datamodule=data)
    finally:
        if not cuda:
            for n in names:
                setattr(torch.Tensor, n, originals[n])
    out["fit_s"] = round(time.perf_counter() - t0, 3)
audited = trainer.global_step - (5 if cuda else 0)
if cuda:
    for w in caught:
        if "synchroniz" in str(w.message).lower():
            counts[f"{Path(w.filename).parent.name}/{Path(w.filename).name}:{w.lineno}"] += 1
out["audited_steps"] = audited
out["syncs_total"] = sum(counts.values())
out["syncs_per_step"] = round(sum(counts.values()) / max(audited, 1), 3)
out["by_source"] = dict(counts.most_common(15))
out["note"] = ("syncs counted by torch.cuda.set_sync_debug_mode('warn') from step 5 on, validation included"
               if cuda else "Tensor.item/__float__/__bool__/tolist calls over the whole fit, validation included")
print("SYNC" + json.dumps(out))
'''


def phase_sync(folder: Path, config_set: str | None, steps: int, timeout_s: float, fake_device: str | None) -> dict[str, Any]:
    script = Path(tempfile.mkdtemp()) / "sync_check.py"
    script.write_text(SYNC_CODE)
    env = {"CUDA_VISIBLE_DEVICES": ""} if fake_device is not None else {}
    res = run_boxed([PY, str(script), str(folder), config_set or "", str(steps)], timeout_s, env)
    line = next((l for l in res["tail"].splitlines() if l.startswith("SYNC")), None)
    if line is None:
        return {"rc": res["rc"], "timed_out": res["timed_out"], "error_tail": res["tail"][-1500:]}
    return {"rc": res["rc"], "seconds": res["seconds"], **json.loads(line[4:])}


# -- the whole check ----------------------------------------------------------------------
def analyse(packing: list[dict[str, Any]], full: int | None) -> None:
    """Add speed-ups, runs per hour and slow-downs against N=1 to each packing setting."""
    alone = next((p for p in packing if p["runs_per_device"] == 1 and p["runs"]), None)
    alone_rate = statistics.fmean(r["rate_steps_per_s"] for r in alone["runs"]) if alone else None
    base_dev = alone["device_rate_steps_per_s"] if alone else None
    for p in packing:
        p["full_run_steps"] = full
        p["runs_per_hour"] = round(p["device_rate_steps_per_s"] * 3600 / full, 2) if full else None
        p["speedup_vs_1"] = round(p["device_rate_steps_per_s"] / base_dev, 2) if base_dev else None
        slow = [round(alone_rate / r["rate_steps_per_s"], 2) if alone_rate and r["rate_steps_per_s"] else None
                for r in p["runs"]]
        p["slowdown_vs_alone"] = slow
        known = [s for s in slow if s is not None]
        p["max_slowdown"] = max(known) if known else None
        p["slowed_beyond_1_2x"] = any(s > SLOWDOWN_FLAG for s in known) or (None in slow)


def text_report(rep: dict[str, Any]) -> str:
    e = rep["env"]
    lines = [f"# repro GPU check, {rep['date']}, budget {rep['budget_s']} s, took {rep['elapsed_s']} s",
             f"env: python {e.get('python')} torch {e.get('torch')} lightning {e.get('lightning')} "
             f"cuda={e.get('cuda')} gpu={e.get('gpu')} fake_devices={e.get('fake_devices')} cpus={e.get('cpus')}",
             f"paper: {rep['paper']} config set {rep['config_set']} ({CONFIG}); training slice {rep.get('slice_s')} s "
             f"per run; full run {rep.get('full_run_steps')} steps", "",
             "| runs/device | runs | steps/s per run (mean) | device steps/s | runs/hour (full length) | speed-up vs 1 "
             "| GPU util % | peak mem MiB | max slow-down | slowed > 1.2x | status |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for p in rep.get("packing", []):
        rates = [r["rate_steps_per_s"] for r in p["runs"]]
        statuses = ",".join(sorted({str(r['status']) for r in p['runs']})) or ("timed out" if p.get("timed_out") else f"rc {p['rc']}")
        g = p.get("gpu", {})
        lines.append(f"| {p['runs_per_device']} | {len(p['runs'])} | {statistics.fmean(rates) if rates else 0:.1f} "
                     f"| {p['device_rate_steps_per_s']:.1f} | {p.get('runs_per_hour')} | {p.get('speedup_vs_1')} "
                     f"| {g.get('util_mean_pct')} | {g.get('mem_peak_mib')} | {p.get('max_slowdown')} "
                     f"| {'YES' if p.get('slowed_beyond_1_2x') else 'no'} | {statuses} |")
    best = max((p.get("speedup_vs_1") or 0 for p in rep.get("packing", [])), default=0)
    lines.append(f"packing: best speed-up over one run per GPU {best}x (target >= 2x)")
    d = rep.get("ddp")
    if d:
        lines.append(f"ddp (one device): status {d.get('status')} device {d.get('device')} steps {d.get('steps')} "
                     f"final {d.get('final')} in {d.get('seconds')} s" + (f"; error: {d.get('error')}" if d.get("error") else ""))
    s = rep.get("sync")
    if s:
        lines.append(f"sync: recorder on an unlogged step under set_sync_debug_mode('error'): "
                     f"{s.get('recorder_unlogged_step_error_mode', 'n/a (no CUDA)')}")
        lines.append(f"sync: {s.get('syncs_per_step')} host syncs per step over {s.get('audited_steps')} steps "
                     f"({s.get('note')}); by source: {json.dumps(s.get('by_source'))}")
    for k, v in rep.get("skipped", {}).items():
        lines.append(f"skipped {k}: {v}")
    for k in ("packing", "ddp", "sync"):
        for item in (rep.get(k) or []) if k == "packing" else [rep.get(k) or {}]:
            if item.get("error_tail"):
                lines.append(f"--- {k} {item.get('runs_per_device', '')} output tail ---\n{item['error_tail']}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True, type=Path, help="where gpu_check.json and gpu_check.txt go")
    ap.add_argument("--budget-s", type=float, default=450.0, help="wall-clock budget for everything (default 450)")
    ap.add_argument("--paper", default="1207.0580")
    ap.add_argument("--config-set", default="gpu", help="'gpu' (configs-gpu/) or '' for the small proxies")
    ap.add_argument("--packing", default="1,2,4,8", help="runs per device to try")
    ap.add_argument("--device", default="0", help="GPU index to use")
    ap.add_argument("--fake-devices", metavar="0", help="CPU rehearsal: pretend these GPU indices exist")
    ap.add_argument("--slice-s", type=float, help="training seconds per run (default: from the budget)")
    ap.add_argument("--work", type=Path, help="scratch folder for run folders (default: a temp dir)")
    a = ap.parse_args(argv)

    t_start = time.monotonic()
    deadline = t_start + a.budget_s
    left = lambda: deadline - time.monotonic()  # noqa: E731
    a.out.mkdir(parents=True, exist_ok=True)
    work = a.work or Path(tempfile.mkdtemp(prefix="repro-gpu-check-"))
    fake = [d.strip() for d in a.fake_devices.split(",")] if a.fake_devices else None
    device = fake[0] if fake else a.device
    config_set = a.config_set or None
    settings = [int(x) for x in a.packing.split(",") if x.strip()]
    rep: dict[str, Any] = {"date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "budget_s": a.budget_s, "paper": a.paper,
                           "config_set": config_set, "device": device, "skipped": {}}

    def save() -> None:
        rep["elapsed_s"] = round(time.monotonic() - t_start, 1)
        from_text = text_report(rep)
        (a.out / "gpu_check.json").write_text(json.dumps(rep, indent=1, default=str))
        (a.out / "gpu_check.txt").write_text(from_text)

    log(f"env (budget {a.budget_s:.0f} s, out {a.out}, scratch {work})")
    rep["env"] = phase_env(fake)
    missing = rep["env"].get("missing") or ([] if "error" not in rep["env"] else ["python -c failed"])
    if not rep["env"].get("torch") or not rep["env"].get("lightning"):
        rep["skipped"]["all"] = f"missing: {missing}; install torch and lightning (see bench/gpu_check.sh)"
        save()
        print(text_report(rep))
        return 2
    if missing:
        log(f"missing (continuing): {missing}")
    if not fake and not rep["env"].get("cuda"):
        rep["skipped"]["cuda"] = "torch sees no GPU: the packing figures below are CPU figures; pass --fake-devices to rehearse"
        fake, device = [a.device], a.device

    # Budget: packing gets what DDP and sync (and a margin) leave; each setting the same share.
    reserve = min(150.0, 0.3 * a.budget_s)
    per_setting = max(10.0, (left() - reserve) / max(len(settings), 1))
    slice_s = a.slice_s or max(2.0, min(60.0, 0.35 * per_setting))
    rep["slice_s"] = slice_s
    folder, full_trainer = sliced_copy(a.paper, config_set, work, {"max_time": {"seconds": slice_s}},
                                       drop_gpu_mem=bool(fake))
    spe = steps_per_epoch(folder, config_set, min(60.0, left() / 4))
    rep["packing"] = []
    for i, n in enumerate(settings):
        # Time a quick setting leaves over goes to the later (bigger) ones.
        budget = min((left() - reserve) / (len(settings) - i), left() - reserve * 0.5)
        if budget < slice_s + 5:
            rep["skipped"][f"packing {n}"] = f"{left():.0f} s left: not enough for a {slice_s:.0f} s slice"
            continue
        log(f"packing: {n} run(s) per device, slice {slice_s:.0f} s, limit {budget:.0f} s")
        rep["packing"].append(phase_packing(folder, config_set, n, device, work, slice_s, budget, bool(fake)))
        save()
    rep["steps_per_epoch"] = spe
    rep["full_run_steps"] = full_steps(full_trainer, spe)
    analyse(rep["packing"], rep["full_run_steps"])
    save()

    # DDP and sync: short, fixed-step runs (a step cap instead of the time slice).
    folder, _ = sliced_copy(a.paper, config_set, work, {"max_steps": 60, "max_epochs": 1000},
                            drop_gpu_mem=bool(fake))
    if left() > 25:
        log(f"ddp: one run on device {device}, limit {min(90.0, left() * 0.55):.0f} s")
        rep["ddp"] = phase_ddp(folder, config_set, device, work, min(90.0, left() * 0.55), bool(fake))
        save()
    else:
        rep["skipped"]["ddp"] = f"{left():.0f} s left"
    if left() > 15:
        log(f"sync: limit {left() - 3:.0f} s")
        rep["sync"] = phase_sync(folder, config_set, 60, left() - 3, device if fake else None)
    else:
        rep["skipped"]["sync"] = f"{left():.0f} s left"
    save()
    text = (a.out / "gpu_check.txt").read_text()
    print(text)
    if not a.work:
        shutil.rmtree(work, ignore_errors=True)
    failed = (rep["skipped"] or any(p["rc"] != 0 or p.get("timed_out") for p in rep["packing"])
              or (rep.get("ddp") or {}).get("status") != "finished" or "error_tail" in (rep.get("sync") or {"error_tail": 1}))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
