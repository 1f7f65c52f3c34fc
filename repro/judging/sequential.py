"""`repro run --until-decided`: add seeds in rounds to the configs of undecided claims only.

The procedure (group-sequential, so looking after every round does not inflate the error):

* Looks happen at n_1 < n_2 < ... < n_K = max_seeds seeds per config: n_1 is paper.yaml's seeds,
  each round adds as many again (the last round stops at max_seeds). Seeds beyond paper.yaml's
  are the next integers after its largest.
* The information fraction of look k is t_k = n_k / max_seeds. The error allowed by look k is
  the Lan-DeMets O'Brien-Fleming-type spending function alpha(t) = 2 - 2 Phi(z(1-alpha/2)/sqrt(t))
  (repro.judging.stats.obf_spent): almost nothing early, nearly all of alpha at the last look.
* Look k judges every claim with the usual rules (repro.judging.verdicts) at the nominal level
  alpha(t_k) - alpha(t_{k-1}), on the first n_k seeds of each config. A claim is decided at the
  first look where it is not inconclusive; its verdict is final and its configs get no more
  seeds on its account. By the union bound over looks, the chance that a claim is ever
  wrongly decided is at most the sum of the levels, alpha(1) = alpha, whatever the correlation
  between looks (exact boundaries would be a little less conservative).
* It stops when every claim is decided, or after the look at max_seeds.

The record is `results/<id>/sequential.json` (looks: round, n, level, the seeds of each config;
claims: the round each was decided in). `repro report` re-judges each claim at the look it
stopped at (repro.judging.verdicts.judge_paper -> judge_sequential), so the report shows the verdict
the procedure reached and how many rounds it took, not a fixed-sample test of data that were
collected sequentially. Running more seeds by hand afterwards does not change those verdicts;
delete the file to judge the paper as a fixed sample again.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from ..atomic import atomic_write_json, read_json_dict
from ..results import load_results, paper_results_dir
from .stats import look_levels

if TYPE_CHECKING:  # pragma: no cover
    from ..paper import Paper
    from ..results import PaperResults
    from .verdicts import PaperJudgement

STATE_FILE = "sequential.json"
UNDECIDED = ("inconclusive",)


def seed_list(base: list[int], n: int) -> list[int]:
    """paper.yaml's seeds, then the next integers after the largest, n in all."""
    out = list(base)[:n]
    nxt = max(base) + 1
    while len(out) < n:
        out.append(nxt)
        nxt += 1
    return out


def schedule(n0: int, max_seeds: int, step: int | None = None) -> list[int]:
    step = step or n0
    ns = [n0]
    while ns[-1] < max_seeds:
        ns.append(min(ns[-1] + step, max_seeds))
    return ns


def state_path(results_root: Path, paper: "Paper") -> Path:
    return paper_results_dir(results_root, paper.id, paper.config_set) / STATE_FILE


def read_state(results: "PaperResults", paper: "Paper") -> dict[str, Any] | None:
    """The --until-decided record next to the runs, or None."""
    for runs in results.runs.values():
        for r in runs:
            f = Path(r.path).parent.parent / STATE_FILE
            state = read_json_dict(f)
            return state if state is not None and isinstance(state.get("looks"), list) else None
    return None


def judge_sequential(paper: "Paper", results: "PaperResults", state: dict[str, Any]) -> "PaperJudgement":
    """Each claim's verdict from the look it stopped at (undecided ones: the last look)."""
    from .verdicts import judge_paper, tally

    base = judge_paper(paper, results, sequential=False)
    looks = state["looks"]
    if not looks:
        return base
    claims = state.get("claims") or {}
    at_look: dict[int, Any] = {}
    for i, v in enumerate(base.verdicts):
        rec = claims.get(v.id)
        if rec is None:
            continue  # a claim added after the sequential run: judged as a fixed sample
        k = min(int(rec.get("round") or len(looks)), len(looks))
        if k not in at_look:
            look = looks[k - 1]
            at_look[k] = judge_paper(paper, results, alpha=float(look["level"]),
                                     seeds={c: list(s) for c, s in look["seeds"].items()})
        new = at_look[k].verdict(v.id)
        new.rounds = k
        if new.verdict in UNDECIDED:
            new.reason += f" Still undecided after {k} round(s), at the budget of {state.get('max_seeds')} seeds."
        else:
            new.reason += (f" Decided in round {k} of --until-decided ({looks[k - 1]['n']} seeds, "
                           f"level {float(looks[k - 1]['level']):.2g} of the overall {state.get('alpha')}).")
        base.verdicts[i] = new
    base.counts, base.sanity_counts, base.flagged = tally(base.verdicts)
    base.sequential = state
    return base


