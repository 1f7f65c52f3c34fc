"""The benchmark suite: every figure is a ratio against a baseline measured in the same run.

    python bench/run.py            # all figures
    python bench/run.py runner     # one section: runner | noop | new | site | throughput
    python bench/run.py per_step --repeat=1 --papers=1207.0580 --steps=100   # a shorter slice

Figures (targets from issue 8):
- runner: `repro run` on a sweep of 24 short runs vs the same runs as a plain loop of one
  Lightning script per run (what a user writes by hand). Target: wall ratio <= 0.5 on 2
  cores; per-run overhead beyond training < 0.3 s.
- noop: a rerun with everything cached (wall seconds; target about 1 s).
- new: `repro new --pdf --source` seconds per PDF page (needs ../shared/fixtures).
- site: site build seconds per paper (cold and warm).
- throughput: each shipped model's training samples/s under `repro run` vs a hand-written
  PyTorch loop on the same data, and vs a plain lightning.Trainer. Target >= 0.95.
- per_step (issue 19): the same three ways on the GPU-scale configs (configs-gpu/) at N and 3N
  steps, where a step takes tens of milliseconds on this CPU; steps/s over the extra 2N steps
  (set-up paid once cancels). Target >= 0.95x.
- worker_start (issue 19): CPU seconds of a run worker's start-up (torch, Lightning, repro's
  run code) as it is vs with the cyclic GC on through the imports, as before.
- hot_path (issue 19): host reads (Tensor.item & co) per training step, repro's callbacks
  on, counted by bench/gpu_check.py's sync phase on CPU. Target: well under 1 per step.
- peers (issue 19): `repro run` vs Hydra multirun + joblib launcher, cold and after a kill -9
  halfway then a rerun (bench/peers.py). Targets <= 0.5x and <= 0.3x.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
FIXTURES = REPO.parent / "shared" / "fixtures"

from helpers.tinypaper import make_tiny_paper  # noqa: E402

PY = sys.executable


def repro(*args: str, cwd: Path) -> float:
    t0 = time.perf_counter()
    r = subprocess.run([PY, "-m", "repro", *args], cwd=cwd, capture_output=True, text=True)
    dt = time.perf_counter() - t0
    if r.returncode != 0:
        raise SystemExit(f"repro {' '.join(args)} failed:\n{r.stdout}\n{r.stderr}")
    return dt


PLAIN_SCRIPT = textwrap.dedent('''
    # What a user writes by hand: one process per run.
    import sys, time, importlib.util
    import lightning as L
    folder, hidden, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    def load(name):
        spec = importlib.util.spec_from_file_location(name, f"{folder}/{name}.py")
        m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m); return m
    L.seed_everything(seed, verbose=False)
    model = load("model").Tiny(hidden=hidden, lr=0.1); data = load("data").Blobs(n=256)
    t0 = time.perf_counter()
    trainer = L.Trainer(max_epochs=EPOCHS, logger=False, enable_progress_bar=False,
                        enable_model_summary=False, accelerator="cpu", devices=1)
    trainer.fit(model, datamodule=data)
    print("FIT", time.perf_counter() - t0)
''')


def bench_runner(epochs: int = 5) -> dict:
    """24 short runs: 4 configs x 6 seeds."""
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        ablations = {"wide": "model:\n  hidden: 32\n", "narrow": "model:\n  hidden: 2\n"}
        folder = make_tiny_paper(tmp, epochs=epochs, seeds=range(6), ablations=ablations)
        (folder / "configs" / "base.yaml").write_text(
            f"model:\n  hidden: 8\n  lr: 0.1\ndata:\n  n: 256\ntrainer:\n  max_epochs: {epochs}\n")
        hidden = {"baseline": 4, "method": 16, "wide": 32, "narrow": 2}
        runs = [(c, s) for c in hidden for s in range(6)]

        script = tmp / "plain.py"
        script.write_text(PLAIN_SCRIPT.replace("EPOCHS", str(epochs)))
        t0 = time.perf_counter()
        fit_times = []
        for c, s in runs:
            out = subprocess.run([PY, str(script), str(folder), str(hidden[c]), str(s)],
                                 capture_output=True, text=True, check=True).stdout
            fit_times.append(float(out.split("FIT")[1].split()[0]))
        plain = time.perf_counter() - t0

        wall = repro("run", str(folder), "--no-site", cwd=tmp)
        workers = min(os.cpu_count() or 1, len(runs))
        noop = min(repro("run", str(folder), "--no-site", cwd=tmp) for _ in range(3))
        mean_fit = sum(fit_times) / len(fit_times)
        overhead = wall * workers / len(runs) - mean_fit
        return {
            "runs": len(runs), "plain_loop_s": plain, "repro_run_s": wall,
            "ratio": wall / plain, "workers": workers,
            "mean_fit_s": mean_fit, "overhead_per_run_s": overhead, "noop_rerun_s": noop,
        }


def bench_new() -> dict | None:
    pdf = FIXTURES / "papers" / "1706.03762" / "paper.pdf"
    if not pdf.is_file():
        return None
    from pypdf import PdfReader

    pages = len(PdfReader(str(pdf)).pages)
    with tempfile.TemporaryDirectory() as tmp:
        env_cache = {"REPRO_CACHE": str(Path(tmp) / "cache")}
        t0 = time.perf_counter()
        r = subprocess.run([PY, "-m", "repro", "new", "1706.03762", "--pdf", str(pdf), "--offline"],
                           cwd=tmp, capture_output=True, text=True, env={**os.environ, **env_cache})
        dt = time.perf_counter() - t0
        if r.returncode != 0:
            return {"error": r.stderr.strip()[-300:]}
    return {"pages": pages, "seconds": dt, "seconds_per_page": dt / pages}


def bench_site() -> dict | None:
    try:
        from repro.judging.site.build import build_site
    except ImportError:
        return None
    import shutil

    papers = REPO / "papers"
    n = len([p for p in papers.iterdir() if (p / "paper.yaml").exists()])
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        build_site(papers, REPO / "results", Path(tmp) / "site")
        cold = time.perf_counter() - t0
        t0 = time.perf_counter()
        build_site(papers, REPO / "results", Path(tmp) / "site")
        warm = time.perf_counter() - t0
        shutil.rmtree(tmp, ignore_errors=True)
    return {"papers": n, "cold_s_per_paper": cold / max(n, 1), "warm_s_per_paper": warm / max(n, 1)}


# Steps per GPU-scale config: whole epochs where an epoch is short, so validation runs too.
PER_STEP = {"1207.0580": 200, "1502.03167": 500, "1706.03762": 40}


def bench_per_step(repeat: int = 2, papers: list[str] | None = None, steps: int | None = None) -> list[dict]:
    """Each GPU-scale config at `steps` and at 3x `steps`, three ways (throughput.bench_paper).
    The per-step figure is the difference over the extra steps: set-up that is paid once
    (model, data, Trainer, sanity check, first checkpoint) cancels, what every step costs stays."""
    from throughput import bench_paper

    rows = []
    for paper, n in PER_STEP.items():
        if papers and paper not in papers:
            continue
        n = steps or n
        short, long = (bench_paper(paper, repeat, "gpu", {"max_steps": k}) for k in (n, 3 * n))
        if short is None or long is None:
            continue
        extra = long["steps"] - short["steps"]
        ms = {k: 1000 * (long["seconds"][k] - short["seconds"][k]) / max(extra, 1) for k in short["seconds"]}
        rows.append({**long, "short": short, "marginal_ms": ms, "marginal_ratio": ms["hand"] / ms["repro"],
                     "marginal_ratio_lightning": ms["lightning"] / ms["repro"]})
    return rows


WORKER_START = r'''
import gc, sys, time
if sys.argv[1] == "gc_on":  # as before issue 19: the cyclic GC running through the imports
    gc.disable = gc.freeze = lambda: None
t = time.process_time()
from repro.runs import worker
class Conn:  # the parent's end of the pipe: takes "ready", then says stop
    def send(self, msg): pass
    def recv(self): return None
worker._serve(0, {}, 1, Conn())
print(time.process_time() - t)
'''


def bench_worker_start(repeat: int = 3) -> dict:
    """CPU seconds of a run worker's start-up (imports up to "ready"), as it is and with the
    cyclic GC left on through the imports; interleaved, median of `repeat`. CPU seconds, not
    wall: a loaded machine stretches wall time, not the work done."""
    import statistics

    secs: dict[str, list[float]] = {"gc_on": [], "now": []}
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    for _ in range(repeat):
        for mode in secs:
            out = subprocess.run([PY, "-c", WORKER_START, mode], capture_output=True, text=True, env=env, check=True)
            secs[mode].append(float(out.stdout.split()[-1]))
    med = {k: statistics.median(v) for k, v in secs.items()}
    return {"cpu_s": med, "ratio": med["now"] / med["gc_on"], "repeat": repeat}


def bench_hot_path() -> dict:
    """Host reads per step over a 60-step fit of 1207.0580's GPU config, repro's callbacks on."""
    sys.path.insert(0, str(REPO / "bench"))
    from gpu_check import phase_sync, sliced_copy

    with tempfile.TemporaryDirectory() as tmp:
        folder, _ = sliced_copy("1207.0580", "gpu", Path(tmp), {"max_steps": 60, "max_epochs": 1000}, True)
        return phase_sync(folder, "gpu", 60, 600, "0")


def main(argv: list[str]) -> None:
    # Options for the slow sections: --repeat=N (per_step, peers), --papers=A,B and --steps=N (per_step).
    opts = dict(a[2:].split("=", 1) for a in argv if a.startswith("--") and "=" in a)
    argv = [a for a in argv if not a.startswith("--")]
    repeat = int(opts.get("repeat", 2))
    wanted = set(argv) or {"runner", "new", "site", "throughput", "per_step", "worker_start", "hot_path", "peers"}
    print(f"# repro benchmarks, {time.strftime('%Y-%m-%d')}, {platform.machine()}, "
          f"{os.cpu_count()} cores, Python {platform.python_version()}")
    if "runner" in wanted or "noop" in wanted:
        r = bench_runner()
        print(f"runner: {r['runs']} runs: plain loop {r['plain_loop_s']:.1f} s, repro run "
              f"{r['repro_run_s']:.1f} s -> ratio {r['ratio']:.2f}x (target <= 0.5x)")
        print(f"runner: per-run overhead beyond training {r['overhead_per_run_s']:.3f} s "
              f"(mean fit {r['mean_fit_s']:.2f} s, {r['workers']} workers; target < 0.3 s)")
        print(f"noop:   rerun with everything cached {r['noop_rerun_s']:.2f} s (target ~1 s)")
    if "new" in wanted:
        r = bench_new()
        print("new:    skipped (../shared/fixtures absent)" if r is None else
              f"new:    {r}" if "error" in r else
              f"new:    repro new --pdf: {r['seconds']:.1f} s for {r['pages']} pages -> {r['seconds_per_page']:.2f} s/page")
    if "site" in wanted:
        r = bench_site()
        print("site:   skipped (repro.judging.site not available)" if r is None else
              f"site:   {r['papers']} papers: cold {r['cold_s_per_paper']:.2f} s/paper, warm {r['warm_s_per_paper']:.3f} s/paper")
    if "throughput" in wanted:
        from throughput import bench_throughput, format_rows

        rows = bench_throughput(repeat=2)
        print("throughput: each shipped paper's baseline, seed 0 (best of 2 per side):")
        print(format_rows(rows))
        for r in rows:
            print(f"throughput: {r['paper']}: repro run {r['ratio']:.2f}x a hand-written loop (target >= 0.95x), "
                  f"{r['ratio_lightning']:.2f}x a plain lightning.Trainer; {r['extra_ms_per_step']:.2f} ms per step "
                  f"over the hand loop")
    if "per_step" in wanted:
        from throughput import format_rows

        rows = bench_per_step(repeat, opts["papers"].split(",") if "papers" in opts else None,
                              int(opts["steps"]) if "steps" in opts else None)
        print(f"per_step: GPU-scale configs (configs-gpu/), baseline, seed 0, a fixed number of steps (best of {repeat}):")
        print(format_rows([r["short"] for r in rows] + rows))
        for r in rows:
            m = r["marginal_ms"]
            print(f"per_step: {r['paper']}: {r['short']['steps']} -> {r['steps']} steps, per extra step: hand loop "
                  f"{m['hand']:.1f} ms, Lightning {m['lightning']:.1f} ms, repro run {m['repro']:.1f} ms -> repro run "
                  f"{r['marginal_ratio']:.2f}x the hand loop's steps/s (target >= 0.95x), "
                  f"{r['marginal_ratio_lightning']:.2f}x a plain Trainer's; whole runs: {r['ratio']:.2f}x")
    if "worker_start" in wanted:
        r = bench_worker_start()
        print(f"worker_start: a run worker's start-up {r['cpu_s']['now']:.2f} s CPU vs {r['cpu_s']['gc_on']:.2f} s with the "
              f"cyclic GC on through the imports -> {r['ratio']:.2f}x (median of {r['repeat']}, interleaved)")
    if "hot_path" in wanted:
        r = bench_hot_path()
        print(f"hot_path: {r.get('syncs_per_step')} host reads per training step over {r.get('audited_steps')} steps "
              f"(validation included); by source {json.dumps(r.get('by_source'))}")
    if "peers" in wanted:
        import importlib.util

        if importlib.util.find_spec("hydra") is None or importlib.util.find_spec("hydra_plugins.hydra_joblib_launcher") is None:
            print("peers:  skipped (needs the bench extra: pip install -e '.[bench]')")
        else:
            from peers import bench_peers, format_peers

            print(format_peers(bench_peers(repeat=int(opts.get("repeat", 1)))))


if __name__ == "__main__":
    main(sys.argv[1:])
