"""Safe extraction of LaTeX sources: traversal, links, bombs, caps; finding the main file."""

from __future__ import annotations

import gzip
import io
import tarfile
from pathlib import Path

import pytest

from repro.literature.archive import extract_source, find_main_tex, flatten_tex, read_source_tex
from repro.errors import SourceArchiveError

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures"
MAIN = b"\\documentclass{article}\n\\begin{document}\n\\input{sections/intro}\n\\end{document}\n"


def make_tar(path: Path, members: list[tuple[str, bytes | None, bytes]], mode: str = "w:gz") -> Path:
    """members: (name, data or None, type) with type tarfile.REGTYPE/SYMTYPE/LNKTYPE/..."""
    with tarfile.open(path, mode) as tf:
        for name, data, kind in members:
            info = tarfile.TarInfo(name)
            info.type = kind
            if kind in (tarfile.SYMTYPE, tarfile.LNKTYPE):
                info.linkname = data.decode()
                tf.addfile(info)
            elif kind == tarfile.REGTYPE:
                info.size = len(data)
                tf.addfile(info, io.BytesIO(data))
            else:
                tf.addfile(info)
    return path


def test_tar_gz_extracts_and_main_file_is_flattened(tmp_path):
    src = make_tar(tmp_path / "s.tar.gz", [
        ("./main.tex", MAIN, tarfile.REGTYPE),
        ("sections/", None, tarfile.DIRTYPE),
        ("sections/intro.tex", b"Hello \\input{sections/deeper} % \\input{sections/missing}\n", tarfile.REGTYPE),
        ("sections/deeper.tex", b"deep text\n", tarfile.REGTYPE),
        ("fig.png", b"\x89PNG", tarfile.REGTYPE),
    ])
    dest = extract_source(src, tmp_path / "out")
    assert (dest / "sections" / "intro.tex").is_file() and (dest / "fig.png").read_bytes() == b"\x89PNG"
    assert find_main_tex(dest) == dest / "main.tex"
    text = flatten_tex(dest / "main.tex", dest)
    assert "Hello deep text" in text and "\\input{sections/intro}" not in text
    assert "% \\input{sections/missing}" in text  # commented-out input left alone
    assert read_source_tex(dest) == text


