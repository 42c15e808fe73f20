"""What a run of digits (or an 18-character code) is, by its check digits, never by its length.

C4.1.1 asks for checksums, and the scanner of private ledgers (C4.1.3) must not call every
order number a customer: each kind below has a test that a random run passes rarely.

- Resident ID (GB 11643): 17 digits and an ISO 7064 MOD 11-2 check character, a birth date
  that exists and is not in the future, and a province code. The county code is not looked up:
  stdnum's `cn.ric.validate` refuses counties retired since (a 1980s ID from a county merged
  away is still a person's number), so only the first two digits are held to the provinces.
- Unified social credit code (GB 32100): stdnum's mod-31 check, plus the registration
  department (first character) and the GB 11714 organisation code inside it (characters 9-17,
  with its own mod-11 check). A run of 18 digits passes the mod-31 check alone one time in 31;
  the two extra checks make that about one in 1,400.
- Bank card: 16 to 19 digits, Luhn, and an issuer prefix a card can start with (ISO/IEC 7812
  industry digits 3, 4, 5, 6, 9; Mastercard's 2221-2720). Luhn alone passes one random run in
  ten; most order and invoice numbers start with a year (20…), which no card does.
- Phone: a mainland mobile (11 digits, 1…) or landline with its area code (0…), or either
  after +86 / 0086 / 86, valid in libphonenumber's plan. Service numbers (400/800) name a
  company's switchboard, not a person: they are not customer identifiers.
"""

from __future__ import annotations

from datetime import date

import phonenumbers
from stdnum import luhn
from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError

from baomi import clock
from baomi.crypto import normalize

# GB/T 2260 province-level codes, those merged away included (none has been so far).
PROVINCES = frozenset(
    {"11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37"}
    | {"41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64"}
    | {"65", "71", "81", "82", "83"}
)
# GB 32100 登记管理部门码: 机构编制 1, 外交 2, 司法行政 3, 文化 4, 民政 5, 旅游 6, 宗教 7,
# 工会 8, 工商 9, 中央军委改革和编制办公室 A, 农业 N, 其他 Y.
REGISTRARS = frozenset("123456789ANY")
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_OLDEST_BIRTH = date(1900, 1, 1)
_CARD_INDUSTRIES = frozenset("34569")
_MOBILE_TYPES = frozenset(
    {phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}
)
_LANDLINE_TYPES = frozenset(
    {phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}
)


def resident_id(code: str) -> bool:
    """Whether `code` (18 characters, upper-case X) is a resident ID number."""
    if len(code) != 18 or not code[:17].isdigit() or code[:2] not in PROVINCES:
        return False
    if code[-1] != ric.calc_check_digit(code):
        return False
    try:
        born = date(int(code[6:10]), int(code[10:12]), int(code[12:14]))
    except ValueError:
        return False
    return _OLDEST_BIRTH <= born <= clock.utcnow().date()


def _org_code_valid(code: str) -> bool:
    """GB 11714: eight characters (digits, or letters counted A=10 … Z=35) and a check."""
    body, check = code[:8], code[8]
    if not body.isalnum() or not body.isascii():
        return False
    total = sum(int(c, 36) * w for c, w in zip(body, _ORG_WEIGHTS, strict=True))
    value = 11 - total % 11
    return check == {10: "X", 11: "0"}.get(value, str(value))


def credit_code(code: str) -> bool:
    """Whether `code` (18 characters, upper-case) is a unified social credit code."""
    if len(code) != 18 or code[0] not in REGISTRARS or any(c not in _USCC_ALPHABET for c in code):
        return False
    try:
        uscc.validate(code)
    except ValidationError:
        return False
    return _org_code_valid(code[8:17])


def bank_card(digits: str) -> bool:
    """Whether `digits` can be a bank card number: length, issuer prefix and Luhn."""
    if not (16 <= len(digits) <= 19 and digits.isdigit()):
        return False
    two_series = len(digits) == 16 and 2221 <= int(digits[:4]) <= 2720
    if digits[0] not in _CARD_INDUSTRIES and not two_series:
        return False
    try:
        luhn.validate(digits)
    except ValidationError:
        return False
    return True


def phone(raw: str) -> str | None:
    """The E.164 form of a mainland mobile or landline written as `raw`, else None.

    `raw` is digits, perhaps after a + (separators already taken out).
    """
    plus = raw.startswith("+")
    digits = raw.lstrip("+")
    if not digits.isdigit():
        return None
    national: str
    if plus or digits.startswith("0086"):
        rest = digits[2:] if plus else digits[4:]
        if not digits.startswith("86" if plus else "0086"):
            return None  # another country: not what this policy's customers are
        mobile = rest.startswith("1") and len(rest) == 11
        # A landline after +86 drops its trunk 0 (+86 10 1234 5678); some keep it as (0).
        national = rest if mobile or rest.startswith("0") else "0" + rest
    elif digits.startswith("86") and len(digits) == 13 and digits[2] == "1":
        national = digits[2:]  # 86 and a mobile, the + left out
    else:
        national = digits
    if national.startswith("1"):
        allowed, length_ok = _MOBILE_TYPES, len(national) == 11
    elif national.startswith("0") and not national.startswith("00"):
        allowed, length_ok = _LANDLINE_TYPES, 10 <= len(national) <= 12
    else:
        return None
    if not length_ok:
        return None
    try:
        number = phonenumbers.parse(national, "CN")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number) or phonenumbers.number_type(number) not in allowed:
        return None
    return normalize.phone(national)
