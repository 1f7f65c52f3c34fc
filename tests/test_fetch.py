"""arXiv metadata and downloads against a loopback server serving real recorded arXiv answers."""

from __future__ import annotations

import io
import json
import socket
import tarfile
import time

import pytest

from helpers.arxiv_server import ArxivServer, recorded_answers
from repro.literature.arxiv_ids import ArxivId, parse_arxiv_id
from repro.errors import ArxivIdError, FetchError, NotFoundError, PdfError
from repro.literature.fetch import Fetcher, PaperMeta


@pytest.fixture
def server():
    s = ArxivServer(recorded_answers())
    yield s
    s.close()


def test_ordinary_id_gives_full_metadata(server, tmp_path):
    meta = server.fetcher(tmp_path).metadata(parse_arxiv_id("1605.08386"))
    assert meta.id == "1605.08386" and meta.version == 1
    assert meta.title == "Heat-bath random walks with Markov bases"
    assert meta.authors == ["Caprice Stanley", "Tobias Windisch"]
    assert meta.categories == ["math.CO", "math.ST"] and meta.primary_category == "math.CO"
    assert meta.published == "2016-05-26" and meta.updated == "2016-05-26"
    assert meta.comments == "20 pages, 3 figures"
    assert meta.abstract.startswith("Graphs on lattice points are studied")
    assert meta.doi is None


def test_versioned_id_keeps_its_version_and_missing_comment_is_none(server, tmp_path):
    meta = server.fetcher(tmp_path).metadata(parse_arxiv_id("https://arxiv.org/abs/2104.12255v1"))
    assert (meta.id, meta.version, meta.title) == ("2104.12255", 1, "0")
    assert meta.comments is None
    assert meta.authors == ["Quan Thoi Minh Nguyen"]


@pytest.mark.parametrize("raw, base, folder", [
    ("astro-ph/0601001", "astro-ph/0601001", "astro-ph_0601001"),
    ("quant-ph/0201082v1", "quant-ph/0201082", "quant-ph_0201082"),
])
def test_old_style_ids(server, tmp_path, raw, base, folder):
    f = server.fetcher(tmp_path)
    meta = f.metadata(parse_arxiv_id(raw))
    assert meta.id == base and meta.version == 1
    assert meta.arxiv_id.folder == folder
    # The cache path is built from the normalised id: one folder level, no slash.
    assert (tmp_path / "arxiv" / folder / "v1" / "meta.json").is_file()
    assert not (tmp_path / "arxiv" / base.split("/")[0]).exists()


def test_nonexistent_id_is_not_found(server, tmp_path):
    # 0000.0000 fails our own month check, so the recorded answer is asked for directly.
    with pytest.raises(NotFoundError) as e:
        server.fetcher(tmp_path).metadata(ArxivId("0000.0000", None))
    assert "no paper 0000.0000" in e.value.message and e.value.hint
    assert not (tmp_path / "arxiv").exists()  # nothing half-written


def test_malformed_id_rejected_by_arxiv(server, tmp_path):
    # "abc" never gets past parse_arxiv_id; the recorded HTTP 400 answer still maps cleanly.
    with pytest.raises(ArxivIdError):
        parse_arxiv_id("abc")
    with pytest.raises(ArxivIdError) as e:
        server.fetcher(tmp_path).metadata(ArxivId("abc", None))
    assert "400" in e.value.message
    assert len(server.requests) == 1  # a 4xx is not retried


def test_5xx_is_retried_then_succeeds(server, tmp_path):
    server.fail = [503, 502]
    meta = server.fetcher(tmp_path, retries=3).metadata(parse_arxiv_id("1707.08567"))
    assert meta.title.startswith("Proceedings of Workshop AEW10")
    assert len(meta.authors) > 10
    assert len(server.requests) == 3


def test_5xx_every_time_gives_its_own_error(server, tmp_path):
    server.fail = [503] * 10
    with pytest.raises(FetchError) as e:
        server.fetcher(tmp_path, retries=2).metadata(parse_arxiv_id("1707.08567"))
    assert not isinstance(e.value, NotFoundError)
    assert "HTTP 503" in e.value.message and "trouble" in e.value.message
    assert len(server.requests) == 3
    assert not (tmp_path / "arxiv").exists()


