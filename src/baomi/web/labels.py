"""Names people read for codes the services return: levels (the company's own labels, C2.2)
and audit action tags (translated)."""

from __future__ import annotations

from collections.abc import Callable

from baomi.consent.purposes import PurposeCatalog
from baomi.errors import BaomiError
from baomi.security.levels import Levels
from baomi.web.i18n import N_

ACTION_NAMES = {
    "auth:login": N_("Sign-in"),
    "auth:step_up": N_("Verification"),
    "auth:password_change": N_("Password change"),
    "auth:screen_unlock": N_("Screen unlock"),
    "auth:csrf": N_("Forged request"),
    "auth:session_end": N_("Session end"),
    "customer:list": N_("Customer list"),
    "customer:search": N_("Customer search"),
    "customer:read": N_("Open a customer"),
    "customer:reveal": N_("Reveal a field"),
    "customer:create": N_("Create a customer"),
    "customer:update": N_("Change a customer"),
    "customer:delete": N_("Delete a customer"),
    "customer:check": N_("Duplicate check"),
    "attachment:download": N_("Download an attachment"),
    "access_request:create": N_("Access request"),
    "access_request:approve": N_("Approval"),
    "access_request:reject": N_("Rejection"),
    "grant:create": N_("Grant"),
    "grant:revoke": N_("Grant revoked"),
}


def action_name(tag: str) -> str | None:
    """The msgid naming an action tag, or None: templates then show the tag itself, escaped
    (only our own constants ever go through _(), which marks its result safe)."""
    return ACTION_NAMES.get(tag)


def level_labeller(levels: Levels, locale: str) -> Callable[[str], str]:
    """The company's label of a level code in this locale (the code itself if unknown)."""

    def label(code: str) -> str:
        try:
            rule = levels.rule_of(code)
        except (BaomiError, KeyError, ValueError):
            return code
        return rule.label_zh if locale.startswith("zh") else rule.label_en

    return label


_BROWSERS = (
    ("Edg/", "Edge"),
    ("Firefox/", "Firefox"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
)
_SYSTEMS = (
    ("Windows", "Windows"),
    ("Android", "Android"),
    ("iPhone", "iOS"),
    ("iPad", "iPadOS"),
    ("Mac OS X", "macOS"),
    ("Linux", "Linux"),
)


def browser_name(user_agent: str | None) -> str:
    """A short name for a session's device ("Chrome · Linux"), from its User-Agent."""
    if not user_agent:
        return "—"
    browser = next((name for key, name in _BROWSERS if key in user_agent), None)
    system = next((name for key, name in _SYSTEMS if key in user_agent), None)
    if browser is None and system is None:
        return user_agent.split(" ", 1)[0][:40]
    return " · ".join(part for part in (browser, system) if part)


def purpose_choices(catalog: PurposeCatalog, locale: str) -> list[tuple[str, str]]:
    """The company's processing purposes (C4.1.2) as (code, label in this locale), in order."""
    chinese = locale.startswith("zh")
    return [(p.code, p.label_zh if chinese else p.label_en) for p in catalog]
