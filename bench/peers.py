"""`repro run` against the peer users pick: Hydra multirun with the joblib launcher (issue 19).

    python bench/peers.py [--repeat 1] [--epochs 5]

The same 24 runs (the tiny test paper: 4 configs x 6 seeds, the same model, data, epochs and
seeds) on the same cores, two ways:

    repro   `repro run papers/<tiny> --no-site` (one worker per core)
    hydra   a Hydra app, `python app.py --multirun hidden=4,16,32,2 seed=0,..,5
            hydra/launcher=joblib hydra.launcher.n_jobs=<cores>`: joblib's loky workers are
            reused, so torch and Lightning are imported once per worker, as in repro. The app
            is what a user writes: seed, build the model and data, a default lightning.Trainer
            (its default checkpoint included) in Hydra's output folder, write the final metric.
            Its torch threads are set to cores / n_jobs, as repro does per worker.

Two sequences, interleaved (repro, hydra, repro, hydra) so that machine load hits both alike:

    cold         the sweep from nothing (no warm-start process: repro's workers import torch)
    interrupted  the sweep killed with SIGKILL (its whole process group) once half the runs
                 have finished, then the same command again; the figure is the time to the
                 kill plus the rerun. Hydra has no resume (hydra#1407, #3328): the rerun does
                 all 24 again; repro reruns only what had not finished. repro runs with
                 --keep-warm here, starting with no warm-start process: the first command
                 starts one (its workers are forked once it has imported torch), the kill does
                 not reach it, and the rerun's workers are forked from it at once.

Then repro alone, both sequences again with a warm-start process already up (started by one
run of the same command just before, as an earlier `repro run --keep-warm` would have): what a
user iterating on a paper sees. These are printed apart from the targets' figures.

It checks that both sides end with the same final val_acc for every run.
Needs the `bench` extra: pip install -e '.[bench]' (hydra-core, hydra-joblib-launcher).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
from helpers.tinypaper import make_tiny_paper  # noqa: E402

PY = sys.executable
HIDDEN = {"baseline": 4, "method": 16, "wide": 32, "narrow": 2}
SEEDS = range(6)

APP = '''
# What a user writes for Hydra: one function per run, configured by Hydra.
import json, os, importlib.util
from pathlib import Path
import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

_mods = {}


def load(folder, name):
    if name not in _mods:
        spec = importlib.util.spec_from_file_location(name, f"{folder}/{name}.py")
        m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m); _mods[name] = m
    return _mods[name]


@hydra.main(version_base=None, config_path=".", config_name="config")
def main(cfg: DictConfig) -> None:
    import torch
    import lightning as L
    torch.set_num_threads(cfg.threads)
    out = Path(HydraConfig.get().runtime.output_dir)
    L.seed_everything(cfg.seed, workers=True, verbose=False)
    model = load(cfg.paper, "model").Tiny(hidden=cfg.hidden, lr=0.1)
    data = load(cfg.paper, "data").Blobs(n=cfg.n)
    trainer = L.Trainer(max_epochs=cfg.epochs, logger=False, enable_progress_bar=False,
                        enable_model_summary=False, accelerator="cpu", devices=1,
                        default_root_dir=str(out))
    trainer.fit(model, datamodule=data)
    result = {"hidden": cfg.hidden, "seed": cfg.seed, "val_acc": float(trainer.callback_metrics["val_acc"])}
    (out / "result.json").write_text(json.dumps(result))


if __name__ == "__main__":
    main()
'''


def setup(tmp: Path, epochs: int) -> tuple[Path, Path]:
    ablations = {"wide": "model:\n  hidden: 32\n", "narrow": "model:\n  hidden: 2\n"}
    folder = make_tiny_paper(tmp, epochs=epochs, seeds=SEEDS, ablations=ablations)
    (folder / "configs" / "base.yaml").write_text(
        f"model:\n  hidden: 8\n  lr: 0.1\ndata:\n  n: 256\ntrainer:\n  max_epochs: {epochs}\n")
    app = tmp / "hydra_app"
    app.mkdir()
    (app / "app.py").write_text(APP)
    (app / "config.yaml").write_text(textwrap.dedent(f"""\
        paper: {folder}
        hidden: 8
        seed: 0
        n: 256
        epochs: {epochs}
        threads: 1
    """))
    return folder, app


def workers() -> int:
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:
        return os.cpu_count() or 1


def repro_cmd(folder: Path, results: Path, keep_warm: bool = False) -> list[str]:
    return [PY, "-m", "repro", "run", str(folder), "--no-site", "--results", str(results)] + (["--keep-warm"] if keep_warm else [])


def warm_up(folder: Path, tmp: Path) -> None:
    """Start the warm-start process the measured commands will find: one run of the same
    command (same folder, Python and environment), its results thrown away."""
    scratch = tmp / "warm-up"
    subprocess.run([PY, "-m", "repro", "run", str(folder), "--no-site", "--results", str(scratch), "--keep-warm",
                    "--only", "baseline", "--seeds", "0"], cwd=tmp, capture_output=True, check=True)
    shutil.rmtree(scratch)


def stop_warm() -> None:
    """No warm-start process left from an earlier command: each sequence starts cold."""
    subprocess.run([PY, "-m", "repro.runs.warm", "stop"], capture_output=True, check=True)


def hydra_cmd(app: Path, sweep: Path) -> list[str]:
    n = workers()
    return [PY, str(app / "app.py"), "--multirun", f"hidden={','.join(str(h) for h in HIDDEN.values())}",
            f"seed={','.join(str(s) for s in SEEDS)}", "hydra/launcher=joblib", f"hydra.launcher.n_jobs={n}",
            f"threads={max(1, workers() // n)}", f"hydra.sweep.dir={sweep}"]


def repro_done(results: Path) -> int:
    n = 0
    for s in results.rglob("summary.json"):
        try:
            n += json.loads(s.read_text()).get("status") == "finished"
        except (OSError, ValueError):
            pass
    return n


def hydra_done(sweep: Path) -> int:
    return sum(1 for _ in sweep.rglob("result.json"))


CPU: list[float] = []  # CPU seconds (user + system, the process and the children it waited for) of each cold command


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def timed(cmd: list[str], cwd: Path, kill_when=None) -> float:
    """Seconds `cmd` took; with kill_when, SIGKILL its process group once kill_when() is true.
    Without, the command's CPU seconds go to CPU: load-proof where wall time is not."""
    t0, c0 = time.perf_counter(), _children_cpu()
    p = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         start_new_session=True)
    if kill_when is None:
        out, _ = p.communicate()
        if p.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed:\n{out[-3000:]}")
        CPU.append(_children_cpu() - c0)
        return time.perf_counter() - t0
    while p.poll() is None and not kill_when():
        time.sleep(0.05)
    dt = time.perf_counter() - t0
    if p.poll() is None:
        os.killpg(p.pid, signal.SIGKILL)
    p.communicate()
    return dt