def test_timeout_is_a_network_failure(server, tmp_path):
    server.sleep_s = 1.5
    t0 = time.monotonic()
    with pytest.raises(FetchError) as e:
        server.fetcher(tmp_path, timeout_s=0.3, retries=1).metadata(parse_arxiv_id("1605.08386"))
    assert "network failure" in e.value.message and "0.3 s" in e.value.message
    assert time.monotonic() - t0 < 10


def test_connection_refused_is_a_network_failure(tmp_path):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    f = Fetcher(api_url=f"http://127.0.0.1:{port}/api/query", base_url=f"http://127.0.0.1:{port}",
                cache_dir=tmp_path, timeout_s=1, retries=1, backoff_s=0.01, delay_s=0)
    with pytest.raises(FetchError) as e:
        f.metadata(parse_arxiv_id("1605.08386"))
    assert "refused the connection" in e.value.message and "--offline" in e.value.hint
    assert not (tmp_path / "arxiv").exists()


def test_requests_are_spaced_by_the_delay(server, tmp_path):
    f = server.fetcher(tmp_path, delay_s=0.4)
    t0 = time.monotonic()
    f.metadata(parse_arxiv_id("1605.08386"))
    f.metadata(parse_arxiv_id("1707.08567"))
    f.metadata(parse_arxiv_id("2104.12255v1"))
    assert time.monotonic() - t0 >= 0.8


def _meta(version=1) -> PaperMeta:
    return PaperMeta(id="1605.08386", version=version, title="t", authors=[], abstract="", categories=[])


def test_pdf_download_is_cached_verified_and_reused(server, tmp_path):
    pdf = b"%PDF-1.4\n" + b"x" * 5000
    server.files["/pdf/1605.08386v1"] = pdf
    f = server.fetcher(tmp_path)
    dl = f.pdf(_meta())
    assert dl.path.read_bytes() == pdf and not dl.cached
    manifest = json.loads((dl.path.parent / "manifest.json").read_text())
    import hashlib
    assert manifest["paper.pdf"]["sha256"] == hashlib.sha256(pdf).hexdigest() == dl.sha256
    n = len(server.requests)
    again = f.pdf(_meta())
    assert again.cached and len(server.requests) == n
    # A corrupted cache file is noticed through the sha256 and fetched again.
    dl.path.write_bytes(b"%PDF-1.4 tampered")
    fixed = f.pdf(_meta())
    assert not fixed.cached and fixed.path.read_bytes() == pdf
    # Offline: served from the cache, no request.
    n = len(server.requests)
    off = server.fetcher(tmp_path, offline=True)
    assert off.pdf(_meta()).cached and len(server.requests) == n


def test_pdf_over_the_cap_and_non_pdf_are_refused(server, tmp_path):
    server.files["/pdf/1605.08386v1"] = b"%PDF-1.4\n" + b"x" * 5000
    with pytest.raises(FetchError, match="over the"):
        server.fetcher(tmp_path, max_pdf_bytes=1000).pdf(_meta())
    server.files["/pdf/1605.08386v1"] = b"<html>this paper is not available</html>"
    with pytest.raises(PdfError, match="not a PDF"):
        server.fetcher(tmp_path).pdf(_meta())
    assert not (tmp_path / "arxiv" / "1605.08386" / "v1" / "paper.pdf").exists()


def test_source_absent_or_present(server, tmp_path):
    f = server.fetcher(tmp_path)
    assert f.source(_meta()) is None  # 404: arXiv has no source
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        data = b"\\documentclass{article}\\begin{document}hi\\end{document}"
        info = tarfile.TarInfo("main.tex")
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    server.files["/src/1605.08386v2"] = buf.getvalue()
    dl = f.source(_meta(2))
    assert dl is not None and dl.path.read_bytes() == buf.getvalue()


def test_offline_metadata_comes_from_the_cache(server, tmp_path):
    online = server.fetcher(tmp_path).metadata(parse_arxiv_id("1605.08386"))
    n = len(server.requests)
    off = server.fetcher(tmp_path, offline=True)
    assert off.metadata(parse_arxiv_id("1605.08386")) == online
    assert off.metadata(parse_arxiv_id("1605.08386v1")) == online
    assert len(server.requests) == n
    with pytest.raises(FetchError, match="not in the cache"):
        off.metadata(parse_arxiv_id("1707.08567"))

