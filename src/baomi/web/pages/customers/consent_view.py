"""What the consent section of a customer's page shows (C4.1.2): the records with their labels,
and the form as the person filled it. The routes that change them are consents.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from baomi.api.deps import Conn, Ctx
from baomi.consent import service
from baomi.consent.schemas import Channel, ConsentOut, DataKind, Method
from baomi.customers.vault import Vault
from baomi.security.actor import Actor
from baomi.web.i18n import N_
from baomi.web.pages.customers.messages import FormErrors

KIND_LABELS = {
    DataKind.IDENTITY.value: N_("Identity and contacts"),
    DataKind.TRANSACTION.value: N_("Transactions and prices"),
    DataKind.NEEDS.value: N_("Needs and intent"),
    DataKind.SENSITIVE.value: N_("Sensitive notes"),
    DataKind.COMMUNICATION.value: N_("Communication records"),
}
METHOD_LABELS = {
    Method.WRITTEN.value: N_("In writing"),
    Method.ELECTRONIC.value: N_("Electronically"),
    Method.RECORDED_CALL.value: N_("On a recorded call"),
}
CHANNEL_LABELS = {
    Channel.PHONE.value: N_("Phone"),
    Channel.VISIT.value: N_("Visit"),
    Channel.EMAIL.value: N_("E-mail"),
    Channel.WECHAT.value: N_("WeChat"),
    Channel.LETTER.value: N_("Letter"),
    Channel.OTHER.value: N_("Other"),
}
STATUS_LABELS = {
    "in_force": N_("In force"),
    "not_yet": N_("Not yet in force"),
    "expired": N_("Expired"),
    "withdrawn": N_("Withdrawn"),
    "superseded": N_("Replaced by a later basis"),
}
INPUTS = ("purposes", "scope", "method", "given_at", "expires_at", "evidence_attachment_id")


@dataclass
class ConsentForm:
    """What the person chose, kept to show the form again after an error."""

    purposes: list[str] = field(default_factory=list)
    scope: list[str] = field(default_factory=list)
    method: str = Method.WRITTEN.value
    given_at: str = ""
    expires_at: str = ""
    evidence_attachment_id: str = ""
    errors: FormErrors = field(default_factory=FormErrors)


def consent_context(
    conn: Conn, *, actor: Actor, ctx: Ctx, vault: Vault, customer_id: str
) -> dict[str, Any]:
    """What customers/_consents.html needs, for the customer's page."""
    records: list[ConsentOut] = service.list_consents(
        conn, actor=actor, ctx=ctx, vault=vault, customer_id=customer_id
    )
    return {
        "consents": records,
        "consent_kinds": KIND_LABELS,
        "consent_methods": METHOD_LABELS,
        "consent_channels": CHANNEL_LABELS,
        "consent_statuses": STATUS_LABELS,
        "purpose_names": {p.code: (p.label_zh, p.label_en) for p in vault.purposes},
    }
