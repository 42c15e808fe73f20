"""Why a person reveals a masked field (C4.3.2): a small, stable set of reason codes.

The code says what kind of work needs the value, the free text says which piece of work; both are
the person's own statement and go to the audit event of the reveal (never customer data).
"""

from __future__ import annotations

from enum import StrEnum

from baomi.errors import FieldError, ValidationFailed


class RevealReason(StrEnum):
    CUSTOMER_CONTACT = "customer_contact"
    CONTRACT_WORK = "contract_work"
    COMPLAINT = "complaint"
    COMPLIANCE_CHECK = "compliance_check"
    OTHER = "other"


# Chinese and English labels, in the order a form offers them.
LABELS: dict[RevealReason, tuple[str, str]] = {
    RevealReason.CUSTOMER_CONTACT: ("联系客户", "Contacting the customer"),
    RevealReason.CONTRACT_WORK: ("合同办理", "Contract work"),
    RevealReason.COMPLAINT: ("投诉处理", "Handling a complaint"),
    RevealReason.COMPLIANCE_CHECK: ("合规核查", "Compliance check"),
    RevealReason.OTHER: ("其他（请说明）", "Other (please explain)"),
}

# The free text that goes with the code: required, trimmed, bounded.
TEXT_MIN = 2
TEXT_MAX = 500


def checked_reason(reason_code: RevealReason | str, text: str) -> tuple[RevealReason, str]:
    """Return the code and the trimmed text, or refuse them with a clear error per field."""
    errors: list[FieldError] = []
    code: RevealReason | None = None
    try:
        code = RevealReason(reason_code)
    except ValueError:
        codes = ", ".join(r.value for r in RevealReason)
        errors.append(
            {
                "field": "reason_code",
                "code": "reason_code_unknown",
                "message": f"use one of {codes}",
            }
        )
    trimmed = text.strip()
    if not TEXT_MIN <= len(trimmed) <= TEXT_MAX:
        message = f"say why in {TEXT_MIN} to {TEXT_MAX} characters"
        errors.append({"field": "reason", "code": "reason_length", "message": message})
    if errors or code is None:
        raise ValidationFailed(errors)
    return code, trimmed
