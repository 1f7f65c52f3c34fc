"""arXiv metadata and downloads, with a local cache.

Metadata comes through the `arxiv` package's `Client` (its HTTP session given a timeout);
downloads (PDF, LaTeX source) through `requests`. Every request to arXiv waits its turn
(arXiv asks for at most one request every 3 seconds), transient failures (timeouts,
refused connections, 5xx, 429) are retried with exponential back-off, and each kind of
failure ends in its own error: NotFoundError (no such paper), ArxivIdError (arXiv calls
the id malformed), FetchError (network, HTTP). Downloads are size-capped, checked, written
atomically into the cache and recorded with their sha256, which is verified on reuse.

Cache: `$REPRO_CACHE` or `~/.cache/repro`, laid out as
`arxiv/<folder>/latest.json` and `arxiv/<folder>/v<N>/{meta.json, paper.pdf, source, manifest.json}`.
All paths come from the normalised ArxivId, never from user text.

Why one module of ~410 lines: the cache, the politeness clock and the retries are one
mechanism (each download checks the cache, waits its turn, retries, then records its hash);
most of the length is the error a user sees for each kind of failure.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from .arxiv_ids import ArxivId, parse_arxiv_id
from ..atomic import atomic_write_bytes, atomic_write_json, read_json_dict
from ..errors import ArxivIdError, FetchError, NotFoundError, PdfError, ReproError

DEFAULT_API_URL = "https://export.arxiv.org/api/query"
DEFAULT_BASE_URL = "https://arxiv.org"
MAX_PDF_BYTES = 100 * 1024 * 1024
MAX_SOURCE_BYTES = 100 * 1024 * 1024
USER_AGENT = "repro (paper-reproduction workbench; python-arxiv)"
# Defaults, read when a Fetcher is made (tests shorten them).
TIMEOUT_S = 20.0      # per request
RETRIES = 3           # after the first try, on timeouts, refused connections, 5xx and 429
BACKOFF_S = 3.0       # first pause between tries; doubles each time
DELAY_S = 3.0         # arXiv's etiquette: one request every 3 seconds


def cache_root() -> Path:
    env = os.environ.get("REPRO_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "repro"


@dataclass
class PaperMeta:
    """What arXiv knows about one version of a paper."""

    id: str                          # normalised base id, "1706.03762"
    version: int | None
    title: str
    authors: list[str]
    abstract: str
    categories: list[str]
    primary_category: str | None = None
    published: str | None = None     # "2017-06-12"
    updated: str | None = None
    doi: str | None = None
    comments: str | None = None
    journal_ref: str | None = None

    @property
    def arxiv_id(self) -> ArxivId:
        return ArxivId(self.id, self.version)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "PaperMeta":
        names = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in d.items() if k in names})


@dataclass
class Download:
    path: Path
    sha256: str
    size: int
    url: str | None = None           # None for a local file the user gave
    cached: bool = False


@dataclass
class _Politeness:
    """One request at a time to arXiv, at least `delay_s` apart (shared by all Fetchers)."""

    last: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)


_POLITE = _Politeness()


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _date(dt: datetime | None) -> str | None:
    if dt is None or dt.year < 1900:  # arxiv.py's "missing" value is datetime.min
        return None
    return dt.astimezone(timezone.utc).date().isoformat()


def _clean_text(s: str | None) -> str | None:
    if s is None:
        return None
    s = " ".join(s.split())  # arXiv wraps titles and abstracts with newlines and indents
    return s or None


class Fetcher:
    """Fetches papers from arXiv (or the cache). Tests point `api_url`/`base_url` at a local server."""

    def __init__(self, *, api_url: str | None = None, base_url: str | None = None,
                 cache_dir: str | Path | None = None, timeout_s: float | None = None,
                 retries: int | None = None, backoff_s: float | None = None,
                 delay_s: float | None = None, offline: bool = False,
                 max_pdf_bytes: int = MAX_PDF_BYTES, max_source_bytes: int = MAX_SOURCE_BYTES,
                 log: Callable[[str], None] | None = None) -> None:
        self.api_url = (api_url or os.environ.get("REPRO_ARXIV_API_URL") or DEFAULT_API_URL).rstrip("?")
        self.base_url = (base_url or os.environ.get("REPRO_ARXIV_URL") or DEFAULT_BASE_URL).rstrip("/")
        self.cache = Path(cache_dir) if cache_dir else cache_root()
        self.timeout_s = TIMEOUT_S if timeout_s is None else timeout_s
        self.retries = RETRIES if retries is None else retries
        self.backoff_s = BACKOFF_S if backoff_s is None else backoff_s
        self.delay_s = DELAY_S if delay_s is None else delay_s
        self.offline = offline
        self.max_pdf_bytes, self.max_source_bytes = max_pdf_bytes, max_source_bytes
        self.log = log or (lambda msg: None)
        self._session: Any = None
        self._client: Any = None

    # -- plumbing ----------------------------------------------------------------------
    def _http(self) -> Any:
        if self._session is None:
            import requests

            timeout = self.timeout_s

            class _TimeoutSession(requests.Session):
                # arxiv.Client calls session.get(url) with no timeout: add ours to every request.
                def request(self, *args: Any, **kwargs: Any) -> Any:
                    kwargs.setdefault("timeout", timeout)
                    return super().request(*args, **kwargs)

            self._session = _TimeoutSession()
            self._session.headers["User-Agent"] = USER_AGENT
        return self._session

    def _arxiv_client(self) -> Any:
        if self._client is None:
            import arxiv

            # Retries and the 3-second spacing are done here (with back-off, shared with the
            # downloads), so the client itself does neither.
            client = arxiv.Client(page_size=10, delay_seconds=0.0, num_retries=0)
            client.query_url_format = self.api_url + "?{}"
            client._session = self._http()  # the client has no public hook for a timeout
            self._client = client
        return self._client

    def _wait_turn(self) -> None:
        with _POLITE.lock:
            wait = _POLITE.last + self.delay_s - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            _POLITE.last = time.monotonic()

    def _retrying(self, what: str, call: Callable[[], Any]) -> Any:
        """`call()` with retries on transient failures; FetchError once they are used up."""
        import arxiv
        import requests

        last = ""
        for attempt in range(self.retries + 1):
            if attempt:
                pause = min(self.backoff_s * 2 ** (attempt - 1), 60.0)
                self.log(f"{what}: {last}; retrying in {pause:g} s ({attempt}/{self.retries})")
                time.sleep(pause)
            self._wait_turn()
            try:
                return call()
            except arxiv.HTTPError as e:
                if e.status == 429 or e.status >= 500:
                    last = f"arXiv answered HTTP {e.status}"
                    continue
                raise _http_error(what, e.status) from None
            except _Transient as e:
                last = str(e)
                continue
            except requests.Timeout:
                last = f"no answer within {self.timeout_s:g} s"
                continue
            except requests.ConnectionError as e:
                last = _connection_problem(e)
                continue
            except requests.RequestException as e:
                raise FetchError(f"{what} failed: {_short(e)}") from None
        hint = "check your network connection, or work offline with --pdf/--source (and --offline)"
        if "HTTP 5" in last or "HTTP 429" in last:
            raise FetchError(f"{what}: arXiv is having trouble ({last}, {self.retries + 1} tries)",
                             hint="try again later; arXiv's API is sometimes overloaded") from None
        raise FetchError(f"{what}: network failure ({last}, {self.retries + 1} tries)", hint=hint) from None

    def _paper_dir(self, aid: ArxivId) -> Path:
        return self.cache / "arxiv" / aid.folder

    def _version_dir(self, aid: ArxivId) -> Path:
        if not aid.version:
            raise ValueError("a cache folder needs a versioned id")
        return self._paper_dir(aid) / f"v{aid.version}"

    # -- metadata ----------------------------------------------------------------------
    def metadata(self, aid: ArxivId) -> PaperMeta:
        """Metadata of `aid` (its latest version when unversioned); cached for --offline."""
        if self.offline:
            return self._cached_metadata(aid)
        import arxiv

        search = arxiv.Search(id_list=[aid.full], max_results=1)
        results = self._retrying(f"looking up {aid.full} on arXiv",
                                 lambda: list(self._arxiv_client().results(search)))
        for r in results:
            if "/api/errors" in r.entry_id:  # arXiv reports a bad id as an "Error" entry
                raise ArxivIdError(f"arXiv rejected {aid.full}: {_clean_text(r.summary)}",
                                   hint="check the id on https://arxiv.org")
        if not results:
            raise NotFoundError(f"arXiv has no paper {aid.full}",
                                hint="check the id; new papers appear after arXiv's daily announcement")
        meta = _meta_from_result(results[0], aid)
        self._store_metadata(meta)
        return meta

    def _store_metadata(self, meta: PaperMeta) -> None:
        vdir = self._version_dir(meta.arxiv_id)
        atomic_write_json(vdir / "meta.json", meta.to_dict())
        latest = self._paper_dir(meta.arxiv_id) / "latest.json"
        old = read_json_dict(latest) or {}
        if int(old.get("version") or 0) <= (meta.version or 0):
            atomic_write_json(latest, {"version": meta.version})

    def _cached_metadata(self, aid: ArxivId) -> PaperMeta:
        version = aid.version
        if not version:
            version = (read_json_dict(self._paper_dir(aid) / "latest.json") or {}).get("version")
        data = read_json_dict(self._version_dir(aid.with_version(int(version))) / "meta.json") if version else None
        if not data:
            raise FetchError(f"{aid.full} is not in the cache ({self.cache}) and --offline forbids the network",
                             hint="run once without --offline, or give the files with --pdf/--source")
        return PaperMeta.from_dict(data)

    # -- downloads ---------------------------------------------------------------------
    def pdf(self, meta: PaperMeta) -> Download:
        """The paper's PDF, from the cache or arXiv (verified, size-capped)."""
        aid = meta.arxiv_id
        dl = self._download(aid, "paper.pdf", f"{self.base_url}/pdf/{aid.full}", self.max_pdf_bytes,
                            what=f"downloading the PDF of {aid.full}", check=_check_pdf_bytes)
        if dl is None:
            raise NotFoundError(f"arXiv has no PDF for {aid.full}", hint="give one with --pdf")
        return dl

    def source(self, meta: PaperMeta) -> Download | None:
        """The LaTeX source archive, or None when arXiv has none for this paper."""
        aid = meta.arxiv_id
        return self._download(aid, "source", f"{self.base_url}/src/{aid.full}", self.max_source_bytes,
                              what=f"downloading the LaTeX source of {aid.full}", check=None)

    def _download(self, aid: ArxivId, name: str, url: str, cap: int, *, what: str,
                  check: Callable[[bytes], None] | None) -> Download | None:
        vdir = self._version_dir(aid)
        manifest_path = vdir / "manifest.json"
        manifest = read_json_dict(manifest_path) or {}
        entry = manifest.get(name)
        if entry is not None:
            if entry.get("absent"):
                return None
            path = vdir / name
            if path.is_file() and _sha256_file(path) == entry.get("sha256"):
                return Download(path, entry["sha256"], path.stat().st_size, entry.get("url"), cached=True)
            self.log(f"cached {name} of {aid.full} is missing or does not match its sha256; fetching again")
        if self.offline:
            raise FetchError(f"{what}: not in the cache and --offline forbids the network",
                             hint="run once without --offline, or give the file with --pdf/--source")
        data = self._retrying(what, lambda: self._get_capped(url, cap, what))
        if data is None:
            manifest[name] = {"absent": True, "url": url, "fetched_at": _now()}
            atomic_write_json(manifest_path, manifest)
            return None
        if check is not None:
            check(data)
        digest = hashlib.sha256(data).hexdigest()
        atomic_write_bytes(vdir / name, data)
        manifest = read_json_dict(manifest_path) or {}
        manifest[name] = {"sha256": digest, "bytes": len(data), "url": url, "fetched_at": _now()}
        atomic_write_json(manifest_path, manifest)
        return Download(vdir / name, digest, len(data), url)

    def _get_capped(self, url: str, cap: int, what: str) -> bytes | None:
        """The body of a GET, or None on 404/403/410; FetchError past `cap` bytes."""
        resp = self._http().get(url, stream=True)
        with resp:
            if resp.status_code in (403, 404, 410):
                return None
            if resp.status_code == 429 or resp.status_code >= 500:
                raise _Transient(f"arXiv answered HTTP {resp.status_code}")
            if resp.status_code != 200:
                raise _http_error(what, resp.status_code)
            declared = resp.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > cap:
                raise FetchError(f"{what}: {int(declared) / 1e6:.0f} MB is over the {cap / 1e6:.0f} MB limit")
            buf = bytearray()
            for chunk in resp.iter_content(1 << 16):
                buf += chunk
                if len(buf) > cap:
                    raise FetchError(f"{what}: more than {cap / 1e6:.0f} MB, over the limit")
            return bytes(buf)


