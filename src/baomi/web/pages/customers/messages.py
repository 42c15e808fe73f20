"""Validation errors of the customer services, told per form field in the reader's language.

The services answer `ValidationFailed` with field paths such as `phones[1]` or
`contacts[0].emails[2]`, each with a stable code (C4.1.1: `phone_invalid`, `id_number_invalid`,
`bank_card_checksum` …) and an English message; pydantic answers its own error types. Here each
code or type becomes a message id (translated by the template) placed under the input it belongs
to, with the line or row it concerns. The English wording is never parsed: a service may reword
it freely. A code we do not know is shown in the service's words, escaped: nothing is lost.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from baomi.errors import BaomiError, FieldError, ValidationFailed
from baomi.web.i18n import N_

_PATH = re.compile(r"^(?P<top>\w+)(?:\[(?P<i>\d+)\])?(?:\.(?P<leaf>\w+)(?:\[(?P<j>\d+)\])?)?$")
# Fields entered one value per line in a textarea: an error names the line.
LINE_FIELDS = frozenset({"phones", "emails"})
ROW_FIELDS = frozenset({"contacts", "purchases", "payment_methods"})

PHONE = N_("Not a valid phone number (mainland numbers may leave out +86).")
EMAIL = N_("Not a valid e-mail address.")
ID_NUMBER = N_(
    "Not a valid resident ID number (居民身份证号) or unified social credit code "
    "(统一社会信用代码): the check digit or the format is wrong."
)
FILL_IN = N_("Fill this in.")
DATE = N_("Use a date like 2026-03-31.")
# C4.1.1: every record states where its data came from and on what lawful basis.
SOURCE = N_("Say where the data came from, e.g. a trade-fair business card.")
LAWFUL_BASIS = N_("Choose the lawful basis on which the data was obtained.")
REVEAL_FIELDS = N_("Choose the fields to reveal.")

# The services' field codes (baomi.errors.FieldError) → message id. A code names a rule, so it
# reads the same wherever it comes from: the record form's phones and 查重's phone alike.
FIELD_CODES = {
    "phone_invalid": PHONE,
    "email_invalid": EMAIL,
    "id_number_invalid": ID_NUMBER,
    "blank": FILL_IN,
    "date_invalid": DATE,
    "amount_invalid": N_("Use an amount of 0 or more, like 12800.00."),
    "payment_type_unknown": N_("Choose one of the payment methods."),
    # Issue 12 item 4: the notes of a data-subject request are stored unencrypted.
    "identifier_in_note": N_(
        "Leave out the customer's phone, ID, credit code, card and e-mail: this text is not "
        "encrypted."
    ),
    "consent_required": N_("Enter the id of the consent record the customer withdrew."),
    "received_in_future": N_("The time received cannot be in the future."),
    "bank_card_length": N_("A bank card number has 12 to 19 digits."),
    "bank_card_checksum": N_(
        "This bank card number fails its check digit (Luhn): check it for a typing error."
    ),
    "handler_not_eligible": N_(
        "The handler must be an active salesperson or head in a department."
    ),
    "handler_outside_department": N_("The new handler must be in your department."),
    "user_id_malformed": N_("Choose a person from the list."),
    "period_not_future": N_("Use a date in the future."),
    "period_nothing_to_lapse_to": N_(
        "This level has no lower level to lapse to: leave the date empty."
    ),
    "level_not_lower": N_("Choose a level lower than the current one; a level is raised directly."),
    "level_unknown": N_("Choose one of the levels."),
    "level_unchanged": N_("Choose a level other than the current one."),
    "channel_unknown": N_("Choose one of the channels."),
    "reason_code_unknown": N_("Choose a reason."),
    "reason_length": N_("Say why in 2 to 500 characters."),
    "field_unknown": REVEAL_FIELDS,
    "fields_required": REVEAL_FIELDS,
    "filename_length": N_("The file name must have 1 to 255 characters."),
    "file_too_large": N_("The file is too large."),
    "page_out_of_range": N_("There is no such page."),
}

# pydantic's error types → message id (with its context values, such as max_length).
_PYDANTIC = {
    "missing": FILL_IN,
    "string_too_short": FILL_IN,
    "string_too_long": N_("Too long: at most %(max_length)s characters."),
    "too_long": N_("Too many entries: at most %(max_length)s."),
    "too_short": FILL_IN,
    "date_from_datetime_parsing": DATE,
    "date_parsing": DATE,
    "date_type": DATE,
    "datetime_from_date_parsing": N_("Use a date and a time."),
    "datetime_parsing": N_("Use a date and a time."),
    "datetime_type": N_("Use a date and a time."),
    "enum": N_("Choose one of the options."),
    "literal_error": N_("Choose one of the options."),
    "int_parsing": N_("Use a whole number."),
    "greater_than_equal": N_("Use a number of at least %(ge)s."),
    "less_than_equal": N_("Use a number of at most %(le)s."),
}
# Where a field says better what is missing than the general message does.
_PYDANTIC_OF_FIELD = {
    ("source", "missing"): SOURCE,
    ("source", "string_too_short"): SOURCE,
    ("lawful_basis", "missing"): LAWFUL_BASIS,
    ("lawful_basis", "enum"): LAWFUL_BASIS,
}


# Refusals by their stable code (baomi.errors, the services): what the person can do next.
CODES = {
    "already_has_access": N_("You already have access to this customer."),
    "level_change_pending": N_(
        "A request to lower this customer's level is already waiting for approval."
    ),
    "level_lowering_requires_approval": N_(
        "Lowering a level needs approval: send a level-change request."
    ),
    "level_changed_since_request": N_("The level has changed since the request was made."),
    "reveal_rate_limited": N_(
        "You have revealed many fields this hour. Wait a while, or ask your head."
    ),
    "check_rate_limited": N_(
        "You have run many duplicate checks. Your head has been told; ask them if your work "
        "needs more."
    ),
    "approvers_unavailable": N_(
        "This request needs more security officers to approve it than the company has. "
        "Ask the security officer."
    ),
    "mfa_enrolment_required": N_(
        "Revealing this customer's fields needs two-step verification. "
        "Turn it on in My account first."
    ),
    "step_up_required": N_("Enter the one-time code from your authenticator app to continue."),
    "invalid_otp": N_(
        "That code is not valid. Use the current code from your app, or a recovery code."
    ),
    "throttled": N_("Too many failed attempts. Wait a moment and try again."),
    "locked": N_("Too many failed attempts. Wait a moment and try again."),
    "mfa_not_enabled": N_("Your account has no two-step verification yet."),
    "not_found": N_("There is no such customer, or you may not see it."),
    "no_relation": N_("You have no access to this customer."),
    "outside_own_scope": N_("You may only file customers you or your department handle."),
    "grant_is_read_only": N_("Your access grant lets you read this customer, not change it."),
    "fields_not_granted": N_("Your access grant does not cover these fields."),
    "purpose_not_consented": N_(
        "The customer's consents do not cover this purpose for these fields (C4.3.4). Record "
        "the customer's consent first, or choose the purpose it agreed to."
    ),
    "purpose_unknown": N_("Choose a purpose from the list."),
    "reassign_requires_head": N_(
        "Only the department head can give a customer to another handler."
    ),
    "role_without_customer_access": N_("Your role does not give access to customer data."),
    "period_requires_approval": N_(
        "A confidentiality period lowers the level when it ends, and lowering needs approval: "
        "leave the date empty (or as it was) and send a level-change request."
    ),
    "duplicate_customer": N_(
        "This customer is already on file in the company (查重): request access to it instead "
        "of filing it again."
    ),
    "destruction_requires_approval": N_(
        "Nobody deletes a customer alone: records are destroyed only through the approved "
        "destruction procedure. Correct a record by editing it."
    ),
    "conflict": N_("This could not be done in the record's present state."),
}


@dataclass(frozen=True, slots=True)
class FieldMessage:
    """One problem with one input: a message id to translate, or the service's own text."""

    msgid: str | None
    args: Mapping[str, Any] = field(default_factory=dict)
    raw: str = ""
    # The line (of a one-value-per-line field) the problem is on, counted from 1.
    line: int | None = None


