"""Random, time-ordered identifiers: never sequential, never guessable (UUIDv7)."""

from __future__ import annotations

import uuid_utils


def new_id() -> str:
    """Return a new UUIDv7 as a 36-character string."""
    return str(uuid_utils.uuid7())
