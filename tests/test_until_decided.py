"""`repro run --until-decided` end to end on a tiny paper: seeds added in rounds to the configs
of undecided claims only, a true effect decided in a later round, a null one stopped at the budget.

Looks at 2, 4 and 6 seeds (max 6): O'Brien-Fleming-type spending gives levels 0.00069, 0.0157 and
0.0336 (sum 0.05), so 2 seeds of a clear effect are not enough at the first look.
"""

import json

import pytest

from helpers.cli import run_repro
from repro.judging.stats import look_levels
from helpers.tinypaper import make_tiny_paper

pytestmark = pytest.mark.slow

CLAIMS = """\
claims:
  - id: signal
    kind: comparison
    metric: val_acc
    a: signal
    relation: greater
    b: no-signal
    factor: data.shift
  - id: no-effect
    kind: comparison
    metric: val_acc
    a: same-as-baseline
    relation: greater
    b: baseline
    factor: data.sleep_s
"""


def test_until_decided_adds_rounds_to_undecided_claims_only(tmp_path):
    folder = make_tiny_paper(tmp_path, seeds=(0, 1), epochs=2, ablations={
        # well-separated blobs learnt to ~100% against the same model on labels it cannot learn
        "signal": "model:\n  hidden: 16\n  lr: 0.5\ndata:\n  shift: 4.0\n",
        "no-signal": "model:\n  hidden: 16\n  lr: 0.5\ndata:\n  shift: 0.0\n",
        # trains exactly like baseline: a true null, identical values seed for seed
        "same-as-baseline": "model:\n  hidden: 4\ndata:\n  sleep_s: 0.0001\n",
    })
    (folder / "claims.yaml").write_text(CLAIMS)
    r = run_repro("run", "papers/0000.00001", "--until-decided", "--max-seeds", "6", "--workers", "2",
                  "--no-site", cwd=tmp_path, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    out = r.stdout
    assert "look 1: 2 seeds" in out and "look 2: 4 seeds" in out and "look 3: 6 seeds" in out
    assert "stop: the budget of 6 seeds per config is spent; 1 claim(s) still undecided: no-effect" in out

    res = tmp_path / "results" / "0000.00001"
    state = json.loads((res / "sequential.json").read_text())
    assert [lk["level"] for lk in state["looks"]] == pytest.approx(look_levels([2 / 6, 4 / 6, 1.0], 0.05))
    sig, null = state["claims"]["signal"], state["claims"]["no-effect"]
    assert sig["verdict"] == "supported" and sig["round"] >= 2          # not at the first look
    assert null == {"round": 3, "verdict": "inconclusive"}
    seeds = {c: sorted(int(p.name.split("-")[1]) for p in (res / c).glob("seed-*")) for c in
             ("baseline", "method", "signal", "no-signal", "same-as-baseline")}
    assert seeds["method"] == [0, 1]                                   # no claim: never extended
    assert seeds["baseline"] == seeds["same-as-baseline"] == [0, 1, 2, 3, 4, 5]
    assert seeds["signal"] == seeds["no-signal"] == list(range(2 * sig["round"]))   # stopped with its claim

    # The report re-judges each claim at the look it stopped at and says so.
    rep = run_repro("report", "papers/0000.00001", cwd=tmp_path)
    assert rep.returncode == 0, rep.stderr
    text = (res / "report.md").read_text()
    assert f"supported, round {sig['round']}" in text and "inconclusive, round 3" in text
    assert "Judged with `--until-decided`: 3 rounds of up to 6 seeds" in text
