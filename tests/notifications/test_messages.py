"""Every notification renders in Chinese and English from its params alone."""

from __future__ import annotations

import re

import pytest

from baomi.notifications.kinds import ALLOWED_PARAMS, Kind, checked_params
from baomi.notifications.messages import (
    LOCALES,
    TEMPLATES,
    from_accept_language,
    normalise_locale,
    render,
)

FULL = {
    "request_id": "r1",
    "requester": "zhaoliu",
    "requester_name": "赵六",
    "customer_count": 3,
    "hours": 12,
    "by": "sunqi",
    "by_name": "孙七",
    "ends_at": "2026-03-03T15:00:00+08:00",
    "grant_ids": ["g1", "g2"],
    "grant_count": 2,
    "grant_id": "g1",
    "customer_id": "c1",
    "grantee": "lisi",
    "grantee_name": "李四",
    "change_id": "ch1",
    "change_kind": "roles",
    "username": "newhire",
    # Issue 17: integrity failures and damaged data keys (ids and field names, never values).
    "field": "phones",
    "during": "customer:read",
    "data_key_ids": ["k1", "k2"],
    "owner_ids": ["c1", "c2"],
    "key_count": 2,
    "target_version": 2,
    "display_name": "张三",
    "limit": 60,
    # Issue 12 item 4: an overdue data-subject request.
    "subject_kind": "access",
    "due_on": "2026-03-03",
    "days": 2,
}
VARIANTS = [
    (kind, extra)
    for kind in Kind
    for extra in (
        [{"outcome": "approved"}, {"outcome": "rejected"}]
        if kind in (Kind.REQUEST_DECIDED, Kind.ACCOUNT_CHANGE_DECIDED)
        else [{"period": "hour"}, {"period": "day"}]
        if kind is Kind.CHECK_LIMIT_REACHED
        else [{}]
    )
    for extra in (
        [extra, {**extra, "request_kind": "level_change"}]
        if "request_kind" in ALLOWED_PARAMS[kind]
        else [extra]
    )
]


@pytest.mark.parametrize(("kind", "extra"), VARIANTS)
@pytest.mark.parametrize("locale", LOCALES)
def test_every_kind_renders_completely(kind: Kind, extra: dict[str, str], locale: str) -> None:
    params = {k: v for k, v in FULL.items() if k in ALLOWED_PARAMS[kind]} | extra
    text = render(kind, checked_params(kind, params), locale)  # type: ignore[arg-type]
    assert text.title and text.body
    assert not re.search(r"[{}]", text.title + text.body)
    assert "—" not in text.body  # every placeholder was filled
    shows_end = kind in (Kind.GRANT_EXPIRING, Kind.GRANT_EXPIRED) or (
        kind is Kind.REQUEST_DECIDED and extra == {"outcome": "approved"}
    )
    assert ("2026-03-03 07:00 UTC" in text.body) == shows_end  # times shown in UTC
    chinese = bool(re.search(r"[\u4e00-\u9fff]", text.title))
    assert chinese == (locale == "zh_CN")


def test_every_template_is_reachable_in_both_languages() -> None:
    assert all(set(t) == set(LOCALES) for t in TEMPLATES.values())
    assert len(VARIANTS) == len(TEMPLATES)


def test_params_outside_the_kind_are_refused() -> None:
    """A notification is not behind the customer door: no customer fields, no free text."""
    with pytest.raises(ValueError, match="may not carry"):
        checked_params(Kind.GRANT_REVOKED, {"grant_id": "g", "customer_name": "某公司"})
    with pytest.raises(ValueError, match="may not carry"):
        checked_params(Kind.REQUEST_TO_APPROVE, {"purpose": "跟进某公司"})
    with pytest.raises(ValueError, match="text, a number or ids"):
        checked_params(Kind.GRANT_EXPIRED, {"grant_ids": [{"name": "x"}]})  # type: ignore[list-item]


def test_old_rows_missing_a_param_still_render() -> None:
    text = render(Kind.GRANT_REVOKED, {"grant_id": "g"}, "en")
    assert (
        text.body == "an operator at the server revoked your access to a customer record; "
        "it ends now."
    )


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("en-US,en;q=0.9", "en"),
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh_CN"),
        ("en;q=0.4, zh-Hant;q=0.6", "zh_CN"),
        ("fr, de;q=0.5", None),
        ("en;q=0", None),
        ("en;q=abc, zh", "zh_CN"),
        ("", None),
        (None, None),
    ],
)
def test_accept_language(header: str | None, expected: str | None) -> None:
    assert from_accept_language(header) == expected


def test_locale_names() -> None:
    assert normalise_locale("zh") == "zh_CN" and normalise_locale("EN-gb") == "en"
    assert normalise_locale("ja") is None and normalise_locale(None) is None
