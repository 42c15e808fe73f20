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

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Insert, Select
from sqlalchemy.engine import Connection, Dialect

Processor = Callable[[Any], Any]

# Distinct values a memoised parameter remembers before it starts afresh.
MEMO_LIMIT = 256
_STR = frozenset({str})


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


def memoized(process: Processor) -> Processor:
    """Wrap a bind processor so that each distinct list of strings is processed once.

    Only lists of `str` are remembered: equal strings always serialise alike, whereas `1` and
    `True` compare equal but do not. Any other value is processed every time.
    """
    cache: dict[tuple[str, ...], Any] = {}

    def process_memoized(value: Any) -> Any:
        if type(value) is not list or not set(map(type, value)) <= _STR:
            return process(value)
        key = tuple(value)
        out = cache.get(key)
        if out is None:
            out = process(value)
            if len(cache) >= MEMO_LIMIT:
                cache.clear()
            cache[key] = out
        return out

    return process_memoized


@dataclass(frozen=True, slots=True)
class _Plan:
    sql: str
    # Parameter names in bind order, and (position, processor) for those that have one.
    params: tuple[str, ...]
    param_processors: tuple[tuple[int, Processor], ...]
    # Result keys in column order, and (key, processor) for the columns that have one.
    columns: tuple[str, ...]
    column_processors: tuple[tuple[str, Processor], ...]


class DirectStatement:
    """A Core SELECT or INSERT that skips SQLAlchemy's execution layer on SQLite."""

    def __init__(
        self,
        statement: Select[Any] | Insert,
        *,
        insert_keys: tuple[str, ...] = (),
        memoize: Collection[str] = (),
    ):
        self.statement = statement
        self._insert_keys = insert_keys
        # Parameters whose processed value is worth remembering (see `memoized`).
        self._memoize = frozenset(memoize)
        self._plans: dict[str, _Plan] = {}

    def _plan(self, dialect: Dialect) -> _Plan:
        plan = self._plans.get(dialect.name)
        if plan is None:
            plan = self._compile(dialect)
            self._plans[dialect.name] = plan
        return plan

    def _compile(self, dialect: Dialect) -> _Plan:
        compiled = self.statement.compile(
            dialect=dialect, column_keys=list(self._insert_keys) or None
        )
        params = tuple(compiled.positiontup or ())
        param_processors: list[tuple[int, Processor]] = []
        for position, name in enumerate(params):
            bind = compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
            if bind is not None:
                param_processors.append(
                    (position, memoized(bind) if name in self._memoize else bind)
                )
        columns: list[str] = []
        column_processors: list[tuple[str, Processor]] = []
        if isinstance(self.statement, Select):
            for col in self.statement.selected_columns:
                key = str(col.key)
                columns.append(key)
                result = col.type.dialect_impl(dialect).result_processor(dialect, None)
                if result is not None:
                    column_processors.append((key, result))
        return _Plan(
            sql=compiled.string,
            params=params,
            param_processors=tuple(param_processors),
            columns=tuple(columns),
            column_processors=tuple(column_processors),
        )

    def _begun(self, conn: Connection) -> _Plan:
        plan = self._plan(conn.dialect)
        if not conn.in_transaction():
            # What Connection.execute would do: a request's unit of work begins with its first
            # statement (api/deps.py), and on SQLite that BEGIN takes the write lock.
            conn.begin()
        return plan

    @staticmethod
    def _args(plan: _Plan, values: Mapping[str, Any]) -> list[Any]:
        args = [values[name] for name in plan.params]
        for position, process in plan.param_processors:
            value = args[position]
            if value is not None:
                args[position] = process(value)
        return args

    def _run(self, conn: Connection, values: Mapping[str, Any]) -> tuple[_Plan, Any]:
        plan = self._begun(conn)
        args = self._args(plan, values)
        cursor = conn.connection.driver_connection.execute(plan.sql, args)  # type: ignore[union-attr]
        return plan, cursor

    @staticmethod
    def _record(plan: _Plan, raw: tuple[Any, ...]) -> Record:
        record = Record(zip(plan.columns, raw, strict=True))
        for key, process in plan.column_processors:
            record[key] = process(record[key])
        return record

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

    def execute_many(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Run an INSERT for every row of values at once (one executemany on the driver)."""
        if not rows:
            return
        if conn.dialect.name != "sqlite":
            conn.execute(self.statement, [dict(values) for values in rows])
            return
        plan = self._begun(conn)
        batch = [self._args(plan, values) for values in rows]
        conn.connection.driver_connection.executemany(plan.sql, batch)  # type: ignore[union-attr]
