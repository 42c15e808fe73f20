"""The inbox API: mine only, newest first, paged, unread counts, marking read, my language."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from baomi import clock
from baomi.audit.models import audit_events
from baomi.ids import new_id
from baomi.notifications.kinds import Kind
from baomi.notifications.service import notify
from baomi.uow import unit_of_work
from tests.notifications.conftest import People
from tests.support.org import Org

URL = "/api/v1/notifications"


def _fill(engine: Engine, user_id: str, count: int) -> list[str]:
    """Give a user `count` notifications a minute apart; return their ids, oldest first."""
    start = clock.utcnow() - timedelta(hours=1)
    ids = []
    with unit_of_work(engine) as conn:
        for i in range(count):
            (nid,) = notify(
                conn,
                user_ids=[user_id],
                kind=Kind.REQUEST_TO_APPROVE,
                params={
                    "request_id": new_id(),
                    "request_kind": "access",
                    "requester": "zhaoliu",
                    "requester_name": "赵六",
                    "customer_count": i + 1,
                    "hours": 8,
                },
                link=None,
                now=start + timedelta(minutes=i),
                mail=False,
            )
            ids.append(nid)
    return ids


def test_list_newest_first_paged_and_filtered(
    client: TestClient, engine: Engine, org: Org, people: People
) -> None:
    ids = _fill(engine, org.user_ids["wangwu"], 5)
    headers = people["wangwu"]
    page = client.get(URL, params={"page_size": 2}, headers=headers).json()
    assert [n["id"] for n in page["items"]] == [ids[4], ids[3]]
    assert page["total"] == 5 and page["unread"] == 5 and page["page_size"] == 2
    last = client.get(URL, params={"page_size": 2, "page": 3}, headers=headers).json()
    assert [n["id"] for n in last["items"]] == [ids[0]]
    first = page["items"][0]
    assert first["kind"] == "request_to_approve" and first["read_at"] is None
    assert first["title"] == "访问申请待您审批"  # zh_CN by default
    assert first["body"] == "赵六（zhaoliu）申请访问 5 位客户的资料，期限 8 小时，需要您审批。"

    marked = client.post(f"{URL}/{ids[4]}/read", headers=headers)
    assert marked.status_code == 200 and marked.json()["read_at"] is not None
    unread = client.get(URL, params={"unread_only": True}, headers=headers).json()
    assert [n["id"] for n in unread["items"]] == [ids[3], ids[2], ids[1], ids[0]]
    assert unread["total"] == 4 and unread["unread"] == 4
    count = client.get(f"{URL}/unread-count", headers=headers)
    assert count.json() == {"unread": 4}


def test_marking_read_keeps_the_first_time_and_mark_all(
    client: TestClient, engine: Engine, org: Org, people: People
) -> None:
    ids = _fill(engine, org.user_ids["wangwu"], 3)
    headers = people["wangwu"]
    once = client.post(f"{URL}/{ids[0]}/read", headers=headers).json()["read_at"]
    again = client.post(f"{URL}/{ids[0]}/read", headers=headers).json()["read_at"]
    assert once == again
    assert client.post(f"{URL}/read-all", headers=headers).json() == {"marked": 2}
    assert client.get(f"{URL}/unread-count", headers=headers).json() == {"unread": 0}
    assert client.post(f"{URL}/read-all", headers=headers).json() == {"marked": 0}


def test_nobody_reads_or_marks_anothers(
    client: TestClient, engine: Engine, org: Org, people: People
) -> None:
    (theirs,) = _fill(engine, org.user_ids["wangwu"], 1)
    _fill(engine, org.user_ids["sunqi"], 2)
    intruder = people["zhangsan"]
    assert client.get(URL, headers=intruder).json()["total"] == 0
    assert client.get(f"{URL}/unread-count", headers=intruder).json() == {"unread": 0}
    unknown = new_id()
    for target in (theirs, unknown, "not-an-id"):
        response = client.post(f"{URL}/{target}/read", headers=intruder)
        assert response.status_code == 404, target
        assert response.headers["content-type"] == "application/problem+json"
    # Marking all mine touches nobody else's.
    assert client.post(f"{URL}/read-all", headers=intruder).json() == {"marked": 0}
    assert client.get(f"{URL}/unread-count", headers=people["wangwu"]).json() == {"unread": 1}
    assert client.get(f"{URL}/unread-count", headers=people["sunqi"]).json() == {"unread": 2}
    with engine.connect() as conn:
        denied = conn.execute(
            select(audit_events)
            .where(audit_events.c.action == "notification:read", audit_events.c.decision == "deny")
            .order_by(audit_events.c.id)
        ).all()
    assert [e.object_id for e in denied] == [theirs, unknown, None]
    assert all(e.actor_id == org.user_ids["zhangsan"] for e in denied)


def test_language_from_query_or_browser(
    client: TestClient, engine: Engine, org: Org, people: People
) -> None:
    (nid,) = _fill(engine, org.user_ids["wangwu"], 1)
    headers = people["wangwu"]
    english = client.get(URL, params={"locale": "en"}, headers=headers).json()["items"][0]
    assert english["title"] == "Access request awaiting your approval"
    assert english["body"].startswith("赵六 (zhaoliu) asks for access to 1 customer record(s)")
    browser = client.get(
        URL, headers={**headers, "Accept-Language": "fr;q=1, en-US;q=0.8, zh;q=0.5"}
    )
    assert browser.json()["items"][0]["title"] == "Access request awaiting your approval"
    unknown = client.get(URL, params={"locale": "fr"}, headers=headers).json()["items"][0]
    assert unknown["title"] == "访问申请待您审批"
    marked = client.post(f"{URL}/{nid}/read", params={"locale": "en"}, headers=headers)
    assert marked.json()["title"] == "Access request awaiting your approval"


def test_the_inbox_needs_a_login(client: TestClient) -> None:
    for method, path in (
        ("GET", URL),
        ("GET", f"{URL}/unread-count"),
        ("POST", f"{URL}/read-all"),
        ("POST", f"{URL}/{new_id()}/read"),
    ):
        assert client.request(method, path).status_code == 401, path
