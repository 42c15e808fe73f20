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
    EMERGENCY_GRANT = "emergency_grant"
    PASSWORD_RESET = "password_reset"  # noqa: S105 - a kind, not a password
    ACCOUNT_CHANGE_TO_APPROVE = "account_change_to_approve"
    ACCOUNT_CHANGE_DECIDED = "account_change_decided"
    ACCOUNT_CHANGE_NOTICE = "account_change_notice"
    # Issue 17 / C5: stored data that failed its integrity check, for the security officers.
    INTEGRITY_FAILURE = "integrity_failure"
    DAMAGED_DATA_KEYS = "damaged_data_keys"
    # Issue 17.4 / C3.2: a person reached the 查重 limit; their heads and the officers are told.
    CHECK_LIMIT_REACHED = "check_limit_reached"
    # Issue 12 item 4: a data-subject request past its due date (handler and officer).
    SUBJECT_REQUEST_OVERDUE = "subject_request_overdue"


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
    # C4.3.1: access given outside the approval process; the handler and heads are told at once.
    Kind.EMERGENCY_GRANT: frozenset(
        {"grant_id", "customer_id", "grantee", "grantee_name", "by", "by_name", "hours"}
    ),
    # 三员分立: account changes. change_kind: roles, head, department, enable (about the person
    # `username`) or parent (about the `department` that moves under another).
    Kind.PASSWORD_RESET: frozenset({"by", "by_name"}),
    Kind.ACCOUNT_CHANGE_TO_APPROVE: frozenset(
        {"change_id", "change_kind", "username", "department", "by", "by_name"}
    ),
    Kind.ACCOUNT_CHANGE_DECIDED: frozenset(
        {"change_id", "change_kind", "username", "department", "outcome", "by", "by_name"}
    ),
    Kind.ACCOUNT_CHANGE_NOTICE: frozenset(
        {"change_id", "change_kind", "username", "department", "by", "by_name"}
    ),
    # Which record and which part of it (a field's name, or "data_key"), and during what:
    # never a value. "during" is an audit tag (customer:read, customer:list, customer:check …).
    Kind.INTEGRITY_FAILURE: frozenset({"customer_id", "field", "during"}),
    # A key rotation that had to pass over damaged wrapped keys (their owners are customers).
    Kind.DAMAGED_DATA_KEYS: frozenset({"data_key_ids", "owner_ids", "key_count", "target_version"}),
    # Who asked 查重 too often, the limit and its period ("hour" or "day"): never a value asked.
    Kind.CHECK_LIMIT_REACHED: frozenset({"username", "display_name", "limit", "period"}),
    # Which request, of what kind (access, correction, deletion, withdrawal), due on which day
    # (UTC, YYYY-MM-DD), how many days ago.
    Kind.SUBJECT_REQUEST_OVERDUE: frozenset({"request_id", "subject_kind", "due_on", "days"}),
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
