"""Values for the custom string formats of the API's document (customers/schemas.py), for
schemathesis: numbers that pass the services' check digits and numbering plans, which no pattern
can say. Importing this module registers them.

The contract test imports it; a schemathesis run from the command line loads it as a hook:
`SCHEMATHESIS_HOOKS=tests.support.contract_formats st run …/api/openapi.json` (from the
repository's root).
"""

from __future__ import annotations

from datetime import date

import phonenumbers
import schemathesis
from hypothesis import strategies as st
from stdnum import luhn
from stdnum.cn import ric, uscc

# Regions (GB/T 2260) whose codes held all century, as stdnum checks by birth year: Beijing
# Dongcheng and Chaoyang, Shanghai Xuhui.
_REGIONS = ("110101", "110105", "310104")
_USCC_BODY = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def _valid_phone(number: str) -> bool:
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(number, "CN"))
    except phonenumbers.NumberParseException:
        return False


# Mainland mobiles with and without +86, and Beijing and Shanghai landlines.
PHONES = st.one_of(
    st.from_regex(r"1(3[0-9]|5[0-35-9]|8[0-9])[0-9]{8}", fullmatch=True),
    st.from_regex(r"\+86 ?1(3[0-9]|8[0-9])[0-9]{8}", fullmatch=True),
    st.from_regex(r"0(10|21)-?[2-8][0-9]{7}", fullmatch=True),
).filter(_valid_phone)


@st.composite
def _resident_ids(draw: st.DrawFn) -> str:
    born = draw(st.dates(min_value=date(1920, 1, 1), max_value=date(2020, 12, 31)))
    body = (
        draw(st.sampled_from(_REGIONS))
        + born.strftime("%Y%m%d")
        + draw(st.from_regex(r"[0-9]{3}", fullmatch=True))
    )
    # ric.calc_check_digit reads a whole number, its last (check) character aside.
    return body + ric.calc_check_digit(body + "0")


@st.composite
def _credit_codes(draw: st.DrawFn) -> str:
    body = "91" + draw(st.from_regex(r"[0-9]{6}", fullmatch=True))
    body += draw(st.text(alphabet=_USCC_BODY, min_size=9, max_size=9))
    return body + uscc.calc_check_digit(body)


# A resident ID number or a credit code; empty clears the field.
ID_NUMBERS = st.one_of(_resident_ids(), _credit_codes(), st.just(""))


@st.composite
def _bank_cards(draw: st.DrawFn) -> str:
    body = draw(st.from_regex(r"62[0-9]{14}", fullmatch=True))
    return body + luhn.calc_check_digit(body)


BANK_CARDS = _bank_cards()

schemathesis.openapi.format("phone", PHONES)
schemathesis.openapi.format("cn-id-number", ID_NUMBERS)
schemathesis.openapi.format("bank-card", BANK_CARDS)
