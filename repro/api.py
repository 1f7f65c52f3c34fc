"""The library API, for notebooks and scripts: run a paper, judge it, read its results.

    import repro
    results = repro.run_paper("papers/1611.03530", seeds=[0, 1])   # -> Results
    verdicts = repro.judge("papers/1611.03530")                     # -> Verdicts
    rows = repro.load_results("papers/1611.03530").to_rows()        # plain dicts, no pandas

`repro run` and `repro report` call the same functions. Nothing here imports torch: only
`run_paper` trains, in worker processes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence

PathLike = str | Path


# -- typed records ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Run:
    """One run on disk (results/<id>[@<set>]/<config>/seed-<n>/)."""

    paper: str
    config_set: str | None
    config: str
    seed: int
    status: str                      # finished | failed | diverged | timeout | running | missing | corrupt
    final: dict[str, float]          # last epoch's value of every logged metric
    best: dict[str, float]           # best value of each paper.yaml metric
    wall_time_s: float | None
    device: str | None
    cache_key: str | None
    error: str | None
    path: Path

    @property
    def finished(self) -> bool:
        return self.status == "finished"

    def metrics(self) -> list[dict[str, Any]]:
        """The run's metrics.jsonl rows ({"kind", "step", "epoch", <metric>: value})."""
        from .results import read_metrics

        return read_metrics(self.path / "metrics.jsonl")

    def to_row(self) -> dict[str, Any]:
        row: dict[str, Any] = {"paper": self.paper, "config_set": self.config_set, "config": self.config,
                               "seed": self.seed, "status": self.status}
        row.update({f"final.{k}": v for k, v in sorted(self.final.items())})
        row.update({f"best.{k}": v for k, v in sorted(self.best.items())})
        row.update(wall_time_s=self.wall_time_s, device=self.device, cache_key=self.cache_key, error=self.error,
                   path=str(self.path))
        return row


@dataclass
class Results:
    """Every run of one paper (one config set), in config then seed order."""

    paper: str
    config_set: str | None
    runs: list[Run] = field(default_factory=list)

    def __iter__(self) -> Iterator[Run]:
        return iter(self.runs)

    def __len__(self) -> int:
        return len(self.runs)

    @property
    def failed(self) -> list[Run]:
        return [r for r in self.runs if not r.finished]

    def values(self, config: str, metric: str) -> list[float]:
        """Final values of `metric` over the finished seeds of `config`."""
        return [r.final[metric] for r in self.runs if r.config == config and r.finished and metric in r.final]

    def to_rows(self) -> list[dict[str, Any]]:
        """One flat dict per run (`final.<metric>`, `best.<metric>` columns): ready for
        csv.DictWriter or pandas.DataFrame, without needing pandas."""
        return [r.to_row() for r in self.runs]


@dataclass(frozen=True)
class Verdict:
    """One claim, judged (see repro/judging/verdicts.py for the statistics)."""

    claim: str
    kind: str                                # value | comparison | ordering
    verdict: str                             # reproduced | not reproduced | supported | contradicted | inconclusive | not run
    metric: str | None
    configs: tuple[str, ...]
    claimed: float | None                    # the paper's number (value claims)
    reproduced: float | None                 # our mean (value) or mean(a) - mean(b) (comparison)
    interval: tuple[float, float] | None     # value: the interval checked; comparison: 95% interval of the difference
    p: float | None                          # Holm-adjusted p (comparisons, orderings)
    reason: str

    def to_row(self) -> dict[str, Any]:
        return {"claim": self.claim, "verdict": self.verdict, "claimed": self.claimed, "reproduced": self.reproduced,
                "interval_low": self.interval[0] if self.interval else None,
                "interval_high": self.interval[1] if self.interval else None,
                "p": self.p, "metric": self.metric, "kind": self.kind, "configs": ",".join(self.configs),
                "reason": self.reason}


@dataclass
class Verdicts:
    """A paper's verdicts; `judgement` is the full repro.judging.verdicts.PaperJudgement behind them."""

    paper: str
    verdicts: list[Verdict]
    judgement: Any = field(repr=False, default=None)

    def __iter__(self) -> Iterator[Verdict]:
        return iter(self.verdicts)

    def __len__(self) -> int:
        return len(self.verdicts)

    def __getitem__(self, claim: str | int) -> Verdict:
        if isinstance(claim, int):
            return self.verdicts[claim]
        for v in self.verdicts:
            if v.claim == claim:
                return v
        raise KeyError(claim)

    @property
    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for v in self.verdicts:
            out[v.verdict] = out.get(v.verdict, 0) + 1
        return out

    def to_rows(self) -> list[dict[str, Any]]:
        return [v.to_row() for v in self.verdicts]


