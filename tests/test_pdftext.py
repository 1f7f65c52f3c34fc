"""PDF text in the sandbox (real paper, damaged/encrypted/empty files), the sandbox itself, links."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from repro.errors import PdfError, UsageError
from repro.literature.links import classify, find_links
from repro.literature.pdftext import pdf_pages, read_text_file, write_text_file
from repro.literature.sandbox import SandboxError, SandboxMemoryError, SandboxTimeout, run_sandboxed

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures"


@pytest.fixture
def real_pdf() -> Path:
    p = FIXTURES / "papers" / "1706.03762" / "paper.pdf"
    if not p.is_file():
        pytest.skip("../shared/fixtures is absent")
    return p


# -- the sandbox (functions at module level so the child can import them) ---------------

def _add(a, b):
    return a + b


def _sleep(s):
    time.sleep(s)


def _hog():
    blocks = []
    while True:
        blocks.append(bytearray(50 * 1024 * 1024))


def _segfault():
    os.kill(os.getpid(), signal.SIGSEGV)


def _user_error():
    raise UsageError("bad thing", hint="do the other thing", where="x.yaml:3")


def _bug():
    raise KeyError("oops")


def _print_and_return():
    print("noise on stdout must not corrupt the answer")
    return {"ok": [1, 2, 3]}


def test_sandbox_returns_values_and_ignores_stdout():
    assert run_sandboxed(_add, 2, b=3) == 5
    assert run_sandboxed(_print_and_return) == {"ok": [1, 2, 3]}


def test_sandbox_timeout_kills_the_child():
    t0 = time.monotonic()
    with pytest.raises(SandboxTimeout, match="did not finish within 1 s"):
        run_sandboxed(_sleep, 30, timeout_s=1)
    assert time.monotonic() - t0 < 10


def test_sandbox_memory_limit():
    with pytest.raises(SandboxMemoryError, match="more than 300 MB") as e:
        run_sandboxed(_hog, memory_mb=300, timeout_s=60)
    assert "bomb" in e.value.hint


def test_sandbox_crash_and_bugs_are_clear_errors():
    with pytest.raises(SandboxError, match="crashed"):
        run_sandboxed(_segfault)
    with pytest.raises(SandboxError, match="KeyError: 'oops'"):
        run_sandboxed(_bug)


def test_sandbox_passes_repro_errors_through_with_hint_and_where():
    with pytest.raises(UsageError) as e:
        run_sandboxed(_user_error)
    assert (e.value.message, e.value.hint, e.value.where) == ("bad thing", "do the other thing", "x.yaml:3")


# -- PDF text ---------------------------------------------------------------------------

def test_real_paper_pages(real_pdf, tmp_path):
    pages = pdf_pages(real_pdf)
    assert len(pages) == 15
    assert "Attention Is All You Need" in pages[0]
    assert "28.4" in pages[0]  # the abstract's BLEU
    assert "Table 2" in pages[7] and "41.8" in pages[7]  # Table 2 is on page 8
    write_text_file(tmp_path / "paper.txt", pages)
    back = read_text_file(tmp_path / "paper.txt")
    assert len(back) == 15 and back[7].strip() == pages[7].strip()


def test_empty_and_non_pdf_files(tmp_path):
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    with pytest.raises(PdfError, match="empty"):
        pdf_pages(empty)
    html = tmp_path / "x.pdf"
    html.write_text("<html>not found</html>")
    with pytest.raises(PdfError, match="not a PDF") as e:
        pdf_pages(html)
    assert e.value.where == str(html)
    with pytest.raises(PdfError, match="no PDF file"):
        pdf_pages(tmp_path / "missing.pdf")


@pytest.mark.parametrize("fraction", [0.5, 0.05])
def test_truncated_real_pdf(real_pdf, tmp_path, fraction):
    data = real_pdf.read_bytes()
    cut = tmp_path / "cut.pdf"
    cut.write_bytes(data[: int(len(data) * fraction)])
    with pytest.raises(PdfError) as e:
        pdf_pages(cut)
    assert "damaged or truncated" in e.value.message or "no text" in e.value.message


def _encrypt(src: Path, dest: Path, user_password: str) -> None:
    import pypdf

    reader = pypdf.PdfReader(src)
    writer = pypdf.PdfWriter()
    for page in reader.pages[:2]:
        writer.add_page(page)
    writer.encrypt(user_password=user_password, owner_password="owner", algorithm="RC4-128")  # AES needs `cryptography`
    with open(dest, "wb") as f:
        writer.write(f)


def test_encrypted_pdf(real_pdf, tmp_path):
    locked = tmp_path / "locked.pdf"
    _encrypt(real_pdf, locked, "secret")
    with pytest.raises(PdfError, match="encrypted") as e:
        pdf_pages(locked)
    assert "--pdf" in e.value.hint
    # Encrypted with an empty user password (print restrictions only): readable.
    open_ = tmp_path / "open.pdf"
    _encrypt(real_pdf, open_, "")
    pages = pdf_pages(open_)
    assert len(pages) == 2 and "Attention Is All You Need" in pages[0]


def test_pdf_without_text_layer(tmp_path):
    import pypdf

    w = pypdf.PdfWriter()
    w.add_blank_page(width=612, height=792)
    blank = tmp_path / "scan.pdf"
    with open(blank, "wb") as f:
        w.write(f)
    with pytest.raises(PdfError, match="no text layer") as e:
        pdf_pages(blank)
    assert "--source" in e.value.hint


@pytest.mark.slow
def test_decompression_bomb_pdf_ends_in_pdf_error(tmp_path):
    import zlib

    import pypdf
    from pypdf.generic import DecodedStreamObject, NameObject

    # One page whose content stream inflates from ~300 KB to 300 MB.
    w = pypdf.PdfWriter()
    page = w.add_blank_page(width=612, height=792)
    stream = DecodedStreamObject()
    stream.set_data(b"")
    stream._data = zlib.compress(b" " * (300 * 1024 * 1024), 9)
    stream[NameObject("/Filter")] = NameObject("/FlateDecode")
    page[NameObject("/Contents")] = w._add_object(stream)
    bomb = tmp_path / "bomb.pdf"
    with open(bomb, "wb") as f:
        w.write(f)
    assert bomb.stat().st_size < 2_000_000
    t0 = time.monotonic()
    # pypdf caps what it inflates, the sandbox caps memory and time: either way a PdfError, fast.
    with pytest.raises(PdfError):
        pdf_pages(bomb, memory_mb=400, timeout_s=60)
    assert time.monotonic() - t0 < 30


# -- links --------------------------------------------------------------------------------

def test_links_from_the_real_paper(real_pdf):
    pages = pdf_pages(real_pdf)
    links = find_links("\n".join(pages))
    # The PDF breaks the URL after "github.com/": it must be rejoined, not kept as a bare host.
    assert links["code"] == ["https://github.com/tensorflow/tensor2tensor"]
    tex = (FIXTURES / "papers" / "1706.03762" / "source.tex").read_text(encoding="utf-8")
    assert find_links(tex)["code"] == ["https://github.com/tensorflow/tensor2tensor"]


def test_links_classified_and_normalised():
    text = (
        "Code: https://github.com/foo/bar.git. Also see \\url{https://gitlab.com/grp/sub/proj}.\n"
        "Data at https://huggingface.co/datasets/foo/baz and https://zenodo.org/record/123,\n"
        "our project page https://foo.github.io/bar/ and website https://example.org/cool.\n"
        "References: https://doi.org/10.1/abc https://arxiv.org/abs/1706.03762 https://github.com/\n"
        "Again https://github.com/foo/bar/tree/main/src and https://github.com/\nfoo/qux)."
    )
    links = find_links(text)
    assert links["code"] == ["https://github.com/foo/bar", "https://gitlab.com/grp/sub/proj",
                             "https://github.com/foo/qux"]
    assert links["data"] == ["https://huggingface.co/datasets/foo/baz", "https://zenodo.org/record/123"]
    assert links["project"] == ["https://foo.github.io/bar/", "https://example.org/cool"]
    assert classify("https://doi.org/10.1/abc") is None
    assert classify("https://example.org/x") is None  # no hint that it is a project page
