"""What the auditor's page reads and checks (C1.3, C6): the search filters as typed, events for
display, and the full verification the CLI runs (`baomi audit verify`).

Events hold ids, tags, codes and field names, never customer values, so showing them shows no
customer data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Engine

from baomi.audit import runner
from baomi.audit.checkpoint import CheckpointError
from baomi.audit.settings import AuditSettings
from baomi.audit.tags import Action, Decision
from baomi.audit.verify import Report, verify
from baomi.ids import is_id
from baomi.web import labels
from baomi.web.i18n import DISPLAY_TIMEZONE, N_

PAGE_SIZE = 50
# Names of the tags the shared table (labels.ACTION_NAMES) does not name; the rest show as tags.
MORE_ACTION_NAMES = {
    "auth:logout": N_("Sign-out"),
    "auth:lockout": N_("Account locked"),
    "auth:unlock": N_("Account unlocked"),
    "auth:mfa_enrol": N_("Two-step verification set up"),
    "auth:mfa_confirm": N_("Two-step verification turned on"),
    "auth:screen_lock": N_("Screen lock"),
    "customer:level_change": N_("Level change"),
    "customer:level_lapse": N_("Level lapsed"),
    "communication:add": N_("Add a communication"),
    "attachment:add": N_("Add an attachment"),
    "grant:expired": N_("Grant expired"),
    "user:create": N_("Create a user"),
    "user:disable": N_("Disable a user"),
    "user:preferences": N_("Preferences"),
    "department:create": N_("Department change"),
    "key:rotate": N_("Key rotation"),
    "key:retire": N_("Key retirement"),
    "key:check": N_("Key check"),
    "customer:reseal": N_("Records resealed"),
    "consent:list": N_("Consents viewed"),
    "consent:record": N_("Consent recorded"),
    "consent:withdraw": N_("Consent withdrawn"),
    "customer:integrity_failure": N_("Integrity failure"),
    "audit:search": N_("Audit search"),
    "audit:verify": N_("Audit verification"),
    "audit:restore_accept": N_("Restored database accepted"),
    "job:run": N_("Scheduled job"),
    "notification:read": N_("Notification read"),
    "activity:view": N_("Activity charts"),
    "page:open": N_("Page refused"),
    "api:call": N_("API call refused"),
    "grant:review": N_("Emergency grant reviewed"),
    "grant:list": N_("Grant list"),
    "user:activate": N_("Password set with a code"),
    "user:password_reset": N_("Password reset"),
    "user:roles_change": N_("Roles changed"),
    "user:move": N_("Moved to a department"),
    "department:head_change": N_("Department head named"),
    "department:rename": N_("Department renamed"),
    "department:move": N_("Department moved"),
    "user:edit": N_("User details corrected"),
    "user:enable": N_("User enabled again"),
    "account_change:request": N_("Account change asked"),
    "account_change:approve": N_("Account change approved"),
    "account_change:reject": N_("Account change rejected"),
}
FILTER_ERRORS = {
    "date": N_("Use a date like 2026-03-01."),
    "id": N_("Use a whole id (36 characters)."),
    "event": N_("Use an event number."),
}


def action_label(tag: str) -> str | None:
    """The msgid naming an action tag, or None (templates then show the tag, escaped)."""
    return labels.action_name(tag) or MORE_ACTION_NAMES.get(tag)


ACTIONS = [a.value for a in Action]
FILTER_NAMES = (
    "actor",
    "action",
    "decision",
    "customer_id",
    "object_id",
    "since",
    "until",
    "before",
)
DECISIONS = [d.value for d in Decision]


@dataclass
class Filters:
    """The search form as typed (kept on the page), and what it means for the search."""

    actor: str = ""
    action: str = ""
    decision: str = ""
    customer_id: str = ""
    object_id: str = ""
    since: str = ""
    until: str = ""
    before: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_query(cls, params: Mapping[str, str]) -> Filters:
        """The filters of a request's query string, each cut to a sane length."""
        value = {name: params.get(name, "")[:100] for name in FILTER_NAMES}
        return cls(
            actor=value["actor"],
            action=value["action"],
            decision=value["decision"],
            customer_id=value["customer_id"],
            object_id=value["object_id"],
            since=value["since"],
            until=value["until"],
            before=value["before"],
        )

    def _day(self, name: str, value: str) -> date | None:
        if not value:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.errors[name] = FILTER_ERRORS["date"]
            return None

    def _id(self, name: str, value: str) -> str | None:
        if value and not is_id(value):
            self.errors[name] = FILTER_ERRORS["id"]
            return None
        return value or None

    def query(self) -> dict[str, Any]:
        """The keyword arguments of audit.search.search; days are whole days in Beijing time."""
        since, until = self._day("since", self.since), self._day("until", self.until)
        before = None
        if self.before:
            if self.before.isdigit() and len(self.before) < 19:
                before = int(self.before)
            else:
                self.errors["before"] = FILTER_ERRORS["event"]
        return {
            "actor": self.actor[:64] or None,
            "action": self.action if self.action in ACTIONS else None,
            "decision": self.decision if self.decision in DECISIONS else None,
            "customer_id": self._id("customer_id", self.customer_id),
            # Object ids are of many kinds (grants, requests, sessions, event numbers): as typed.
            "object_id": self.object_id.strip()[:64] or None,
            "since": _start_of(since) if since else None,
            "until": _start_of(until + timedelta(days=1)) if until else None,
            "before_id": before,
            "limit": PAGE_SIZE,
        }

    def link(self, **changes: str) -> dict[str, str]:
        """The query string of this search with some values changed (paging)."""
        values = {
            "actor": self.actor,
            "action": self.action,
            "decision": self.decision,
            "customer_id": self.customer_id,
            "object_id": self.object_id,
            "since": self.since,
            "until": self.until,
            **changes,
        }
        return {k: v for k, v in values.items() if v}


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, DISPLAY_TIMEZONE)


def for_display(item: dict[str, Any]) -> dict[str, Any]:
    """An event of the search with its time as a datetime (the search gives the leaf's text)."""
    shown = dict(item)
    shown["occurred_at"] = datetime.fromisoformat(str(item["occurred_at"]).replace("Z", "+00:00"))
    return shown


@dataclass(frozen=True, slots=True)
class Verification:
    """The outcome of a full verification: the verifier's report, or why it could not run."""

    report: Report | None
    failure: str | None = None

    @property
    def ok(self) -> bool:
        return self.report is not None and self.report.ok


def run_verification(engine: Engine, settings: AuditSettings) -> Verification:
    """Run `baomi audit verify`'s check: every event re-hashed, every checkpoint (kept ones too)."""
    try:
        log_key = runner.log_verifier(settings)
        external = runner.external_checkpoints(log_key, settings)
    except (CheckpointError, OSError) as error:
        return Verification(report=None, failure=str(error))
    with runner.reader(engine).connect() as conn:
        return Verification(report=verify(conn, log_key, external=external))
