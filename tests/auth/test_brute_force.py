"""Online guessing under a simulated clock (ASVS V6.3.1; C4.2.4): how many guesses reach the
password check per hour, for an attacker who retries the moment Retry-After allows.

Throttled and locked attempts are refused before argon2 runs, so these 1,000-attempt runs cost
only a handful of real verifications. SQLite only: the counting is the same SQL on PostgreSQL
(tests/auth/test_lockout.py runs on both), and 4,000 requests per backend are not cheap.
"""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.auth.conftest import FakeClock, Verifications
from tests.support.org import PASSWORD, Org

LOGIN = "/api/v1/auth/login"
ATTEMPTS = 1000
pytestmark = pytest.mark.parametrize("backend", ["sqlite"])


def _guess(client: TestClient, clock: FakeClock, username: str, n: int) -> int:
    """One wrong guess, waiting first if told to; return the status of the heard attempt."""
    response = client.post(LOGIN, json={"username": username, "password": f"guess-{n:06d}-x"})
    if response.status_code == 429:
        clock.advance(int(response.headers["Retry-After"]))
        response = client.post(LOGIN, json={"username": username, "password": f"guess-{n:06d}"})
    assert response.status_code == 401, response.text
    assert response.json()["code"] == "invalid_credentials"
    clock.advance(1)
    return response.status_code


def _report(label: str, clock: FakeClock, seen: Verifications, guesses: int = ATTEMPTS) -> int:
    hours = clock.hour() + 1
    worst = max(seen.per_hour.values())
    print(
        f"\n{label}: {guesses} guesses over {hours} simulated hours; "
        f"{seen.total} reached argon2; worst hour {worst}; per hour {dict(seen.per_hour)}"
    )
    return worst


def test_one_account_from_one_address(
    client: TestClient, clock: FakeClock, verifications: Verifications
) -> None:
    for n in range(ATTEMPTS):
        _guess(client, clock, "zhangsan", n)
    worst = _report("one account, one address", clock, verifications)
    assert verifications.total <= 10  # locked after ten consecutive failures
    assert worst <= 10
    # Still locked, even with the right password.
    clock.advance(3600)
    assert client.post(LOGIN, json={"username": "zhangsan", "password": PASSWORD}).status_code in (
        401,
        429,
    )


def test_spraying_every_account_from_one_address(
    client: TestClient, clock: FakeClock, org: Org, verifications: Verifications
) -> None:
    names = list(org.user_ids)
    guesses = 300  # enough to reach the steady one-per-15-minutes rate (each costs 2 requests)
    for n in range(guesses):
        _guess(client, clock, names[n % len(names)], n)
    worst = _report(f"spray over {len(names)} accounts, one address", clock, verifications, guesses)
    # 5 free failures, then 1, 2, 4 … 512 s, then one per 15 minutes.
    assert worst <= 20
    assert max(count for hour, count in verifications.per_hour.items() if hour > 0) <= 4
    assert verifications.total <= 10 * len(names)


def test_spraying_every_account_from_many_addresses(
    app: FastAPI, clock: FakeClock, org: Org, verifications: Verifications
) -> None:
    """A botnet: every guess from a new address; each account's own counter still locks it."""
    names = list(org.user_ids)
    for n in range(ATTEMPTS):
        sender = TestClient(app, client=(f"10.{n // 250}.{n % 250}.2", 50000))
        _guess(sender, clock, names[n % len(names)], n)
    _report(f"spray over {len(names)} accounts, many addresses", clock, verifications)
    # Each account is locked after ten guesses, so the whole company yields at most ten each.
    assert verifications.total <= 10 * len(names)
