"""The OpenAPI contract (issue 18 item 9): schemathesis, with every check it has, finds no
response the document does not promise and no request it allows that the server refuses, per
operation and along the links of stateful runs; and every 405 says `Allow` (RFC 9110).

BAOMI_CONTRACT_EXAMPLES examples per operation, BAOMI_CONTRACT_SCENARIOS stateful scenarios
of up to BAOMI_CONTRACT_STEPS steps: small by default, for about a minute on SQLite.
BAOMI_CONTRACT_COVERAGE=1 adds schemathesis's coverage phase (boundary values, every other
method), which takes minutes; `unsupported methods` are checked without it, below.
"""

from __future__ import annotations

import copy
import os
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.python.asgi import shutdown_lifespans

from baomi.api.refusals import REFUSALS
from baomi.app import create_app
from baomi.config import Settings
from baomi.consent.purposes import DEFAULT_PURPOSES
from tests.support import contract_formats  # noqa: F401  (registers the custom formats)
from tests.support.api import login
from tests.support.contract import (
    KNOWN_REFUSALS,
    CurrentApp,
    caller,
    session_headers,
    validate,
)
from tests.support.levels import DEFAULT_LEVELS
from tests.support.org import Org

EXAMPLES = int(os.environ.get("BAOMI_CONTRACT_EXAMPLES", "5"))
SCENARIOS = int(os.environ.get("BAOMI_CONTRACT_SCENARIOS", "20"))
STEPS = int(os.environ.get("BAOMI_CONTRACT_STEPS", "6"))
COVERAGE = os.environ.get("BAOMI_CONTRACT_COVERAGE", "") == "1"
QUIET = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much]

# The document does not depend on the database: take it from an app that is never called.
_SPEC = create_app(
    settings=Settings(home=Path("/nonexistent")),
    engine=None,
    vault=SimpleNamespace(levels=DEFAULT_LEVELS, purposes=DEFAULT_PURPOSES),  # type: ignore[arg-type]
).openapi()
CURRENT = CurrentApp()


def _loaded(spec: dict[str, Any]) -> Any:
    """The document for schemathesis, run as an external client would run it."""
    loaded = schemathesis.openapi.from_dict(spec)
    loaded.app = CURRENT
    # Each test sends its caller's token itself, as a run with `-H Authorization: …` does:
    # schemathesis is not to make tokens up, nor to take them away from a request it sends.
    loaded.config.generation.update(with_security_parameters=False)
    # Nor to mix in literals from the Python source of the app it is given (here the stand-in),
    # which a client would not know and which take a third of the run to gather.
    loaded.config.analysis.constants.enabled = False
    loaded.config.phases.coverage.enabled = COVERAGE
    return loaded


schema = _loaded(_SPEC)


def _stateful_schema() -> Any:
    """The document for stateful runs: a salesperson's work, where the links are (a customer
    filed, then read, edited, revealed, written to, asked for); a few scenarios over the whole
    API would seldom get there, and other roles' routes are covered operation by operation.

    schemathesis takes the optional `handler_id` of a new customer for a link to a "Handler"
    that nothing produces, and then never starts a scenario by filing one; marked read-only
    here, it is not sent in these runs (the per-operation test sends it).
    """
    spec = copy.deepcopy(_SPEC)
    spec["components"]["schemas"]["CustomerIn"]["properties"]["handler_id"]["readOnly"] = True
    salesperson = r"^/api/v1/(customers|access-requests|notifications)(/|$)"
    return _loaded(spec).include(path_regex=salesperson)


STATEFUL = _stateful_schema()


