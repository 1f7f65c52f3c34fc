"""The report: numbers from disk, per-paper overrides, errors, the `repro report` command."""

from __future__ import annotations

import subprocess
import sys

import pytest

from helpers.cli import run_repro
from repro.judging.report import ReportTemplateError, cell, demote_headings, render_report
from repro.results import load_results
from repro.judging.verdicts import judge_paper
from helpers.results_data import make_paper, write_group, write_run

CLAIMS = """\
- id: method-acc
  text: "Accuracy | top-1 of 0.9"
  source: {table: 2, page: 7, row: Ours}
  kind: value
  config: method
  metric: acc
  value: 0.9
  tolerance: {abs: 0.05}
  status: confirmed
- id: beats
  kind: comparison
  metric: acc
  a: method
  relation: greater
  b: baseline
- id: bleu
  kind: value
  config: null
  metric: bleu
  value: 28.4
  note: WMT14 does not run on CPU
"""

REVIEW = "# Review\n\n## Core mechanism\n\nText.\n\n```\n# not a heading\n```\n"


def build(tmp_path, template=None):
    paper = make_paper(tmp_path, CLAIMS, review=REVIEW, template=template)
    res = tmp_path / "results"
    write_group(res, "baseline", [0.70, 0.72, 0.74])
    write_group(res, "method", [0.88, 0.90, 0.92])
    write_run(res, "method", 3, status="diverged")
    return paper, res


def render(paper, res):
    return render_report(paper, judge_paper(paper, load_results(res, paper.id)), res)


def test_report_shows_the_numbers_on_disk(tmp_path):
    paper, res = build(tmp_path)
    out = render(paper, res)
    assert out == res / paper.id / "report.md"
    text = out.read_text()
    assert text.startswith("# Reproduction report: A paper with claims")
    assert "https://arxiv.org/abs/0000.00002v3" in text and "Ada, Bob" in text
    assert "digits instead of ImageNet" in text                     # the proxy note
    # method: mean 0.9, std 0.02, CI 0.9 +- 4.302653 * 0.02/sqrt(3) = [0.8503, 0.9497]; 1 diverged
    assert "0.9 ± 0.02 [0.8503, 0.9497] (n=3, 1 failed)" in text
    assert "Accuracy \\| top-1 of 0.9" in text                       # pipes cannot break the table
    assert "Table 2, p. 7, row Ours" in text
    assert "**reproduced**" in text and "**supported**" in text and "**not run**" in text
    assert "WMT14 does not run on CPU" in text
    assert "| method | acc | 3 | 1 | 0.9 | 0.02 | [0.8503, 0.9497] | 0.88 | 0.92 |" in text
    assert "## Ablations against `baseline`" in text
    assert "method/seed-3: **diverged**" in text
    assert "| **total** | 7 | 1.75 |" in text                         # 7 runs x 0.25 device-hours
    assert "0123abc" in text and "torch 2.13.0" in text
    assert "### Review" in text and "#### Core mechanism" in text and "# not a heading" in text
    # change a result on disk: the report follows
    write_run(res, "method", 0, acc=0.5)
    text2 = render(paper, res).read_text()
    assert "0.9 ± 0.02" not in text2 and "| method | acc | 3 | 1 | 0.7733 |" in text2


def test_per_paper_template_extends_the_base(tmp_path):
    template = ('{% extends "report.md.j2" %}\n{% block discussion %}\n## Discussion\n\n'
                'The claim beats is {{ v("beats").verdict }}; method reached '
                '{{ stat("method", "acc").mean | num }}.\n{% endblock %}\n')
    paper, res = build(tmp_path, template=template)
    text = render(paper, res).read_text()
    assert "## Discussion" in text
    assert "The claim beats is supported; method reached 0.9." in text
    assert "## Claims" in text and "## Compute" in text   # the rest comes from the base


@pytest.mark.parametrize("template, line", [
    ('{% extends "report.md.j2" %}\n{% block discussion %}\n{{ nope }}\n{% endblock %}\n', 3),
    ('{% extends "report.md.j2" %}\n{% block discussion %}\n{% if %}\n{% endblock %}\n', 3),
])
def test_broken_paper_template_names_file_and_line(tmp_path, template, line):
    paper, res = build(tmp_path, template=template)
    with pytest.raises(ReportTemplateError) as exc:
        render(paper, res)
    assert exc.value.where == f"{paper.root / 'report.md.j2'}:{line}"
    assert not (res / paper.id / "report.md").exists()


