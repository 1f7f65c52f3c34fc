"""A run's log as the site shows it: without Lightning's banner, tips and library warnings.

The lines dropped are boilerplate every run prints ("GPU available: False", "💡 Tip: ...",
"/.../site-packages/lightning/...py:204: The `srun` command is available ..."); what a reader
wants from a log is repro's own lines, the model's output and the traceback when it failed.
The log in results/ keeps everything; the page says how many lines were left out.
A huge log is cut to its tail: the end is where the error is.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from .plots import write_generated

MAX_LOG_BYTES = 2_000_000
_NOISE = re.compile(
    r"^(GPU available:|TPU available:|IPU available:|HPU available:|LOCAL_RANK: |💡 Tip:|Tip:|"
    r"You are using a CUDA device|Missing logger folder|`Trainer\.fit` stopped:|"
    r"\S*site-packages/\S+\.py:\d+: )"
)
# A warning's source line follows it, indented ("  warnings.warn(...)"): dropped with it.
_CONTINUATION = re.compile(r"^\s+(warnings\.warn|warning_cache\.warn|rank_zero_warn)\(")


def clean_log(text: str) -> tuple[str, int]:
    """The log without boilerplate lines, and how many lines were dropped."""
    out, dropped, after_noise = [], 0, False
    for line in text.splitlines(keepends=True):
        if _NOISE.match(line) or (after_noise and _CONTINUATION.match(line)):
            dropped += 1
            after_noise = True
            continue
        after_noise = False
        out.append(line)
    return "".join(out), dropped


def copy_log(src: Path, dst: Path) -> None:
    """Write the cleaned log unless the copy is current (it carries the source's mtime).

    Only a regular file is read (never through a symlink a results folder may contain).
    """
    try:
        st = os.lstat(src)
    except OSError:
        return
    if not stat.S_ISREG(st.st_mode):
        return
    try:
        if os.stat(dst).st_mtime_ns == st.st_mtime_ns:
            return
    except OSError:
        pass
    with open(src, "rb") as fh:
        cut = st.st_size > MAX_LOG_BYTES
        if cut:
            fh.seek(st.st_size - MAX_LOG_BYTES)
        raw = fh.read(MAX_LOG_BYTES)
    text, dropped = clean_log(raw.decode("utf-8", errors="replace"))
    head = ""
    if cut:
        head += f"[repro site: log cut to its last {MAX_LOG_BYTES} of {st.st_size} bytes]\n"
    if dropped:
        head += (f"[repro site: {dropped} line{'s' if dropped != 1 else ''} of framework banners and "
                 "library warnings left out; the full log is run.log in the run's results folder]\n")
    write_generated(dst, (head + text).encode("utf-8"))
    os.utime(dst, ns=(st.st_atime_ns, st.st_mtime_ns))
