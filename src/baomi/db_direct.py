"""Hot statements run straight on the driver cursor of the caller's connection.

The audited read is the product's hottest path, and SQLAlchemy's per-statement execution
machinery costs several times what SQLite itself spends on a primary-key lookup or an audit
insert (see benchmarks/bench_audited_read.py). A `DirectStatement` is an ordinary Core statement,
compiled once per dialect; on SQLite it then runs on the raw sqlite3 connection inside the same
transaction, with the column types' own bind and result processors applied, so values come back
exactly as SQLAlchemy would return them. On other dialects it simply calls `Connection.execute`:
one statement, one behaviour, both paths exercised by the suite on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Insert, Select
from sqlalchemy.engine import Connection, Dialect

Processor = Callable[[Any], Any] | None


class Record(dict[str, Any]):
    """A result row readable as `row.name` and `row["name"]`."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def _mapping(self) -> Mapping[str, Any]:
        return self


@dataclass(frozen=True, slots=True)
class _Plan:
    sql: str
    params: tuple[tuple[str, Processor], ...]
    columns: tuple[tuple[str, Processor], ...]


class DirectStatement:
    """A Core SELECT or INSERT that skips SQLAlchemy's execution layer on SQLite."""

    def __init__(self, statement: Select[Any] | Insert, *, insert_keys: tuple[str, ...] = ()):
        self.statement = statement
        self._insert_keys = insert_keys
        self._plans: dict[str, _Plan] = {}

    def _plan(self, dialect: Dialect) -> _Plan:
        plan = self._plans.get(dialect.name)
        if plan is None:
            compiled = self.statement.compile(
                dialect=dialect, column_keys=list(self._insert_keys) or None
            )
            binds = compiled.binds
            params = tuple(
                (name, binds[name].type.dialect_impl(dialect).bind_processor(dialect))
                for name in (compiled.positiontup or ())
            )
            columns: tuple[tuple[str, Processor], ...] = ()
            if isinstance(self.statement, Select):
                columns = tuple(
                    (str(col.key), col.type.dialect_impl(dialect).result_processor(dialect, None))
                    for col in self.statement.selected_columns
                )
            plan = _Plan(sql=compiled.string, params=params, columns=columns)
            self._plans[dialect.name] = plan
        return plan

    def _run(self, conn: Connection, values: Mapping[str, Any]) -> Any:
        plan = self._plan(conn.dialect)
        args = [
            process(values[name]) if process and values[name] is not None else values[name]
            for name, process in plan.params
        ]
        cursor = conn.connection.driver_connection.execute(plan.sql, args)  # type: ignore[union-attr]
        return plan, cursor

    def _record(self, plan: _Plan, raw: tuple[Any, ...]) -> Record:
        return Record(
            (key, process(value) if process is not None else value)
            for (key, process), value in zip(plan.columns, raw, strict=True)
        )

    def first(self, conn: Connection, values: Mapping[str, Any]) -> Record | None:
        if conn.dialect.name != "sqlite":
            row = conn.execute(self.statement, dict(values)).first()
            return None if row is None else Record(row._mapping)
        plan, cursor = self._run(conn, values)
        raw = cursor.fetchone()
        return None if raw is None else self._record(plan, raw)

    def all(self, conn: Connection, values: Mapping[str, Any]) -> list[Record]:
        if conn.dialect.name != "sqlite":
            return [Record(row._mapping) for row in conn.execute(self.statement, dict(values))]
        plan, cursor = self._run(conn, values)
        return [self._record(plan, raw) for raw in cursor.fetchall()]

    def execute(self, conn: Connection, values: Mapping[str, Any]) -> None:
        if conn.dialect.name != "sqlite":
            conn.execute(self.statement, dict(values))
            return
        self._run(conn, values)
