"""Running a service from a form so that a refusal can be shown on the same page.

The API lets a refused action's BaomiError leave the unit of work, which rolls the work back and
then writes the refusal's audit events and effects (failed-login counters) in a transaction of
their own (baomi.uow). A page that wants to show the form again with the error cannot let the
error escape. `attempt` gives it the same guarantee inside the request's transaction: the
service runs in a SAVEPOINT that is rolled back on refusal, and the refusal's audit events and
effects are then written in the enclosing transaction, which the request commits.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy.engine import Connection

from baomi.audit.service import append
from baomi.errors import BaomiError, ValidationFailed

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Outcome(Generic[T]):
    """A service call's result, or the error that refused it (already audited)."""

    value: T | None = None
    error: BaomiError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def field_errors(self) -> dict[str, str]:
        """Validation messages by field name, for inline display under each input."""
        if not isinstance(self.error, ValidationFailed):
            return {}
        return {e["field"]: e["message"] for e in self.error.extra.get("errors", [])}


def attempt(conn: Connection, call: Callable[[], T]) -> Outcome[T]:
    """Run `call` in a savepoint; on a BaomiError roll it back and record the refusal."""
    try:
        with conn.begin_nested():
            return Outcome(value=call())
    except BaomiError as refused:
        for event in refused.audit_events:
            append(conn, event)
        for effect in refused.effects:
            effect(conn)
        return Outcome(error=refused)