class _Transient(Exception):
    """A retryable HTTP answer from a download."""


def _http_error(what: str, status: int) -> ReproError:
    if status == 400:
        return ArxivIdError(f"{what}: arXiv rejected the request as malformed (HTTP 400)",
                            hint="check the id on https://arxiv.org")
    if status == 404:
        return NotFoundError(f"{what}: not found on arXiv (HTTP 404)")
    return FetchError(f"{what}: arXiv answered HTTP {status}")


def _check_pdf_bytes(data: bytes) -> None:
    if not data:
        raise PdfError("arXiv sent an empty PDF", hint="try again later, or give the PDF with --pdf")
    if b"%PDF-" not in data[:1024]:
        raise PdfError("arXiv sent something that is not a PDF (the paper may be withdrawn or not yet built)",
                       hint="give the PDF with --pdf")


def _connection_problem(e: BaseException) -> str:
    """requests' connection errors are long urllib3 reprs: say what went wrong in words."""
    from urllib.parse import urlsplit

    req = getattr(e, "request", None)
    host = urlsplit(req.url).netloc if req is not None and getattr(req, "url", None) else "arXiv"
    text = str(e)
    if any(k in text for k in ("NameResolution", "Name or service not known", "name resolution",
                               "nodename nor servname", "getaddrinfo failed")):
        return f"could not connect: cannot resolve {host.split(':')[0]} (DNS)"
    if "refused" in text:
        return f"could not connect: {host} refused the connection"
    if "timed out" in text.lower():
        return f"could not connect to {host}: timed out"
    return f"could not connect to {host} ({type(e).__name__})"


