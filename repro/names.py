"""Names made from free text (table labels, claim ids, ablation names): one `slug`."""

from __future__ import annotations

import re
from typing import Any


def slug(text: Any, sep: str = "-", *, limit: int | None = None, fallback: str = "") -> str:
    """Lower-case letters and digits joined by `sep` ("Top-1 Acc. (%)" -> "top-1-acc"); "×" reads
    as "x" ("2×" -> "2x"). Cut to `limit` characters; `fallback` when nothing is left."""
    s = str(text).lower().replace("×", "x").replace("·", "")
    s = re.sub(r"[^a-z0-9]+", sep, s).strip(sep)
    if limit is not None:
        s = s[:limit].strip(sep)
    return s or fallback
