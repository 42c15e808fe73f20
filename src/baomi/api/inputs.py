"""The base of every request body: unknown keys refused, NUL characters refused.

Refusing unknown keys means a misspelt field is an error, not silently dropped data. NUL cannot
be stored in PostgreSQL text and has no business in any of our inputs, so it is refused up front
with a clear error on every backend alike.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list | tuple):
        return any(_has_nul(v) for v in value)
    return False


class StrictInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if _has_nul(value):
            raise ValueError("must not contain NUL characters")
        return value
