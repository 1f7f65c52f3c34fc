"""LaTeX sources: safe extraction of arXiv source archives, and the main .tex file.

arXiv's "source" for a paper is a tar.gz, a single gzipped .tex, or (when the authors gave
no source) the PDF. Archives are untrusted: members must be plain files or folders with
relative paths inside the target (no `..`, no absolute paths, no links or devices), and
both the total size and the number of files are capped, counted while decompressing (a
member's declared size can lie).
"""

from __future__ import annotations

import gzip
import io
import os
import re
import shutil
import tarfile
import zlib
from pathlib import Path, PurePosixPath

from ..errors import SourceArchiveError

MAX_TOTAL_BYTES = 256 * 1024 * 1024
MAX_FILES = 5000
_CHUNK = 1 << 16
_TEX_SUFFIXES = (".tex", ".ltx", ".latex")


def _safe_relpath(name: str, archive: Path) -> PurePosixPath | None:
    """The member's path if it stays inside the target; None for '.'; error otherwise."""
    if "\x00" in name or "\\" in name:
        raise SourceArchiveError(f"unsafe file name {name!r} in the archive", where=str(archive))
    p = PurePosixPath(name)
    if p.is_absolute() or name.startswith("/"):
        raise SourceArchiveError(f"absolute path {name!r} in the archive", hint="refusing to extract it",
                                 where=str(archive))
    parts = [x for x in p.parts if x not in ("", ".")]
    if any(x == ".." for x in parts):
        raise SourceArchiveError(f"path {name!r} points outside the archive", hint="refusing to extract it",
                                 where=str(archive))
    return PurePosixPath(*parts) if parts else None


class _Budget:
    def __init__(self, archive: Path, max_bytes: int, max_files: int) -> None:
        self.archive, self.max_bytes, self.max_files = archive, max_bytes, max_files
        self.bytes = 0
        self.files = 0

    def add_file(self) -> None:
        self.files += 1
        if self.files > self.max_files:
            raise SourceArchiveError(f"the source has more than {self.max_files} files",
                                     hint="refusing to extract it", where=str(self.archive))

    def copy(self, src: io.BufferedIOBase, dest: Path) -> None:
        # Count real bytes as they come out of the decompressor: headers can lie.
        with open(dest, "wb") as out:
            while True:
                chunk = src.read(_CHUNK)
                if not chunk:
                    break
                self.bytes += len(chunk)
                if self.bytes > self.max_bytes:
                    raise SourceArchiveError(
                        f"the source expands to more than {self.max_bytes // (1024 * 1024)} MB",
                        hint="refusing to extract it (a decompression bomb?)", where=str(self.archive))
                out.write(chunk)


def _sniff(path: Path) -> str:
    with open(path, "rb") as f:
        head = f.read(512)
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    if head.startswith(b"BZh") or head.startswith(b"\xfd7zXZ"):
        return "tar"  # bz2/xz: only tarballs come compressed this way
    if len(head) >= 262 and head[257:262] == b"ustar":
        return "tar"
    return "text"


def extract_source(src: str | Path, dest: str | Path, *, max_bytes: int = MAX_TOTAL_BYTES,
                   max_files: int = MAX_FILES) -> Path | None:
    """Unpack a source (.tar.gz/.tgz/.tar, gzipped .tex, plain .tex, or a folder) into `dest`.

    Returns `dest`, or None when the "source" is really a PDF (arXiv's answer for papers
    without LaTeX). `dest` must not exist yet; on any error it is removed again.
    """
    src, dest = Path(src), Path(dest)
    if not src.exists():
        raise SourceArchiveError(f"no source file or folder at {src}", where=str(src))
    if dest.exists():
        raise SourceArchiveError(f"extraction target {dest} already exists", where=str(dest))
    budget = _Budget(src, max_bytes, max_files)
    if not src.is_dir() and _sniff(src) == "pdf":
        return None
    dest.mkdir(parents=True)
    try:
        if src.is_dir():
            _copy_folder(src, dest, budget)
        else:
            kind = _sniff(src)
            if kind == "gzip":
                _extract_gzip(src, dest, budget)
            elif kind == "tar":
                with open(src, "rb") as f:
                    _extract_tar(f, src, dest, budget)
            else:
                if src.suffix.lower() not in _TEX_SUFFIXES:
                    raise SourceArchiveError(
                        f"{src.name} is neither a .tex file nor a .tar.gz / .tar / gzipped archive",
                        hint="--source takes a .tex, .tar.gz or a folder", where=str(src))
                budget.add_file()
                with open(src, "rb") as f:
                    budget.copy(f, dest / _clean_name(src.name))
    except BaseException:
        shutil.rmtree(dest, ignore_errors=True)
        raise
    return dest


def _clean_name(name: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]", "_", Path(name).name).lstrip(".") or "main.tex"
    return stem


def _extract_gzip(src: Path, dest: Path, budget: _Budget) -> None:
    # Either a gzipped tarball or a single gzipped file (arXiv does both).
    with gzip.open(src, "rb") as g:
        try:
            head = g.read(512)
        except (OSError, EOFError) as e:
            raise SourceArchiveError(f"the gzip file is damaged ({e})", where=str(src)) from None
    if len(head) >= 262 and head[257:262] == b"ustar":
        with open(src, "rb") as f:
            _extract_tar(f, src, dest, budget)
        return
    budget.add_file()
    try:
        with gzip.open(src, "rb") as g:
            budget.copy(g, dest / "main.tex")
    except (OSError, EOFError) as e:
        raise SourceArchiveError(f"the gzip file is damaged ({e})", where=str(src)) from None


