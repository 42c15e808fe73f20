"""Grant windows are bounded (issue 17.8, C4.2.1, C4.3.1): a grant starts about now, never in
the past or far ahead, and lasts no longer than the customer's level allows any grant.

On the code before this fix, an emergency grant dated 2020, or one running to 9999-12-31, and an
access request for 90 days of a 机密 customer were all accepted."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from baomi import clock
from baomi.security.levels import LevelConfigError, build_levels
from tests.support.api import create_customer, login
from tests.support.levels import DEFAULT_LEVELS
from tests.support.org import Org


def _emergency(client: TestClient, org: Org, customer_id: str, **window: Any) -> Any:
    body = {
        "user_id": org.user_ids["lisi"],
        "customer_id": customer_id,
        "purpose": "客户来电投诉，负责人联系不上",
        **window,
    }
    return client.post("/api/v1/grants", json=body, headers=login(client, "baomiyuan"))


def _codes(response: Any) -> list[str]:
    return [e["code"] for e in response.json().get("errors", [])]


@pytest.mark.parametrize(
    ("starts", "ends"),
    [
        (timedelta(days=-6 * 365), timedelta(days=-6 * 365, hours=4)),  # dated back to 2020
        (timedelta(hours=-1), timedelta(hours=2)),  # an hour back, more than the slack
        (timedelta(days=30), timedelta(days=30, hours=4)),  # a month ahead
    ],
)
def test_an_emergency_grant_starts_about_now(
    client: TestClient, org: Org, starts: timedelta, ends: timedelta
) -> None:
    customer = create_customer(client, login(client, "zhaoliu"))
    now = clock.utcnow()
    refused = _emergency(
        client,
        org,
        customer["id"],
        starts_at=(now + starts).isoformat(),
        ends_at=(now + ends).isoformat(),
    )
    assert refused.status_code == 422, refused.text
    assert _codes(refused) == ["start_out_of_range"]


def test_an_emergency_grant_to_the_end_of_time_is_refused(client: TestClient, org: Org) -> None:
    customer = create_customer(client, login(client, "zhaoliu"))
    refused = _emergency(client, org, customer["id"], ends_at="9999-12-31T00:00:00Z")
    assert refused.status_code == 422, refused.text
    assert _codes(refused) == ["emergency_grant_too_long"]


def test_an_emergency_grant_a_minute_back_is_accepted(client: TestClient, org: Org) -> None:
    """The slack covers clocks that differ and forms that take time."""
    customer = create_customer(client, login(client, "zhaoliu"))
    now = clock.utcnow()
    given = _emergency(
        client,
        org,
        customer["id"],
        starts_at=(now - timedelta(minutes=1)).isoformat(),
        duration_hours=4,
    )
    assert given.status_code == 201, given.text


@pytest.mark.parametrize(
    ("level", "longest"),
    [("normal", 90 * 24), ("secret", 30 * 24), ("confidential", 7 * 24)],
)
def test_access_lasts_no_longer_than_the_level_allows(
    client: TestClient, level: str, longest: int
) -> None:
    customer = create_customer(client, login(client, "zhaoliu"), level=level)
    lisi = login(client, "lisi")

    def ask(hours: int) -> Any:
        body = {
            "purpose_code": "contract",
            "customer_ids": [customer["id"]],
            "purpose": "跟进合作",
            "duration_hours": hours,
        }
        return client.post("/api/v1/access-requests", json=body, headers=lisi)

    too_long = ask(longest + 1)
    assert too_long.status_code == 422, too_long.text
    assert _codes(too_long) == ["grant_too_long"]
    assert str(longest) in too_long.json()["errors"][0]["message"]
    assert ask(longest).status_code == 201


def test_a_request_for_several_levels_is_bounded_by_the_highest(client: TestClient) -> None:
    zhaoliu = login(client, "zhaoliu")
    ids = [create_customer(client, zhaoliu, level=lv)["id"] for lv in ("normal", "confidential")]
    body = {
        "purpose_code": "contract",
        "customer_ids": ids,
        "purpose": "跟进合作",
        "duration_hours": 8 * 24,
    }
    refused = client.post("/api/v1/access-requests", json=body, headers=login(client, "lisi"))
    assert refused.status_code == 422, refused.text
    assert _codes(refused) == ["grant_too_long"]


def test_the_longest_grant_is_a_level_rule_a_company_may_set() -> None:
    """levels.toml: `max_grant_hours` per level, between an hour and a year (C2.2)."""
    assert DEFAULT_LEVELS.rule_of("confidential").max_grant_hours == 7 * 24
    shorter = build_levels("normal,secret,confidential", {"confidential": {"max_grant_hours": 8}})
    assert shorter.rule_of("confidential").max_grant_hours == 8
    for bad, code in ((0, "max_grant_hours_out_of_range"), ("8h", "max_grant_hours_invalid")):
        with pytest.raises(LevelConfigError) as refused:
            build_levels("normal,secret,confidential", {"secret": {"max_grant_hours": bad}})
        assert [e["code"] for e in refused.value.extra["errors"]] == [code]