def test_helpers():
    assert cell("a | b\n  c") == "a \\| b c"
    assert demote_headings("# A\n```\n# code\n```\n###### deep\n#nospace") == (
        "### A\n```\n# code\n```\n###### deep\n#nospace")


def test_repro_report_command(tmp_path):
    paper, res = build(tmp_path)
    r = run_repro("report", "papers/0000.00002", cwd=tmp_path, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "method-acc" in r.stdout and "reproduced" in r.stdout and "not run" in r.stdout
    assert "3 claims: 1 reproduced, 1 supported, 1 not run" in r.stdout
    assert "method/seed-3 (diverged)" in r.stdout
    assert f"report: {res / paper.id / 'report.md'}" in r.stdout
    assert (res / paper.id / "report.md").is_file()


def test_repro_report_claims_error_is_clean(tmp_path):
    paper, res = build(tmp_path)
    (paper.root / "claims.yaml").write_text("claims:\n  - id: x\n    kind: value\n    config: nope\n")
    r = run_repro("report", str(paper.root), "--results", str(res), cwd=tmp_path, timeout=120)
    assert r.returncode == 2
    assert "claims.yaml:4" in r.stderr and "claim 'x'" in r.stderr and "Traceback" not in r.stderr


def test_no_torch_and_lazy_scipy(tmp_path):
    paper, res = build(tmp_path)
    code = (
        "import sys\n"
        "import repro.judging.stats, repro.claims, repro.judging.verdicts, repro.judging.report, repro.commands.report\n"
        "assert 'scipy' not in sys.modules, 'scipy imported at import time'\n"
        "from repro.paper import load_paper\n"
        "from repro.results import load_results\n"
        f"p = load_paper({str(paper.root)!r})\n"
        f"repro.judging.report.render_report(p, repro.judging.verdicts.judge_paper(p, load_results({str(res)!r}, p.id)), {str(res)!r})\n"
        "bad = [m for m in ('torch', 'lightning') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr


def test_report_shows_equivalence_tolerances_flags_power_and_sanity_apart(tmp_path):
    paper = make_paper(tmp_path, """\
    - id: noisy-value
      kind: value
      config: method
      metric: acc
      value: 0.80
      tolerance: {abs: 0.02}
    - id: untolerated
      kind: value
      config: method
      metric: acc
      value: 0.812
    - id: open-range
      kind: value
      config: method
      metric: acc
      value: 0.5
      tolerance: {abs: 0.5}
    - id: by-construction
      kind: sanity
      metric: acc
      a: method
      relation: greater
      b: baseline
    - id: beats
      kind: comparison
      metric: acc
      a: method
      relation: greater
      b: baseline
    """)
    res = tmp_path / "results"
    write_group(res, "method", [0.70, 0.80, 0.90])
    write_group(res, "baseline", [0.50, 0.51, 0.52])
    text = render_report(paper, judge_paper(paper, load_results(res, paper.id)), res).read_text()
    claims = text.split("## Claims")[1].split("## Sanity checks")[0]
    # the noisy case: inconclusive; half-width t(0.95, 2) * 0.1 / sqrt(3) = 2.919986 * 0.057735 = 0.1686
    assert "**inconclusive**" in claims and "90% interval of the gap [-0.1686, 0.1686] vs tol. ±0.02" in claims
    assert "seeds would decide" in claims
    assert "`untolerated`: ±0.005 (no tolerance: proposed from precision" in claims
    assert "`noisy-value`: ±0.02 (claims.yaml)" in claims
    assert "**reproduced (cannot fail: not counted)**" in claims and "covers the metric's whole range" in claims
    assert "detectable at 80% power" in claims and "by-construction" not in claims
    sanity = text.split("## Sanity checks")[1].split("## Results per config")[0]
    assert "`by-construction`" in sanity and "supported" in sanity
    assert "1 success that could not have failed (not counted); 1 sanity check apart" in text
