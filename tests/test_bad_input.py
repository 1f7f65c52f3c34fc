"""Issue 7, item 6: bad input is explained (message, hint, where), exits non-zero and writes
nothing half-done. Function-level checks for every public entry point that takes user or
internet input, and the same mistakes through the `repro` command line.
"""

from __future__ import annotations

import gzip
import io
import json
import socket
import tarfile
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from helpers.cli import run_repro
from repro.literature.archive import extract_source
from repro.literature.arxiv_ids import ArxivId, parse_arxiv_id
from repro.claims import load_claims
from repro.configs import resolve_configs
from repro.errors import (ArxivIdError, ClaimsError, ConfigError, FetchError, NotFoundError,
                          PaperFolderError, PdfError, ReproError, SourceArchiveError, YamlError)
from repro.literature.fetch import Fetcher
from repro.paper import load_paper
from repro.literature.pdftext import pdf_pages
from repro.yamlio import load_mapping
from helpers.tinypaper import make_tiny_paper

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures"
PID = "0000.00001"


def explained(e: ReproError) -> None:
    """A user-facing error: a message, an exit code that is not 0."""
    assert e.message and e.exit_code != 0 and "Traceback" not in str(e)


# -- arXiv ids ------------------------------------------------------------------------------
@pytest.mark.parametrize("raw", [
    "", "   ", "abc", "1706.0376", "1706.037621", "1713.03762", "0001.0001", "1706.03762v0",
    "https://example.com/abs/1706.03762", "ftp://arxiv.org/abs/1706.03762", "https://arxiv.org/list/cs.LG",
    "../../etc/passwd", "1706.03762/../../x", "hep-th/99010011", "1706.03762 v2", "1706.\x0003762", "x" * 10_000,
])
def test_malformed_arxiv_ids_are_rejected_with_an_example(raw):
    with pytest.raises(ArxivIdError) as e:
        parse_arxiv_id(raw)
    explained(e.value)
    assert "is not an arXiv id" in e.value.message and "1706.03762" in e.value.hint
    assert len(e.value.message) < 300  # a 10 kB paste is not echoed back in full


def test_malformed_id_on_the_command_line_exits_2_and_writes_nothing(tmp_path):
    r = run_repro("new", "17o6.03762", cwd=tmp_path, env={"REPRO_CACHE": str(tmp_path / "cache")})
    assert r.returncode == 2 and "is not an arXiv id" in r.stderr and "hint:" in r.stderr
    assert "Traceback" not in r.stderr
    assert list(tmp_path.iterdir()) == []


