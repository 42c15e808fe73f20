"""Languages of the web UI: Babel catalogs compiled at startup, locale choice, formatting.

The catalogs are the `.po` files under `translations/` (English msgids, `make i18n` extracts
and updates them); they are compiled in memory on first use, so a fresh clone runs without a
build step and no compiled `.mo` file can fall behind its source.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import (
    format_date,
    format_datetime,
    format_skeleton,
    format_time,
    format_timedelta,
)
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal, format_percent
from babel.support import Translations

LOCALES = ("zh_CN", "en")
DEFAULT_LOCALE = "zh_CN"
SUPPORTED = frozenset(LOCALES)
# The company works in China: times are shown in Beijing time whatever the server's zone.
DISPLAY_TIMEZONE = ZoneInfo("Asia/Shanghai")
TRANSLATIONS_DIR = Path(__file__).parent / "translations"
LANGUAGE_COOKIE = "baomi_lang"
# Each language named in itself, for the language switch.
LANGUAGE_NAMES = {"zh_CN": "简体中文", "en": "English"}


def N_(message: str) -> str:
    """Mark a string for translation where it is defined; templates translate it with _().

    Only constants go through _() in templates: Jinja's newstyle gettext marks its result
    safe, so a value from the database or the user must never be passed to it."""
    return message


def po_path(locale: str) -> Path:
    return TRANSLATIONS_DIR / locale / "LC_MESSAGES" / "messages.po"


@lru_cache(maxsize=len(LOCALES))
def translations(locale: str) -> Translations:
    """Compile a locale's `.po` catalog in memory (once per process)."""
    with po_path(locale).open("rb") as source:
        catalog = read_po(source, locale=locale)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return Translations(fp=compiled, domain="messages")


def supported(value: str | None) -> str | None:
    """Return the supported locale a stored or submitted value names, or None."""
    return value if value in SUPPORTED else None


def from_accept_language(header: str | None) -> str | None:
    """Pick the best supported locale from an Accept-Language header (RFC 9110 q-values)."""
    if not header:
        return None
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate(header.split(",")[:20]):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        locale = _match(tag.strip().lower())
        if locale is not None and quality > 0:
            ranked.append((-quality, position, locale))
    return min(ranked)[2] if ranked else None


def _match(tag: str) -> str | None:
    # Traditional-Chinese tags still read Simplified better than English; "zh" alone too.
    if tag == "zh" or tag.startswith("zh-"):
        return "zh_CN"
    if tag == "en" or tag.startswith("en-"):
        return "en"
    return None


def choose(*, user: str | None, cookie: str | None, accept_language: str | None) -> str:
    """The locale of a page: the user's stored choice, else the cookie, else the browser."""
    return (
        supported(user)
        or supported(cookie)
        or from_accept_language(accept_language)
        or DEFAULT_LOCALE
    )


def html_lang(locale: str) -> str:
    """The BCP 47 tag for <html lang>."""
    return locale.replace("_", "-")


@dataclass(frozen=True, slots=True)
class Formats:
    """Dates, numbers and money formatted for one locale, in Beijing time."""

    locale: str

    @property
    def _babel(self) -> Locale:
        return Locale.parse(self.locale)

    def datetime(self, value: dt.datetime | None, width: str = "medium") -> str:
        if value is None:
            return ""
        return format_datetime(value, width, tzinfo=DISPLAY_TIMEZONE, locale=self._babel)

    def date(self, value: dt.date | dt.datetime | None, width: str = "medium") -> str:
        if value is None:
            return ""
        if isinstance(value, dt.datetime):
            value = value.astimezone(DISPLAY_TIMEZONE).date()
        return format_date(value, width, locale=self._babel)

    def day(self, value: dt.date) -> str:
        """A short day label for charts: 3月2日 / Mar 2."""
        return format_skeleton("MMMd", value, locale=self._babel)

    def time(self, value: dt.datetime | None, width: str = "short") -> str:
        if value is None:
            return ""
        return format_time(value, width, tzinfo=DISPLAY_TIMEZONE, locale=self._babel)

    def number(self, value: int | float | Decimal) -> str:
        return format_decimal(value, locale=self._babel)

    def duration(self, seconds: float | None) -> str:
        """An elapsed time in words: 3秒 / 3 seconds (under a second counts as one)."""
        if seconds is None:
            return ""
        delta = dt.timedelta(seconds=max(seconds, 1.0))
        return format_timedelta(delta, threshold=1.0, locale=self._babel)

    def percent(self, value: float | Decimal) -> str:
        return format_percent(value, locale=self._babel)

    def currency(self, value: int | float | Decimal | str, currency: str = "CNY") -> str:
        """Money, in yuan by default (amounts are stored as decimal strings)."""
        return format_currency(Decimal(str(value)), currency, locale=self._babel)
