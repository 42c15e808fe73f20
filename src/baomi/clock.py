"""One source of the current time, so that tests can move it."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Return the current UTC time, timezone-aware."""
    return datetime.now(UTC)
