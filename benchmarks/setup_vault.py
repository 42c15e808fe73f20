"""A throw-away SQLite vault for benchmarks: migrated, keyed, one department and handler."""

from __future__ import annotations

import struct
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from cryptography.hazmat.primitives import constant_time, hashes
from cryptography.hazmat.primitives.hmac import HMAC
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import Engine

from baomi.audit.context import CLI_CONTEXT, RequestContext
from baomi.audit.runner import create_log_key
from baomi.audit.settings import AuditSettings
from baomi.crypto import keyfile
from baomi.crypto.keys import LocalKeyFileProvider
from baomi.customers.vault import Vault
from baomi.db import make_engine
from baomi.keystore.service import ensure_master_versions
from baomi.migrate import upgrade
from baomi.security.actor import SEEDER, Actor
from baomi.security.roles import Role
from baomi.uow import unit_of_work
from baomi.users import actors
from baomi.users import service as users
from baomi.users.schemas import EmploymentType


@dataclass
class BenchVault:
    home: Path
    db_path: Path
    key_path: Path
    engine: Engine
    provider: LocalKeyFileProvider
    vault: Vault
    actor: Actor
    ctx: RequestContext


def make_vault() -> BenchVault:
    home = Path(tempfile.mkdtemp(prefix="baomi-bench-"))
    db_path, key_path = home / "baomi.db", home / "master.key"
    engine = make_engine(f"sqlite:///{db_path}")
    upgrade(engine)
    provider = LocalKeyFileProvider.create(key_path)
    create_log_key(AuditSettings(home=home))  # the audit log's key, as `baomi init` makes it
    with unit_of_work(engine) as conn:
        ensure_master_versions(conn, provider)
        dept = users.create_department(conn, actor=SEEDER, ctx=CLI_CONTEXT, name="基准部")
        user_id = users.create_user(
            conn,
            actor=SEEDER,
            ctx=CLI_CONTEXT,
            username="bench",
            display_name="基准",
            password="benchmark-password-2026",
            employment_type=EmploymentType.FULL_TIME,
            department_id=dept,
            roles={Role.SALESPERSON},
        )
        actor = actors.load_actor(conn, user_id)
    assert actor is not None
    return BenchVault(
        home=home,
        db_path=db_path,
        key_path=key_path,
        engine=engine,
        provider=provider,
        # Limits out of the way (the benchmarks run one person thousands of times); their
        # checks still run on every call.
        vault=_unlimited(Vault.from_provider(provider)),
        actor=actor,
        ctx=RequestContext(request_id="bench", client_addr="127.0.0.1"),
    )


def _unlimited(vault: Vault) -> Vault:
    many = 10**9
    limits = replace(vault.limits, per_hour=many, checks_per_hour=many, checks_per_day=many)
    return replace(vault, limits=limits)


def bare_aad(*parts: bytes) -> bytes:
    """The floors' own AAD encoding (length-prefixed parts, the layout of crypto/aad.py), so
    that a floor measures bare sqlite3 + cryptography, not our helpers."""
    return b"".join(struct.pack(">I", len(p)) + p for p in parts)


# The columns a customer's row tag covers (customers/row_tag.py), then the tag, as floors select
# them: the door checks the tag before believing them (issue 17.5), so the floors do too.
TAG_SQL = (
    "c.id, c.level, c.handler_id, c.department_id, c.confidential_until, c.deleted_at, "
    "c.data_key_id, c.revision, c.row_tag"
)
TAG_WIDTH = 9


def floor_tag_key(key_path: Path) -> HMAC:
    """The row-tag HMAC (crypto/row_tags.py's key derivation) from the key file, for floors."""
    keys, _ = keyfile.read(key_path, passphrase=None)
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"baomi:row-tag:v1").derive(
        keys.index
    )
    return HMAC(key, hashes.SHA256())


def _tag_part(value: object) -> bytes:
    if value is None:
        return b"n"
    if isinstance(value, int):
        return b"i" + str(value).encode()
    return b"s" + str(value).encode()


def floor_tag_holds(keyed: HMAC, tagged: Sequence[object]) -> bool:
    """Check a row tag as bare cryptography would: `tagged` is the TAG_SQL columns of a row
    with no period and not deleted (the benchmarks' customers)."""
    mac = keyed.copy()
    mac.update(bare_aad(b"customers", *(_tag_part(v) for v in tagged[:-1])))
    return constant_time.bytes_eq(mac.finalize(), bytes(tagged[-1]))  # type: ignore[arg-type]


def field_aad(data_key_id: str, field: str, record_id: str, revision: int) -> bytes:
    """A customer field's AAD (crypto/envelope.py's layout), for floors."""
    return bare_aad(
        b"baomi:field",
        b"\x01",
        data_key_id.encode(),
        b"customers",
        field.encode(),
        record_id.encode(),
        struct.pack(">Q", revision),
    )
