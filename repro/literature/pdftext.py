"""The text of a PDF, page by page, read with pypdf inside the sandbox.

A PDF is untrusted input: pypdf runs in a child process with wall-time and memory limits
(sandbox.py). Empty, truncated, encrypted or text-less PDFs raise PdfError.
"""

from __future__ import annotations

from pathlib import Path

from ..atomic import atomic_write_text
from ..errors import PdfError
from .sandbox import SandboxError, run_sandboxed

MAX_PDF_BYTES = 200 * 1024 * 1024
PAGE_MARK = "\f"  # paper.txt separates pages with form feeds, like pdftotext


def _extract_pages(path: str) -> list[str]:
    """Runs in the child: every page's text (pypdf imported here, not in the parent)."""
    return _read_pdf(path, with_tables=False)[0]


def _read_pdf(path: str, with_tables: bool = True) -> tuple[list[str], list | None, str | None]:
    """Runs in the child: (every page's text, the tables or None, why the tables failed or None).

    One parse of the document serves both: the table reader's parsed content streams are
    handed to pypdf's text extraction (extract/pdf_tables.py). A failure to read the tables
    is returned as a message, not raised: the text alone still makes a paper folder."""
    import logging

    import pypdf
    from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError, PdfStreamError

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # malformed-but-readable files warn a lot
    try:
        reader = pypdf.PdfReader(path, strict=False)
        if reader.is_encrypted:
            # Many "encrypted" PDFs only restrict printing and open with the empty password.
            try:
                ok = reader.decrypt("")
            except (NotImplementedError, PdfReadError) as e:
                raise PdfError(f"the PDF is encrypted and cannot be decrypted ({e})", where=path) from None
            if not ok:
                raise PdfError("the PDF is encrypted with a password", hint="give an unencrypted copy with --pdf",
                               where=path)
        n = len(reader.pages)
        if n == 0:
            raise PdfError("the PDF has no pages", where=path)
        tables, failed = None, None
        if with_tables:
            from .extract.pdf_tables import PdfTableReader

            tables = PdfTableReader(reader)
        texts = []
        for i, page in enumerate(reader.pages):
            if tables is not None:
                try:
                    tables.read_page(i, page)
                except MemoryError:
                    raise
                except Exception as e:  # noqa: BLE001 - a table-reader bug must not cost the text
                    tables, failed = None, f"{type(e).__name__}: {e}"
            texts.append(tables.page_text(page) if tables is not None else (page.extract_text() or ""))
        found = None
        if tables is not None:
            try:
                found = tables.tables()
            except Exception as e:  # noqa: BLE001
                failed = f"{type(e).__name__}: {e}"
        return texts, found, failed
    except DependencyError as e:  # AES needs the optional `cryptography` package
        raise PdfError(f"the PDF is encrypted and cannot be read here ({e})",
                       hint="pip install cryptography, or give an unencrypted copy with --pdf", where=path) from None
    except FileNotDecryptedError:
        raise PdfError("the PDF is encrypted with a password", hint="give an unencrypted copy with --pdf",
                       where=path) from None
    except (PdfReadError, PdfStreamError, ValueError, KeyError, TypeError, AttributeError,
            IndexError, AssertionError) as e:
        raise PdfError(f"the PDF is damaged or truncated ({type(e).__name__}: {e})",
                       hint="download it again, or give another copy with --pdf", where=path) from None


def check_pdf_file(path: str | Path, max_bytes: int = MAX_PDF_BYTES) -> Path:
    """Cheap checks before parsing: exists, not empty, not huge, starts like a PDF."""
    p = Path(path)
    if not p.is_file():
        raise PdfError(f"no PDF file at {p}", where=str(p))
    size = p.stat().st_size
    if size == 0:
        raise PdfError("the PDF file is empty", where=str(p))
    if size > max_bytes:
        raise PdfError(f"the PDF is {size / 1e6:.0f} MB, over the {max_bytes / 1e6:.0f} MB limit", where=str(p))
    with p.open("rb") as f:
        head = f.read(1024)
    if b"%PDF-" not in head:
        raise PdfError("not a PDF (no %PDF- header)", hint="check the file given with --pdf", where=str(p))
    return p


def pdf_pages(path: str | Path, *, timeout_s: float = 120.0, memory_mb: int = 2048) -> list[str]:
    """Text of each page (1-based page i is element i-1); PdfError on any failure."""
    p = check_pdf_file(path)
    try:
        pages = run_sandboxed(_extract_pages, str(p), timeout_s=timeout_s, memory_mb=memory_mb,
                              what=f"reading the PDF {p.name}")
    except PdfError:
        raise
    except SandboxError as e:
        raise PdfError(e.message, hint=e.hint, where=str(p)) from None
    return _with_text(pages, p)


def pdf_pages_and_tables(path: str | Path, *, timeout_s: float = 300.0, memory_mb: int = 3072
                         ) -> tuple[list[str], list | None, str | None]:
    """(text of each page, the PDF's tables or None, why the tables failed or None).

    One sandboxed child parses the PDF once for both (two children parsed it twice and
    paid two interpreter starts). The text is what `pdf_pages` gives, and a PdfError the
    same; when the child runs out of time or memory the text is read again alone, so a PDF
    too big for the table reader still gives its text, and the tables are reported failed."""
    p = check_pdf_file(path)
    try:
        pages, tables, failed = run_sandboxed(_read_pdf, str(p), timeout_s=timeout_s, memory_mb=memory_mb,
                                              what=f"reading the PDF {p.name} and its tables")
    except PdfError:
        raise
    except SandboxError as e:
        return pdf_pages(p), None, e.message
    return _with_text(pages, p), tables, failed


def _with_text(pages: list[str], p: Path) -> list[str]:
    if not any(t.strip() for t in pages):
        raise PdfError(
            "the PDF has no text layer (a scan?)",
            hint="give the LaTeX source with --source, or an OCR'd PDF",
            where=str(p),
        )
    return pages


def write_text_file(path: str | Path, pages: list[str]) -> None:
    """paper.txt: the pages separated by form feeds, for reading and grepping."""
    atomic_write_text(path, PAGE_MARK.join(t.rstrip() + "\n" for t in pages))


def read_text_file(path: str | Path) -> list[str]:
    return Path(path).read_text(encoding="utf-8").split(PAGE_MARK)
