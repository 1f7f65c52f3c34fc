"""The built site in real headless Chromium, as a reader sees it on a laptop (1400 px), a
phone (400 px) and paper: no console error, no missing image, no script run from data, every
verdict visible at both widths and kept in print. Screenshots (git-ignored) for a person to
look at:

    tests/artifacts/site-index-1400.png, site-index-400.png           the shipped papers' index
    tests/artifacts/site-1706.03762-1400.png, site-1706.03762-400.png a long paper page
    tests/artifacts/site-synthetic-1400.png, site-synthetic-400.png   a synthetic page with a failed run
    tests/artifacts/<page>.pdf                                        each page printed to A4
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from helpers.browser import find_chromium
from helpers.cli import REPO
from helpers.site_synth import HOSTILE, make_paper, make_results

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
WIDTHS = (1400, 400)
VERDICT_WORDS = ("reproduced", "supported", "contradicted", "inconclusive")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def chromium():
    if find_chromium() is None:
        pytest.skip("chromium is not installed (CI installs Debian's `chromium`)")
    pytest.importorskip("websocket", reason="websocket-client is needed to drive Chromium")
    from helpers.browser import Chromium

    with Chromium() as b:
        yield b


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    from repro.paper import load_paper
    from repro.judging.report import render_report
    from repro.results import load_results
    from repro.judging.site.build import build_site
    from repro.judging.verdicts import judge_paper

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


@pytest.fixture(scope="module")
def shipped(tmp_path_factory) -> Path:
    """The site of the papers shipped in this repository, from their committed results."""
    from repro.judging.site.build import build_site

    out = tmp_path_factory.mktemp("shipped") / "site"
    build_site(REPO / "papers", REPO / "results", out)
    return out


def _pages(site: Path) -> list[Path]:
    return sorted(site.glob("papers/*/index.html"))


BADGES_JS = """(() => {
  const w = document.documentElement.clientWidth;
  const out = [];
  document.querySelectorAll('td.verdict .badge, .frow .badge').forEach(b => {
    const r = b.getBoundingClientRect();
    if (r.left < 0 || r.right > w + 0.5 || r.width === 0) out.push(b.textContent + ' at ' + Math.round(r.left) + '..' + Math.round(r.right));
  });
  return [document.querySelectorAll('td.verdict .badge').length, out];
})()"""

ORDER_JS = """(() => Array.from(document.querySelectorAll('main > section')).slice(0, 2).map(s => s.id))()"""

SERIES_JS = """(() => Array.from(document.querySelectorAll('figure.chart')).map(f => parseInt(f.dataset.series || '99')))()"""


def test_every_page_loads_clean(chromium, site: Path) -> None:
    pages = sorted(site.rglob("*.html"))
    assert len(pages) == 5  # index, 3 papers, verdicts.html (how verdicts are made)
    dialogs = []
    for page in pages:
        rep = chromium.open(page.as_uri())
        assert rep.problems == [], f"{page}: {rep.problems}"
        dialogs += [e for e in chromium.events if e["method"] == "Page.javascriptDialogOpening"]
        if "2003.00001" in str(page):
            assert rep.images == 3  # one chart per judged claim
    assert dialogs == [], "a script from paper metadata ran"


@pytest.mark.parametrize("which", ["site", "shipped"])
def test_verdicts_visible_at_every_width_and_pages_open_with_the_summary(chromium, which, request) -> None:
    site = request.getfixturevalue(which)
    for page in _pages(site):
        for width in WIDTHS:
            rep = chromium.open(page.as_uri(), width=width)
            assert rep.problems == [], f"{page} at {width}: {rep.problems}"
            n, outside = chromium.evaluate(BADGES_JS)
            assert outside == [], f"{page.parent.name} at {width} px: verdicts outside the window: {outside[:5]}"
            # The page itself never scrolls sideways.
            assert chromium.evaluate("document.documentElement.scrollWidth") <= width + 1, (page, width)
            has_judged = chromium.evaluate("document.querySelectorAll('.frow').length") > 0
            first = chromium.evaluate(ORDER_JS)
            assert first[0] == "summary", (page, first)
            if has_judged:
                assert first[1] == "forest", (page, first)
                # The forest plot starts within the first two screens, whatever the width.
                assert chromium.evaluate("document.getElementById('forest').getBoundingClientRect().top") < 1800
                # The verdict is the second cell of every claim row.
                assert chromium.evaluate(
                    "Array.from(document.querySelectorAll('table.claims tbody tr')).every(r => r.cells[1].classList.contains('verdict'))")
            series = chromium.evaluate(SERIES_JS)
            assert all(1 <= s <= 8 for s in series), (page, series)
    chromium.open((site / "index.html").as_uri(), width=1400)


def test_the_long_page_is_short_and_screenshots(chromium, shipped: Path) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    index = (shipped / "index.html").as_uri()
    for width in WIDTHS:
        rep = chromium.open(index, width=width)
        assert rep.problems == []
        # One line per paper, the proxy visible on a phone too.
        rows = chromium.evaluate("document.querySelectorAll('table.papers tbody tr').length")
        assert rows == len(_pages(shipped))
        assert chromium.evaluate(
            "Array.from(document.querySelectorAll('table.papers td[data-label=Proxy]')).every(td => td.getBoundingClientRect().width > 0)")
        chromium.screenshot(ARTIFACTS / f"site-index-{width}.png")
    long_page = shipped / "papers" / "1706.03762" / "index.html"
    if long_page.is_file():
        for width in WIDTHS:
            chromium.open(long_page.as_uri(), width=width)
            height = chromium.evaluate("document.documentElement.scrollHeight")
            if width == 1400:
                assert height < 15_000, f"1706.03762 is {height} px tall at 1400 px"
            chromium.screenshot(ARTIFACTS / f"site-1706.03762-{width}.png")
    chromium.open(index, width=1400)


def test_index_sorts_by_share_held(chromium, shipped: Path) -> None:
    chromium.open((shipped / "index.html").as_uri(), width=1400)
    shares = chromium.evaluate("""(() => {
      const t = document.querySelector('table.papers');
      const vals = () => Array.from(t.tBodies[0].rows).map(r => parseFloat(r.cells[1].dataset.sort));
      const before = vals();
      const th = t.querySelectorAll('thead th')[1];
      th.querySelector('button').click();
      return [before, vals(), th.getAttribute('aria-sort')];
    })()""")
    before, after, state = shares
    assert before == sorted(before, reverse=True)  # most held first, as built
    assert after == sorted(after) and state == "ascending"


def _pdf_text(path: Path) -> str:
    from pypdf import PdfReader

    return " ".join(p.extract_text() or "" for p in PdfReader(str(path)).pages)


def _count_words(text: str) -> dict[str, int]:
    text = re.sub(r"\s+", " ", text)
    return {w: len(re.findall(rf"\b{w}\b", text)) for w in VERDICT_WORDS}


@pytest.mark.parametrize("which", ["site", "shipped"])
def test_print_keeps_every_verdict(chromium, which, request) -> None:
    pytest.importorskip("pypdf")
    site = request.getfixturevalue(which)
    for page in [site / "index.html", *_pages(site)]:
        chromium.open(page.as_uri(), width=1400)
        chromium.emulate_media("print")
        try:
            shown = _count_words(chromium.evaluate("document.body.innerText"))
            ids = chromium.evaluate("Array.from(document.querySelectorAll('table.claims tbody tr')).map(r => r.id.slice(6))")
            name = page.parent.name if page.name == "index.html" and page.parent.name != site.name else "index"
            pdf = chromium.print_pdf(ARTIFACTS / f"site-{which}-{name}.pdf")
        finally:
            chromium.emulate_media("")
        text = _pdf_text(pdf)
        printed = _count_words(text)
        for w in VERDICT_WORDS:
            assert printed[w] >= shown[w], f"{page}: {w!r} {shown[w]} times on the page, {printed[w]} in print"
        squashed = re.sub(r"\s+", "", text)
        for claim_id in ids:
            assert claim_id in squashed, f"{page}: claim {claim_id} cut from the printed page"


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


def test_keyboard_and_screen_reader_basics(chromium, site: Path) -> None:
    chromium.open((site / "papers" / "2003.00001" / "index.html").as_uri(), width=1400)
    # The first thing a keyboard reaches is the skip link, and it leads to the content.
    first = chromium.evaluate("document.querySelector('body > a.skip').getAttribute('href')")
    assert first == "#main" and chromium.evaluate("!!document.getElementById('main')")
    # Every data table says what it holds.
    assert chromium.evaluate("Array.from(document.querySelectorAll('main table')).every(t => t.caption && t.caption.textContent.trim())")
    # The sorted column's state is announced.
    state = chromium.evaluate("""(() => { const th = document.querySelector('table.claims thead th');
      th.querySelector('button').click(); return th.getAttribute('aria-sort'); })()""")
    assert state in ("ascending", "descending")
