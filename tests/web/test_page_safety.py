"""Safety of every page (issue 5 §4): the strict CSP, no inline script or style anywhere,
output escaped, errors as pages, the static files and vendored assets served locally."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine

from baomi.audit.context import CLI_CONTEXT
from baomi.security.actor import SEEDER
from baomi.security.roles import Role
from baomi.uow import unit_of_work
from baomi.users import service as users
from baomi.users.schemas import EmploymentType
from baomi.web import templating
from baomi.web.charts import Series, axis, columns, nice_step, rows
from baomi.web.routing import safe_next
from tests.support.org import PASSWORD, Org
from tests.web.forms import browser, login

TEMPLATES = Path(templating.TEMPLATES_DIR)
INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "inline <script>"),
    (re.compile(r"\sstyle\s*=", re.I), "style attribute"),
    (re.compile(r"<style", re.I), "<style> element"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "on…= handler"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
    (re.compile(r"\|\s*safe\b"), "|safe (bypasses autoescape)"),
    (re.compile(r"https?://(?!www\.w3\.org/2000/svg)", re.I), "another origin"),
]


def _offences(text: str) -> list[str]:
    return [name for pattern, name in INLINE if pattern.search(text)]


@pytest.mark.parametrize(
    "template", sorted(str(p.relative_to(TEMPLATES)) for p in TEMPLATES.rglob("*.html"))
)
def test_no_template_has_inline_script_style_or_handlers(template: str) -> None:
    source = re.sub(r"\{#.*?#\}", "", (TEMPLATES / template).read_text(), flags=re.S)
    assert _offences(source) == []


def test_rendered_pages_are_clean_and_carry_the_csp(app: FastAPI) -> None:
    with browser(app) as client:
        pages = [client.get("/login"), client.get("/session-expired")]
        login(client, "wangwu")
        pages += [client.get(p) for p in ("/", "/account", "/account/mfa")]
        pages.append(client.get("/no-such-page", headers={"Accept": "text/html"}))
    for response in pages:
        assert response.headers["content-security-policy"] == templating.PAGE_CSP
        assert response.headers["cache-control"] == "no-store"
        assert _offences(response.text) == [], response.url
    assert pages[-1].status_code == 404 and "页面不存在" in pages[-1].text


def test_api_errors_stay_problem_json(app: FastAPI) -> None:
    with browser(app) as client:
        response = client.get("/api/v1/customers")
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
        unknown = client.get("/api/v1/nothing-here")
        assert unknown.headers["content-type"] == "application/problem+json"


def test_names_are_escaped_everywhere(app: FastAPI, engine: Engine, org: Org) -> None:
    """A display name full of markup is text on every page, never markup."""
    payload = '<img src=x onerror="alert(1)">&"\''
    with unit_of_work(engine) as conn:
        users.create_user(
            conn,
            actor=SEEDER,
            ctx=CLI_CONTEXT,
            username="xss",
            display_name=payload,
            password=PASSWORD,
            employment_type=EmploymentType.FULL_TIME,
            department_id=org.departments["华东销售部"],
            roles={Role.SALESPERSON},
        )
    with browser(app) as client:
        login(client, "xss")
        for path in ("/", "/account"):
            html = client.get(path).text
            assert payload not in html
            assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;&amp;&#34;&#39;" in html
        login(client, "wangwu")
        head = client.get("/").text  # the head's charts name the person
        assert payload not in head and "&lt;img src=x" in head


def test_vendored_assets_are_served_from_this_site(app: FastAPI) -> None:
    with browser(app) as client:
        for path in (
            "/static/vendor/htmx/htmx.min.js",
            "/static/vendor/axe-core/axe.min.js",
            "/static/web/baomi.js",
            "/static/web/baomi.css",
        ):
            response = client.get(path)
            assert response.status_code == 200, path


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "/"),
        ("/account", "/account"),
        ("/customers?q=%E4%B8%8A", "/customers?q=%E4%B8%8A"),
        ("//evil.example", "/"),
        ("/\\evil.example", "/"),
        ("https://evil.example/", "/"),
        ("account", "/"),
        ("/login?next=/", "/"),
        ("/x\r\nSet-Cookie: a=b", "/"),
        ("/" + "a" * 2001, "/"),
    ],
)
def test_next_is_a_path_on_this_site(value: str | None, expected: str) -> None:
    assert safe_next(value) == expected


def test_chart_axes_are_whole_and_cover_the_data() -> None:
    assert axis(0) == [0, 1]
    assert axis(10) == [0, 2, 4, 6, 8, 10]
    assert axis(32) == [0, 10, 20, 30, 40]
    assert nice_step(0.3) == 1 and nice_step(3) == 5 and nice_step(130) == 200
    chart = columns(
        chart_id="c",
        title="t",
        description="d",
        categories=["a", "b"],
        series=[Series("access", "A", [3, 0]), Series("reveal", "R", [1, 4])],
    )
    tallest = max(chart.bars, key=lambda b: b.value)
    assert tallest.value == 4 and tallest.height > 0
    assert [b.height for b in chart.bars if b.value == 0] == [0.0]
    assert chart.rows() == [("a", [3, 1]), ("b", [0, 4])]
    across = rows(
        chart_id="r", title="t", description="d", categories=["x"], series=[Series("k", "K", [2])]
    )
    assert across.bars[0].width > 0 and across.labels[0].text == "x"
