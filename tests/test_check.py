"""`repro check`: what would make verdicts unable to fail or to decide, listed before any run."""

from __future__ import annotations

import subprocess
import sys

from helpers.results_data import make_paper, write_run

CLAIMS = """\
- id: wide-open
  kind: value
  config: method
  metric: acc
  value: 0.5
  tolerance: {abs: 0.6}
- id: untolerated
  kind: value
  config: method
  metric: acc
  value: 0.953
- id: confounded-pair
  kind: comparison
  metric: acc
  a: method
  relation: greater
  b: baseline
- id: by-construction
  kind: sanity
  metric: acc
  a: method
  relation: greater
  b: baseline
  factor: [model.width, model.depth]
- id: small-effect
  kind: comparison
  metric: loss
  a: method
  relation: less
  b: baseline
  factor: model
  effect: -0.1
"""

CHECK_WITHOUT_TORCH = """
import runpy, sys
sys.argv = ["repro", "check", sys.argv[1]]
try:
    runpy.run_module("repro", run_name="__main__")
except SystemExit as e:
    code = e.code
bad = [m for m in ("torch", "lightning") if m in sys.modules]
print("IMPORTED:", bad)
"""


def _check(paper) -> str:
    r = subprocess.run([sys.executable, "-c", CHECK_WITHOUT_TORCH, str(paper.root)], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "IMPORTED: []" in r.stdout
    return r.stdout


def test_check_lists_everything_before_any_run(tmp_path):
    paper = make_paper(tmp_path, CLAIMS)
    (paper.root / "configs" / "baseline.yaml").write_text("model: {width: 8, depth: 2}\n")
    (paper.root / "configs" / "method.yaml").write_text("model: {width: 16, depth: 3}\n")
    out = _check(paper)
    assert "wide-open: cannot fail: the tolerance ±0.6 around 0.5 covers the metric's whole range [0, 1]" in out
    assert "by-construction: kind: sanity" in out
    assert "confounded-pair: confounded: method and baseline differ in 2 keys (model.depth, model.width)" in out
    assert "by-construction: confounded" not in out and "small-effect: confounded" not in out
    assert "untolerated: no tolerance: proposed from precision" in out and "±0.005" in out
    # before any run: the smallest effect in sds; 3 seeds, 3 directional comparisons in the Holm
    # family (sanity claims are tested too), level 0.05/3:
    # (t(1 - 0.05/3, 4) + t(0.8, 4)) * sqrt(2/3) = (3.186316 + 0.940965) * 0.816497 = 3.37
    assert "small-effect: before any run, 3 seeds detect only differences ≥ 3.37 standard deviations" in out


def test_check_uses_the_spread_once_runs_exist(tmp_path):
    paper = make_paper(tmp_path, CLAIMS)
    res = tmp_path / "results"
    for s, (lm, lb) in enumerate([(0.50, 0.55), (0.60, 0.65), (0.70, 0.75)]):
        write_run(res, "method", s, acc=1.0, loss=lm)
        write_run(res, "baseline", s, acc=1.0, loss=lb)
    out = _check(paper)
    assert "confounded-pair: cannot fail: method and baseline both sit at the metric's bound 1" in out
    # sd 0.1; the claimed effect -0.1 is 1 sd: at level 0.05/3 it needs far more than 3 seeds
    assert "small-effect: 3 seeds detect differences ≥ 0.337 (sd 0.1); the claimed effect -0.1 needs" in out
