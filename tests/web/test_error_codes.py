"""The web tells a service's validation error by its code, never by its English words (issue 11,
part 7): a reworded message reads the same, and an unknown code shows the service's words."""

from __future__ import annotations

import pytest
from jinja2 import Environment

from baomi.errors import FieldError, ValidationFailed
from baomi.web import templating
from baomi.web.pages.customers.messages import FIELD_CODES, form_errors

# The codes the customer services give for the record form, 查重, reveal and the timeline
# (pinned through the API in tests/customers/test_error_codes.py).
CUSTOMER_CODES = {
    "phone_invalid",
    "email_invalid",
    "id_number_invalid",
    "blank",
    "date_invalid",
    "amount_invalid",
    "payment_type_unknown",
    "bank_card_length",
    "bank_card_checksum",
    "handler_not_eligible",
    "handler_outside_department",
    "user_id_malformed",
    "period_not_future",
    "period_nothing_to_lapse_to",
    "level_not_lower",
    "level_unknown",
    "level_unchanged",
    "channel_unknown",
    "reason_code_unknown",
    "reason_length",
    "field_unknown",
    "fields_required",
    "filename_length",
    "file_too_large",
    "page_out_of_range",
    # Data-subject requests (issue 12.4): a notes field that would hold an identifier, a
    # withdrawal with no consent named, a request received in the future.
    "identifier_in_note",
    "consent_required",
    "received_in_future",
}


def _shown(env: Environment, error: FieldError, slot: str) -> str:
    """The text the form shows under `slot` for one error (customers/_messages.html)."""
    errors = form_errors(ValidationFailed([error]))
    macro = env.from_string(
        '{% from "customers/_messages.html" import field_messages %}'
        "{{ field_messages(errors, slot) }}"
    )
    return " ".join(macro.render(errors=errors, slot=slot).split())


def test_every_customer_code_has_a_message() -> None:
    assert set(FIELD_CODES) == CUSTOMER_CODES


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("zh_CN", "<p>银行卡号校验位（Luhn）不正确，请检查是否输错。</p>"),
        ("en", "<p>This bank card number fails its check digit (Luhn): check it for a typing"),
    ],
)
def test_the_code_picks_the_message_whatever_the_service_wrote(locale: str, expected: str) -> None:
    env = templating.environment(locale)
    error: FieldError = {
        "field": "payment_methods[0].account",
        "code": "bank_card_checksum",
        "message": "reworded: the Luhn digit is off",
    }
    shown = _shown(env, error, "payment_methods-0-account")
    assert expected in shown
    assert "reworded" not in shown


def test_a_message_starting_like_a_known_one_is_not_taken_for_it() -> None:
    """The old prefix match would have called this a phone error; its code says otherwise."""
    error: FieldError = {
        "field": "phones[1]",
        "code": "phone_on_blocklist",
        "message": "not a valid phone number for this company",
    }
    shown = _shown(templating.environment("zh_CN"), error, "phones")
    assert "<p>第 2 项：not a valid phone number for this company</p>" in shown
    assert "不是有效的电话号码" not in shown


def test_an_unknown_code_shows_the_services_words_escaped() -> None:
    error: FieldError = {"field": "notes", "code": "new_rule", "message": "<b>too</b> odd"}
    shown = _shown(templating.environment("zh_CN"), error, "notes")
    assert "&lt;b&gt;too&lt;/b&gt; odd" in shown