@dataclass(frozen=True, slots=True)
class FormErrors:
    """Problems by input name (`phones`, `contacts-0-phones`, `purchases-1-amount`, …)."""

    by_slot: Mapping[str, list[FieldMessage]] = field(default_factory=dict)
    # Problems the form has no input for (shown at the top of the form).
    general: list[FieldMessage] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.by_slot) or bool(self.general)

    def get(self, slot: str) -> list[FieldMessage]:
        return self.by_slot.get(slot, [])

    def count(self) -> int:
        return sum(len(v) for v in self.by_slot.values()) + len(self.general)


def slot_of(path: str) -> tuple[str, int | None]:
    """The input an error path belongs to, and the line within it (for one-per-line fields)."""
    found = _PATH.match(path)
    if found is None:
        return path, None
    top, i, leaf, j = found.group("top", "i", "leaf", "j")
    if leaf is None:
        if top in LINE_FIELDS and i is not None:
            return top, int(i) + 1
        return top, None
    if i is None:
        return f"{top}-{leaf}", None
    return f"{top}-{i}-{leaf}", int(j) + 1 if j is not None else None


def error_message(error: BaomiError) -> FieldMessage:
    """A refusal told by its code, or in the service's words when the code is not ours."""
    msgid = CODES.get(error.code)
    return FieldMessage(msgid=msgid) if msgid else FieldMessage(msgid=None, raw=error.detail)