# -- arXiv over HTTP ------------------------------------------------------------------------
class _Server:
    """Loopback HTTP server answering every request with `status` and `body`."""

    def __init__(self, status: int, body: bytes = b"") -> None:
        self.status, self.body, self.hits = status, body, 0
        me = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                me.hits += 1
                self.send_response(me.status)
                self.send_header("Content-Length", str(len(me.body)))
                self.end_headers()
                self.wfile.write(me.body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def fetcher(self, cache: Path) -> Fetcher:
        return Fetcher(api_url=self.url + "/api/query", base_url=self.url, cache_dir=cache,
                       timeout_s=2, retries=0, backoff_s=0, delay_s=0)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.mark.parametrize("status, error, words", [
    (400, ArxivIdError, "malformed"),
    (404, NotFoundError, "not found"),
    (403, FetchError, "HTTP 403"),
    (500, FetchError, "HTTP 500"),
    (503, FetchError, "trouble"),
])
def test_http_errors_each_have_their_own_message(tmp_path, status, error, words):
    s = _Server(status, b"<html>nope</html>")
    try:
        with pytest.raises(error) as e:
            s.fetcher(tmp_path / "cache").metadata(parse_arxiv_id("1706.03762"))
    finally:
        s.close()
    explained(e.value)
    assert words in e.value.message and "1706.03762" in e.value.message
    assert not (tmp_path / "cache" / "arxiv").exists()  # nothing half-written


def test_network_down_is_a_network_failure_with_an_offline_hint(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nobody listens here
    f = Fetcher(api_url=f"http://127.0.0.1:{port}/api/query", base_url=f"http://127.0.0.1:{port}",
                cache_dir=tmp_path / "cache", timeout_s=1, retries=0, delay_s=0)
    with pytest.raises(FetchError) as e:
        f.metadata(parse_arxiv_id("1706.03762"))
    explained(e.value)
    assert e.value.exit_code == 3 and "network failure" in e.value.message and "--offline" in e.value.hint
    assert not (tmp_path / "cache" / "arxiv").exists()


def test_nonexistent_id_is_not_found(tmp_path):
    rec = sorted((FIXTURES / "arxiv").glob("id_0000.0000_*.json")) if FIXTURES.is_dir() else []
    if not rec:
        pytest.skip("../shared/fixtures is absent")
    s = _Server(200, json.loads(rec[0].read_text())["body"].encode())
    try:
        with pytest.raises(NotFoundError) as e:
            s.fetcher(tmp_path / "cache").metadata(ArxivId("1706.99999", None))
    finally:
        s.close()
    explained(e.value)
    assert "no paper 1706.99999" in e.value.message and e.value.hint


def test_html_instead_of_a_pdf_is_refused_and_not_cached(tmp_path):
    from repro.literature.fetch import PaperMeta

    s = _Server(200, b"<html>this paper is being built</html>")
    meta = PaperMeta(id="1706.03762", version=5, title="t", authors=[], abstract="", categories=[])
    try:
        with pytest.raises(PdfError) as e:
            s.fetcher(tmp_path / "cache").pdf(meta)
    finally:
        s.close()
    explained(e.value)
    assert "not a PDF" in e.value.message
    assert not list((tmp_path / "cache").rglob("paper.pdf"))


# -- PDFs ---------------------------------------------------------------------------------------
def _pdf(content: bytes, *, flate: bool = False) -> bytes:
    """A one-page PDF whose page draws `content` (built by hand: no PDF library needed)."""
    stream = zlib.compress(content, 9) if flate else content
    extra = b" /Filter /FlateDecode" if flate else b""
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 200] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d%s >>\nstream\n" % (len(stream), extra) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


TEXT = b"BT /F1 12 Tf 20 100 Td (Accuracy 95.3 on the test set) Tj ET"


def test_a_hand_made_pdf_reads_so_the_failures_below_are_real(tmp_path):
    f = tmp_path / "ok.pdf"
    f.write_bytes(_pdf(TEXT))
    assert "95.3" in pdf_pages(f, timeout_s=60)[0]


@pytest.mark.parametrize("name, data, words", [
    ("empty", b"", "empty"),
    ("not-a-pdf", b"<html><body>Sorry</body></html>", "not a PDF"),
    ("truncated", _pdf(TEXT)[:40], ""),
    ("no-text", _pdf(b"0 0 m 10 10 l S"), "no text layer"),
])
def test_broken_pdfs_are_explained(tmp_path, name, data, words):
    f = tmp_path / f"{name}.pdf"
    f.write_bytes(data)
    with pytest.raises(PdfError) as e:
        pdf_pages(f, timeout_s=60)
    explained(e.value)
    assert words in e.value.message and e.value.where == str(f)


def test_truncated_real_paper_is_explained(tmp_path):
    real = FIXTURES / "papers" / "1706.03762" / "paper.pdf"
    if not real.is_file():
        pytest.skip("../shared/fixtures is absent")
    f = tmp_path / "cut.pdf"
    f.write_bytes(real.read_bytes()[:5000])
    with pytest.raises(PdfError) as e:
        pdf_pages(f, timeout_s=60)
    explained(e.value)


def test_encrypted_pdf_is_explained(tmp_path):
    pypdf = pytest.importorskip("pypdf")
    src = tmp_path / "plain.pdf"
    src.write_bytes(_pdf(TEXT))
    w = pypdf.PdfWriter(clone_from=pypdf.PdfReader(src))
    w.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")
    f = tmp_path / "locked.pdf"
    with open(f, "wb") as fh:
        w.write(fh)
    with pytest.raises(PdfError) as e:
        pdf_pages(f, timeout_s=60)
    explained(e.value)
    assert "encrypted" in e.value.message and "--pdf" in e.value.hint


@pytest.mark.slow
def test_decompression_bomb_pdf_is_stopped(tmp_path):
    # 300 MB of page content squeezed into ~300 kB.
    bomb = b"BT /F1 12 Tf 20 100 Td (x) Tj ET\n" + b" " * (300 * 1024 * 1024)
    f = tmp_path / "bomb.pdf"
    f.write_bytes(_pdf(bomb, flate=True))
    assert f.stat().st_size < 2_000_000
    with pytest.raises(PdfError) as e:
        pdf_pages(f, timeout_s=60, memory_mb=400)
    explained(e.value)


# -- LaTeX source archives ------------------------------------------------------------------
def _tar(members: list[tarfile.TarInfo], data: dict[str, bytes] | None = None) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for m in members:
            body = (data or {}).get(m.name)
            if body is not None:
                m.size = len(body)
            tf.addfile(m, io.BytesIO(body) if body is not None else None)
    return buf.getvalue()


def _member(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    m = tarfile.TarInfo(name)
    m.type, m.linkname = kind, link
    return m


@pytest.mark.parametrize("members, words", [
    ([_member("main.tex"), _member("../evil.tex")], "outside"),
    ([_member("sub/../../evil.tex")], "outside"),
    ([_member("/tmp/evil.tex")], "absolute"),
    ([_member("link.tex", tarfile.SYMTYPE, "/etc/passwd")], "link"),
    ([_member("main.tex"), _member("hard.tex", tarfile.LNKTYPE, "main.tex")], "link"),
    ([_member("dev", tarfile.CHRTYPE)], "device"),
])
def test_unsafe_source_archives_are_refused_and_nothing_is_left(tmp_path, members, words):
    src = tmp_path / "src.tar.gz"
    src.write_bytes(_tar(members, {m.name: b"\\documentclass{article}" for m in members if m.isfile()}))
    dest = tmp_path / "out" / "src"
    with pytest.raises(SourceArchiveError) as e:
        extract_source(src, dest)
    explained(e.value)
    assert words in e.value.message and e.value.where == str(src) and e.value.hint
    assert not dest.exists() and not (tmp_path / "evil.tex").exists() and not (tmp_path / "out" / "evil.tex").exists()


def test_source_decompression_bomb_is_refused(tmp_path):
    src = tmp_path / "bomb.gz"
    src.write_bytes(gzip.compress(b"%" * (8 * 1024 * 1024)))
    dest = tmp_path / "src"
    with pytest.raises(SourceArchiveError) as e:
        extract_source(src, dest, max_bytes=1024 * 1024)
    assert "more than 1 MB" in e.value.message and "bomb" in e.value.hint
    assert not dest.exists()


@pytest.mark.parametrize("data", [b"\x1f\x8b\x08\x00garbage", _tar([_member("a.tex")], {"a.tex": b"x" * 5000})[:60]])
def test_damaged_source_archive_is_explained(tmp_path, data):
    src = tmp_path / "src.tar.gz"
    src.write_bytes(data)
    with pytest.raises(SourceArchiveError) as e:
        extract_source(src, tmp_path / "out")
    explained(e.value)
    assert "damaged" in e.value.message or "not a readable" in e.value.message
    assert not (tmp_path / "out").exists()


# -- paper folders, YAML, configs, claims ---------------------------------------------------------
def test_yaml_syntax_error_names_file_and_line(tmp_path):
    f = tmp_path / "base.yaml"
    f.write_text("model:\n  hidden: 8\n   lr: [0.1\n")
    with pytest.raises(YamlError) as e:
        load_mapping(f)
    explained(e.value)
    assert e.value.where.startswith(f"{f}:") and int(e.value.where.rsplit(":", 1)[1]) in (3, 4)
    assert e.value.hint


def test_yaml_that_is_not_a_mapping_or_not_utf8(tmp_path):
    f = tmp_path / "paper.yaml"
    f.write_text("- just\n- a list\n")
    with pytest.raises(YamlError, match="mapping"):
        load_mapping(f)
    f.write_bytes(b"title: \xff\xfe\n")
    with pytest.raises(YamlError, match="UTF-8"):
        load_mapping(f)


def test_unknown_config_key_suggests_the_right_one(tmp_path):
    folder = make_tiny_paper(tmp_path)
    (folder / "configs" / "method.yaml").write_text("model:\n  hiddne: 16\n")
    with pytest.raises(ConfigError) as e:
        resolve_configs(load_paper(folder))
    explained(e.value)
    assert "hiddne" in e.value.message and "'hidden'" in e.value.hint and e.value.where.endswith("method.yaml")
    (folder / "configs" / "method.yaml").write_text("modle:\n  hidden: 16\n")
    with pytest.raises(ConfigError, match="unknown section"):
        resolve_configs(load_paper(folder))
    (folder / "configs" / "method.yaml").write_text("trainer:\n  max_epoch: 3\n")
    with pytest.raises(ConfigError) as e:
        resolve_configs(load_paper(folder))
    assert "max_epochs" in e.value.hint


def test_claim_pointing_at_a_missing_config_names_claim_file_and_line(tmp_path):
    folder = make_tiny_paper(tmp_path)
    (folder / "claims.yaml").write_text(
        "claims:\n"
        "  - id: fine\n    kind: value\n    config: method\n    metric: val_acc\n    value: 0.9\n"
        "  - id: typo\n    kind: value\n    config: methdo\n    metric: val_acc\n    value: 0.9\n")
    with pytest.raises(ClaimsError) as e:
        load_claims(load_paper(folder))
    explained(e.value)
    assert "'typo'" in e.value.message and "methdo" in e.value.message and "'method'" in e.value.hint
    assert e.value.where == f"{folder / 'claims.yaml'}:9"


@pytest.mark.parametrize("missing", ["paper.yaml", "model.py", "data.py", "configs/base.yaml"])
def test_paper_folder_missing_a_file(tmp_path, missing):
    folder = make_tiny_paper(tmp_path)
    (folder / missing).unlink()
    with pytest.raises(PaperFolderError) as e:
        load_paper(folder)
    explained(e.value)
    assert missing in e.value.message and "repro new" in e.value.hint


@pytest.mark.parametrize("break_it, words", [
    (lambda f: (f / "model.py").unlink(), "missing model.py"),
    (lambda f: (f / "configs" / "base.yaml").write_text("model: [\n"), "YAML syntax error"),
    (lambda f: (f / "configs" / "method.yaml").write_text("model:\n  hiden: 3\n"), "hiden"),
    (lambda f: (f / "configs" / "ablations" / "x.yaml").write_text("resources:\n  timout_s: 3\n"), "timout_s"),
    (lambda f: (f / "paper.yaml").write_text("id: x\nreproduction:\n  seeds: [a]\n"), "seeds"),
])
def test_repro_run_on_bad_input_exits_2_with_a_hint_and_writes_nothing(tmp_path, break_it, words):
    folder = make_tiny_paper(tmp_path)
    break_it(folder)
    r = run_repro("run", f"papers/{PID}", "--no-site", cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    assert words in r.stderr and "error:" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "results").exists() and not (tmp_path / "site").exists()
