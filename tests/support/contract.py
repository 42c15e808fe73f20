"""What the OpenAPI contract test (tests/test_api_contract.py) needs around schemathesis: the app
each test builds, who calls which route, and the refusals the document cannot state."""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI
from schemathesis.core.failures import AcceptedNegativeData, FailureGroup
from schemathesis.core.mutations import OperatorKind
from schemathesis.core.parameters import ParameterLocation
from schemathesis.engine.recorder import ScenarioRecorder
from schemathesis.openapi.checks import RejectedPositiveData
from starlette.types import Receive, Scope, Send

from baomi import clock
from baomi.audit.context import RequestContext
from baomi.auth import sessions
from baomi.uow import unit_of_work
from tests.support.org import Org


class CurrentApp:
    """The app under test, which each test builds anew (a fresh database).

    schemathesis keeps one app per schema, taken when the tests are collected, and its checks
    send probes of their own (a request without the token, …) to it; this stand-in forwards
    them to the current test's app. The test client runs that app's lifespan; the stand-in
    answers schemathesis's own lifespan calls itself, so no test's app outlives its test.
    """

    app: FastAPI | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        assert self.app is not None, "point the stand-in at a test's app first"
        await self.app(scope, receive, send)


# Whose work each part of the API is (三员分立), so that a run reaches past the 403 of the
# wrong role; the rest is a salesperson's.
CALLERS = (
    ("/api/v1/users", "admin"),
    ("/api/v1/departments", "admin"),
    ("/api/v1/account-changes", "baomiyuan"),
    ("/api/v1/grants", "baomiyuan"),
    ("/api/v1/audit", "shenji"),
)


def caller(path: str) -> str:
    return next((who for prefix, who in CALLERS if path.startswith(prefix)), "zhangsan")


# Sessions started by the tests themselves are on record as theirs.
_CONTEXT = RequestContext(client_addr="contract-test", operator="tests:contract")


def session_headers(app: FastAPI, org: Org, username: str) -> dict[str, str]:
    """A live API session of `username`, second factor passed, as a login would start it.

    Straight from the sessions service: an argon2 check per operation tested would cost
    half a minute (the login route has a contract test of its own among the operations).
    """
    with unit_of_work(app.state.engine) as conn:
        started = sessions.start(
            conn,
            ctx=_CONTEXT,
            user_id=org.user_ids[username],
            kind=sessions.Kind.API,
            lifetimes=sessions.Lifetimes.from_settings(app.state.settings),
            mfa_verified_at=clock.utcnow(),
        )
    return {"Authorization": f"Bearer {started.secret}"}


# Requests the document allows that the server refuses (422), by operation and error code: each
# rule reads the clock, the configuration, another record or a secret, which no JSON schema can
# state. schemathesis cannot know them, so these codes, and only these, are let through, and
# only as the document names them for the operation (api/refusals.py, `x-problem-codes`): the
# rest of each operation's contract is checked as for any other. Refusals a run cannot reach
# (a real user who may not handle customers, say) are documented there and not let through here.
KNOWN_REFUSALS: dict[str, frozenset[str]] = {
    # The clock: a grant starts between five minutes ago and seven days ahead, and ends after
    # it starts (now, when no start is given). The configuration: an emergency grant lasts at
    # most BAOMI_EMERGENCY_GRANT_MAX_HOURS. Other records: the customer's level bounds the hours,
    # the grantee is an active user whose roles may hold customer data. (grants/ answers 422
    # `user_unknown` for a well-formed id of nobody, where a 404 would fit: grants/ is not ours.)
    "POST /api/v1/grants": frozenset(
        {
            "start_out_of_range",
            "end_before_start",
            "emergency_grant_too_long",
            "user_unknown",
            "role_without_customer_access",
            "grant_too_long",
        }
    ),
    # The levels of the customers asked for bound the hours (C4.2.1).
    "POST /api/v1/access-requests": frozenset({"grant_too_long"}),
    # The clock (a period ends after today) and the customer's level (one with no lower level
    # has no period to lapse), on the stateful run's own customers (C2.2).
    "PATCH /api/v1/customers/{customer_id}": frozenset(
        {"period_not_future", "period_nothing_to_lapse_to"}
    ),
    # The customer's current level: a request lowers it.
    "POST /api/v1/customers/{customer_id}/level-change-requests": frozenset({"level_not_lower"}),
    # Only the device that holds the new secret knows the code.
    "POST /api/v1/auth/mfa/confirm": frozenset({"otp_mismatch"}),
    # The clock (given before now, expiring after it was given: two fields compared) and
    # another record (the evidence is an attachment of this very customer): issue 12.1.
    "POST /api/v1/customers/{customer_id}/consents": frozenset(
        {"given_in_future", "expires_before_given", "evidence_not_of_customer"}
    ),
    # The clock: a withdrawal lies between the day the record was given and now.
    "POST /api/v1/customers/{customer_id}/consents/{consent_id}/withdraw": frozenset(
        {"withdrawn_at_out_of_range"}
    ),
}


def validate(
    case: Any,
    response: Any,
    *,
    headers: dict[str, str],
    recorder: ScenarioRecorder | None = None,
) -> None:
    """Run every schemathesis check on `response`; only a known refusal (above) and the file
    part of `_file_sent_as_bytes` pass."""
    try:
        case.validate_response(
            response, headers=headers, transport_kwargs={"headers": headers}, recorder=recorder
        )
    except FailureGroup as group:
        rest = [f for f in group.exceptions if not _known(case, response, f)]
        if rest:
            raise FailureGroup(rest, str(group)) from None


def _known(case: Any, response: Any, failure: Exception) -> bool:
    if isinstance(failure, AcceptedNegativeData):
        return _file_sent_as_bytes(case)
    if not isinstance(failure, RejectedPositiveData) or response.status_code != 422:
        return False
    try:
        codes = {error["code"] for error in json.loads(response.content)["errors"]}
    except (ValueError, KeyError, TypeError):
        return False
    label = case.operation.label
    documented = case.operation.definition.raw["responses"]["422"].get("x-problem-codes", [])
    allowed = KNOWN_REFUSALS.get(label, frozenset()) & set(documented)
    return bool(codes) and codes <= allowed


def _file_sent_as_bytes(case: Any) -> bool:
    """Whether a request schemathesis takes for invalid differs from a valid one only in a file
    part generated as another JSON type than a string (`true`, `null`, an object).

    A false positive of schemathesis (4.x): it sends such a value as a file of the value's
    JSON text, and a file part is bytes whatever they spell, which the server rightly accepts;
    yet schemathesis checks the value it generated, not the part it sent. (A list goes out as
    parts without a filename, which the server refuses: that one is not excused.) OpenAPI 3.1
    has no schema for "bytes" that schemathesis would not mutate into another type; leaving
    `type` out would have it generate lists as valid files, which the server refuses.
    """
    data = case.meta.phase.data if case.meta is not None else None
    mutations = getattr(data, "mutations", None)
    if not mutations or not case.media_type or not isinstance(case.body, dict):
        return False
    body = case.operation.get_body_for_media_type(case.media_type)
    if body is None:
        return False
    files = {
        name
        for name, schema in body.resolved_schema.get("properties", {}).items()
        if schema.get("contentMediaType") == "application/octet-stream"
    }
    return all(
        mutation.operator is OperatorKind.CHANGE_TYPE
        and mutation.parameter_location is ParameterLocation.BODY
        and mutation.parameter in files
        and not isinstance(case.body.get(mutation.parameter), list)
        for mutation in mutations
    )
