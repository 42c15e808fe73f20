"""Random, time-ordered identifiers: never sequential, never guessable (UUIDv7)."""

from __future__ import annotations

import uuid

import uuid_utils


def new_id() -> str:
    """Return a new UUIDv7 as a 36-character string."""
    return str(uuid_utils.uuid7())


def is_id(value: str) -> bool:
    """Whether `value` is a well-formed id (36-character UUID text), before any lookup."""
    if len(value) != 36:
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
