"""The built site in real headless Chromium: no console error, no missing image, no script run
from data, usable in a narrow window. Screenshots are saved to tests/artifacts/:

    tests/artifacts/site-index.png          the index
    tests/artifacts/site-paper.png          a paper page (full page)
    tests/artifacts/site-paper-narrow.png   the same page 380 px wide
"""

from __future__ import annotations

from pathlib import Path

import pytest

from browser import find_chromium
from site_synth import HOSTILE, make_paper, make_results

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def chromium():
    if find_chromium() is None:
        pytest.skip("chromium is not installed (CI installs Debian's `chromium`)")
    pytest.importorskip("websocket", reason="websocket-client is needed to drive Chromium")
    from browser import Chromium

    with Chromium() as b:
        yield b


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    from repro.paper import load_paper
    from repro.report import render_report
    from repro.results import load_results
    from repro.site.build import build_site
    from repro.verdicts import judge_paper

    root = tmp_path_factory.mktemp("browser")
    make_paper(root, "2003.00001", title="Dropout on synthetic blobs: a reproduction")
    make_results(root, "2003.00001", failed=(("wide", 4),))
    make_paper(root, "2003.00002", title=HOSTILE, configs=("baseline", "method"),
               meta_extra={"authors": ["<img src=x onerror=alert(1)>"],
                           "links": {"code": ["javascript:alert(1)"]}})
    make_results(root, "2003.00002", configs=("baseline", "method"), seeds=(0, 1, 2))
    make_paper(root, "2003.00003", title="A paper with no runs yet")
    for pid in ("2003.00001", "2003.00002", "2003.00003"):
        paper = load_paper(root / "papers" / pid)
        render_report(paper, judge_paper(paper, load_results(root / "results", pid)), root / "results")
    build_site(root / "papers", root / "results", root / "site", jobs=1)
    return root / "site"


def test_every_page_loads_clean(chromium, site: Path) -> None:
    pages = sorted(site.rglob("*.html"))
    assert len(pages) == 4
    dialogs = []
    for page in pages:
        rep = chromium.open(page.as_uri())
        assert rep.problems == [], f"{page}: {rep.problems}"
        dialogs += [e for e in chromium.events if e["method"] == "Page.javascriptDialogOpening"]
        if "2003.00001" in str(page):
            assert rep.images == 5
    assert dialogs == [], "a script from paper metadata ran"


def test_screenshots_and_narrow_window(chromium, site: Path) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    rep = chromium.open((site / "index.html").as_uri(), width=1280)
    assert rep.problems == [] and "Paper reproductions" in chromium.evaluate("document.body.innerText")
    # The hostile title is on the index as text.
    assert HOSTILE in chromium.evaluate("document.body.innerText")
    shot = chromium.screenshot(ARTIFACTS / "site-index.png")
    assert shot.stat().st_size > 10_000

    paper = (site / "papers" / "2003.00001" / "index.html").as_uri()
    rep = chromium.open(paper, width=1280)
    assert rep.problems == [] and rep.images == 5
    assert chromium.evaluate("Array.from(document.images).every(i => i.naturalWidth > 100)")
    chromium.screenshot(ARTIFACTS / "site-paper.png")

    rep = chromium.open(paper, width=380)
    assert rep.problems == []
    # Narrow: the page itself does not scroll sideways (wide tables scroll in their own box).
    assert chromium.evaluate("document.documentElement.scrollWidth") <= 380 + 1
    assert chromium.evaluate("Math.max(...Array.from(document.images).map(i => i.getBoundingClientRect().width))") <= 380
    chromium.screenshot(ARTIFACTS / "site-paper-narrow.png")
    chromium.open(paper, width=1280)  # leave the module's browser at the default size


def test_sorting_a_table_works(chromium, site: Path) -> None:
    chromium.open((site / "papers" / "2003.00001" / "index.html").as_uri())
    order = chromium.evaluate("""(() => {
      const t = document.querySelector('#runs table');
      const seeds = () => Array.from(t.tBodies[0].rows).map(r => r.cells[1].textContent.trim());
      const before = seeds();
      t.querySelectorAll('thead th')[1].querySelector('button').click();
      const asc = seeds();
      t.querySelectorAll('thead th')[1].querySelector('button').click();
      return [before, asc, seeds()];
    })()""")
    before, asc, desc = order
    assert asc == sorted(before, key=int) and desc == sorted(before, key=int, reverse=True)
