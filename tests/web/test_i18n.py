"""The catalogs: every string of the UI translated into Chinese, compiled from the .po files at
startup, and dates, numbers and money formatted per locale."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from babel.messages.catalog import Message
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from baomi.web import i18n, templating

WEB = Path(i18n.__file__).parent
ROOT = WEB.parents[2]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None, "translate": (2,)}


def _msgids_in_code() -> set[str]:
    """Extract the UI's strings as `make i18n` does (babel.cfg, keyword translate:2)."""
    method_map = [("**.py", "python"), ("templates/**.html", "jinja2")]
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(WEB), method_map=method_map, keywords=KEYWORDS
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def _strings(message: Message) -> tuple[str, ...]:
    """A message's translation(s): one string, or one per plural form."""
    string = message.string
    return (string,) if isinstance(string, str) else tuple(string)


def _catalog(locale: str) -> dict[str, Message]:
    with i18n.po_path(locale).open("rb") as source:
        catalog = read_po(source, locale=locale)
    return {
        (m.id[0] if isinstance(m.id, tuple) else m.id): m for m in catalog if m.id and not m.fuzzy
    }


def test_babel_cfg_names_what_the_test_extracts() -> None:
    config = (ROOT / "babel.cfg").read_text()
    assert "[python: **.py]" in config and "[jinja2: templates/**.html]" in config
    assert "-k translate:2" in (ROOT / "Makefile").read_text()


def test_every_string_has_a_chinese_translation() -> None:
    """zh_CN is the default language: nothing may fall back to English."""
    in_code = _msgids_in_code()
    assert len(in_code) > 100
    chinese = _catalog("zh_CN")
    missing = sorted(m for m in in_code if m not in chinese)
    assert missing == [], "run `make i18n` and translate these in zh_CN/messages.po"
    untranslated = sorted(m for m in in_code if not all(_strings(chinese[m])))
    assert untranslated == []


def test_english_catalog_lists_every_string() -> None:
    assert _msgids_in_code() <= set(_catalog("en"))


def test_translations_keep_their_placeholders() -> None:
    """A translation that drops or renames %(name)s would fail at render time."""
    placeholder = re.compile(r"%\((\w+)\)[sd]")
    for source, message in _catalog("zh_CN").items():
        for target in _strings(message):
            assert set(placeholder.findall(source)) == set(placeholder.findall(target)), source


def test_catalogs_are_compiled_from_the_po_files() -> None:
    assert i18n.translations("zh_CN").gettext("Sign in") == "登录"
    assert i18n.translations("en").gettext("Sign in") == "Sign in"
    assert templating.translate("zh_CN", "Hello, %(name)s", name="张三") == "张三，你好"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("", None),
        ("en-US,en;q=0.9", "en"),
        ("zh-TW,zh;q=0.9,en;q=0.8", "zh_CN"),
        ("fr-FR, en;q=0.5, zh-CN;q=0.7", "zh_CN"),
        ("de, fr", None),
        ("en;q=0, zh;q=0.1", "zh_CN"),
        ("en;q=oops, zh-CN", "zh_CN"),
    ],
)
def test_accept_language(header: str | None, expected: str | None) -> None:
    assert i18n.from_accept_language(header) == expected


def test_choice_order_is_user_then_cookie_then_browser() -> None:
    assert i18n.choose(user="en", cookie="zh_CN", accept_language="zh") == "en"
    assert i18n.choose(user=None, cookie="en", accept_language="zh") == "en"
    assert i18n.choose(user="xx", cookie="yy", accept_language="en") == "en"
    assert i18n.choose(user=None, cookie=None, accept_language=None) == "zh_CN"


def test_formats_per_locale() -> None:
    moment = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)  # 09:30 in Beijing
    zh, en = i18n.Formats("zh_CN"), i18n.Formats("en")
    assert zh.datetime(moment, "short") == "2026/3/2 09:30"
    assert en.datetime(moment, "short").startswith("3/2/26")
    assert zh.date(date(2026, 3, 2), "long") == "2026年3月2日"
    assert zh.day(date(2026, 3, 2)) == "3月2日" and en.day(date(2026, 3, 2)) == "Mar 2"
    assert zh.number(1234567) == "1,234,567"
    assert zh.currency(Decimal("12800.5")) == "¥12,800.50"
    assert en.currency("12800.5") == "CN¥12,800.50"
    assert zh.datetime(None) == ""


def test_the_compiled_catalog_is_never_stale() -> None:
    """No .mo file is kept: what runs is always what the .po says."""
    assert not list((WEB / "translations").rglob("*.mo"))
    text = i18n.po_path("zh_CN").read_text()
    assert 'msgid "Sign in"\nmsgstr "登录"' in text
    assert i18n.translations("zh_CN").gettext("Wrong username or password.") == "用户名或密码错误。"