@pytest.mark.parametrize("name, kind, link, what", [
    ("../evil.tex", tarfile.REGTYPE, None, "outside"),
    ("a/../../evil.tex", tarfile.REGTYPE, None, "outside"),
    ("/etc/evil.tex", tarfile.REGTYPE, None, "absolute"),
    ("link.tex", tarfile.SYMTYPE, b"/etc/passwd", "link"),
    ("hard.tex", tarfile.LNKTYPE, b"main.tex", "link"),
    ("fifo", tarfile.FIFOTYPE, None, "special"),
    ("dev", tarfile.CHRTYPE, None, "special"),
])
def test_unsafe_members_are_refused_and_nothing_is_left(tmp_path, name, kind, link, what):
    data = b"x" if kind == tarfile.REGTYPE else link
    src = make_tar(tmp_path / "s.tar.gz", [("main.tex", MAIN, tarfile.REGTYPE), (name, data, kind)])
    with pytest.raises(SourceArchiveError, match=what):
        extract_source(src, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert not (tmp_path / "evil.tex").exists()


def test_decompression_bomb_is_stopped(tmp_path):
    chunk = b"\0" * (512 * 1024)  # compresses to almost nothing
    members = [(f"a{i}.tex", chunk, tarfile.REGTYPE) for i in range(6)]
    src = make_tar(tmp_path / "bomb.tar.gz", members)
    assert src.stat().st_size < 50_000
    # Each member is under the cap; their sum, counted as they decompress, is not.
    with pytest.raises(SourceArchiveError, match="expands to more than 1 MB"):
        extract_source(src, tmp_path / "out", max_bytes=1024 * 1024)
    assert not (tmp_path / "out").exists()
    one = make_tar(tmp_path / "one.tar.gz", [("big.tex", chunk * 4, tarfile.REGTYPE)])
    with pytest.raises(SourceArchiveError, match="declares"):
        extract_source(one, tmp_path / "out", max_bytes=1024 * 1024)


def test_gzipped_single_file_bomb_is_stopped(tmp_path):
    src = tmp_path / "one.gz"
    src.write_bytes(gzip.compress(b"%" * (3 * 1024 * 1024)))
    with pytest.raises(SourceArchiveError, match="expands"):
        extract_source(src, tmp_path / "out", max_bytes=1024 * 1024)


def test_file_count_cap(tmp_path):
    src = make_tar(tmp_path / "many.tar", [(f"f{i}.tex", b"x", tarfile.REGTYPE) for i in range(30)], mode="w")
    with pytest.raises(SourceArchiveError, match="more than 10 files"):
        extract_source(src, tmp_path / "out", max_files=10)


def test_a_single_gzipped_tex_is_a_valid_source(tmp_path):
    src = tmp_path / "1706.03762v7"  # arXiv's download has no extension
    src.write_bytes(gzip.compress(MAIN.replace(b"\\input{sections/intro}", b"Body")))
    dest = extract_source(src, tmp_path / "out")
    assert (dest / "main.tex").read_bytes().startswith(b"\\documentclass")
    assert "Body" in read_source_tex(dest)


def test_pdf_served_as_source_means_no_source(tmp_path):
    src = tmp_path / "src"
    src.write_bytes(b"%PDF-1.5\n...")
    assert extract_source(src, tmp_path / "out") is None
    assert not (tmp_path / "out").exists()


def test_damaged_archive_and_wrong_file_type(tmp_path):
    good = make_tar(tmp_path / "s.tar.gz", [("main.tex", MAIN * 200, tarfile.REGTYPE)]).read_bytes()
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(good[: len(good) // 2])
    with pytest.raises(SourceArchiveError, match="damaged|truncated"):
        extract_source(cut, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    other = tmp_path / "notes.docx"
    other.write_bytes(b"PK\x03\x04 not latex")
    with pytest.raises(SourceArchiveError, match="neither a .tex"):
        extract_source(other, tmp_path / "out2")


def test_folder_source_skips_links(tmp_path):
    folder = tmp_path / "paper"
    (folder / "sec").mkdir(parents=True)
    (folder / "main.tex").write_bytes(MAIN.replace(b"sections/intro", b"sec/a"))
    (folder / "sec" / "a.tex").write_text("section A\n")
    secret = tmp_path / "secret.tex"
    secret.write_text("SECRET")
    (folder / "sec" / "leak.tex").symlink_to(secret)
    dest = extract_source(folder, tmp_path / "out")
    assert not (dest / "sec" / "leak.tex").exists()
    assert "section A" in read_source_tex(dest)


def test_flatten_does_not_escape_the_source_folder(tmp_path):
    (tmp_path / "outside.tex").write_text("OUTSIDE")
    root = tmp_path / "src"
    root.mkdir()
    (root / "main.tex").write_text("\\documentclass{x}\\begin{document}\\input{../outside}\\end{document}")
    (root / "self.tex").write_text("\\input{self}")
    assert "OUTSIDE" not in flatten_tex(root / "main.tex", root)
    assert flatten_tex(root / "self.tex", root) == "\\input{self}"  # no infinite recursion


def test_real_paper_source_as_tar_gz(tmp_path):
    tex = FIXTURES / "papers" / "1706.03762" / "source.tex"
    if not tex.is_file():
        pytest.skip("../shared/fixtures is absent")
    src = make_tar(tmp_path / "1706.tar.gz", [("ms.tex", tex.read_bytes(), tarfile.REGTYPE)])
    text = read_source_tex(extract_source(src, tmp_path / "out"))
    assert text == tex.read_text(encoding="utf-8")
    assert "\\begin{table}" in text and "Attention Is All You Need" in text
