"""`repro site`: links and images resolve, hostile metadata is escaped, plots are incremental."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.cli import REPO, run_repro
from helpers.site_checks import check_site
from helpers.site_synth import HOSTILE, make_paper, make_results

from repro.errors import ReproError
from repro.judging.site import plots as site_plots
from repro.judging.site.build import SiteError, build_site
from repro.judging.site.markdown import render_markdown, safe_url


@pytest.fixture
def project(tmp_path: Path) -> Path:
    make_paper(tmp_path, "2001.00001")
    make_results(tmp_path, "2001.00001", failed=(("wide", 3),))
    make_paper(tmp_path, "2001.00002", configs=("baseline", "method"))
    make_results(tmp_path, "2001.00002", configs=("baseline", "method"), seeds=(0, 1, 2))
    return tmp_path


def build(root: Path, **kw) -> Path:
    return build_site(root / "papers", root / "results", root / "site", jobs=1, **kw)


def test_synthetic_site_links_images_and_content(project: Path) -> None:
    index = build(project)
    assert index == project / "site" / "index.html"
    counts = check_site(project / "site")
    assert counts["pages"] == 4  # index, 2 papers, verdicts.html
    # Per paper: one small multiple per judged claim (two value claims, one comparison).
    assert counts["images"] == 6
    page = (project / "site" / "papers" / "2001.00001" / "index.html").read_text()
    assert "reproduced" in page and "not run" in page and "WMT14 is not part of the proxy" in page
    assert "On a proxy:" in page and "tiny MLP on synthetic blobs" in page
    # The page opens with its headline over judged claims and the forest plot, before any table.
    assert page.index('id="summary"') < page.index('id="forest"') < page.index("<table")
    assert "Of 3 judged claims" in page and "1 not run" in page
    # Provenance and raw data: each run's files, a CSV of the verdicts, the report linked.
    for name in ("summary.json", "metrics.jsonl", "config.yaml"):
        assert f"runs/method/seed-0/{name}.txt" in page
    assert 'href="verdicts.csv"' in page and 'href="report.md.txt"' not in page  # no report yet
    assert 'href="https://arxiv.org/pdf/2001.00001v1#page=5"' in page  # "where" opens the PDF's page
    csv_text = (project / "site" / "papers" / "2001.00001" / "verdicts.csv").read_text()
    assert csv_text.startswith("claim,kind,status") and "method-beats-baseline" in csv_text
    data = json.loads((project / "site" / "data.json").read_text())
    assert sorted(p["id"] for p in data["pages"]) == ["2001.00001", "2001.00002"]
    assert sum(len(p["verdicts"]) for p in data["pages"]) == 8
    assert not (project / "site" / "papers" / "2001.00001" / "index.html").read_text().count("## Claims")
    # The failed run is listed, never averaged in, and its log is copied into the site.
    assert "1 run did not finish" in page and "ValueError: deliberate crash" in page
    log = project / "site" / "papers" / "2001.00001" / "runs" / "wide" / "seed-3" / "run.log.txt"
    assert "deliberate crash" in log.read_text()
    assert (log.parent / "config.yaml.txt").read_text().startswith("data:")
    idx = index.read_text()
    assert 'href="https://arxiv.org/abs/2001.00001v1"' in idx
    assert 'href="papers/2001.00001/index.html"' in idx
    row = json.loads((project / "site" / "_index" / "2001.00001.json").read_text())
    assert row["counts"]["not run"] == 1 and row["n_runs"] == 20 and row["n_failed"] == 1
    assert row["tally"]["judged"] == 3 and row["tally"]["candidate"] == 1


def test_report_is_linked_and_only_discussion_and_review_lifted(project: Path) -> None:
    report = project / "results" / "2001.00001" / "report.md"
    report.write_text("# Report\n\n## Claims\n\nTABLE-OF-CLAIMS\n\n## Discussion\n\nThe method held; the "
                      "baseline did not.\n\n## Environment\n\nENV-DUMP\n\n## Review\n\n### Problem\n\nREVIEW-TEXT\n")
    build(project)
    page = (project / "site" / "papers" / "2001.00001" / "index.html").read_text()
    assert "The method held; the baseline did not." in page and "REVIEW-TEXT" in page
    assert "TABLE-OF-CLAIMS" not in page and "ENV-DUMP" not in page
    assert 'href="report.md.txt"' in page
    assert (project / "site" / "papers" / "2001.00001" / "report.md.txt").read_text() == report.read_text()
    check_site(project / "site")


def test_hostile_metadata_renders_as_text(tmp_path: Path) -> None:
    bad_cfg = 'x"><img src=q onerror=alert(2)>$\\nope{$'
    make_paper(tmp_path, "2002.00001", title=HOSTILE, configs=("baseline", "method", bad_cfg), meta_extra={
        "authors": ["<img src=x onerror=alert(1)>", "Eve"],
        "abstract": "<iframe src='javascript:alert(3)'></iframe>",
        "links": {"code": ["javascript:alert(1)", "https://github.com/ok/repo", "data:text/html,<script>x</script>"]},
        "reproduction": {"seeds": [0, 1], "metrics": {"test_acc": {"goal": "max"}}, "baseline": "baseline",
                         "proxy": "</p><script>alert(4)</script>"},
    }, metrics={"test_acc": "max"}, claims=[
        {"id": "evil", "text": HOSTILE, "kind": "value", "config": "method", "metric": "test_acc", "value": 0.9,
         "source": {"table": "<b>1</b>", "caption": "<script>alert(5)</script>"}},
    ])
    make_results(tmp_path, "2002.00001", configs=("baseline", "method", bad_cfg), seeds=(0, 1), metrics=("test_acc",),
                 log_text="<script>alert(6)</script>\n")
    report = tmp_path / "results" / "2002.00001" / "report.md"
    report.write_text("# Report\n\n## Discussion\n\n<script>alert(7)</script>\n\n[click](javascript:alert(8)) and "
                      "[arxiv](https://arxiv.org/abs/2002.00001)\n\n| a | b |\n|---|---|\n| <b>x</b> | 1 |\n")
    build(tmp_path)
    check_site(tmp_path / "site")
    for page in (tmp_path / "site").rglob("*.html"):
        html = page.read_text()
        assert "<script>alert" not in html and "<iframe" not in html and "<img src=x" not in html
        assert 'href="javascript:' not in html and 'href="data:text' not in html
    page = (tmp_path / "site" / "papers" / "2002.00001" / "index.html").read_text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page          # the title, as text
    assert "javascript:alert(1)" in page                               # shown, not linked
    assert 'href="https://github.com/ok/repo"' in page                 # a real link stays a link
    assert "&lt;script&gt;alert(7)&lt;/script&gt;" in page             # raw HTML in the report
    assert "[click](javascript:alert(8))" in page and 'href="https://arxiv.org/abs/2002.00001"' in page
    assert "<table>" in page and "&lt;b&gt;x&lt;/b&gt;" in page       # markdown table, cell escaped
    # The config whose name is markup is a quoted path, its log copied and escaped nowhere as HTML.
    copied = tmp_path / "site" / "papers" / "2002.00001" / "runs" / bad_cfg / "seed-0" / "run.log.txt"
    assert copied.read_text() == "<script>alert(6)</script>\n"
    index = (tmp_path / "site" / "index.html").read_text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in index and "<script>alert" not in index


def test_plots_are_redrawn_only_when_inputs_change(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    drawn: list[str] = []
    real = site_plots._draw_chunk

    def spy(items):
        drawn.extend(Path(p).name for _, p, _, _ in items)
        return real(items)

    monkeypatch.setattr(site_plots, "_draw_chunk", spy)
    build(project)
    assert len(drawn) == 6
    svgs = sorted((project / "site").rglob("*.svg"))
    before = {p: p.stat().st_mtime_ns for p in svgs}
    assert all(p.with_name(p.name + ".sha256").is_file() for p in svgs)
    drawn.clear()
    build(project)
    assert drawn == []
    assert {p: p.stat().st_mtime_ns for p in svgs} == before
    # One run's learning curve changes: only that paper's curves of that data are redrawn.
    m = project / "results" / "2001.00002" / "method" / "seed-0" / "metrics.jsonl"
    m.write_text(m.read_text() + json.dumps({"kind": "epoch", "epoch": 10, "step": 110, "test_acc": 0.99, "train_loss": 0.01}) + "\n")
    build(project)
    # Only the charts of claims about `method` (the value claim and the comparison).
    changed = [p for p in svgs if p.stat().st_mtime_ns != before[p]]
    assert len(drawn) == 2 and len(changed) == 2 and all("2001.00002" in str(p) for p in changed)
    # A finished run's final value changes: the charts showing that config are redrawn, not the other paper's.
    drawn.clear()
    s = project / "results" / "2001.00002" / "baseline" / "seed-1" / "summary.json"
    data = json.loads(s.read_text())
    data["final"]["test_acc"] = 0.1
    s.write_text(json.dumps(data))
    before = {p: p.stat().st_mtime_ns for p in svgs}
    build(project)
    changed = [p for p in svgs if p.stat().st_mtime_ns != before[p]]
    assert len(drawn) == 2 and len(changed) == 2 and all("2001.00002" in str(p) for p in changed)


def test_only_rebuilds_one_paper_and_keeps_the_index_whole(project: Path) -> None:
    build(project)
    other = project / "site" / "papers" / "2001.00001" / "index.html"
    other_before = other.stat().st_mtime_ns
    s = project / "results" / "2001.00002" / "baseline" / "seed-0" / "summary.json"
    data = json.loads(s.read_text())
    data["status"] = "diverged"
    s.write_text(json.dumps(data))
    build(project, only=["2001.00002"])
    assert other.stat().st_mtime_ns == other_before
    page = (project / "site" / "papers" / "2001.00002" / "index.html").read_text()
    assert "diverged" in page
    index = (project / "site" / "index.html").read_text()
    assert "papers/2001.00001/index.html" in index and "papers/2001.00002/index.html" in index
    with pytest.raises(SiteError) as e:
        build(project, only=["9999.99999"])
    assert "9999.99999" in e.value.message and e.value.hint


def test_only_builds_papers_never_rendered(project: Path) -> None:
    build(project, only=["2001.00002"])
    # The index never links to a page that does not exist.
    check_site(project / "site")
    assert (project / "site" / "papers" / "2001.00001" / "index.html").is_file()


def test_refuses_a_folder_it_did_not_make(tmp_path: Path, project: Path) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "index.html").write_text("my own page")
    with pytest.raises(SiteError) as e:
        build_site(project / "papers", project / "results", out)
    assert e.value.where == str(out) and e.value.hint
    assert (out / "index.html").read_text() == "my own page"


def test_pages_of_removed_papers_are_pruned(project: Path) -> None:
    build(project)
    import shutil

    shutil.rmtree(project / "papers" / "2001.00002")
    build(project)
    assert not (project / "site" / "papers" / "2001.00002").exists()
    assert "2001.00002" not in (project / "site" / "index.html").read_text()
    check_site(project / "site")


def test_a_broken_paper_gets_an_error_page_not_a_crash(project: Path) -> None:
    (project / "papers" / "2001.00002" / "claims.yaml").write_text("claims:\n  - id: x\n    kind: valeu\n")
    build(project)
    page = (project / "site" / "papers" / "2001.00002" / "index.html").read_text()
    assert "could not be judged" in page and "valeu" in page and "claims.yaml:3" in page
    row = json.loads((project / "site" / "_index" / "2001.00002.json").read_text())
    assert row["group"] == "error"
    assert "Could not be read" in (project / "site" / "index.html").read_text()
    check_site(project / "site")


def test_big_logs_are_cut_to_their_tail(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from repro.judging.site import runlog

    monkeypatch.setattr(runlog, "MAX_LOG_BYTES", 50)
    log = project / "results" / "2001.00002" / "method" / "seed-0" / "run.log"
    log.write_text("x" * 500 + "\nTraceback: the end\n")
    build(project)
    copied = (project / "site" / "papers" / "2001.00002" / "runs" / "method" / "seed-0" / "run.log.txt").read_text()
    assert copied.startswith("[repro site: log cut") and copied.endswith("Traceback: the end\n")
    assert len(copied) < 200


def test_run_log_without_framework_banners(project: Path) -> None:
    log = project / "results" / "2001.00002" / "method" / "seed-0" / "run.log"
    log.write_text(
        "[repro] starting 2001.00002 method/seed-0\n"
        "/x/.venv/lib/python3.11/site-packages/lightning/fabric/plugins/environments/slurm.py:204: The `srun` "
        "command is available on your system but is not used.\n"
        "GPU available: False, used: False\nTPU available: False, using: 0 TPU cores\n"
        "\U0001f4a1 Tip: For seamless cloud logging, try installing [litlogger](https://pypi.org/project/litlogger/)\n"
        "epoch 0: loss 0.7\nTraceback (most recent call last):\n  File \"model.py\", line 3\nValueError: boom\n")
    build(project)
    copied = (project / "site" / "papers" / "2001.00002" / "runs" / "method" / "seed-0" / "run.log.txt").read_text()
    assert "GPU available" not in copied and "Tip:" not in copied and "srun" not in copied
    assert "[repro] starting" in copied and "epoch 0: loss 0.7" in copied and "ValueError: boom" in copied
    assert "4 lines of framework banners" in copied
    assert "GPU available" in log.read_text()  # the record in results/ keeps everything


def test_markdown_subset_is_safe() -> None:
    html = str(render_markdown(
        "# Title <b>\n\nText with `<code>` and **bold** and *em*.\n\n- one\n- two [a](https://x.org/?a=1&b=2)\n\n"
        "1. first\n2. second\n\n```\n<script>x</script>\n```\n\n| h | i |\n| --- | --- |\n| a \\| b | [j](javascript:alert(1)) |\n\n"
        "> quote <i>\n\n<div onclick=x>raw</div>\n"))
    assert "<h2>Title &lt;b&gt;</h2>" in html
    assert "<code>&lt;code&gt;</code>" in html and "<strong>bold</strong>" in html and "<em>em</em>" in html
    assert "<ul><li>one</li>" in html and '<a href="https://x.org/?a=1&amp;b=2"' in html
    assert "<ol><li>first</li><li>second</li></ol>" in html
    assert "<pre><code>&lt;script&gt;x&lt;/script&gt;</code></pre>" in html
    assert "<td>a | b</td>" in html and "[j](javascript:alert(1))" in html and 'href="javascript' not in html
    assert "&lt;div onclick=x&gt;raw&lt;/div&gt;" in html and "<div onclick" not in html
    assert "<blockquote>quote &lt;i&gt;</blockquote>" in html


@pytest.mark.parametrize("url,ok", [
    ("https://arxiv.org/abs/1", True), ("http://x.org", True), ("javascript:alert(1)", False),
    ("JaVaScRiPt:alert(1)", False), (" javascript:alert(1)", False), ("data:text/html,x", False),
    ("//evil.org/x", False), ("https:///nohost", False), ("https://a.org/ x", False), (None, False),
])
def test_safe_url(url, ok) -> None:
    assert (safe_url(url) is not None) == ok


def test_no_heavy_imports_and_no_matplotlib_when_nothing_changed(project: Path) -> None:
    code = (
        "import sys; from pathlib import Path; from repro.judging.site.build import build_site\n"
        f"r = Path({str(project)!r})\n"
        "build_site(r / 'papers', r / 'results', r / 'site', jobs=1)\n"
        "print('matplotlib' in sys.modules, 'torch' in sys.modules, 'lightning' in sys.modules)\n"
    )
    first = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    assert first.stdout.split() == ["True", "False", "False"]
    second = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stderr
    assert second.stdout.split() == ["False", "False", "False"]


def test_cli_prints_the_index_path(project: Path) -> None:
    r = run_repro("site", "--out", "public", cwd=project)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("site: ") and str(project / "public" / "index.html") in r.stdout
    check_site(project / "public")
    r = run_repro("site", "--papers", "nope", cwd=project)
    assert r.returncode == 2 and "no papers folder" in r.stderr and "hint:" in r.stderr
    (project / "public2").mkdir()
    (project / "public2" / "notes.txt").write_text("mine")
    r = run_repro("site", "--out", "public2", cwd=project)
    assert r.returncode == 2 and "not made by `repro site`" in r.stderr and "Traceback" not in r.stderr


def test_shipped_papers(tmp_path: Path) -> None:
    from repro.paper import find_papers

    if not find_papers(REPO / "papers"):
        pytest.skip("no shipped paper has a paper.yaml yet")
    index = build_site(REPO / "papers", REPO / "results", tmp_path / "site", jobs=1)
    counts = check_site(tmp_path / "site")
    sets = [d for d in (REPO / "results").iterdir() if d.is_dir() and "@" in d.name]  # config-set pages
    assert counts["pages"] == len(find_papers(REPO / "papers")) + len(sets) + 2  # + index and verdicts.html
    for p in find_papers(REPO / "papers"):
        assert f"papers/{p.name}/index.html" in index.read_text()
    # The site is self-contained: nothing in it points back into the repository.
    for page in (tmp_path / "site").rglob("*.html"):
        assert str(REPO / "results") not in page.read_text()


def test_site_error_is_a_repro_error() -> None:
    assert issubclass(SiteError, ReproError)


def test_a_corrupt_cached_row_is_rebuilt(project: Path) -> None:
    build(project)
    (project / "site" / "_index" / "2001.00001.json").write_text("{torn")
    build(project, only=["2001.00002"])
    row = json.loads((project / "site" / "_index" / "2001.00001.json").read_text())
    assert row["id"] == "2001.00001" and "papers/2001.00001/index.html" in (project / "site" / "index.html").read_text()


def test_plot_text_is_not_mathtext(tmp_path: Path) -> None:
    # A name with dollars would otherwise be parsed (and fail) as matplotlib math.
    assert site_plots._short("a$\\nope{$", 40) == "a\\$\\nope{\\$"
    m = tmp_path / "metrics.jsonl"
    m.write_text("".join(json.dumps({"kind": "epoch", "epoch": e, "step": 10 * e, "m$\\x{$": 0.5 + e / 10}) + "\n" for e in range(3)))
    svg = site_plots._Canvas().draw("claim", {"metric": "m$\\x{$", "claimed": 1.0, "tolerance": 0.1, "range": [None, None],
                                              "configs": [{"name": "a$\\nope{$", "label": "a$\\nope{$", "files": [str(m)]}]})
    assert b"nope{" in svg


def test_chart_intervals_stay_inside_the_metric_range_and_ticks_stay_flat(tmp_path: Path) -> None:
    """Two charts drawn one after the other by the same canvas: the second has no rotated
    ticks, and a band that would leave [0, 1] is clipped to it."""
    files = []
    for seed, vals in enumerate(([0.2, 0.9, 0.99], [0.1, 0.5, 0.97])):
        f = tmp_path / f"s{seed}.jsonl"
        f.write_text("".join(json.dumps({"kind": "epoch", "epoch": e, "step": 5 * (e + 1), "val_acc": v}) + "\n"
                             for e, v in enumerate(vals)))
        files.append(str(f))
    xs, mean, lo, hi, x_name = site_plots.curve_from_files(files, "val_acc")
    assert x_name == "step" and xs == [5.0, 10.0, 15.0] and max(hi) > 1.0  # unclipped: the t-interval leaves [0, 1]
    canvas = site_plots._Canvas()
    payload = {"metric": "val_acc", "claimed": None, "tolerance": None, "range": [0.0, 1.0],
               "configs": [{"name": "a", "label": "a", "files": files}]}
    canvas.draw("claim", payload)
    canvas.ax.tick_params(axis="x", labelrotation=30)  # whatever one chart does ...
    canvas.draw("claim", payload)                       # ... the next starts flat
    assert all(t.get_rotation() == 0 for t in canvas.ax.get_xticklabels())
    assert canvas.ax.get_ylim()[1] <= 1.0 and canvas.ax.get_ylim()[0] >= 0.0
    band = [c for c in canvas.ax.patches]
    assert band and all(0.0 <= y <= 1.0 for p in band for _, y in p.get_xy())


def test_numbers_have_one_format() -> None:
    from repro.numfmt import fmt, interval, mean_std, p_is, spread

    assert fmt(0.000123) == "0.000123" and fmt(1234567) == "1,234,567" and "e" not in fmt(1e-9)
    assert spread(0.012345) == "0.012" and spread(3.14159) == "3.1"
    assert mean_std(0.95341, 0.012345) == "0.953 ± 0.012" and mean_std(110.4, 3.2) == "110.4 ± 3.2"
    assert interval(0.9412, 0.9734) == "[0.941, 0.973]" and p_is(0.0004) == "p < 0.001"
    from types import SimpleNamespace

    from repro.numfmt import unit_of
    from repro.judging.site.views import describe_text

    d = SimpleNamespace(n=3, mean=0.9534, std=0.0123, ci_low=0.92, ci_high=1.02)
    assert describe_text(d, rng=(0.0, 1.0), unit=unit_of({"unit": "percent"})) == "95.3 ± 1.2% [92.0, 100.0]"
    d = SimpleNamespace(n=3, mean=110.3, std=3.2, ci_low=102.0, ci_high=118.0)
    assert describe_text(d, unit=unit_of({"unit": "errors"})) == "110.3 ± 3.2 errors [102, 118]"


def test_publish_with_nothing_changed_rewrites_nothing(project: Path, capsys) -> None:
    from repro.runs.sweep import _publish
    from repro.paper import load_paper

    paper = load_paper(project / "papers" / "2001.00002")
    _publish(paper, project / "results")
    outputs = [project / "results" / "2001.00002" / "report.md", *sorted((project / "site").rglob("*")), ]
    before = {p: p.stat().st_mtime_ns for p in outputs if p.is_file()}
    capsys.readouterr()
    _publish(paper, project / "results")
    assert "(unchanged)" in capsys.readouterr().out
    assert {p: p.stat().st_mtime_ns for p in before} == before
    assert sorted(p for p in (project / "site").rglob("*") if p.is_file()) == sorted(
        p for p in before if "site" in p.parts)
    # A changed result is an input: the report and the page are rendered again.
    s = project / "results" / "2001.00002" / "baseline" / "seed-1" / "summary.json"
    data = json.loads(s.read_text())
    data["final"]["test_acc"] = 0.11
    s.write_text(json.dumps(data))
    _publish(paper, project / "results")
    assert "(unchanged)" not in capsys.readouterr().out
    assert (project / "results" / "2001.00002" / "report.md").stat().st_mtime_ns != before[outputs[0]]


def _verdict(claim=None, **kw):
    from types import SimpleNamespace

    from repro.claims import CLAIM_TYPES

    kind = kw.get("kind", "comparison")
    base = dict(claim=CLAIM_TYPES[kind](id="c", **(claim or {})), id="c", kind="comparison", verdict="inconclusive", reason="", metric="m", configs=["a", "b"],
                stats={}, claimed=None, claimed_spread=None, gap_abs=None, gap_rel=None, p_value=None,
                p_adjusted=None, effect_size=None, diff=None, diff_ci=None)
    base.update(kw)
    return SimpleNamespace(**base)


def test_evidence_is_the_test_that_decided_the_verdict() -> None:
    from repro.judging.site.views import evidence, forest_row

    # A contradicted ordering shows the reversed pair and the p-value against the claim, not the
    # pair that held nor "p = 1.00" (the one-sided p in the claimed direction).
    pairs = [
        {"a": "x", "b": "y", "verdict": "supported", "diff": 0.3, "diff_ci": (0.2, 0.4), "p_adjusted": 0.01,
         "p_opposite_adjusted": 1.0},
        {"a": "y", "b": "z", "verdict": "contradicted", "diff": -0.5, "diff_ci": (-0.7, -0.3), "p_adjusted": 1.0,
         "p_opposite_adjusted": 0.004},
    ]
    v = _verdict(kind="ordering", verdict="contradicted", claim={"direction": "decreasing", "configs": ["x", "y", "z"]},
                 pairs=pairs, diff=0.3, diff_ci=(0.2, 0.4), p_value=1.0, p_adjusted=1.0, configs=["x", "y", "z"])
    text = evidence(v)
    assert "reversed pair y vs z" in text and "Holm p = 0.004 against the claim" in text and "p = 1.00" not in text
    row = forest_row(v, lambda m: (None, None))
    assert row["point"] < 50 and row["hi"] < 50  # the reversed pair sits left of the line: against the claim
    # Cohen's d from zero spreads is not shown; the difference and its interval are.
    from types import SimpleNamespace

    flat = {"a": SimpleNamespace(std=0.0, n=3), "b": SimpleNamespace(std=0.0, n=3)}
    v = _verdict(verdict="supported", stats=flat, diff=0.01, diff_ci=(0.01, 0.01), effect_size=169.0, p_value=0.001,
                 p_adjusted=0.002, claim={"relation": "greater", "a": "a", "b": "b"})
    text = evidence(v)
    assert "d =" not in text and "diff +0.01" in text and "Holm p = 0.002" in text
    # New or odd verdict fields never break a page.
    v = _verdict(kind="value", verdict="reproduced", claimed=0.9, interval=(None, 0.95), tolerance={"abs": 0.02},
                 gap_abs=0.01, stats={"a": SimpleNamespace(mean=0.91, ci_low=None, ci_high=None, n=1, std=None)})
    assert "gap +0.01" in evidence(v) and forest_row(v, lambda m: (0.0, 1.0)) is not None


def test_chart_colours_contrast_with_white() -> None:
    def lum(hex_colour: str) -> float:
        rgb = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    assert len(site_plots.PALETTE) >= site_plots.MAX_SERIES == 8
    for c in site_plots.PALETTE:
        assert (1.05) / (lum(c) + 0.05) >= 3.0, c  # WCAG contrast against the white page
def test_every_paper_page_links_the_page_on_how_verdicts_are_made(project: Path) -> None:
    build(project)
    page = project / "site" / "verdicts.html"
    text = page.read_text()
    assert "How verdicts are made" in text and "O'Brien-Fleming" in text and "≤ 0.05" in text
    for p in ("2001.00001", "2001.00002"):
        html = (project / "site" / "papers" / p / "index.html").read_text()
        assert 'href="../../verdicts.html"' in html
