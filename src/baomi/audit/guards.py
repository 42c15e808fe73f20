"""Database guards that keep the audit tables append-only (C1.3), for SQLite and PostgreSQL.

One source for the DDL: migration 0002 and the test fixtures both call `install_triggers`.
Triggers stop the application and a careless administrator; someone who can drop them can still
rewrite rows, which is what the Merkle tree, the signed checkpoints and the witness catch.
On PostgreSQL the application role should also lack the privilege: see `postgres_grants`.
"""

from __future__ import annotations

from sqlalchemy.engine import Connection

AUDIT_TABLES = (
    "audit_events",
    "audit_leaves",
    "audit_tree_nodes",
    "audit_checkpoints",
    "audit_witness_receipts",
)
# Tables with an id sequence the application role must be able to use when inserting.
_SEQUENCED = {"audit_events": "id", "audit_witness_receipts": "id"}

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION baomi_audit_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'table % is append-only: % refused (C1.3)', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$
"""


def _sqlite_ddl(table: str) -> list[str]:
    return [
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()} BEFORE {op} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {op} refused (C1.3)'); END"
        for op in ("UPDATE", "DELETE")
    ]


def _postgres_ddl(table: str) -> list[str]:
    # TRUNCATE bypasses row triggers, so it gets a statement trigger of its own.
    return [
        f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}",
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION baomi_audit_append_only()",
        f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION baomi_audit_append_only()",
    ]


def trigger_ddl(dialect: str, tables: tuple[str, ...] = AUDIT_TABLES) -> list[str]:
    """Return the statements that make `tables` refuse UPDATE and DELETE."""
    if dialect == "sqlite":
        return [stmt for t in tables for stmt in _sqlite_ddl(t)]
    if dialect == "postgresql":
        return [_PG_FUNCTION, *(stmt for t in tables for stmt in _postgres_ddl(t))]
    raise ValueError(f"no audit guards for the {dialect} dialect")


def drop_ddl(dialect: str, tables: tuple[str, ...] = AUDIT_TABLES) -> list[str]:
    """Return the statements that remove the guards (migration downgrade only)."""
    if dialect == "sqlite":
        return [
            f"DROP TRIGGER IF EXISTS {t}_no_{op}" for t in tables for op in ("update", "delete")
        ]
    return [
        *(
            f"DROP TRIGGER IF EXISTS {t}_{n} ON {t}"
            for t in tables
            for n in ("append_only", "no_truncate")
        ),
        "DROP FUNCTION IF EXISTS baomi_audit_append_only()",
    ]


def install_triggers(conn: Connection, tables: tuple[str, ...] = AUDIT_TABLES) -> None:
    """Create the append-only triggers on the audit tables, idempotently."""
    dialect = conn.dialect.name
    for stmt in trigger_ddl(dialect, tables):
        # psycopg reads "%" as a placeholder even without parameters.
        conn.exec_driver_sql(stmt.replace("%", "%%") if dialect == "postgresql" else stmt)


def postgres_grants(role: str) -> str:
    """Return the SQL that leaves `role` only INSERT and SELECT on the audit tables."""
    if not role.replace("_", "").isalnum():
        raise ValueError("role must be a plain identifier")
    tables = ", ".join(AUDIT_TABLES)
    lines = [
        f"REVOKE ALL ON {tables} FROM {role};",
        f"GRANT SELECT, INSERT ON {tables} TO {role};",
    ]
    lines += [f"GRANT USAGE ON SEQUENCE {t}_{c}_seq TO {role};" for t, c in _SEQUENCED.items()]
    return "\n".join(lines)
