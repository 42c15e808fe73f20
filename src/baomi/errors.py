"""Domain errors with a stable code; the API turns them into RFC 9457 problem+json."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeAlias, TypedDict

from sqlalchemy.engine import Connection


class BaomiError(Exception):
    """A failure the caller can act on, identified by a stable machine-readable code."""

    status: int = 400
    code: str = "bad_request"
    title: str = "Bad request"

    def __init__(self, detail: str | None = None, *, code: str | None = None, **extra: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        if code is not None:
            self.code = code
        self.extra = extra
        # Audit events of a refused action: written after the rollback, in their own transaction,
        # so a denial is recorded even though the work it refused is not (see baomi.uow).
        self.audit_events: list[dict[str, Any]] = []
        # Writes that must survive the rollback too (failed-login counters), done in the same
        # transaction as the refusal's audit events.
        self.effects: list[Callable[[Connection], None]] = []
        self.headers: dict[str, str] = {}

    def with_audit(self, event: dict[str, Any]) -> BaomiError:
        self.audit_events.append(event)
        return self

    def with_effect(self, effect: Callable[[Connection], None]) -> BaomiError:
        self.effects.append(effect)
        return self


class FieldError(TypedDict):
    """One broken rule: the input's path (`contacts[0].phones[1]`), a stable machine code
    (`phone_invalid`) for clients to act on and translate, and an English message for people.

    A code names the rule, not the wording: messages may be reworded, codes stay.
    """

    field: str
    code: str
    message: str


class ValidationFailed(BaomiError):
    """Input that breaks a rule; `errors` lists each field, its code and what is wrong with it."""

    status = 422
    code = "validation_failed"
    title = "Validation failed"
    # For modules that collect items before raising and know this class only.
    Item: TypeAlias = FieldError

    def __init__(self, errors: list[FieldError], detail: str | None = None) -> None:
        super().__init__(detail or "; ".join(f"{e['field']}: {e['message']}" for e in errors))
        self.extra = {"errors": errors}


class NotFound(BaomiError):
    status = 404
    code = "not_found"
    title = "Not found"


class NotAuthenticated(BaomiError):
    status = 401
    code = "not_authenticated"
    title = "Not authenticated"


class Forbidden(BaomiError):
    status = 403
    code = "forbidden"
    title = "Forbidden"


class Conflict(BaomiError):
    status = 409
    code = "conflict"
    title = "Conflict"


class Throttled(BaomiError):
    """Too many failed attempts: the client must wait `retry_after` seconds."""

    status = 429
    code = "throttled"
    title = "Too many attempts"

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed attempts: try again in {retry_after} seconds")
        self.headers["Retry-After"] = str(retry_after)


class PayloadTooLarge(BaomiError):
    """A request body larger than its route takes (api/intake.py, issue 17.1)."""

    status = 413
    code = "payload_too_large"
    title = "Payload too large"


class BodyTimeout(BaomiError):
    """A request body that stalled, or took longer than its route allows (api/intake.py)."""

    status = 408
    code = "body_timeout"
    title = "Request timeout"
