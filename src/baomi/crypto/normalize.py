"""Canonical forms of searchable values, applied before blind indexing and before re-checking.

A blind index only finds exact matches, so every way of typing the same value (full-width digits
from a Chinese IME, spaces, a +86 prefix or none, upper-case e-mail) must reduce to one string.
Pure functions; they raise ValueError for a value that cannot be put in canonical form.
"""

from __future__ import annotations

import unicodedata

import phonenumbers


def _nfkc(value: str) -> str:
    # NFKC folds full-width forms (１２３, ＡＢＣ, ＠) into their ASCII equivalents.
    return unicodedata.normalize("NFKC", value)


def _without_whitespace(value: str) -> str:
    return "".join(value.split())


def phone(value: str, default_region: str = "CN") -> str:
    """Return the E.164 form (+8613800138000); a number without a country code is domestic."""
    try:
        number = phonenumbers.parse(_nfkc(value), default_region)
    except phonenumbers.NumberParseException:
        raise ValueError("not a phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError("not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# NFKC, case mapping and whitespace removal do not commute ("A´" folds to "a" + U+0301, which
# NFKC composes to "á"), so each normalizer ends with NFKC and repeats its whitespace step: a
# normalized value normalizes to itself, and the index of a stored value equals a query's.


def email(value: str) -> str:
    """Return the address stripped and lower-cased (full-width forms folded first)."""
    return _nfkc(_nfkc(value).strip().lower()).strip()


def id_number(value: str) -> str:
    """Return an ID card or credit code without whitespace, upper-cased (the X check digit)."""
    return _without_whitespace(_nfkc(_without_whitespace(_nfkc(value)).upper()))


def name(value: str) -> str:
    """Return the name NFKC-folded, with all whitespace removed, case-folded."""
    return _without_whitespace(_nfkc(_without_whitespace(_nfkc(value)).casefold()))
