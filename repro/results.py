"""The results layout: `results/<id>/<config>/seed-<n>/`, and reading it back.

A non-default config set (`--config-set gpu`, configs from `papers/<id>/configs-gpu/`) is a
results folder of its own, `results/<id>@gpu/<config>/seed-<n>/`, so its runs never mix with
the default set's runs of the same config names. `paper_results_dir` is the one place that
maps (paper id, set) to that folder; the lock, the cache, summaries and report.md all live
inside it.

    config.yaml     the resolved config (all sections merged)
    metrics.jsonl   one JSON object per logged point: {"step", "epoch", <metric>: value, ...}
    summary.json    status, final and best metrics, wall time, device, device-hours, cache key
    env.json        git commit/dirty, package versions, Python, CUDA, GPU, seed, command
    run.log         the run's output, with the traceback when it failed
    checkpoints/    last.ckpt for resuming (not committed)

`summary.json` is written last and atomically: a run is finished exactly when its summary
says so. Readers never trust a summary they cannot parse: it is reported as corrupt and the
run is redone.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, TypedDict

if TYPE_CHECKING:
    from .runs.planner import RunSpec


class RunStatus:
    """A run's status, as summary.json holds it (plain strings on disk and in messages).
    Every module names statuses through here; the executors add `queued` (executors/base.py)."""

    RUNNING, FINISHED, FAILED, DIVERGED, TIMEOUT = "running", "finished", "failed", "diverged", "timeout"
    ENDED = (FINISHED, FAILED, DIVERGED, TIMEOUT)   # a run with one of these will not change by itself
    ALL = (FINISHED, FAILED, DIVERGED, TIMEOUT, RUNNING)
    CORRUPT = "corrupt"   # not written by a run: a summary the readers cannot trust (see read_summary)
    NOT_FINISHED = (FAILED, DIVERGED, TIMEOUT, CORRUPT)  # runs a report counts as failed


STATUSES = RunStatus.ALL
FINISHED = RunStatus.FINISHED


class Summary(TypedDict, total=False):
    """summary.json: one run's record. Written by training.execute (and by the executors for an
    outcome a run could not write, `executors/base.mark_job`); the keys in the order written."""

    paper: str
    config: str
    seed: int
    cache_key: str
    started_at: str
    resumed: bool
    status: str            # a RunStatus
    error: str | None
    final: dict[str, float]   # every metric's value at the last epoch
    best: dict[str, float]    # paper.yaml metrics: best epoch value by their goal
    epochs: int
    steps: int
    wall_time_s: float
    device: str
    n_devices: int
    device_hours: float
    ended_at: str
    log: str               # "run.log"
    metrics_bytes: int     # metrics.jsonl's size, so a no-op rerun checks it without reading it


def summary_of(spec: "RunSpec") -> Summary:
    """The keys every summary of `spec`'s run starts with: which run it is."""
    return {"paper": spec.paper_id, "config": spec.config, "seed": spec.seed, "cache_key": spec.cache_key}


SET_SEPARATOR = "@"


def results_name(paper_id: str, config_set: str | None = None) -> str:
    """A paper's folder name under results/: `<id>` (default set) or `<id>@<set>`."""
    return f"{paper_id}{SET_SEPARATOR}{config_set}" if config_set else paper_id


def split_results_name(name: str) -> tuple[str, str | None]:
    """`<id>@<set>` -> (id, set); `<id>` -> (id, None). Inverse of results_name."""
    pid, sep, config_set = name.rpartition(SET_SEPARATOR)
    return (pid, config_set) if sep and pid and config_set else (name, None)


def paper_results_dir(results_root: Path, paper_id: str, config_set: str | None = None) -> Path:
    """results/<id>/ for the default config set, results/<id>@<set>/ for another set."""
    return Path(results_root) / results_name(paper_id, config_set)


def usable_results_dir(results_root: Path, paper_id: str, config_set: str | None = None, *,
                       write: bool = False) -> Path:
    """results/<id>[@<set>]/, checked: the results folder and the paper's folder in it are
    folders (or do not exist yet), and with `write` they can be created and written.
    Anything else is a ResultsFolderError naming the path, never a traceback later."""
    from .errors import ResultsFolderError

    root = Path(results_root)
    base = paper_results_dir(root, paper_id, config_set)
    for p, what, hint in (
        (root, "the results folder", "--results must name a folder (it is created if missing); "
                                     "move the file away or give another path"),
        (base, "the paper's results folder", f"move the file {base} away; `repro run` recreates the folder"),
    ):
        if p.exists() and not p.is_dir():
            raise ResultsFolderError(f"{what} {p} is a file, not a folder", hint=hint, where=str(p))
    if not write:
        return base
    try:
        base.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ResultsFolderError(
            f"cannot create the results folder {base}: {e.strerror or e}",
            hint="give --results a folder you can write to (it is created if missing)", where=str(base)) from None
    if not os.access(base, os.W_OK | os.X_OK):
        raise ResultsFolderError(f"the results folder {base} is not writable",
                                 hint="give --results a folder you can write to, or fix its permissions",
                                 where=str(base))
    return base