def metrics_repro(results: Path) -> dict[tuple[int, int], float]:
    out = {}
    for s in results.rglob("summary.json"):
        d = json.loads(s.read_text())
        out[(HIDDEN[d["config"]], d["seed"])] = round(d["final"]["val_acc"], 6)
    return out


def metrics_hydra(sweep: Path) -> dict[tuple[int, int], float]:
    out = {}
    for r in sweep.rglob("result.json"):
        d = json.loads(r.read_text())
        out[(d["hidden"], d["seed"])] = round(d["val_acc"], 6)
    return out


def bench_peers(repeat: int = 1, epochs: int = 5) -> dict:
    runs = len(HIDDEN) * len(SEEDS)
    times: dict[str, list[float]] = {k: [] for k in ("repro_cold", "hydra_cold", "repro_int", "hydra_int",
                                                     "repro_cold_warm", "repro_int_warm")}
    parts: dict[str, list[tuple[float, float]]] = {"repro_int": [], "hydra_int": [], "repro_int_warm": []}
    cpu: dict[str, list[float]] = {"repro_cold": [], "hydra_cold": []}
    same = None
    # The bench's own folder of warm-start sockets: stopping them never touches a user's.
    os.environ["XDG_RUNTIME_DIR"] = tempfile.mkdtemp(prefix="rw", dir="/tmp")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        folder, app = setup(tmp, epochs)
        for i in range(repeat):
            res, sweep = tmp / f"res{i}", tmp / f"sweep{i}"
            stop_warm()
            times["repro_cold"].append(timed(repro_cmd(folder, res), tmp))
            cpu["repro_cold"].append(CPU[-1])
            times["hydra_cold"].append(timed(hydra_cmd(app, sweep), tmp))
            cpu["hydra_cold"].append(CPU[-1])
            m_r, m_h = metrics_repro(res), metrics_hydra(sweep)
            same = len(m_r) == len(m_h) == runs and m_r == m_h if same is not False else False
            if not same:
                diff = {k: (m_r.get(k), m_h.get(k)) for k in set(m_r) | set(m_h) if m_r.get(k) != m_h.get(k)}
                print(f"peers: final val_acc differs on {len(diff)} runs: {dict(list(diff.items())[:4])}")
            shutil.rmtree(res)
            shutil.rmtree(sweep)
            half = runs // 2
            stop_warm()
            a = timed(repro_cmd(folder, res, keep_warm=True), tmp, kill_when=lambda: repro_done(res) >= half)
            b = timed(repro_cmd(folder, res, keep_warm=True), tmp)
            stop_warm()
            parts["repro_int"].append((a, b))
            times["repro_int"].append(a + b)
            assert repro_done(res) == runs
            a = timed(hydra_cmd(app, sweep), tmp, kill_when=lambda: hydra_done(sweep) >= half)
            shutil.rmtree(sweep)  # Hydra's rerun starts over (a new sweep folder)
            b = timed(hydra_cmd(app, sweep), tmp)
            parts["hydra_int"].append((a, b))
            times["hydra_int"].append(a + b)
            assert hydra_done(sweep) == runs
            shutil.rmtree(res)
            shutil.rmtree(sweep)
            # What a user iterating sees: a warm-start process already up from an earlier command.
            warm_up(folder, tmp)
            times["repro_cold_warm"].append(timed(repro_cmd(folder, res, keep_warm=True), tmp))
            shutil.rmtree(res)
            a = timed(repro_cmd(folder, res, keep_warm=True), tmp, kill_when=lambda: repro_done(res) >= half)
            b = timed(repro_cmd(folder, res, keep_warm=True), tmp)
            stop_warm()
            parts["repro_int_warm"].append((a, b))
            times["repro_int_warm"].append(a + b)
            assert repro_done(res) == runs and metrics_repro(res) == m_r  # forked workers: the same results
            shutil.rmtree(res)
            print(f"peers: sample {i + 1}: cold {times['repro_cold'][-1]:.1f} / {times['hydra_cold'][-1]:.1f} s = "
                  f"{times['repro_cold'][-1] / times['hydra_cold'][-1]:.2f}x; interrupted {times['repro_int'][-1]:.1f} / "
                  f"{times['hydra_int'][-1]:.1f} s = {times['repro_int'][-1] / times['hydra_int'][-1]:.2f}x; cold CPU "
                  f"{cpu['repro_cold'][-1]:.1f} / {cpu['hydra_cold'][-1]:.1f} s = "
                  f"{cpu['repro_cold'][-1] / cpu['hydra_cold'][-1]:.2f}x", flush=True)
    med = {k: statistics.median(v) for k, v in times.items()}
    return {"runs": runs, "epochs": epochs, "workers": workers(), "repeat": repeat, "seconds": med,
            "cold_ratio": med["repro_cold"] / med["hydra_cold"],
            "interrupted_ratio": med["repro_int"] / med["hydra_int"],
            "cold_ratio_warm": med["repro_cold_warm"] / med["hydra_cold"],
            "interrupted_ratio_warm": med["repro_int_warm"] / med["hydra_int"],
            "cpu_seconds": {k: statistics.median(v) for k, v in cpu.items()},
            "cold_cpu_ratio": statistics.median(cpu["repro_cold"]) / statistics.median(cpu["hydra_cold"]),
            "interrupted_parts": {k: [tuple(round(x, 2) for x in p) for p in v] for k, v in parts.items()},
            "same_final_metrics": bool(same)}


