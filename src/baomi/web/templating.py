"""Jinja2 rendering: one autoescaping environment per locale, and the page's security headers."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from baomi.web import i18n, labels
from baomi.web.i18n import N_

__all__ = ["N_", "PAGE_CSP", "environment", "html", "render_text", "translate"]

TEMPLATES_DIR = Path(__file__).parent / "templates"

# Issue 5 §4: no inline script, no inline style, nothing from another origin, no framing.
PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


@lru_cache(maxsize=len(i18n.LOCALES))
def environment(locale: str) -> Environment:
    """The template environment of one locale: its catalog, its formats, autoescape on."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(default=True, default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(i18n.translations(locale), newstyle=True)  # type: ignore[attr-defined]
    formats = i18n.Formats(locale)
    env.filters.update(
        datetime=formats.datetime,
        date=formats.date,
        time=formats.time,
        day=formats.day,
        number=formats.number,
        duration=formats.duration,
        percent=formats.percent,
        currency=formats.currency,
    )
    env.globals.update(
        locale=locale,
        html_lang=i18n.html_lang(locale),
        language_names=i18n.LANGUAGE_NAMES,
        locales=i18n.LOCALES,
        action_name=labels.action_name,
        browser_name=labels.browser_name,
    )
    return env


def translate(locale: str, message: str, **variables: Any) -> str:
    """Translate one message in Python code, %-formatted (Babel extracts it: `translate:2`).

    The result is plain text: templates escape it like any other value."""
    text = i18n.translations(locale).gettext(message)
    return text % variables if variables else text


def render_text(locale: str, template: str, context: Mapping[str, Any]) -> str:
    """Render a template to a string (pages, partials, SVG)."""
    return environment(locale).get_template(template).render(context)


def html(
    locale: str,
    template: str,
    context: Mapping[str, Any],
    *,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """Render a page (or an htmx partial) with the strict CSP; no-store comes from app.py."""
    response = HTMLResponse(render_text(locale, template, context), status_code=status)
    response.headers["Content-Security-Policy"] = PAGE_CSP
    response.headers["Content-Language"] = i18n.html_lang(locale)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response