def run_files_problem(rdir: Path) -> None:
    """A run's summary.json or metrics.jsonl that is a folder (or a FIFO): no reader can use it."""
    from .errors import ResultsFolderError

    for name in ("summary.json", "metrics.jsonl"):
        p = Path(rdir) / name
        if (p.exists() or p.is_symlink()) and not p.is_file():
            raise ResultsFolderError(
                f"{p} is not a regular file", where=str(p),
                hint=f"remove it (rm -r '{p}'); `repro run` then redoes the run")


def run_dir(results_root: Path, paper_id: str, config: str, seed: int, config_set: str | None = None) -> Path:
    return paper_results_dir(results_root, paper_id, config_set) / config / f"seed-{seed}"


@dataclass
class RunRecord:
    """One run as found on disk."""

    paper_id: str
    config: str
    seed: int
    path: Path
    summary: dict[str, Any] | None  # None: no summary (never run, or in flight)
    problem: str | None = None      # set when the summary exists but is corrupt

    @property
    def status(self) -> str:
        if self.problem:
            return RunStatus.CORRUPT
        if self.summary is None:
            return "missing"
        return str(self.summary.get("status", RunStatus.CORRUPT))

    @property
    def finished(self) -> bool:
        return self.status == FINISHED

    def final(self, metric: str) -> float | None:
        v = ((self.summary or {}).get("final") or {}).get(metric)
        return float(v) if isinstance(v, (int, float)) and math.isfinite(v) else None

    def metrics_rows(self) -> list[dict[str, Any]]:
        return read_metrics(self.path / "metrics.jsonl")


def read_summary(path: Path) -> tuple[dict[str, Any] | None, str | None]:
    """(summary, problem). A missing file is (None, None); an unreadable one names why."""
    f = Path(path) / "summary.json"
    try:
        text = f.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, None
    except UnicodeDecodeError:
        return None, f"corrupt {f}: not UTF-8 text"
    except OSError as e:
        return None, f"cannot read {f}: {e}"
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        return None, f"corrupt {f}: {e.msg} at line {e.lineno}"
    except RecursionError:
        return None, f"corrupt {f}: nested too deeply"
    if not isinstance(data, dict) or data.get("status") not in STATUSES:
        return None, f"corrupt {f}: no valid 'status'"
    for key in ("final", "best"):
        if data.get(key) is not None and not isinstance(data[key], dict):
            return None, f"corrupt {f}: '{key}' is not a mapping of metrics"
    if data.get("cache_key") is not None and not isinstance(data["cache_key"], str):
        return None, f"corrupt {f}: 'cache_key' is not text"
    return data, None


def metrics_problem(path: Path, expected_bytes: int | None = None) -> str | None:
    """Why a finished run's metrics.jsonl cannot be trusted, or None when it is intact.

    A finished run wrote every row whole, so any unreadable line (truncation, disk damage,
    an editor) or a file with no epoch row means the record is corrupt. The file is read line
    by line (memory does not grow with it). `expected_bytes` (the size the run recorded in its
    summary) allows a quick check instead: same size, ending in a newline and an epoch row,
    without reading a large file whole on every no-op `repro run`.
    """
    f = Path(path)
    try:
        size = f.stat().st_size
        fh = open(f, "rb")
    except FileNotFoundError:
        return f"{f} is missing"
    except OSError as e:
        return f"cannot read {f}: {e}"
    with fh:
        if expected_bytes is not None and size == expected_bytes and size > 0:
            fh.seek(max(0, size - 65536))
            tail = fh.read()
            if tail.endswith(b"\n") and _is_row(tail.rstrip(b"\n").rsplit(b"\n", 1)[-1]):
                return None
            fh.seek(0)
        epochs = 0
        last = b""
        blank = True
        try:
            for n, line in enumerate(fh, 1):
                last = line
                if not line.strip():
                    continue
                blank = False
                row = _is_row(line)
                if row is None:
                    return f"corrupt {f}: line {n} is not a JSON object"
                epochs += row.get("kind") == "epoch"
        except OSError as e:
            return f"cannot read {f}: {e}"
    if blank:
        return f"corrupt {f}: empty, no epoch rows"
    if not last.endswith(b"\n"):
        return f"corrupt {f}: truncated (no newline at the end)"
    if not epochs:
        return f"corrupt {f}: no epoch rows"
    return None


def _is_row(line: bytes) -> dict[str, Any] | None:
    try:
        row = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return None
    return row if isinstance(row, dict) else None


_STEP_ROW = b'"kind": "step"'


