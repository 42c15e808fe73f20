"""The canonical, versioned encoding of one audit event as a Merkle leaf (C1.3, C6).

Version 1 is the compact JSON array (UTF-8, no spaces, non-ASCII kept as is)

    ["baomi.audit/1", id, occurred_at, actor_id, actor_username, action, customer_id,
     object_id, fields, decision, reason, request_id, client_addr, details]

`occurred_at` is UTC as "YYYY-MM-DDTHH:MM:SS.ffffffZ". `fields` and `details` are the JSON text
exactly as stored (or null), so the leaf proves the row byte for byte without re-serialising it.
Every column is covered, so changing any of them is detected. Events hold ids, tags and codes and
never customer values, so crypto-shredding a customer leaves every leaf, proof and root valid.

The database renders the timestamp and JSON columns as text in the SELECT itself (`select_sql`),
and rows are read through the raw driver cursor: `baomi audit verify` re-encodes every event, and
this is its hot loop.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from json import encoder as _json_encoder
from typing import Any

VERSION = "baomi.audit/1"
COLUMNS = (
    "id",
    "occurred_at",
    "actor_id",
    "actor_username",
    "action",
    "customer_id",
    "object_id",
    "fields",
    "decision",
    "reason",
    "request_id",
    "client_addr",
    "details",
)
_JSON_COLUMNS = frozenset({"fields", "details"})

_SQLITE_AT = "replace(occurred_at, ' ', 'T') || 'Z'"
_POSTGRES_AT = "to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"


def _column_sql(name: str, dialect: str) -> str:
    if name == "occurred_at":
        return _SQLITE_AT if dialect == "sqlite" else _POSTGRES_AT
    if name in _JSON_COLUMNS and dialect != "sqlite":
        return f"{name}::text"
    return name


def select_sql(dialect: str, where: str = "") -> str:
    """Return a SELECT of events as canonical column texts in COLUMNS order, by id."""
    cols = ", ".join(_column_sql(c, dialect) for c in COLUMNS)
    return f"SELECT {cols} FROM audit_events {where} ORDER BY id"  # noqa: S608 - fixed names


def param(dialect: str) -> str:
    """Return the raw driver's placeholder (sqlite3 and psycopg differ)."""
    return "?" if dialect == "sqlite" else "%s"


def _make_encoder() -> Any:
    # The C encoder called directly costs half of JSONEncoder.encode for a short flat list.
    c_make_encoder = getattr(_json_encoder, "c_make_encoder", None)
    if c_make_encoder is None:  # pragma: no cover - CPython always has it
        enc = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        return enc.encode
    c_enc = c_make_encoder(
        None, None, _json_encoder.encode_basestring, None, ":", ",", False, False, False
    )
    return lambda values: "".join(c_enc(values, 0))


_encode_values = _make_encoder()


def encode(row: Sequence[Any]) -> bytes:
    """Return the leaf data of one event row given as canonical column values (COLUMNS order)."""
    if len(row) != len(COLUMNS):
        raise ValueError(f"an event row has {len(COLUMNS)} columns, got {len(row)}")
    return _encode_values([VERSION, *row]).encode("utf-8")  # type: ignore[no-any-return]


def encoder() -> Any:
    """Return a fast `row -> leaf data` function for the verifier's loop (same bytes as encode)."""
    enc = _encode_values
    version = VERSION
    return lambda row: enc([version, *row]).encode("utf-8")


def decode(data: bytes) -> dict[str, Any]:
    """Return the event named in leaf data, as a mapping, for people and evidence bundles."""
    values = json.loads(data)
    if not isinstance(values, list) or not values or values[0] != VERSION:
        raise ValueError("not a baomi audit leaf of a known version")
    if len(values) != len(COLUMNS) + 1:
        raise ValueError("leaf has the wrong number of columns")
    return dict(zip(COLUMNS, values[1:], strict=True))


def format_time(value: datetime) -> str:
    """Render a timestamp as the leaf does."""
    return f"{value.astimezone(UTC):%Y-%m-%dT%H:%M:%S.%f}Z"
