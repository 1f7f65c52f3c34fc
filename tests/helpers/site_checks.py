"""Checks every page of a built site: allowed tags only, links and images that resolve."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

# What a page may contain: anything else (an <img onerror>, an <iframe>) came from data.
ALLOWED_TAGS = {
    "html", "head", "meta", "title", "link", "style", "body", "header", "nav", "main", "footer", "section",
    "h1", "h2", "h3", "h4", "h5", "h6", "p", "a", "span", "div", "strong", "em", "code", "pre", "ul", "ol",
    "li", "table", "thead", "tbody", "tr", "th", "td", "figure", "figcaption", "img", "details", "summary",
    "blockquote", "hr", "br", "script", "caption", "ol",
}


class Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.ids: set[str] = set()
        self.scripts = 0
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        if a.get("id"):
            self.ids.add(a["id"])
        if tag == "script":
            self.scripts += 1

    def handle_data(self, data):
        self.text.append(data)


def parse(path: Path) -> Page:
    p = Page()
    p.feed(path.read_text(encoding="utf-8"))
    return p


def check_site(site: Path) -> dict[str, int]:
    """Every internal link and image of every page resolves; images have alt text."""
    pages = sorted(site.rglob("*.html"))
    assert pages
    parsed = {p: parse(p) for p in pages}
    n_links = n_imgs = 0
    for page, doc in parsed.items():
        assert doc.scripts == 1, f"{page}: only the sort script may be a <script>"
        for tag, attrs in doc.tags:
            assert tag in ALLOWED_TAGS, f"{page}: unexpected <{tag}>"
            assert not any(k.startswith("on") for k in attrs), f"{page}: event handler on <{tag}>"
            ref = attrs.get("href") if tag in ("a", "link") else attrs.get("src") if tag == "img" else None
            if tag == "img":
                n_imgs += 1
                assert (attrs.get("alt") or "").strip(), f"{page}: <img> without alt"
            if ref is None:
                continue
            parts = urlsplit(ref)
            if parts.scheme in ("http", "https"):
                assert tag == "a", f"{page}: external resource {ref}"
                continue
            if parts.scheme == "data":
                assert tag == "link"
                continue
            assert parts.scheme == "", f"{page}: unsafe link {ref!r}"
            target = page if not parts.path else (page.parent / unquote(parts.path)).resolve()
            assert target.is_file(), f"{page}: broken link {ref}"
            assert site.resolve() in target.parents or target == site.resolve(), f"{page}: link leaves the site: {ref}"
            if parts.fragment and target.suffix == ".html":
                assert unquote(parts.fragment) in parsed[target if target in parsed else page].ids, f"{page}: no #{parts.fragment}"
            n_links += 1
    return {"pages": len(pages), "links": n_links, "images": n_imgs}
