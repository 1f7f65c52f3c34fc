"""Typed user-facing errors.

Every mistake a user can make (bad id, bad YAML, unknown config key, ...) raises a
`ReproError` subclass.  The CLI prints `error: <message>` and `hint: <hint>` and exits
with the error's code: never a traceback for a user mistake.
"""

from __future__ import annotations

import difflib
from typing import Any, Iterable


class ReproError(Exception):
    """Base class: a message for the user, an optional hint, an exit code."""

    exit_code = 2

    def __init__(self, message: str, hint: str | None = None, *, where: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.where = where  # "file:line" or a path, when known

    def __str__(self) -> str:
        prefix = f"{self.where}: " if self.where else ""
        return f"{prefix}{self.message}"


class UsageError(ReproError):
    """Bad command-line arguments."""


class PaperFolderError(ReproError):
    """A paper folder is missing, incomplete or malformed."""


class YamlError(ReproError):
    """A YAML file does not parse."""


class ConfigError(ReproError):
    """A config key or value is not accepted."""


class ClaimsError(ReproError):
    """claims.yaml is malformed or points at something that does not exist."""


class ArxivIdError(ReproError):
    """Not an arXiv identifier or URL."""


class FetchError(ReproError):
    """Network, HTTP or arXiv failure while fetching a paper."""

    exit_code = 3


class NotFoundError(FetchError):
    """arXiv has no such paper."""


class PdfError(ReproError):
    """A PDF could not be read (empty, truncated, encrypted, too large)."""


class SourceArchiveError(ReproError):
    """A LaTeX source archive is unsafe or unreadable."""


class LockError(ReproError):
    """Another `repro run` holds the paper's lock."""

    exit_code = 4


class ResultsFolderError(ReproError):
    """The results folder (or a file repro keeps in it) is not what repro can use: a file
    where a folder belongs, not writable, a folder where the lock or metrics file belongs."""


class RunsFailed(ReproError):
    """Some runs of a sweep failed, diverged or timed out."""

    exit_code = 1


class WorkerStartError(ReproError):
    """The run workers could not start: torch or lightning fails to import, or the worker
    processes keep dying before they are ready. No run was charged with it."""

    exit_code = 1


class TrackerError(ReproError):
    """A tracker (MLflow, W&B, TensorBoard) did not take what `repro track` sent."""


def suggest(word: Any, valid: Iterable[Any], *, n: int = 3, cutoff: float = 0.5, otherwise: str = "") -> str:
    """"did you mean 'a' or 'b'?" for the names in `valid` closest to `word`, else `otherwise`.

    `word` may be anything a YAML file holds (a bool or a number where a name was meant)."""
    close = difflib.get_close_matches(str(word), [str(v) for v in valid], n=n, cutoff=cutoff)
    if close:
        return "did you mean " + " or ".join(repr(c) for c in close) + "?"
    return otherwise