def _finite(x: Any) -> float | None:
    return float(x) if isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) else None


def to_verdict(v) -> Verdict:
    """A repro.judging.verdicts.ClaimVerdict as a typed record."""
    if v.kind == "value":
        d = next(iter(v.stats.values()), None)
        reproduced, interval = (d.mean if d else None), v.interval
    else:
        reproduced, interval = v.diff, v.diff_ci
    p = v.p_adjusted if v.p_adjusted is not None else v.p_value
    iv = (float(interval[0]), float(interval[1])) if interval and None not in interval else None
    return Verdict(claim=str(v.id), kind=v.kind, verdict=v.verdict, metric=v.metric, configs=tuple(v.configs),
                   claimed=_finite(v.claimed), reproduced=_finite(reproduced), interval=iv, p=_finite(p), reason=v.reason)


def verdict_rows(judgement) -> list[dict[str, Any]]:
    """The rows the trackers get: claim, verdict, claimed, reproduced, interval, p."""
    return [to_verdict(v).to_row() for v in judgement.verdicts]


# -- the functions ------------------------------------------------------------------------------
def _paper_and_root(paper: PathLike, config_set: str | None, results: PathLike | None):
    from .commands.common import results_root_for
    from .paper import load_paper

    p = load_paper(paper, config_set)
    return p, results_root_for(p.root, str(results) if results is not None else None)


def load_results(paper: PathLike, *, config_set: str | None = None, results: PathLike | None = None) -> Results:
    """Every run of `paper` (a papers/<id> folder) found on disk, as typed records."""
    from .results import iter_runs

    p, root = _paper_and_root(paper, config_set, results)
    out = Results(p.id, p.config_set)
    for r in iter_runs(root, p.id, p.config_set):
        s = r.summary or {}
        out.runs.append(Run(
            paper=p.id, config_set=p.config_set, config=r.config, seed=r.seed, status=r.status,
            final={k: float(v) for k, v in (s.get("final") or {}).items() if _finite(v) is not None},
            best={k: float(v) for k, v in (s.get("best") or {}).items() if _finite(v) is not None},
            wall_time_s=_finite(s.get("wall_time_s")), device=s.get("device"), cache_key=s.get("cache_key"),
            error=r.problem or s.get("error"), path=r.path))
    return out


def judge(paper: PathLike, *, config_set: str | None = None, results: PathLike | None = None) -> Verdicts:
    """Judge every claim of `paper` against its results on disk (no training)."""
    from .results import load_results as load_paper_results
    from .judging.verdicts import judge_paper

    p, root = _paper_and_root(paper, config_set, results)
    judgement = judge_paper(p, load_paper_results(root, p.id, p.config_set))
    return Verdicts(p.results_name, [to_verdict(v) for v in judgement.verdicts], judgement)


def run_status(paper: PathLike, *, config_set: str | None = None, results: PathLike | None = None,
               only: Sequence[str] | None = None) -> list:
    """Each planned run of `paper` with its state (repro.runs.status.RunState), as `repro status` shows."""
    from .runs.status import run_states

    p, root = _paper_and_root(paper, config_set, results)
    return run_states(p, root, list(only) if only else None)


def run_paper(paper: PathLike, *, configs: Sequence[str] | None = None, seeds: Sequence[int] | None = None,
              config_set: str | None = None, workers: int | None = None, results: PathLike | None = None,
              track: Sequence[str] = (), publish: bool = True, check: bool = False, **options: Any) -> Results:
    """Run every config x seed of `paper` (cached, resumable) and return its results.

    configs, seeds: a subset (default: all configs, paper.yaml's seeds). track: trackers as
    for `repro run --track` ("mlflow", "wandb=DIR", ...). publish: render the report and
    site afterwards. check: raise repro.errors.RunsFailed when a run did not finish (by
    default failed runs are in the returned Results with their status). Other keyword
    options are `repro run`'s (timeout_s, devices, executor, ...).
    """
    from .errors import RunsFailed
    from .runs.sweep import run_paper as sweep

    try:
        sweep(Path(paper), only=tuple(configs or ()), config_set=config_set,
              seeds=",".join(str(int(s)) for s in seeds) if seeds is not None else None,
              workers=workers, results=str(results) if results is not None else None, track=tuple(track),
              no_site=not publish, **options)
    except RunsFailed:
        if check:
            raise
    return load_results(paper, config_set=config_set, results=results)
