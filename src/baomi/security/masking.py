"""Masks for values shown before a reveal (C4.3.2): enough to recognise, not to use."""

from __future__ import annotations

from typing import Any

HIDDEN = "******"


def mask_phone(value: str) -> str:
    """138****8000 style: keep the first three and last four digits."""
    digits = value.removeprefix("+86")
    if len(digits) <= 7:
        return HIDDEN
    return f"{digits[:3]}{'*' * (len(digits) - 7)}{digits[-4:]}"


def mask_email(value: str) -> str:
    local, _, domain = value.partition("@")
    return f"{local[:1]}***@{domain}" if domain else HIDDEN


def mask_identifier(value: str) -> str:
    """ID numbers and credit codes: first four and last four characters."""
    if len(value) <= 8:
        return HIDDEN
    return f"{value[:4]}{'*' * (len(value) - 8)}{value[-4:]}"


def mask_account(value: str) -> str:
    """Bank cards and accounts: only the last four digits."""
    compact = value.replace(" ", "")
    return f"**** {compact[-4:]}" if len(compact) > 4 else HIDDEN


def mask_person_name(value: str) -> str:
    return f"{value[:1]}{'*' * max(len(value) - 1, 1)}" if value else value


def mask_text(_value: Any) -> str:
    return HIDDEN