def _extract_tar(fileobj: io.BufferedIOBase, src: Path, dest: Path, budget: _Budget) -> None:
    try:
        tf = tarfile.open(fileobj=fileobj, mode="r:*")
    except (tarfile.TarError, OSError, EOFError) as e:
        raise SourceArchiveError(f"not a readable tar archive ({e})", where=str(src)) from None
    with tf:
        try:
            for m in tf:  # streaming: members are checked one by one as they are read
                rel = _safe_relpath(m.name, src)
                if m.issym() or m.islnk():
                    raise SourceArchiveError(f"the archive contains a link ({m.name!r})",
                                             hint="refusing to extract it", where=str(src))
                if not (m.isfile() or m.isdir()):
                    raise SourceArchiveError(f"the archive contains a device or special file ({m.name!r})",
                                             hint="refusing to extract it", where=str(src))
                if rel is None:
                    continue
                target = dest.joinpath(*rel.parts)
                if m.isdir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                budget.add_file()
                if m.size > budget.max_bytes:
                    raise SourceArchiveError(f"{m.name!r} declares {m.size} bytes, over the size cap",
                                             where=str(src))
                _check_inside(target, dest, src)
                target.parent.mkdir(parents=True, exist_ok=True)
                if target.exists():
                    raise SourceArchiveError(f"{m.name!r} appears twice in the archive", where=str(src))
                data = tf.extractfile(m)
                if data is None:
                    continue
                budget.copy(data, target)
        except (tarfile.TarError, OSError, EOFError, zlib.error) as e:
            raise SourceArchiveError(f"the archive is damaged or truncated ({e})", where=str(src)) from None


def _check_inside(target: Path, dest: Path, src: Path) -> None:
    # Belt and braces: a folder created earlier cannot be a link (links are refused), but
    # resolve anyway so no path ever lands outside `dest`.
    if not target.parent.resolve().is_relative_to(dest.resolve()):
        raise SourceArchiveError(f"{target} would land outside the target folder", where=str(src))


def _copy_folder(src: Path, dest: Path, budget: _Budget) -> None:
    for root, dirs, files in os.walk(src, followlinks=False):
        rootp = Path(root)
        dirs[:] = [d for d in dirs if not (rootp / d).is_symlink() and not d.startswith(".")]
        rel = rootp.relative_to(src)
        for name in files:
            p = rootp / name
            if p.is_symlink() or not p.is_file():
                continue  # a folder the user gave: skip links rather than follow them
            budget.add_file()
            out = dest / rel / name
            out.parent.mkdir(parents=True, exist_ok=True)
            with open(p, "rb") as f:
                budget.copy(f, out)


# -- the main .tex file -------------------------------------------------------------------

_INPUT = re.compile(r"\\(?:input|include|subfile)\s*\{\s*([^}\s]+)\s*\}")


def find_main_tex(folder: str | Path) -> Path | None:
    """The file with \\documentclass and \\begin{document}; the largest if several."""
    folder = Path(folder)
    cands = []
    for p in sorted(folder.rglob("*")):
        if p.is_file() and not p.is_symlink() and p.suffix.lower() in _TEX_SUFFIXES:
            text = p.read_text(encoding="utf-8", errors="replace")
            if "\\documentclass" in text and "\\begin{document}" in text:
                cands.append((len(text), p))
    if not cands:
        texs = [p for p in folder.rglob("*.tex") if p.is_file() and not p.is_symlink()]
        return max(texs, key=lambda p: p.stat().st_size) if texs else None
    return max(cands)[1]


_COMMENT = re.compile(r"(?<!\\)%")


def flatten_tex(main: str | Path, root: str | Path | None = None, *, max_depth: int = 10,
                max_chars: int = 20_000_000) -> str:
    """The main file with \\input / \\include inlined (inside `root` only, bounded)."""
    main = Path(main)
    base = Path(root or main.parent).resolve()
    seen: set[Path] = set()

    def load(path: Path, depth: int) -> str:
        text = path.read_text(encoding="utf-8", errors="replace")
        if depth >= max_depth:
            return text

        def repl(m: re.Match) -> str:
            name = m.group(1)
            cand = (base / name).resolve()
            if cand.suffix.lower() not in _TEX_SUFFIXES:
                cand = cand.with_name(cand.name + ".tex")
            if not cand.is_relative_to(base) or not cand.is_file() or cand in seen:
                return m.group(0)
            seen.add(cand)
            return load(cand, depth + 1)

        # Inline only where the command is not commented out.
        out = []
        for line in text.splitlines(keepends=True):
            m = _COMMENT.search(line)
            cut = m.start() if m else len(line.rstrip("\r\n"))
            code, rest = line[:cut], line[cut:]
            out.append(_INPUT.sub(repl, code) + rest if _INPUT.search(code) else line)
        return "".join(out)

    seen.add(main.resolve())
    text = load(main, 0)
    if len(text) > max_chars:
        raise SourceArchiveError(f"the LaTeX source is over {max_chars} characters", where=str(main))
    return text


def read_source_tex(folder: str | Path) -> str | None:
    """The flattened LaTeX of an extracted source folder, or None when it has no .tex."""
    main = find_main_tex(folder)
    return flatten_tex(main, folder) if main else None


def read_source_bibliography(folder: str | Path) -> str:
    """The compiled bibliography (`<main>.bbl`) of an extracted source folder, or "" without one:
    it turns `\\citet{key}` in a table into the "Jiang et al. (2019)" the PDF prints."""
    main = find_main_tex(folder)
    bbl = main.with_suffix(".bbl") if main else None
    if bbl is None or not bbl.is_file() or bbl.stat().st_size > 5_000_000:
        return ""
    return bbl.read_text(encoding="utf-8", errors="replace")
