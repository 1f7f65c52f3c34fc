"""Whether a paper's report and site page are current, so `repro run` with nothing to do
rewrites nothing.

The digest covers every input the report and the page are made from, by name, size and
mtime (no file is read): the paper folder (claims, paper.yaml, configs, report template,
REVIEW.md), every file of every run under its results folder, the shipped templates, repro's
own source files and its version. It is kept in the site's folder (`site/_index/<key>.inputs`),
which is generated output; a missing report or page makes it stale too.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from .plots import write_generated

_SKIP_DIRS = {"__pycache__", "checkpoints", ".git", ".slurm"}


def _walk(root: Path, out: list[str]) -> None:
    try:
        entries = sorted(os.scandir(root), key=lambda e: e.name)
    except OSError:
        return
    for e in entries:
        try:
            if e.is_dir(follow_symlinks=False):
                if e.name not in _SKIP_DIRS:
                    _walk(Path(e.path), out)
            elif e.name != "report.md" and not e.name.endswith((".pyc", ".lock")):
                st = e.stat(follow_symlinks=False)
                out.append(f"{e.path}\0{st.st_size}\0{st.st_mtime_ns}")
        except OSError:
            continue


def inputs_digest(paper_root: Path, results_dir: Path) -> str:
    from ... import __version__ as version
    from ...templating import templates_dir

    files: list[str] = [f"repro {version}"]
    _walk(Path(paper_root), files)
    _walk(Path(results_dir), files)
    _walk(templates_dir(), files)
    _walk(Path(__file__).resolve().parents[2], files)  # repro's own code: a new judge or layout is a change
    return hashlib.sha256("\n".join(files).encode()).hexdigest()


def _stamp(site_dir: Path, key: str) -> Path:
    return Path(site_dir) / "_index" / f"{key}.inputs"


def is_current(site_dir: Path, key: str, digest: str, outputs: list[Path]) -> bool:
    try:
        return _stamp(site_dir, key).read_text().strip() == digest and all(p.is_file() for p in outputs)
    except OSError:
        return False


def mark(site_dir: Path, key: str, digest: str) -> None:
    write_generated(_stamp(site_dir, key), (digest + "\n").encode())
