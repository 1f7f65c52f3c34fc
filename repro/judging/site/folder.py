"""The site folder on disk: claiming it (never writing into a folder `repro site` did not make),
the cached index rows, pruning pages of papers that are gone, and copying run files in."""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path
from typing import Any

from ...atomic import atomic_write_json, read_json_dict
from ...errors import ReproError
from .plots import write_generated


MARKER = ".repro-site"


SITE_FORMAT = 1


MAX_LOG_BYTES = 2_000_000  # a huge log is cut to its tail: the end is where the error is


class SiteError(ReproError):
    """The site cannot be written where asked."""


def claim_folder(site_dir: Path) -> None:
    """Refuse to write into a folder that is not ours (and not empty): never clobber user files."""
    marker = site_dir / MARKER
    if site_dir.exists() and not site_dir.is_dir():
        raise SiteError(f"{site_dir} exists and is not a folder", hint="choose another --out", where=str(site_dir))
    if site_dir.is_dir() and not marker.is_file() and any(site_dir.iterdir()):
        raise SiteError(f"{site_dir} is not empty and was not made by `repro site`",
                        hint="give --out an empty or new folder; repro never overwrites files it did not write",
                        where=str(site_dir))
    if not marker.is_file():
        atomic_write_json(marker, {"format": SITE_FORMAT, "generator": "repro site"})


def cached_row_path(site_dir: Path, pid: str) -> Path:
    return site_dir / "_index" / f"{pid}.json"


def load_row(site_dir: Path, pid: str) -> dict[str, Any] | None:
    row = read_json_dict(cached_row_path(site_dir, pid))
    return row if row is not None and row.get("id") == pid else None


def prune(site_dir: Path, keep: set[str]) -> None:
    """Remove pages of papers that no longer exist (only inside our own site folder)."""
    pages = site_dir / "papers"
    if pages.is_dir():
        for d in pages.iterdir():
            if d.is_dir() and d.name not in keep:
                shutil.rmtree(d)
    rows = site_dir / "_index"
    if rows.is_dir():
        for f in [*rows.glob("*.json"), *rows.glob("*.inputs")]:
            if f.stem not in keep:
                f.unlink()


def write_if_changed(path: Path, text: str) -> None:
    data = text.encode("utf-8")
    try:
        if path.read_bytes() == data:
            return
    except OSError:
        pass
    write_generated(path, data)


def copy_run_file(src: Path, dst: Path, inside: Path) -> None:
    """Copy a run file into the site unless the copy is current (same size and mtime).

    Only a regular file that really lies inside `inside` (the results folder) is copied: a
    committed run.log that is a symlink (or sits in a linked folder) pointing at a private file
    must never be published.
    """
    try:
        real, root = src.resolve(strict=True), inside.resolve(strict=True)
        if real != root / src.absolute().relative_to(inside.absolute()):
            return  # src, or a folder on its way from the results folder, is a link
    except (OSError, RuntimeError, ValueError):
        return
    try:
        fd = os.open(src, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return  # a FIFO or device would block or never end
        try:
            dt = dst.stat()
            # The copy carries the source's mtime; a cut log is smaller than its source.
            if dt.st_mtime_ns == st.st_mtime_ns and (dt.st_size == st.st_size or st.st_size > MAX_LOG_BYTES):
                return
        except OSError:
            pass
        if st.st_size > MAX_LOG_BYTES:
            fh.seek(st.st_size - MAX_LOG_BYTES)
            data = _trunc_note(st.st_size) + fh.read(MAX_LOG_BYTES)
        else:
            data = fh.read()
    write_generated(dst, data)
    os.utime(dst, ns=(st.st_atime_ns, st.st_mtime_ns))


def _trunc_note(size: int) -> bytes:
    return f"[repro site: log cut to its last {MAX_LOG_BYTES} of {size:>15} bytes]\n".encode()