def format_peers(r: dict) -> str:
    s = r["seconds"]
    return "\n".join([
        f"peers: {r['runs']} runs ({r['epochs']} epochs, {r['workers']} workers each side, median of {r['repeat']}, interleaved)",
        f"peers: cold: repro run {s['repro_cold']:.1f} s, Hydra multirun + joblib {s['hydra_cold']:.1f} s -> "
        f"{r['cold_ratio']:.2f}x (target <= 0.5x)",
        f"peers: kill -9 at half, then rerun: repro run {s['repro_int']:.1f} s, Hydra {s['hydra_int']:.1f} s -> "
        f"{r['interrupted_ratio']:.2f}x (target <= 0.3x); (to kill, rerun) s: {r['interrupted_parts']}",
        f"peers: with a warm-start process already up (an earlier `repro run --keep-warm`): cold "
        f"{s['repro_cold_warm']:.1f} s -> {r['cold_ratio_warm']:.2f}x; kill -9 at half, then rerun {s['repro_int_warm']:.1f} s "
        f"-> {r['interrupted_ratio_warm']:.2f}x",
        f"peers: cold, CPU seconds (both cores, every process): repro run {r['cpu_seconds']['repro_cold']:.1f}, Hydra "
        f"{r['cpu_seconds']['hydra_cold']:.1f} -> {r['cold_cpu_ratio']:.2f}x",
        f"peers: same final val_acc on every run both ways: {r['same_final_metrics']}",
    ])


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--epochs", type=int, default=5)
    a = ap.parse_args()
    r = bench_peers(a.repeat, a.epochs)
    print(format_peers(r))
    print(json.dumps(r))
