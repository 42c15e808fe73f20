"""Valid-looking but invented identifiers for the demo: every check digit computed, not faked.

The customer service validates check digits (C4.1.1), so demo data must pass them: resident ID
numbers (GB 11643, ISO 7064 MOD 11-2), unified social credit codes (GB 32100, mod 31, with the
GB 11714 organisation code inside), bank cards (Luhn) and mainland mobile numbers.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import TYPE_CHECKING

from stdnum.cn import ric

from baomi.crypto import normalize

if TYPE_CHECKING:
    from faker import Faker  # the demo extra; only its type is named here

# County-level codes that existed throughout the birth years used below (1965–2002).
REGIONS = (
    "110101",
    "110105",
    "110108",
    "310101",
    "310104",
    "310110",
    "320102",
    "320106",
    "330102",
    "330106",
    "440103",
    "440104",
    "350203",
    "420106",
    "510104",
    "370102",
)
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def ric_check_digit(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character of a resident ID number's first 17 digits."""
    total = sum(int(d) * pow(2, 17 - i, 11) for i, d in enumerate(first17))
    value = (12 - total % 11) % 11
    return "X" if value == 10 else str(value)


def resident_id(rng: random.Random) -> str:
    """Return an invented 18-digit resident ID number with a correct check digit."""
    for _ in range(100):
        born = date(1965, 1, 1) + timedelta(days=rng.randrange(365 * 37))
        body = f"{rng.choice(REGIONS)}{born:%Y%m%d}{rng.randrange(1000):03d}"
        number = body + ric_check_digit(body)
        if ric.is_valid(number):  # also checks the region existed in the birth year
            return number
    raise RuntimeError("could not build a valid resident ID number")


def _org_code(rng: random.Random) -> str:
    """GB 11714 organisation code: 8 characters and a mod-11 check character."""
    body = "".join(rng.choice(_USCC_ALPHABET) for _ in range(8))
    # GB 11714 values: digits as themselves, letters A=10 … Z=35.
    total = sum(int(c, 36) * w for c, w in zip(body, _ORG_WEIGHTS, strict=True))
    value = 11 - total % 11
    return body + {10: "X", 11: "0"}.get(value, str(value))


def uscc_check_char(first17: str) -> str:
    """GB 32100 check character (weights 3^i mod 31 over the 31-character alphabet)."""
    total = sum(_USCC_ALPHABET.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return _USCC_ALPHABET[(31 - total % 31) % 31]


def credit_code(rng: random.Random) -> str:
    """Return an invented unified social credit code of a company (登记管理部门 9, 企业 1)."""
    body = "91" + rng.choice(REGIONS) + _org_code(rng)
    return body + uscc_check_char(body)


def luhn_digit(body: str) -> str:
    """The Luhn check digit to append to `body`."""
    total = 0
    for i, d in enumerate(reversed(body)):
        n = int(d) * (2 if i % 2 == 0 else 1)
        total += n - 9 if n > 9 else n
    return str((10 - total % 10) % 10)


def bank_card(rng: random.Random) -> str:
    """Return an invented UnionPay-style card number (62…, 16 or 19 digits) that passes Luhn."""
    length = rng.choice((16, 19))
    body = "62" + "".join(str(rng.randrange(10)) for _ in range(length - 3))
    return body + luhn_digit(body)


def mobile(fake: Faker, taken: set[str]) -> str:
    """Return a mainland mobile number that validates and is not in `taken` (then add it)."""
    for _ in range(100):
        candidate = fake.phone_number()
        try:
            canonical = normalize.phone(candidate)
        except ValueError:
            continue  # Faker also produces data-only prefixes such as 149
        if canonical not in taken:
            taken.add(canonical)
            return candidate
    raise RuntimeError("could not draw a valid phone number")
