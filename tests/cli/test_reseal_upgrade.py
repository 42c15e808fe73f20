"""Issue 17.5 / 17.9: `baomi init` brings a database from before row tags under them, once.

The company below is built at the current schema, then taken back to migration 0013 with its
records written the way 0013 wrote them (fields bound to no revision, the source in plaintext,
no tags). `baomi init` migrates it and seals every record; afterwards the records read as
before, and a row whose tag is cleared later is refused, never tagged again by a later init.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from alembic import command
from sqlalchemy import Engine, select, update

from baomi import runtime
from baomi.audit.context import CLI_CONTEXT
from baomi.audit.models import audit_events
from baomi.crypto.envelope import FieldCipher
from baomi.customers import service
from baomi.customers.access import CUSTOMER_ROW
from baomi.customers.decrypt import SOURCE, TABLE, cipher_for, open_fields
from baomi.customers.integrity import IntegrityFailure
from baomi.customers.models import ENCRYPTED_COLUMNS, customers
from baomi.customers.schemas import CustomerIn
from baomi.customers.vault import Vault
from baomi.grants.schemas import GrantIn
from baomi.grants.service import create_emergency_grant
from baomi.migrate import alembic_config
from baomi.uow import unit_of_work
from tests.cli.conftest import Invoke
from tests.support.levels import DEFAULT_LEVELS
from tests.support.org import Org, actor, build_org


def _company(engine: Engine, vault: Vault) -> tuple[Org, list[str]]:
    org = build_org(engine, vault.provider)
    zhangsan = actor(engine, org, "zhangsan")
    ids = []
    with unit_of_work(engine) as conn:
        for n in range(3):
            ids.append(
                service.create(
                    conn,
                    actor=zhangsan,
                    ctx=CLI_CONTEXT,
                    vault=vault,
                    customer_in=CustomerIn(
                        name=f"升级测试{n}号公司",
                        phones=[f"1391234567{n}"],
                        notes="老系统录入",
                        level="secret" if n else "normal",
                        source=f"展会{n}",
                        lawful_basis="contract",
                    ),
                ).id
            )
    officer = actor(engine, org, "baomiyuan")
    with unit_of_work(engine) as conn:
        create_emergency_grant(
            conn,
            actor=officer,
            ctx=CLI_CONTEXT,
            grant_in=GrantIn(
                user_id=org.user_ids["zhaoliu"],
                customer_id=ids[0],
                duration_hours=4,
                purpose="[handover] 升级前的临时授权",
            ),
            levels=DEFAULT_LEVELS,
            tags=vault.tags,
            max_hours=24,
            mail=False,
        )
    return org, ids


def _as_0013_wrote_them(engine: Engine, vault: Vault) -> None:
    """Back to migration 0013, every record rewritten in that revision's format."""
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(CUSTOMER_ROW)]
    opened: dict[str, dict[str, Any]] = {}
    for row in rows:
        present = [n for n in (*ENCRYPTED_COLUMNS, SOURCE) if row[f"{n}_ct"] is not None]
        opened[row["id"]] = open_fields(cipher_for(vault.provider, row), row, row["id"], present)
    command.downgrade(alembic_config(engine), "0013")
    with unit_of_work(engine) as conn:
        for row in rows:
            cipher: FieldCipher = cipher_for(vault.provider, row)
            values = dict(opened[row["id"]])
            legacy = {
                f"{name}_ct": cipher.encrypt(
                    table=TABLE,
                    field=name,
                    record_id=row["id"],
                    plaintext=json.dumps(value, ensure_ascii=False).encode(),
                    revision=None,
                )
                for name, value in values.items()
                if name != SOURCE
            }
            conn.execute(
                update(customers)
                .where(customers.c.id == row["id"])
                .values(source=values[SOURCE], **legacy)
            )


def test_init_seals_records_from_before_row_tags(backend_home: Path, cli: Invoke) -> None:
    assert cli("init").exit_code == 0
    engine, vault = runtime.get_engine(), Vault.from_provider(runtime.get_key_provider())
    org, ids = _company(engine, vault)
    _as_0013_wrote_them(engine, vault)

    upgraded = cli("init")
    assert upgraded.exit_code == 0, upgraded.output
    assert "3 customers and 1 grants sealed under row tags" in upgraded.output

    with engine.connect() as conn:
        stored = {r.id: r for r in conn.execute(select(customers))}
        events = conn.execute(
            select(audit_events).where(audit_events.c.action == "customer:reseal")
        ).all()
    assert {r.revision for r in stored.values()} == {1}
    assert {r.source for r in stored.values()} == {""}
    assert all(r.row_tag is not None and r.source_ct is not None for r in stored.values())
    assert [e.details for e in events] == [{"customers": 3, "grants": 1, "damaged": []}]

    zhangsan, zhaoliu = actor(engine, org, "zhangsan"), actor(engine, org, "zhaoliu")
    with unit_of_work(engine) as conn:
        first = service.get(conn, actor=zhangsan, ctx=CLI_CONTEXT, vault=vault, customer_id=ids[0])
        granted = service.get(conn, actor=zhaoliu, ctx=CLI_CONTEXT, vault=vault, customer_id=ids[0])
    assert first.data["name"] == "升级测试0号公司" and first.source == "展会0"
    assert granted.data["name"] == "升级测试0号公司"

    # A tag cleared afterwards is damage, and a later init does not bless the row again.
    with unit_of_work(engine) as conn:
        conn.execute(update(customers).where(customers.c.id == ids[1]).values(row_tag=None))
    again = cli("init")
    assert again.exit_code == 0 and "sealed under row tags" not in again.output
    with unit_of_work(engine) as conn:
        try:
            service.get(conn, actor=zhangsan, ctx=CLI_CONTEXT, vault=vault, customer_id=ids[1])
        except IntegrityFailure:
            pass
        else:
            raise AssertionError("a row with its tag cleared was read")