def read_metrics(path: Path, *, epoch_only: bool = False) -> list[dict[str, Any]]:
    """Rows of metrics.jsonl, streamed; a torn last line (crash mid-append) is dropped.

    epoch_only: only epoch rows (a row without `kind` counts as one); per-step rows, most of a
    long run's file, are skipped before they are parsed (what the site's curves need).
    """
    rows: list[dict[str, Any]] = []
    try:
        with open(path, "rb") as fh:
            for raw in fh:
                if epoch_only and _STEP_ROW in raw:
                    continue
                line = raw.strip()
                if not line:
                    continue
                try:
                    row = json.loads(line.decode("utf-8", errors="replace"))
                except (json.JSONDecodeError, RecursionError):
                    continue
                if isinstance(row, dict) and (not epoch_only or row.get("kind", "epoch") == "epoch"):
                    rows.append(row)
    except FileNotFoundError:
        pass
    return rows


def load_run(results_root: Path, paper_id: str, config: str, seed: int,
             config_set: str | None = None) -> RunRecord:
    d = run_dir(results_root, paper_id, config, seed, config_set)
    summary, problem = read_summary(d)
    return RunRecord(paper_id, config, seed, d, summary, problem)


def iter_runs(results_root: Path, paper_id: str, config_set: str | None = None) -> Iterator[RunRecord]:
    """Every run folder of a paper (of one config set) on disk, whatever the current configs say."""
    base = usable_results_dir(results_root, paper_id, config_set)
    if not base.is_dir():
        return
    for cdir in sorted(p for p in base.iterdir() if p.is_dir()):
        for sdir in sorted(cdir.glob("seed-*")):
            try:
                seed = int(sdir.name.split("-", 1)[1])
            except ValueError:
                continue
            run_files_problem(sdir)
            summary, problem = read_summary(sdir)
            yield RunRecord(paper_id, cdir.name, seed, sdir, summary, problem)


@dataclass
class PaperResults:
    """All runs of one paper, grouped by config.

    After `judged(paper)`, `runs` holds only the runs made with the current configs and code
    (their cache key matches what `repro run` would compute now) and `outdated` the others,
    kept apart: a report never averages a new seed with one run under an old config.
    """

    paper_id: str
    runs: dict[str, list[RunRecord]] = field(default_factory=dict)
    config_set: str | None = None
    outdated: dict[str, list[RunRecord]] = field(default_factory=dict)
    checked: bool = False

    def judged(self, paper) -> "PaperResults":
        """Move runs whose cache key is not the current one into `outdated` (in place, once).

        Summaries without a cache key (written by hand, or by a repro before keys) are kept.
        When the paper's configs do not resolve no key can be computed; `repro run` refuses
        such a paper, and its runs are judged as recorded.
        """
        if self.checked:
            return self
        self.checked = True
        keys = current_keys(paper, self)
        if keys is None:
            return self
        for config in list(self.runs):
            keep = []
            for r in self.runs[config]:
                have = (r.summary or {}).get("cache_key")
                if have is None or keys.get((config, r.seed)) == have:
                    keep.append(r)
                else:
                    self.outdated.setdefault(config, []).append(r)
            if keep:
                self.runs[config] = keep
            else:
                del self.runs[config]
        return self

    def seeds_used(self) -> list[int]:
        """Seeds of the runs judged (finished, current), sorted."""
        return sorted({r.seed for rs in self.runs.values() for r in rs if r.finished})

    def finished(self, config: str) -> list[RunRecord]:
        return [r for r in self.runs.get(config, []) if r.finished]

    def values(self, config: str, metric: str) -> list[float]:
        """Final values of a metric over the finished seeds of a config."""
        out = []
        for r in self.finished(config):
            v = r.final(metric)
            if v is not None:
                out.append(v)
        return out


def load_results(results_root: Path, paper_id: str, config_set: str | None = None, *, paper=None) -> PaperResults:
    """Every run on disk; with `paper`, only current runs in `runs` (see PaperResults.judged).
    `verdicts.judge_paper` applies the same check, so every judgement gets it."""
    res = PaperResults(paper_id, config_set=config_set)
    for r in iter_runs(results_root, paper_id, config_set):
        res.runs.setdefault(r.config, []).append(r)
    return res.judged(paper) if paper is not None else res


def current_keys(paper, results: PaperResults) -> dict[tuple[str, int], str] | None:
    """(config, seed) -> the cache key a run of it must have now, for every run on disk;
    None when the paper's configs do not resolve."""
    from .configs import resolve_configs
    from .errors import ReproError
    from .runs.planner import cache_key, code_hash

    try:
        configs = {c.name: c for c in resolve_configs(paper)}
        code = code_hash(paper)
    except (ReproError, OSError):
        return None
    return {(name, r.seed): cache_key(configs[name].values, r.seed, code)
            for name, rs in results.runs.items() if name in configs for r in rs}
