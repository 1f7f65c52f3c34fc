"""UTC timestamps, shared by the parent and the workers (no torch here)."""

from datetime import datetime, timezone


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
