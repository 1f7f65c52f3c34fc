"""A small, safe Markdown subset for report.md: headings, paragraphs, lists, tables, code.

The report mixes our text with text from the paper and the user (titles, claim texts,
config values), so nothing in it is trusted: every character is HTML-escaped first and only
the markup produced here is real HTML. Raw HTML in the Markdown shows as text. Links become
clickable only for http(s) URLs; anything else (`javascript:`, `data:`) stays text.
"""

from __future__ import annotations

import re
from typing import Any, Iterator
from urllib.parse import quote, urlsplit

from markupsafe import Markup, escape

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_ULIST = re.compile(r"^\s*[-*+]\s+(.*)$")
_OLIST = re.compile(r"^\s*\d+[.)]\s+(.*)$")
_TABLE_SEP = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_HR = re.compile(r"^\s*([-*_])(\s*\1){2,}\s*$")
_LINK = re.compile(r"\[([^\]\n]+)\]\(([^)\s]+)\)")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_EM = re.compile(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])|(?<![\w_])_(?!\s)(.+?)(?<!\s)_(?![\w_])")


def safe_url(url: str | None) -> str | None:
    """The URL if it is an absolute http(s) URL with a host, else None (render as text)."""
    if not isinstance(url, str):
        return None
    url = url.strip()
    if any(c in url for c in "\x00\n\r\t ") or len(url) > 2000:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return url


def inline(text: str) -> Markup:
    """Escape `text`, then apply code spans, links, bold and emphasis."""
    out: list[str] = []
    # Split on code spans first: nothing inside backticks is formatted.
    for i, part in enumerate(re.split(r"(`[^`\n]+`)", text)):
        if i % 2 == 1:
            out.append(f"<code>{escape(part[1:-1])}</code>")
        else:
            out.append(_format(part))
    return Markup("".join(out))


def _format(text: str) -> str:
    pieces: list[str] = []
    pos = 0
    for m in _LINK.finditer(text):
        pieces.append(_emph(str(escape(text[pos:m.start()]))))
        label, url = m.group(1), safe_url(m.group(2))
        if url:
            pieces.append(f'<a href="{escape(url)}" rel="noopener noreferrer">{_emph(str(escape(label)))}</a>')
        else:
            pieces.append(_emph(str(escape(m.group(0)))))
        pos = m.end()
    pieces.append(_emph(str(escape(text[pos:]))))
    return "".join(pieces)


def _emph(escaped: str) -> str:
    # Runs on already-escaped text: the patterns only add <strong>/<em> around it.
    escaped = _BOLD.sub(r"<strong>\1</strong>", escaped)
    return _EM.sub(lambda m: f"<em>{m.group(1) or m.group(2)}</em>", escaped)


def _cells(line: str) -> list[str]:
    line = line.strip()
    if line.startswith("|"):
        line = line[1:]
    if line.endswith("|") and not line.endswith("\\|"):
        line = line[:-1]
    return [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line)]


def render_markdown(text: str, *, heading_offset: int = 1) -> Markup:
    """HTML for `text`; headings are shifted down by `heading_offset` to nest in the page."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    html: list[str] = []
    para: list[str] = []
    i = 0

    def flush() -> None:
        if para:
            html.append(f"<p>{inline(' '.join(s.strip() for s in para))}</p>")
            para.clear()

    while i < len(lines):
        line = lines[i]
        if not line.strip():
            flush()
            i += 1
            continue
        if _FENCE.match(line):
            flush()
            fence = _FENCE.match(line).group(1)  # type: ignore[union-attr]
            body = []
            i += 1
            while i < len(lines) and not lines[i].strip().startswith(fence):
                body.append(lines[i])
                i += 1
            i += 1
            html.append(f"<pre><code>{escape(chr(10).join(body))}</code></pre>")
            continue
        m = _HEADING.match(line)
        if m:
            flush()
            level = min(6, len(m.group(1)) + heading_offset)
            html.append(f"<h{level}>{inline(m.group(2))}</h{level}>")
            i += 1
            continue
        if _HR.match(line) and not para:
            html.append("<hr>")
            i += 1
            continue
        if "|" in line and i + 1 < len(lines) and _TABLE_SEP.match(lines[i + 1]):
            flush()
            head = _cells(line)
            i += 2
            rows = []
            while i < len(lines) and "|" in lines[i] and lines[i].strip():
                rows.append(_cells(lines[i]))
                i += 1
            th = "".join(f"<th>{inline(c)}</th>" for c in head)
            body = "".join(
                "<tr>" + "".join(f"<td>{inline(c)}</td>" for c in (r + [""] * (len(head) - len(r)))[: max(len(head), len(r))]) + "</tr>"
                for r in rows
            )
            html.append(f'<div class="scroll"><table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table></div>')
            continue
        if _ULIST.match(line) or _OLIST.match(line):
            flush()
            ordered = bool(_OLIST.match(line)) and not _ULIST.match(line)
            pat = _OLIST if ordered else _ULIST
            items: list[str] = []
            while i < len(lines) and lines[i].strip():
                mm = pat.match(lines[i])
                if mm:
                    items.append(mm.group(1))
                elif items and lines[i].startswith((" ", "\t")):
                    items[-1] += " " + lines[i].strip()  # continuation of the item
                else:
                    break
                i += 1
            tag = "ol" if ordered else "ul"
            html.append(f"<{tag}>" + "".join(f"<li>{inline(it)}</li>" for it in items) + f"</{tag}>")
            continue
        if line.lstrip().startswith(">"):
            flush()
            quote = []
            while i < len(lines) and lines[i].lstrip().startswith(">"):
                quote.append(lines[i].lstrip()[1:].strip())
                i += 1
            html.append(f"<blockquote>{inline(' '.join(quote))}</blockquote>")
            continue
        para.append(line)
        i += 1
    flush()
    return Markup("\n".join(html))


def url_segment(s: Any) -> str:
    return quote(str(s), safe="")


def fenced_lines(markdown: str) -> Iterator[tuple[str, bool]]:
    """Each line with whether it lies inside a ``` or ~~~ code fence (an opening fence line does)."""
    fence = False
    for line in markdown.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fence = not fence
        yield line, fence
