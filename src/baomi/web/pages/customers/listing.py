"""/customers: the customers I may see (C4.2.1), searched by name, contact or phone substring,
filtered by level and handler, a page at a time; htmx swaps only the results on a search,
a filter or a page change. Everything comes from customers.search, as in the API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from math import ceil
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Query, Request
from fastapi.responses import Response

from baomi.api.deps import Conn, Ctx, VaultDep
from baomi.customers import search
from baomi.customers.schemas import CustomerPage, CustomerSummary
from baomi.errors import ValidationFailed
from baomi.security.levels import Levels
from baomi.security.roles import Permission, permissions_of
from baomi.users.service import list_users
from baomi.web.forms import attempt
from baomi.web.i18n import DISPLAY_TIMEZONE, Formats
from baomi.web.labels import level_labeller
from baomi.web.pages.customers.check import CHECK_KINDS
from baomi.web.pages.customers.display import ACCESS_REASONS
from baomi.web.pages.customers.messages import form_errors
from baomi.web.render import page
from baomi.web.routing import is_htmx, page_router
from baomi.web.templating import translate
from baomi.web.viewer import PageViewer

router = page_router()

PAGE_SIZES = (20, 50, 100)
DEFAULT_PAGE_SIZE = 50
RESULTS_TARGET = "customer-results"
# Page links around the current one; the first and last are always shown.
_WINDOW = 2


def _handlers(conn: Conn) -> list[tuple[str, str, str]]:
    """People who can handle customers, for the handler filter: (id, name, department)."""
    return [
        (u.id, u.display_name, u.department_name or "")
        for u in list_users(conn)
        if u.is_active
        and u.department_id is not None
        and Permission.CUSTOMER_WORK in permissions_of(frozenset(u.roles))
    ]


def _page_links(current: int, pages: int) -> list[int | None]:
    """1 … 4 5 [6] 7 8 … 20: page numbers, None for a gap."""
    shown = sorted({1, pages, *range(max(1, current - _WINDOW), min(pages, current + _WINDOW) + 1)})
    out: list[int | None] = []
    for number in shown:
        if out and number - (out[-1] or 0) > 1:
            out.append(None)
        out.append(number)
    return out


@lru_cache(maxsize=4096)
def _short_day(locale: str, day: date) -> str:
    return Formats(locale).date(day, "short")


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the results, as text: worked out in Python once, not in the template per
    attribute, so the list stays fast at 1,000+ visible customers
    (benchmarks/bench_customer_list_page.py)."""

    id: str
    name: str | None
    level: str
    level_label: str
    handler: str
    department: str
    why: str
    updated: str
    # Issue 17: the record failed its integrity check; the line says so instead of its name.
    damaged: bool = False


def _rows(levels: Levels, locale: str, items: list[CustomerSummary]) -> list[Row]:
    label = level_labeller(levels, locale)
    names = {code: label(code) for code in {c.level for c in items}}
    why = {code: translate(locale, msgid) for code, msgid in ACCESS_REASONS.items()}
    return [
        Row(
            id=c.id,
            name=c.name,
            level=c.level,
            level_label=names[c.level],
            handler=c.handler.display_name,
            department=c.department.name,
            why=why.get(c.access, c.access),
            updated=_short_day(locale, c.updated_at.astimezone(DISPLAY_TIMEZONE).date()),
            damaged=c.damaged,
        )
        for c in items
    ]


def _query(filters: dict[str, Any], **changes: Any) -> str:
    values = {**filters, **changes}
    return urlencode({k: v for k, v in values.items() if v not in (None, "", 1)})


@router.get("/customers")
def get_customers(
    request: Request,
    conn: Conn,
    ctx: Ctx,
    vault: VaultDep,
    viewer: PageViewer,
    q: Annotated[str, Query(max_length=100)] = "",
    level: Annotated[str, Query(max_length=32)] = "",
    handler: Annotated[str, Query(max_length=36)] = "",
    page_number: Annotated[int, Query(alias="page", ge=1, le=search.MAX_PAGE)] = 1,
    size: int = DEFAULT_PAGE_SIZE,
) -> Response:
    """The list (a whole page, or only the results for htmx)."""
    size = size if size in PAGE_SIZES else DEFAULT_PAGE_SIZE
    outcome = attempt(
        conn,
        lambda: search.list_customers(
            conn,
            actor=viewer.actor,
            ctx=ctx,
            vault=vault,
            query=q.strip() or None,
            level=level or None,
            handler_id=handler or None,
            page=page_number,
            page_size=size,
        ),
    )
    if outcome.error is not None and not isinstance(outcome.error, ValidationFailed):
        raise outcome.error  # not allowed at all (C4.2.1): the error page, audited
    result = outcome.value or CustomerPage(items=[], total=0, page=page_number, page_size=size)
    pages = max(1, ceil(result.total / size))
    filters = {"q": q.strip(), "level": level, "handler": handler, "size": size}
    context: dict[str, Any] = {
        "result": result,
        "filters": filters,
        "errors": form_errors(outcome.error, inputs=("q", "level", "handler_id", "page")),
        "pages": pages,
        "page_links": _page_links(min(page_number, pages), pages),
        "query_for": lambda **changes: _query(filters, **changes),
        "results_target": RESULTS_TARGET,
        "rows": _rows(vault.levels, viewer.locale, result.items),
    }
    if is_htmx(request) and request.headers.get("hx-target") == RESULTS_TARGET:
        return page(request, viewer, "customers/_results.html", **context)
    return page(
        request,
        viewer,
        "customers/list.html",
        levels=list(vault.levels.enabled),
        handlers=_handlers(conn),
        page_sizes=PAGE_SIZES,
        check_kinds=CHECK_KINDS,
        check=None,
        ask=None,
        **context,
    )
