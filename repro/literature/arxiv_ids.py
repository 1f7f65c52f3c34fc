"""arXiv identifiers: parse what a user types, normalise it, name folders from it.

Accepted: new-style ids (`1706.03762`, `1706.03762v5`), old-style ids (`hep-th/9901001`,
`math.GT/0309136v2`), an `arXiv:` prefix, and arxiv.org abs/pdf/src URLs. Everything else is
rejected with an ArxivIdError. Folder names and cache paths are built only from the parsed
parts (never from the raw input), so nothing a user types can reach outside papers/.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from ..errors import ArxivIdError

_NEW = re.compile(r"(?P<yy>\d{2})(?P<mm>\d{2})\.(?P<num>\d{4,5})(?:v(?P<v>\d{1,3}))?")
# Old style: archive (letters and hyphens), optional subject class (.GT), '/', YYMMNNN.
_OLD = re.compile(
    r"(?P<archive>[a-z]+(?:-[a-z]+)*)(?:\.(?P<subj>[A-Za-z]{2}))?/"
    r"(?P<yy>\d{2})(?P<mm>\d{2})(?P<num>\d{3})(?:v(?P<v>\d{1,3}))?"
)
_HOSTS = {"arxiv.org", "www.arxiv.org", "export.arxiv.org", "browse.arxiv.org"}
_URL_KINDS = {"abs", "pdf", "src", "e-print", "format"}
_EXAMPLES = "1706.03762, 1706.03762v5, hep-th/9901001 or https://arxiv.org/abs/1706.03762"


@dataclass(frozen=True)
class ArxivId:
    """A normalised arXiv identifier."""

    base: str               # "1706.03762" or "hep-th/9901001" (no version)
    version: int | None     # 5 for "1706.03762v5"; None = latest

    @property
    def full(self) -> str:
        """The id as arXiv's API takes it, with the version when one was given."""
        return f"{self.base}v{self.version}" if self.version else self.base

    @property
    def folder(self) -> str:
        """The paper folder name: `1706.03762`, old style `hep-th_9901001`."""
        return self.base.replace("/", "_")

    @property
    def old_style(self) -> bool:
        return "/" in self.base

    def with_version(self, version: int | None) -> "ArxivId":
        return ArxivId(self.base, version)

    def __str__(self) -> str:
        return self.full


def _reject(raw: str, why: str) -> ArxivIdError:
    shown = raw if len(raw) <= 80 else raw[:77] + "..."
    return ArxivIdError(f"{shown!r} is not an arXiv id: {why}", hint=f"give an id or URL such as {_EXAMPLES}")


def _check_month(raw: str, mm: str) -> None:
    if not 1 <= int(mm) <= 12:
        raise _reject(raw, f"month {mm} in the id does not exist (ids are YYMM.NNNNN)")


def _parse_bare(raw: str, text: str) -> ArxivId:
    m = _NEW.fullmatch(text)
    if m:
        _check_month(raw, m["mm"])
        yymm = int(m["yy"] + m["mm"])
        # Four-digit numbers until 2014-12, five digits from 2015-01 (arXiv's scheme).
        if yymm < 704:
            raise _reject(raw, "new-style ids start in April 2007 (0704); older papers use archive/YYMMNNN")
        if (len(m["num"]) == 5) != (yymm >= 1501):
            want = "five" if yymm >= 1501 else "four"
            raise _reject(raw, f"ids from {m['yy']}{m['mm']} have {want} digits after the dot")
        version = int(m["v"]) if m["v"] else None
        if version == 0:
            raise _reject(raw, "versions start at v1")
        return ArxivId(f"{m['yy']}{m['mm']}.{m['num']}", version)
    m = _OLD.fullmatch(text)
    if m:
        _check_month(raw, m["mm"])
        version = int(m["v"]) if m["v"] else None
        if version == 0:
            raise _reject(raw, "versions start at v1")
        # The subject class (math.GT) is not part of the identifier: math.GT/0309136 is math/0309136.
        return ArxivId(f"{m['archive']}/{m['yy']}{m['mm']}{m['num']}", version)
    raise _reject(raw, "expected YYMM.NNNNN[vN] or archive/YYMMNNN[vN]")


def parse_arxiv_id(raw: str) -> ArxivId:
    """Parse an id or arxiv.org URL; raise ArxivIdError (with a hint) for anything else."""
    if not isinstance(raw, str):
        raise ArxivIdError(f"expected an arXiv id as text, got {type(raw).__name__}")
    text = raw.strip()
    if not text:
        raise _reject(raw, "it is empty")
    if len(text) > 300 or any(ord(c) < 32 or c.isspace() for c in text):
        raise _reject(raw, "it contains spaces or control characters, or is far too long")
    if "://" in text or text.lower().startswith(("arxiv.org/", "www.arxiv.org/")):
        return _parse_url(raw, text if "://" in text else "https://" + text)
    if text.lower().startswith("arxiv:"):
        text = text[len("arxiv:"):]
    return _parse_bare(raw, text)


def _parse_url(raw: str, text: str) -> ArxivId:
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https"):
        raise _reject(raw, "only http(s) arxiv.org URLs are accepted")
    host = (parts.hostname or "").lower()
    if host not in _HOSTS:
        raise _reject(raw, f"{host or 'the URL'} is not arxiv.org")
    path = parts.path.strip("/")
    kind, _, rest = path.partition("/")
    if kind not in _URL_KINDS or not rest:
        raise _reject(raw, "expected an arxiv.org/abs/<id> or arxiv.org/pdf/<id> URL")
    if rest.endswith(".pdf"):
        rest = rest[: -len(".pdf")]
    return _parse_bare(raw, rest)


def folder_name(raw: str) -> str:
    """The paper folder name for a raw id or URL (validated)."""
    return parse_arxiv_id(raw).folder
