"""Consent routes (C4.1.2): the purposes, and a customer's consent and lawful-basis records."""

from __future__ import annotations

from baomi.api.deps import Conn, Ctx, CurrentActor, VaultDep
from baomi.api.unit import api_router
from baomi.consent import service
from baomi.consent.schemas import ConsentIn, ConsentOut, PurposeOut, WithdrawIn

router = api_router(prefix="/api/v1", tags=["consent"])


@router.get("/purposes", response_model=list[PurposeOut])
def list_purposes(_actor: CurrentActor, vault: VaultDep) -> list[PurposeOut]:
    """The company's processing purposes (BAOMI_HOME/purposes.toml), with their labels."""
    return [
        PurposeOut(code=p.code, label_zh=p.label_zh, label_en=p.label_en) for p in vault.purposes
    ]


@router.get("/customers/{customer_id}/consents", response_model=list[ConsentOut])
def get_consents(
    customer_id: str, conn: Conn, ctx: Ctx, actor: CurrentActor, vault: VaultDep
) -> list[ConsentOut]:
    """The customer's consents and lawful bases, newest first, withdrawn ones included."""
    return service.list_consents(conn, actor=actor, ctx=ctx, vault=vault, customer_id=customer_id)


@router.post("/customers/{customer_id}/consents", response_model=ConsentOut, status_code=201)
def post_consent(
    customer_id: str,
    body: ConsentIn,
    conn: Conn,
    ctx: Ctx,
    actor: CurrentActor,
    vault: VaultDep,
) -> ConsentOut:
    """Record a consent the customer gave (purposes, kinds of data, method, evidence), or another
    lawful basis (PIPL art. 13). Reveals and access requests state a purpose these must cover."""
    return service.record_consent(
        conn, actor=actor, ctx=ctx, vault=vault, customer_id=customer_id, consent=body
    )


@router.post("/customers/{customer_id}/consents/{consent_id}/withdraw", response_model=ConsentOut)
def post_withdraw(
    customer_id: str,
    consent_id: str,
    body: WithdrawIn,
    conn: Conn,
    ctx: Ctx,
    actor: CurrentActor,
    vault: VaultDep,
) -> ConsentOut:
    """Record the customer's withdrawal (when, through which channel); the record stays, and the
    next reveal or request for that purpose is refused (`purpose_not_consented`)."""
    return service.withdraw(
        conn,
        actor=actor,
        ctx=ctx,
        vault=vault,
        customer_id=customer_id,
        consent_id=consent_id,
        withdrawal=body,
    )