def _short(e: BaseException) -> str:
    text = str(e)
    return text if len(text) < 200 else text[:197] + "..."


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _meta_from_result(r: Any, asked: ArxivId) -> PaperMeta:
    try:
        got = parse_arxiv_id(r.get_short_id())
    except ArxivIdError:
        raise FetchError(f"arXiv answered with an entry id we cannot read: {r.entry_id!r}") from None
    if got.base != asked.base or (asked.version and got.version != asked.version):
        raise FetchError(f"asked arXiv for {asked.full} but it answered with {got.full}")
    doi = r.doi or None
    return PaperMeta(
        id=got.base,
        version=got.version,
        title=_clean_text(r.title) or got.base,
        authors=[a.name for a in r.authors],
        abstract=_clean_text(r.summary) or "",
        categories=list(r.categories),
        primary_category=r.primary_category or None,
        published=_date(r.published),
        updated=_date(r.updated),
        doi=doi,
        comments=_clean_text(r.comment),
        journal_ref=_clean_text(r.journal_ref),
    )


def local_file(path: str | Path) -> Download:
    """A file the user gave (--pdf/--source), with its sha256."""
    p = Path(path)
    if p.is_dir():
        return Download(p, "", 0)
    return Download(p, _sha256_file(p), p.stat().st_size)
