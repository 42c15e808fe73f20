"""Seed the demo company through the real services, each customer filed by a person who may.

Nothing is inserted directly: departments and people come from users.service, customers from
customers.service.create acting as their handler (or the handler's head, C3.2), timelines and
attachments from customers.timeline. So the demo carries the same encryption, blind indexes and
audit trail (C1.3) as real use, and it only runs in demo mode because its password is published.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from baomi.audit.context import CLI_CONTEXT
from baomi.config import Settings
from baomi.consent import service as consents
from baomi.consent.schemas import ConsentIn, DataKind, Method
from baomi.crypto import normalize
from baomi.customers import service as customers
from baomi.customers import timeline
from baomi.customers.schemas import LawfulBasis
from baomi.customers.vault import Vault
from baomi.demo.company import PEOPLE, build_organisation, logins, write_credentials
from baomi.demo.customers import CustomerFactory, DemoCustomer
from baomi.demo.extra import require_faker
from baomi.errors import BaomiError
from baomi.security.actor import Actor
from baomi.uow import unit_of_work
from baomi.users.actors import load_actor
from baomi.users.service import list_users

SEED = 2026
DEMO_CUSTOMERS = 200
CREDENTIALS_FILE = "demo-credentials.txt"
SALES = ("zhangsan", "lisi", "zhaoliu")
HEAD_OF = {"zhangsan": "wangwu", "lisi": "wangwu", "zhaoliu": "sunqi"}
# A 华南 customer with a known phone, so that zhangsan's 查重 (C4.1.3) finds zhaoliu's customer.
KNOWN_PHONE = "13912345678"
KNOWN_NAME = "深圳市南海湾电子科技有限公司"


@dataclass(frozen=True, slots=True)
class SeedOutcome:
    seeded: bool
    users: int = 0
    customers: int = 0
    logins: list[tuple[str, str, str, str]] = field(default_factory=list)
    credentials_file: Path | None = None


def plan(count: int) -> list[tuple[str, str]]:
    """(filer, handler) per customer: the salespeople in turn, some filed or handled by heads."""
    rows = [("zhaoliu", "zhaoliu")]  # the known 华南 customer comes first
    for i in range(1, count):
        handler = filer = SALES[i % len(SALES)]
        if i % 20 == 0:
            filer = HEAD_OF[handler]  # the head files it for one of their people
        if i % 50 == 0:
            filer = handler = HEAD_OF[handler]  # and handles a few personally
        rows.append((filer, handler))
    return rows


def _file(
    conn: Connection, vault: Vault, filer: Actor, handler: Actor, drawn: DemoCustomer
) -> None:
    created = customers.create(
        conn, actor=filer, ctx=CLI_CONTEXT, vault=vault, customer_in=drawn.customer_in
    )
    entry_ids = [
        timeline.add_communication(
            conn, actor=handler, ctx=CLI_CONTEXT, vault=vault, customer_id=created.id, entry=entry
        )
        for entry in drawn.communications
    ]
    evidence = None
    if drawn.attachment is not None:
        filename, content_type, body = drawn.attachment
        evidence = timeline.add_attachment(
            conn,
            actor=handler,
            ctx=CLI_CONTEXT,
            vault=vault,
            customer_id=created.id,
            communication_id=entry_ids[0],
            filename=filename,
            content_type=content_type,
            chunks=iter([body]),
        ).id
    if drawn.customer_in.lawful_basis is LawfulBasis.CONSENT:
        # C4.1.2: a private customer who signed up for product news, with the signed form.
        consents.record_consent(
            conn,
            actor=handler,
            ctx=CLI_CONTEXT,
            vault=vault,
            customer_id=created.id,
            consent=ConsentIn(
                purposes=["marketing"],
                scope=[DataKind.IDENTITY],
                method=Method.WRITTEN,
                evidence_attachment_id=evidence,
            ),
        )


def seed(conn: Connection, *, vault: Vault, settings: Settings, count: int = DEMO_CUSTOMERS) -> int:
    """Create the demo organisation and `count` customers; return how many were filed."""
    if not settings.demo:
        raise BaomiError(
            "the demo company has a published password and is seeded in demo mode only",
            code="demo_mode_only",
        )
    ids = build_organisation(conn, vault.provider)
    actors: dict[str, Actor] = {}
    for person in PEOPLE:
        loaded = load_actor(conn, ids[person.username])
        if loaded is not None:
            actors[person.username] = loaded
    factory = CustomerFactory(SEED, reserved_phones={normalize.phone(KNOWN_PHONE)})
    for n, (filer, handler) in enumerate(plan(count)):
        known = n == 0
        drawn = factory.customer(
            handler_id=ids[handler],
            name=KNOWN_NAME if known else None,
            phone=KNOWN_PHONE if known else None,
            level="secret" if known else None,
        )
        _file(conn, vault, actors[filer], actors[handler], drawn)
    return count


def seed_if_empty(engine: Engine, vault: Vault, settings: Settings) -> SeedOutcome:
    """Seed the demo company into a database without users and write the credentials file."""
    require_faker()  # before anything is written: `baomi demo` needs its extra
    path = settings.home / CREDENTIALS_FILE
    with unit_of_work(engine) as conn:
        if list_users(conn):
            existing = path if path.exists() else None
            return SeedOutcome(
                seeded=False, logins=logins() if existing else [], credentials_file=existing
            )
        filed = seed(conn, vault=vault, settings=settings, count=DEMO_CUSTOMERS)
    write_credentials(path)
    return SeedOutcome(
        seeded=True, users=len(PEOPLE), customers=filed, logins=logins(), credentials_file=path
    )