def run_until_decided(paper: "Paper", results_root: Path, configs: list, execute: Callable[[list], list], *,
                      max_seeds: int, alpha: float | None = None, echo: Callable[[str], None] = print,
                      step: int | None = None) -> dict[str, Any]:
    """Rounds of seeds for the configs of undecided claims; returns (and writes) the record.

    `configs`: the resolved configs that may run; `execute(specs) -> jobs` runs RunSpecs (the
    caller's executor). The first look is on paper.yaml's seeds, which must already be run.
    """
    from ..envinfo import git_state
    from ..errors import UsageError
    from ..runs.planner import CACHED, plan
    from .verdicts import ALPHA, judge_paper

    alpha = ALPHA if alpha is None else alpha
    base = sorted(paper.seeds)
    if max_seeds < len(base):
        raise UsageError(f"--max-seeds {max_seeds} is below the {len(base)} seeds of paper.yaml",
                         hint=f"give --max-seeds {len(base)} or more")
    ns = schedule(len(base), max_seeds, step)
    levels = look_levels([n / max_seeds for n in ns], alpha)
    by_name = {c.name: c for c in configs}
    current = {name: len(base) for name in by_name}
    open_ids: list[str] | None = None
    decided: dict[str, dict[str, Any]] = {}
    looks: list[dict[str, Any]] = []
    stop = ""
    for k, (n, level) in enumerate(zip(ns, levels), 1):
        if k > 1:
            j_prev = last
            need = sorted({c for v in j_prev.verdicts if v.id in open_ids for c in v.configs if c in by_name})
            seeds = seed_list(base, n)
            planned = plan(paper, results_root, seeds=seeds, git=git_state(paper.root),
                           configs=[by_name[c] for c in need])
            todo = [r.spec for r in planned if r.action != CACHED]
            echo(f"round {k}: {n} seeds for {', '.join(need)} ({len(todo)} runs, {len(planned) - len(todo)} cached)")
            jobs = execute(todo) if todo else []
            bad = [j for j in jobs if getattr(j, "state", "finished") != "finished"]
            if bad:
                echo(f"round {k}: {len(bad)} run(s) did not finish; they are left out of the look")
            for c in need:
                current[c] = n
        look_seeds = {c: seed_list(base, m) for c, m in current.items()}
        results = load_results(results_root, paper.id, paper.config_set)
        last = judge_paper(paper, results, alpha=level, seeds=look_seeds, sequential=False)
        looks.append({"round": k, "n": n, "fraction": n / max_seeds, "level": level, "seeds": look_seeds})
        if open_ids is None:  # claims on configs outside --only cannot gain seeds here
            open_ids = [v.id for v in last.verdicts if v.configs and all(c in by_name for c in v.configs)]
        now = []
        for v in last.verdicts:
            if v.id in open_ids and v.verdict not in UNDECIDED:
                decided[v.id] = {"round": k, "verdict": v.verdict}
                now.append(f"{v.id} {v.verdict}")
        open_ids = [i for i in open_ids if i not in decided]
        echo(f"look {k}: {n} seeds per open config, level {level:.3g} (spent {sum(levels[:k]):.3g} of "
             f"{alpha}): decided {len(now)}" + (f" ({'; '.join(now)})" if now else "")
             + f", {len(open_ids)} open")
        if not open_ids:
            stop = f"stop: every claim decided after {k} round(s)"
            break
    else:
        stop = (f"stop: the budget of {max_seeds} seeds per config is spent; {len(open_ids or [])} claim(s) "
                f"still undecided: {', '.join(open_ids or [])}")
    echo(stop)
    claims = dict(decided)
    for i in open_ids or []:
        claims[i] = {"round": len(looks), "verdict": "inconclusive"}
    state = {"alpha": alpha, "max_seeds": max_seeds, "spending": "Lan-DeMets O'Brien-Fleming type",
             "looks": looks, "claims": claims, "stop": stop}
    atomic_write_json(state_path(results_root, paper), state)
    return state