@pytest.fixture
def aimed(client: TestClient) -> Any:
    """Point schemathesis at this test's app; stop what it started there afterwards."""
    CURRENT.app = client.app  # type: ignore[assignment]
    yield client
    CURRENT.app = None
    shutdown_lifespans()


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=QUIET)
def test_every_operation_keeps_the_contract(case: Any, aimed: TestClient, org: Org) -> None:
    # One session per test, not per example.
    headers = getattr(aimed, "contract_headers", None)
    if headers is None:
        headers = session_headers(aimed.app, org, caller(case.path))  # type: ignore[arg-type]
        aimed.contract_headers = headers  # type: ignore[attr-defined]
    validate(case, case.call(headers=headers), headers=headers)
    if not getattr(aimed, "contract_anonymous", False):
        # Once per operation, the request without a token: that answer is in the document too.
        aimed.contract_anonymous = True  # type: ignore[attr-defined]
        validate(case, case.call(), headers={})


def test_stateful_runs_keep_the_contract(aimed: TestClient) -> None:
    """Chains along the document's links: file a customer, then read, edit, reveal it, …"""
    headers = login(aimed, "zhangsan")

    class Contract(STATEFUL.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"headers": headers}

        def validate_response(self, response: Any, case: Any, *_: Any, **__: Any) -> None:
            validate(case, response, headers=headers, recorder=self.recorder)

    Contract.run(
        settings=settings(
            max_examples=SCENARIOS,
            stateful_step_count=STEPS,
            deadline=None,
            suppress_health_check=QUIET,
        )
    )


_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def _served(path: str) -> set[str]:
    """The methods of the resource at `path`, as OpenAPI resolves a URL: of the templates that
    fit it, the one with the fewest parameters (`/customers/check`, not `/customers/{id}`)."""
    fitting = [
        (template.count("{"), item)
        for template, item in _SPEC["paths"].items()
        if re.fullmatch(re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)), path)
    ]
    fewest = min(count for count, _ in fitting)
    return {method.upper() for count, item in fitting if count == fewest for method in item}


def test_every_405_names_the_methods_of_its_path(client: TestClient) -> None:
    """RFC 9110 section 15.5.6: a 405 carries `Allow`, the methods the document gives the path
    (schemathesis's `unsupported_method` and `allow_header_conformance`, for every path). A
    fixed path is its own resource: `DELETE /customers/check` is a 405 there, not a request
    for a customer "check" (api/allow.py)."""
    for template, item in _SPEC["paths"].items():
        declared = {method.upper() for method in item if method.upper() in _METHODS}
        path = re.sub(r"\{[^}]+\}", "0", template)
        assert _served(path) == declared, template
        for method in ("OPTIONS", *sorted(set(_METHODS) - declared)):
            response = client.request(method, path)
            assert response.status_code == 405, (method, path, response.text)
            assert response.headers["content-type"] == "application/problem+json"
            allowed = {m.strip() for m in response.headers.get("allow", "").split(",")}
            assert allowed - {"HEAD"} == declared, (method, path, response.headers.get("allow"))


def test_every_refusal_let_through_is_documented() -> None:
    """The refusals the contract lets through (tests/support/contract.py) are the operation's
    own, named in its 422 response (api/refusals.py); and the document's operations are the
    ones api/refusals.py names."""
    for label, codes in KNOWN_REFUSALS.items():
        method, path = label.split(" ", 1)
        response = _SPEC["paths"][path][method.lower()]["responses"]["422"]
        assert codes <= set(response["x-problem-codes"]), label
        assert all(f"`{code}`" in response["description"] for code in codes), label
    for label, statuses in REFUSALS.items():
        method, path = label.split(" ", 1)
        responses = _SPEC["paths"][path][method.lower()]["responses"]
        for status, codes in statuses.items():
            assert responses[str(status)]["x-problem-codes"] == sorted(codes), label


def test_every_body_may_meet_the_limits_of_intake() -> None:
    """api/intake.py cuts off a body that is too large (413) or too slow (408): the document
    says so wherever a request has a body."""
    for path, item in _SPEC["paths"].items():
        for method, operation in item.items():
            if path.startswith("/api/") and "requestBody" in operation:
                responses = operation["responses"]
                assert {"408", "413", "415"} <= set(responses), (method, path)
                assert "`body_timeout`" in responses["408"]["description"]
                assert "`payload_too_large`" in responses["413"]["description"]
