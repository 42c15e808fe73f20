"""What a notification may say: its kinds and, per kind, the only params it may carry.

A notification is not behind the customer door (it is listed, mailed and kept without the access
policy), so its params are limited to ids, counts, colleagues' usernames and display names, and
times. Free text a person typed (an access request's purpose, a comment) is left out too: it
could quote a customer (C4.3.2, C4.4.2).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum

Param = str | int | list[str] | None


class Kind(StrEnum):
    REQUEST_TO_APPROVE = "request_to_approve"
    REQUEST_DECIDED = "request_decided"
    GRANT_REVOKED = "grant_revoked"
    GRANT_EXPIRING = "grant_expiring"
    GRANT_EXPIRED = "grant_expired"


ALLOWED_PARAMS: dict[Kind, frozenset[str]] = {
    # request_kind: "access" (C4.3.1) or "level_change" (C2.2: lowering a customer's level).
    Kind.REQUEST_TO_APPROVE: frozenset(
        {"request_id", "request_kind", "requester", "requester_name", "customer_count", "hours"}
    ),
    Kind.REQUEST_DECIDED: frozenset(
        {
            "request_id",
            "request_kind",
            "outcome",
            "by",
            "by_name",
            "customer_count",
            "hours",
            "ends_at",
        }
    ),
    Kind.GRANT_REVOKED: frozenset({"grant_id", "request_id", "customer_id", "by", "by_name"}),
    Kind.GRANT_EXPIRING: frozenset({"grant_ids", "request_id", "grant_count", "ends_at"}),
    Kind.GRANT_EXPIRED: frozenset({"grant_ids", "request_id", "grant_count", "ends_at"}),
}


def checked_params(kind: Kind, params: Mapping[str, Param]) -> dict[str, Param]:
    """Return the params as stored, refusing any key the kind does not allow (a coding error)."""
    unknown = sorted(set(params) - ALLOWED_PARAMS[kind])
    if unknown:
        raise ValueError(f"notification {kind.value} may not carry {unknown}")
    for key, value in params.items():
        if not (value is None or isinstance(value, str | int) or _is_str_list(value)):
            raise ValueError(f"notification param {key} must be text, a number or ids")
    return dict(params)


def _is_str_list(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def time_param(moment: datetime) -> str:
    """Store a time as ISO 8601 in UTC, as the API shows times."""
    return moment.isoformat()
