"""The base of every request body: unknown keys refused, NUL characters refused.

Refusing unknown keys means a misspelt field is an error, not silently dropped data. NUL cannot
be stored in PostgreSQL text and has no business in any of our inputs, so it is refused up front
with a clear error on every backend alike. The JSON schema says both (`additionalProperties`,
and `NO_NUL` on every string), so that a request valid by the document is not refused.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

# JSON Schema patterns (ECMA-262; also read alike by Python and Rust regex engines).
NO_NUL = r"^[^\x00]*$"
# Whitespace, spelt out: `\s` differs between regex engines. Unicode's White_Space is what
# pydantic's `strip_whitespace` trims; Python's str.strip() and str.split(), which the services
# use, also take U+001C-U+001F for whitespace.
UNICODE_SPACE = r"\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
WHITESPACE = UNICODE_SPACE + r"\x1c-\x1f"
# A text that a service refuses blank once stripped matches NOT_BLANK; one that must keep two
# characters, TWO_NOT_BLANK. The PYDANTIC_ ones are for a field that pydantic strips itself.
NOT_BLANK = f"[^{WHITESPACE}]"
TWO_NOT_BLANK = f"{NOT_BLANK}[\\s\\S]*{NOT_BLANK}"
PYDANTIC_NOT_BLANK = f"[^{UNICODE_SPACE}]"
PYDANTIC_TWO_NOT_BLANK = f"{PYDANTIC_NOT_BLANK}[\\s\\S]*{PYDANTIC_NOT_BLANK}"

# A record's id: UUID text (baomi.ids). Only the document says so: the services look an id up
# and answer 404, or their own 422 code, for one that is malformed or not there.
Id = Annotated[str, Field(json_schema_extra={"format": "uuid"})]


# A level's code or Chinese label. The levels in use are configuration (BAOMI_LEVELS), so the
# document lists them when it is built (api/openapi.py), where it finds this mark.
LEVELS_MARK = "x-baomi-levels"
LevelText = Annotated[str, Field(json_schema_extra={LEVELS_MARK: True})]
# A processing purpose code (C4.1.2); the document lists the company's (BAOMI_HOME/purposes.toml)
# when it is built, as for levels.
PURPOSES_MARK = "x-baomi-purposes"
PurposeCode = Annotated[str, Field(json_schema_extra={PURPOSES_MARK: True})]


def _not_a_number(value: Any) -> Any:
    # Pydantic reads a number as Unix time; the document promises an ISO 8601 date-time only.
    try:
        float(value)
    except (TypeError, ValueError):
        return value
    raise ValueError("use an ISO 8601 date-time with its UTC offset, e.g. 2026-01-01T09:00Z")


# A date-time as the document says it: RFC 3339 text, never a number.
Moment = Annotated[datetime, BeforeValidator(_not_a_number)]


def rule(pattern: str) -> dict[str, Any]:
    """The JSON schema of a text a service checks itself (a blank name …), as a pattern.

    For `json_schema_extra`, like `one_of`: the refusal and its code stay the service's.
    """
    return {"pattern": pattern}


def one_of(values: Iterable[str]) -> dict[str, Any]:
    """The JSON schema of a text a service checks against `values` itself, with its own code.

    For `json_schema_extra`: the document lists the choices; the refusal stays the service's.
    """
    return {"enum": sorted(values)}


# Values the schema already pins down, or bytes rather than text: no NUL rule for them.
_EXACT = ("enum", "const", "contentMediaType", "contentEncoding")


def exclude_nul(schema: dict[str, Any]) -> None:
    """Add the NUL rule to each string of a JSON schema (in place): alternatives, items too."""
    for key in ("anyOf", "oneOf"):
        for alternative in schema.get(key, ()):
            exclude_nul(alternative)
    if isinstance(schema.get("items"), dict):
        exclude_nul(schema["items"])
    for prop in schema.get("properties", {}).values():
        exclude_nul(prop)
    if schema.get("type") != "string" or any(key in schema for key in _EXACT):
        return
    if schema.get("format") == "binary":
        return
    if "pattern" not in schema:
        schema["pattern"] = NO_NUL
    elif schema["pattern"] != NO_NUL:
        # One `pattern` per schema: a second rule joins by allOf.
        rules = schema.setdefault("allOf", [])
        if {"pattern": NO_NUL} not in rules:
            rules.append({"pattern": NO_NUL})


def _document(schema: dict[str, Any], model: type[StrictInput]) -> None:
    # Nested models ($ref) are StrictInput too and say it themselves.
    exclude_nul(schema)
    model.document_rules(schema)


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list | tuple):
        return any(_has_nul(v) for v in value)
    return False


class StrictInput(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=_document)

    @classmethod
    def document_rules(cls, schema: dict[str, Any]) -> None:
        """Add the rules a service checks across fields to the model's JSON schema (in place).

        None by default; a model whose service refuses some combination of valid fields says
        which here, so that a request valid by the document is not refused.
        """

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if _has_nul(value):
            raise ValueError("must not contain NUL characters")
        return value