def service_message(error: FieldError) -> FieldMessage:
    """Translate one of the services' field errors by its code."""
    _, line = slot_of(error["field"])
    msgid = FIELD_CODES.get(error["code"])
    if msgid is None:
        return FieldMessage(msgid=None, raw=error["message"], line=line)
    return FieldMessage(msgid=msgid, line=line)


def _path(loc: Iterable[Any]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part != "body":
            out += f".{part}" if out else str(part)
    return out


def pydantic_messages(error: ValidationError) -> list[tuple[str, FieldMessage]]:
    """pydantic's errors as (path, message) pairs."""
    out = []
    for item in error.errors(include_url=False):
        path = _path(item.get("loc", ()))
        msgid = _PYDANTIC_OF_FIELD.get((path, item["type"])) or _PYDANTIC.get(item["type"])
        _, line = slot_of(path)
        if msgid is None:
            out.append((path, FieldMessage(msgid=None, raw=str(item.get("msg", "")), line=line)))
        else:
            context = {
                k: v for k, v in (item.get("ctx") or {}).items() if k in ("max_length", "ge", "le")
            }
            out.append((path, FieldMessage(msgid=msgid, args=context, line=line)))
    return out


def form_errors(
    error: BaomiError | ValidationError | None, *, inputs: Iterable[str] = ()
) -> FormErrors:
    """Group an error's messages by input; those of unknown inputs go to `general`."""
    if error is None:
        return FormErrors()
    if isinstance(error, ValidationError):
        pairs = pydantic_messages(error)
    elif isinstance(error, ValidationFailed):
        pairs = [(e["field"], service_message(e)) for e in error.extra.get("errors", [])]
    else:
        return FormErrors(general=[error_message(error)])
    known = set(inputs)
    by_slot: dict[str, list[FieldMessage]] = {}
    general: list[FieldMessage] = []
    for path, message in pairs:
        slot, _ = slot_of(path)
        if known and slot not in known:
            general.append(message)
        else:
            by_slot.setdefault(slot, []).append(message)
    return FormErrors(by_slot=by_slot, general=general)
