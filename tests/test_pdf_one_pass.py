"""One parse of a PDF for its text and its tables: the same results as two separate reads,
one sandboxed child, each content stream (page or form) parsed once."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

import repro.literature.pdftext as pdftext
from repro.literature.extract.tables import tables_from_pdf
from repro.literature.pdftext import pdf_pages, pdf_pages_and_tables
from repro.literature.sandbox import SandboxMemoryError

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures"


def _table_ops(y0: float) -> bytes:
    """A caption, a header, two rows of numbers and booktabs-like rules, in Helvetica /F1."""
    ops = [f"BT /F1 10 Tf 100 {y0} Td (Table 1: Accuracy of the two models.) Tj ET",
           f"100 {y0 - 8} m 400 {y0 - 8} l S",
           f"BT /F1 10 Tf 100 {y0 - 20} Td (Model) Tj 150 0 Td (Dev) Tj 80 0 Td (Test) Tj ET",
           f"100 {y0 - 26} m 400 {y0 - 26} l S"]
    y = y0 - 40
    for name, a, b in [("Baseline", "81.2", "77.5"), ("Ours", "85.1", "80.3")]:
        ops.append(f"BT /F1 10 Tf 100 {y} Td ({name}) Tj 150 0 Td ({a}) Tj 80 0 Td ({b}) Tj ET")
        y -= 14
    return "\n".join(ops).encode()


def _pdf_with_forms(path: Path) -> Path:
    """Two pages, each showing a text-less form (a plot's marker) three times and the table
    inside a second form; page text around it."""
    from pypdf import PdfWriter
    from pypdf.generic import (ArrayObject, DecodedStreamObject, DictionaryObject, FloatObject, NameObject)

    w = PdfWriter()
    font = w._add_object(DictionaryObject({NameObject("/Type"): NameObject("/Font"),
                                           NameObject("/Subtype"): NameObject("/Type1"),
                                           NameObject("/BaseFont"): NameObject("/Helvetica")}))
    fonts = DictionaryObject({NameObject("/F1"): font})

    def form(data: bytes, resources: DictionaryObject | None = None):
        s = DecodedStreamObject()
        s.set_data(data)
        s[NameObject("/Type")] = NameObject("/XObject")
        s[NameObject("/Subtype")] = NameObject("/Form")
        s[NameObject("/BBox")] = ArrayObject([FloatObject(v) for v in (0, 0, 612, 792)])
        if resources is not None:
            s[NameObject("/Resources")] = resources
        return w._add_object(s)

    marker = form(b"0 0 m 2 2 l S 1 1 2 2 re f")
    table = form(_table_ops(600), DictionaryObject({NameObject("/Font"): fonts}))
    for k in range(2):
        page = w.add_blank_page(612, 792)
        page[NameObject("/Resources")] = DictionaryObject({
            NameObject("/Font"): fonts,
            NameObject("/XObject"): DictionaryObject({NameObject("/M"): marker, NameObject("/T"): table})})
        content = DecodedStreamObject()
        content.set_data(f"BT /F1 10 Tf 100 700 Td (Page {k + 1}: we train with a learning rate of 0.001.) Tj ET\n"
                         "q 1 0 0 1 50 50 cm /M Do Q q 1 0 0 1 60 50 cm /M Do Q q 1 0 0 1 70 50 cm /M Do Q\n"
                         "/T Do".encode())
        page[NameObject("/Contents")] = w._add_object(content)
    with open(path, "wb") as f:
        w.write(f)
    return path


def test_one_child_gives_the_text_and_tables_of_two_separate_reads(tmp_path, monkeypatch):
    pdf = _pdf_with_forms(tmp_path / "forms.pdf")
    text, tables = pdf_pages(pdf), tables_from_pdf(str(pdf))
    started = []
    real_popen = subprocess.Popen

    def popen(*a, **k):
        started.append(a)
        return real_popen(*a, **k)

    monkeypatch.setattr(subprocess, "Popen", popen)
    pages, found, failed = pdf_pages_and_tables(pdf)
    assert len(started) == 1
    assert failed is None
    assert pages == text and "learning rate of 0.001" in pages[1] and "85.1" in pages[0]
    assert repr(found) == repr(tables)
    (t,) = found
    assert t.columns == ["Dev", "Test"]
    assert {label: [c.value for c in cells] for label, cells in t.rows} == {
        "Baseline": [81.2, 77.5], "Ours": [85.1, 80.3]}


def test_each_stream_is_parsed_once_however_often_it_is_shown(tmp_path, monkeypatch):
    # 2 pages + 2 forms; the old reader parsed every page and every `Do` again in each pass
    import pypdf.generic

    pdf = _pdf_with_forms(tmp_path / "forms.pdf")
    parsed = []
    real = pypdf.generic.ContentStream

    class Counting(real):
        def __init__(self, stream, *a, **k):
            parsed.append(stream)
            super().__init__(stream, *a, **k)

    monkeypatch.setattr(pypdf.generic, "ContentStream", Counting)
    (t,) = tables_from_pdf(str(pdf))
    assert t.number == "1" and len(t.rows) == 2
    assert len(parsed) == 4


def test_text_is_read_alone_when_the_one_pass_child_fails(tmp_path, monkeypatch):
    pdf = _pdf_with_forms(tmp_path / "forms.pdf")
    real = pdftext.run_sandboxed

    def run(func, *a, **k):
        if func is pdftext._read_pdf:
            raise SandboxMemoryError("reading the PDF and its tables needed more than 3072 MB of memory")
        return real(func, *a, **k)

    monkeypatch.setattr(pdftext, "run_sandboxed", run)
    pages, found, failed = pdf_pages_and_tables(pdf)
    assert "learning rate of 0.001" in pages[0]
    assert found is None and "3072 MB" in failed


def test_fixture_text_unchanged_by_sharing_parsed_streams():
    # pypdf's own extract_text, given the streams the table reader parsed, reads the same text
    pdf = FIXTURES / "papers" / "1509.09292" / "paper.pdf"
    if not pdf.is_file():
        pytest.skip("../shared/fixtures is absent")
    pages, found, failed = pdftext._read_pdf(str(pdf))
    assert failed is None and found
    assert pages == pdftext._read_pdf(str(pdf), with_tables=False)[0]


def test_new_paper_is_a_library_call(tmp_path, capsys):
    # issue 20: the `repro new` flow without click: a record back, messages to the callbacks
    from repro.errors import PaperFolderError
    from repro.literature.newpaper import NewPaper, new_paper

    pdf = _pdf_with_forms(tmp_path / "forms.pdf")
    said, warned = [], []
    out = new_paper(None, "forms", pdf, None, offline=True, papers_dir=tmp_path / "papers",
                    log=said.append, warn=warned.append)
    assert isinstance(out, NewPaper)
    assert out.result.path == tmp_path / "papers" / "forms"
    assert [t.number for t in out.tables] == ["1"]
    assert {c["value"] for c in out.result.claims if c.get("value") is not None} >= {85.1, 80.3}
    assert any("no arXiv metadata" in w for w in warned)
    assert capsys.readouterr().err == ""  # nothing printed: the command prints, the library does not
    with pytest.raises(PaperFolderError):
        new_paper(None, "forms", pdf, None, offline=True, papers_dir=tmp_path / "papers")
