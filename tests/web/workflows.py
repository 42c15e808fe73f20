"""Helpers of the access, audit, security-officer and administrator page tests: customers made
through the real customer service, and screenshots of a page in both languages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from playwright.sync_api import Page
from sqlalchemy import Engine

from baomi.audit.context import CLI_CONTEXT
from baomi.customers.schemas import CustomerIn
from baomi.customers.service import create
from baomi.customers.vault import Vault
from baomi.uow import unit_of_work
from baomi.web.i18n import LANGUAGE_COOKIE
from tests.support.api import PROVENANCE
from tests.support.org import Org
from tests.support.org import actor as load_actor
from tests.web.conftest import SCREENSHOTS

# Values that must never appear on an approver's, the auditor's or the officer's page.
SECRET_NAME = "深圳绝密电子有限公司"
SECRET_PHONE = "13912345678"


def make_customer(engine: Engine, vault: Vault, org: Org, handler: str, **fields: Any) -> str:
    """File a customer as its handler through customers.service; return its id."""
    handler_actor = load_actor(engine, org, handler)
    body = {"name": SECRET_NAME, "phones": [SECRET_PHONE], **PROVENANCE, **fields}
    with unit_of_work(engine) as conn:
        out = create(
            conn,
            actor=handler_actor,
            ctx=CLI_CONTEXT,
            vault=vault,
            customer_in=CustomerIn(**body),
        )
    return out.id


def shoot(
    page: Page, name: str, then: Callable[[], None] | None = None, *, full_page: bool = True
) -> None:
    """Screenshot the current page in English and Simplified Chinese (docs/screenshots/);
    `then` runs after each load (e.g. submits a form whose answer is the picture)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    # Without its fragment: going to the same URL with one would not load the page again.
    url = page.url.split("#", 1)[0]
    origin = "/".join(url.split("/", 3)[:3])
    for language in ("en", "zh_CN"):
        page.context.add_cookies([{"name": LANGUAGE_COOKIE, "value": language, "url": origin}])
        page.goto(url)
        if then is not None:
            then()
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(SCREENSHOTS / f"{name}.{language}.png"), full_page=full_page)
