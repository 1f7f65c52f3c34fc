"""Mirroring runs to the experiment trackers researchers already use: MLflow, Weights & Biases
and TensorBoard, through Lightning's own loggers.

Live: `training.execute` asks `LiveTracking(spec, run_dir, resume)` for loggers and hands them
to the Trainer. Each is wrapped in `Guarded`, which turns any tracker error into a note in the
run's tracking.json and stops that tracker for that run: a tracker that is down or
misconfigured never fails or loses a run. `LiveTracking.close(status)` marks the tracker run
with the run's final status (finished, failed, diverged).

Replay: `send_run` sends a run already on disk (config.yaml as params, metrics.jsonl with its
steps, tags, status) through the same loggers; `repro track` uses it for the runs a tracker
missed. `send_verdicts` writes a paper's verdicts as one summary run (MLflow, W&B) or a text
and scalars (TensorBoard).

results/<id>/<config>/seed-<n>/tracking.json holds, per tracker, the tracker's run id (an
interrupted run that resumes continues the same tracker run), where it went, and whether
everything was sent (`state`: running, sent, failed). results/<id>/tracking.json holds the
verdict summary run of each tracker.

Which trackers a run uses is repro/runs/trackers.py's. A tracker's package is imported only when that tracker is asked for; none is a dependency
(`pip install 'repro[mlflow]'`, `[wandb]`, `[tensorboard]`, or `[trackers]` for all three).

Why one module of ~430 lines: live mirroring, replay and the verdict summary run all go through
the same loggers, the same guard and the same tracking.json; split, each part would import the
others' internals.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable
from urllib.parse import urlparse

from ..atomic import atomic_write_json, read_json_dict
# Which trackers is trackers.py's job; its names are re-exported here for the callers.
from .trackers import KINDS, PACKAGES, Tracker, resolve_trackers, trackers_of
from ..yamlio import flatten as flat

__all__ = ["KINDS", "PACKAGES", "STATE_FILE", "LiveTracking", "RunInfo", "Tracker", "guarded", "needs_sending",
           "open_tracking", "prepare", "resolve_trackers", "send_run", "send_verdicts", "tracker_failures",
           "trackers_of"]

STATE_FILE = "tracking.json"


# -- what a run is ------------------------------------------------------------------------------
@dataclass
class RunInfo:
    """What identifies a run to a tracker: the tags every tracker run carries."""

    paper_id: str
    config: str
    seed: int
    config_set: str | None
    cache_key: str
    git_commit: str | None
    results_name: str

    @property
    def name(self) -> str:
        return f"{self.results_name}/{self.config}/seed-{self.seed}"

    def tags(self, status: str) -> dict[str, str]:
        return {"repro.paper": self.paper_id, "repro.config": self.config, "repro.seed": str(self.seed),
                "repro.config_set": self.config_set or "", "repro.cache_key": self.cache_key,
                "repro.git_commit": self.git_commit or "", "repro.runs.status": status}

    @classmethod
    def of_run_dir(cls, rdir: Path, paper_id: str, config: str, seed: int, cache_key: str,
                   git_commit: str | None) -> "RunInfo":
        from ..results import split_results_name

        results_name = Path(rdir).parent.parent.name  # results/<id>[@<set>]/<config>/seed-<n>
        return cls(paper_id, config, seed, split_results_name(results_name)[1], cache_key, git_commit, results_name)


def flatten(values: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """{"model": {"lr": 0.1}} -> {"model.lr": 0.1}: trackers take flat params."""
    return {k: v if isinstance(v, (int, float, str, bool)) or v is None else json.dumps(v, default=str)
            for k, v in flat(values, prefix).items()}


def read_state(folder: Path) -> dict[str, Any]:
    return read_json_dict(Path(folder) / STATE_FILE) or {}


def write_state(folder: Path, state: dict[str, Any]) -> None:
    atomic_write_json(Path(folder) / STATE_FILE, state)


# -- the loggers ---------------------------------------------------------------------------------
def _quiet_env() -> None:
    # A tracker that is down must cost seconds, not MLflow's default minutes of retries.
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "1")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "1")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "15")
    os.environ.setdefault("WANDB_SILENT", "true")
    os.environ.setdefault("WANDB_DISABLE_GIT", "true")


def _check_reachable(uri: str) -> None:
    """Fail in a second when an http(s) tracking server does not answer at all."""
    u = urlparse(uri)
    if u.scheme not in ("http", "https"):
        return
    port = u.port or (443 if u.scheme == "https" else 80)
    try:
        socket.create_connection((u.hostname, port), timeout=3).close()
    except OSError as e:
        raise ConnectionError(f"cannot reach {u.hostname}:{port}: {e.strerror or e}") from None


def prepare(trackers: Iterable[Tracker]) -> dict[str, str]:
    """Before a sweep, in the parent: create each MLflow store and experiment once, so that
    parallel workers do not race to create them. {kind: error} for the trackers that failed
    (the runs go ahead all the same; each records the tracker's failure)."""
    errors = {}
    for t in trackers:
        if t.kind != "mlflow":
            continue
        try:
            _quiet_env()
            _check_reachable(t.uri)
            from mlflow.tracking import MlflowClient

            client = MlflowClient(tracking_uri=t.uri)
            if client.get_experiment_by_name(t.project) is None:
                client.create_experiment(t.project)
        except Exception as e:  # noqa: BLE001 - reported; never stops the sweep
            errors[t.kind] = f"{type(e).__name__}: {e}"
    return errors


def make_logger(t: Tracker, info: RunInfo, run_id: str | None, status: str = "running"):
    """(Lightning logger, tracker run id). Creates (or reopens) the tracker run now, so a bad
    URI or a server that is down fails here, before training, not halfway through it."""
    _quiet_env()
    from lightning.pytorch import loggers as pl_loggers

    tags = info.tags(status)
    if t.kind == "mlflow":
        _check_reachable(t.uri)
        def mlflow_logger():
            return pl_loggers.MLFlowLogger(experiment_name=t.project, run_name=info.name, tracking_uri=t.uri,
                                           tags=tags, run_id=run_id)

        lg = mlflow_logger()
        try:
            rid = lg.run_id
        except Exception as e:  # noqa: BLE001
            if "already exists" not in str(e).lower():
                raise
            # Another worker created the experiment (or the sqlite tables) at the same moment.
            lg = mlflow_logger()
            rid = lg.run_id
        for k, v in tags.items():  # a reopened run gets its tags again (status back to running)
            lg.experiment.set_tag(rid, k, v)
        return lg, rid
    if t.kind == "wandb":
        import wandb

        Path(t.uri).mkdir(parents=True, exist_ok=True)
        lg = pl_loggers.WandbLogger(
            name=info.name, project=t.project, entity=t.entity, save_dir=t.uri, id=run_id,
            offline=t.mode == "offline", resume="allow", config={"repro": tags},
            tags=[f"{k[6:]}:{v}"[:64] for k, v in tags.items() if v and k != "repro.cache_key"],
            settings=wandb.Settings(console="off", silent=True, x_disable_stats=True),
        )
        return lg, lg.experiment.id
    lg = pl_loggers.TensorBoardLogger(save_dir=t.uri, name=info.results_name, version=f"{info.config}/seed-{info.seed}",
                                      default_hp_metric=False)
    lg.experiment.add_text("repro/tags", "\n".join(f"    {k}: {v}" for k, v in tags.items()))
    return lg, f"{info.results_name}/{info.config}/seed-{info.seed}"


def mark_status(t: Tracker, lg, run_id: str, status: str) -> None:
    """Close the tracker run and mark it with the run's final status."""
    if t.kind == "mlflow":
        client = lg.experiment
        client.set_tag(run_id, "repro.runs.status", status)
        client.set_terminated(run_id, "FINISHED" if status == "finished" else "FAILED")
    elif t.kind == "wandb":
        run = lg.experiment
        run.summary["repro.runs.status"] = status
        run.tags = tuple(x for x in run.tags if not x.startswith("status:")) + (f"status:{status}",)
        run.finish(exit_code=0 if status == "finished" else 1)
    else:
        lg.experiment.add_text("repro/status", status)
        lg.finalize("success")


def _lightning_logger_base():
    from lightning.pytorch.loggers import Logger

    return Logger


def guarded(t: Tracker, inner, on_error):
    """`inner` wrapped so that no tracker error reaches the Trainer (see the module doc)."""
    Logger = _lightning_logger_base()

    class Guarded(Logger):
        def __init__(self) -> None:
            super().__init__()
            self.tracker, self.inner, self.error = t, inner, None

        def _call(self, fn, *args, **kwargs):
            if self.error is None:
                try:
                    return fn(*args, **kwargs)
                except Exception as e:  # noqa: BLE001 - the tracker's problem, never the run's
                    self.error = f"{type(e).__name__}: {e}"
                    on_error(self)
            return None

        @property
        def name(self):
            return f"repro-{t.kind}"

        @property
        def version(self):
            return 0

        def log_metrics(self, metrics, step=None) -> None:
            self._call(self.inner.log_metrics, metrics, step)

        def log_hyperparams(self, params, *args, **kwargs) -> None:
            self._call(self.inner.log_hyperparams, params)

        def log_graph(self, model, input_array=None) -> None:
            pass

        def save(self) -> None:
            self._call(self.inner.save)

        def finalize(self, status: str) -> None:
            pass  # LiveTracking.close marks the run once its final status is known

    return Guarded()


# -- live runs -------------------------------------------------------------------------------------
class LiveTracking:
    """The loggers of one run in a worker, and the run's tracking.json."""

    def __init__(self, trackers: list[Tracker], rdir: Path, info: RunInfo, params: dict[str, Any], resume: bool) -> None:
        self.rdir, self.info = Path(rdir), info
        old = read_state(rdir) if resume else {}
        self.state: dict[str, Any] = {}
        self.guards: list = []
        self._rids: dict[int, str] = {}
        for t in trackers:
            prev = old.get(t.kind) or {}
            reopen = prev.get("run_id") if prev.get("state") == "running" and prev.get("tracker") == t.to_json() else None
            entry: dict[str, Any] = {"tracker": t.to_json(), "run_id": reopen, "state": "running", "error": None}
            try:
                inner, rid = make_logger(t, info, reopen)
                entry["run_id"] = rid
                g = guarded(t, inner, self._failed)
                self.guards.append(g)
                self._rids[id(g)] = rid
            except Exception as e:  # noqa: BLE001 - a tracker that is down never stops the run
                entry.update(state="failed", error=f"{type(e).__name__}: {e}")
                print(f"[repro] tracker {t.kind} failed, the run goes on without it: {entry['error']}", flush=True)
            self.state[t.kind] = entry
        self._save()
        for g in self.guards:
            g.log_hyperparams(params)

    @property
    def loggers(self) -> list:
        return list(self.guards)

    def _failed(self, g) -> None:
        print(f"[repro] tracker {g.tracker.kind} failed, the run goes on without it: {g.error}", flush=True)
        self.state[g.tracker.kind].update(state="failed", error=g.error)
        self._save()

    def _save(self) -> None:
        try:
            write_state(self.rdir, self.state)
        except OSError:
            pass  # the run's own files matter more; tracking.json is a note

    def close(self, status: str) -> None:
        for g in self.guards:
            g._call(mark_status, g.tracker, g.inner, self._rids[id(g)], status)
            entry = self.state[g.tracker.kind]
            entry["status"] = status
            if g.error is None:
                entry.update(state="sent", error=None)
        self._save()


def tracker_failures(run_dirs: Iterable[Path]) -> dict[str, list[tuple[Path, str]]]:
    """kind -> [(run folder, error)] for the runs whose tracking.json says a tracker failed."""
    out: dict[str, list[tuple[Path, str]]] = {}
    for d in run_dirs:
        for kind, entry in read_state(d).items():
            if isinstance(entry, dict) and entry.get("state") == "failed":
                out.setdefault(kind, []).append((Path(d), str(entry.get("error"))))
    return out


# -- replay ----------------------------------------------------------------------------------------
def needs_sending(t: Tracker, rdir: Path) -> bool:
    entry = read_state(rdir).get(t.kind) or {}
    return not (entry.get("state") == "sent" and entry.get("tracker") == t.to_json())


def send_run(t: Tracker, record) -> str:
    """Send one finished (or failed) run on disk to `t` as a new tracker run; its run id."""
    from ..yamlio import load_mapping

    summary = record.summary or {}
    env = read_json_dict(record.path / "env.json") or {}
    info = RunInfo.of_run_dir(record.path, record.paper_id, record.config, record.seed,
                              str(summary.get("cache_key") or ""), (env.get("git") or {}).get("commit"))
    status = record.status
    prev = read_state(record.path).get(t.kind) or {}
    if prev.get("state") == "running" and prev.get("run_id") and prev.get("tracker") == t.to_json() \
            and t.kind != "tensorboard":
        # The worker died with the run (time limit, killed): the tracker run got everything up
        # to then; reopen it and mark how it ended instead of sending a copy.
        try:
            lg, rid = make_logger(t, info, prev["run_id"], status=status)
            mark_status(t, lg, rid, status)
            write_state(record.path, {**read_state(record.path), t.kind: {**prev, "state": "sent", "status": status}})
            return rid
        except Exception:  # noqa: BLE001 - the tracker run is gone: send the run afresh
            pass
    lg, rid = make_logger(t, info, None, status=status)
    lg.log_hyperparams(flatten(load_mapping(record.path / "config.yaml", required=False) or {}))
    for row in record.metrics_rows():
        values = {k: float(v) for k, v in row.items()
                  if k not in ("kind", "step") and isinstance(v, (int, float)) and not isinstance(v, bool)}
        if values and isinstance(row.get("step"), int):
            # metrics.jsonl counts the steps done at an epoch's end; a live Lightning logger files
            # the same point under the last batch's index, one less: a replay matches a live run.
            lg.log_metrics(values, step=max(0, row["step"] - 1) if row.get("kind") == "epoch" else row["step"])
    mark_status(t, lg, rid, status)
    state = read_state(record.path)
    state[t.kind] = {"tracker": t.to_json(), "run_id": rid, "state": "sent", "error": None, "status": status,
                     "replayed": True}
    write_state(record.path, state)
    return rid


# -- verdicts --------------------------------------------------------------------------------------
VERDICT_COLUMNS = ("claim", "verdict", "claimed", "reproduced", "interval_low", "interval_high", "p", "metric", "kind")


def send_verdicts(t: Tracker, results_name: str, rows: list[dict[str, Any]], paper_results: Path) -> str:
    """The paper's verdicts as one summary run (reused on every publish); its run id."""
    _quiet_env()
    state = read_state(paper_results)
    prev = (state.get(t.kind) or {})
    prev_id = prev.get("verdicts_run_id") if prev.get("tracker") == t.to_json() else None
    table = [[r.get(c) for c in VERDICT_COLUMNS] for r in rows]
    name = f"{results_name} verdicts"
    if t.kind == "mlflow":
        _check_reachable(t.uri)
        from mlflow.tracking import MlflowClient

        client = MlflowClient(tracking_uri=t.uri)
        exp = client.get_experiment_by_name(t.project)
        exp_id = exp.experiment_id if exp else client.create_experiment(t.project)
        rid = prev_id
        if rid is not None:
            try:
                client.get_run(rid)
            except Exception:  # noqa: BLE001 - deleted on the server: start a new one
                rid = None
        if rid is None:
            rid = client.create_run(exp_id, run_name=name,
                                    tags={"repro.kind": "verdicts", "repro.paper": results_name}).info.run_id
        else:
            client.update_run(rid, status="RUNNING")
        for r in rows:
            client.set_tag(rid, f"verdict.{r['claim']}", r["verdict"])
            for key in ("claimed", "reproduced", "p"):
                if isinstance(r.get(key), (int, float)):
                    client.log_metric(rid, f"{key}.{r['claim']}", float(r[key]))
        client.log_dict(rid, {"columns": list(VERDICT_COLUMNS), "data": table}, "verdicts.json")
        client.set_terminated(rid, "FINISHED")
    elif t.kind == "wandb":
        import wandb

        Path(t.uri).mkdir(parents=True, exist_ok=True)
        run = wandb.init(project=t.project, entity=t.entity, dir=t.uri, name=name, job_type="verdicts",
                         mode=t.mode, id=prev_id, resume="allow", config={"repro": {"kind": "verdicts", "paper": results_name}},
                         settings=wandb.Settings(console="off", silent=True, x_disable_stats=True))
        run.log({"verdicts": wandb.Table(columns=list(VERDICT_COLUMNS), data=table)})
        for r in rows:
            run.summary[f"verdict.{r['claim']}"] = r["verdict"]
        rid = run.id
        run.finish()
    else:
        from torch.utils.tensorboard import SummaryWriter

        writer = SummaryWriter(log_dir=str(Path(t.uri) / results_name / "verdicts"))
        head = "| " + " | ".join(VERDICT_COLUMNS) + " |\n|" + "---|" * len(VERDICT_COLUMNS) + "\n"
        body = "".join("| " + " | ".join("" if v is None else str(v) for v in row) + " |\n" for row in table)
        writer.add_text("verdicts", head + body)
        for r in rows:
            if isinstance(r.get("p"), (int, float)):
                writer.add_scalar(f"p/{r['claim']}", float(r["p"]))
        writer.close()
        rid = f"{results_name}/verdicts"
    state[t.kind] = {"tracker": t.to_json(), "verdicts_run_id": rid}
    write_state(paper_results, state)
    return rid


def open_tracking(spec, resume: bool) -> LiveTracking | None:
    """The trackers of a run about to train (None when it has none). Rank 0 only: the other
    ranks of a DDP run must not open tracker runs of their own."""
    if not getattr(spec, "tracking", None):
        return None
    if any(os.environ.get(v, "0") not in ("", "0") for v in ("RANK", "LOCAL_RANK")):
        return None
    try:
        info = RunInfo.of_run_dir(Path(spec.run_dir), spec.paper_id, spec.config, spec.seed, spec.cache_key,
                                  (spec.git or {}).get("commit"))
        return LiveTracking(trackers_of(spec.tracking), Path(spec.run_dir), info, flatten(spec.values), resume)
    except Exception as e:  # noqa: BLE001 - tracking must never cost a run
        print(f"[repro] tracking disabled for this run: {type(e).__name__}: {e}", flush=True)
        return None
