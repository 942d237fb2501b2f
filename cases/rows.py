"""Model instances from one hand-written query: a model's columns as a JSON array, and back.

The pages an IFK opens all day read many small sets of one case (plans, escalations, assignments, …). Each
as its own ORM query cost more in building the query than PostgreSQL took to answer it (bench/RESULTS.md
"Pages"). With these helpers one statement returns every set as `json_agg` of `json_build_array(columns)`,
and `instance` turns an array back into the model instance the ORM would have built: the same class, the
same field values and types, saved state (`from_db`), so services, rules and templates cannot tell.

Only the field types the models of this project use are decoded; any other type raises, so a new field
cannot be read wrongly without a test failing (tests/cases/test_rows.py).
"""

from __future__ import annotations

import hashlib
import re
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager, nullcontext
from datetime import date, datetime
from functools import cache
from typing import Any, TypeVar

import pghistory.runtime
from django.conf import settings
from django.db.models import Model

M = TypeVar("M", bound=Model)


def _same(value: Any) -> Any:
    return value


def _date(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


def _datetime(value: str | None) -> datetime | None:
    # PostgreSQL writes timestamptz in the session's time zone, which Django sets to UTC (USE_TZ).
    return None if value is None else datetime.fromisoformat(value)


_DECODERS: dict[str, Callable[[Any], Any]] = {
    **dict.fromkeys(
        (
            "AutoField",
            "BigAutoField",
            "BigIntegerField",
            "BooleanField",
            "CharField",
            "EmailField",
            "ForeignKey",
            "IntegerField",
            "OneToOneField",
            "PositiveIntegerField",
            "PositiveSmallIntegerField",
            "SlugField",
            "SmallIntegerField",
            "TextField",
        ),
        _same,
    ),
    "DateField": _date,
    "DateTimeField": _datetime,
}


@cache
def _decoders(model: type[Model]) -> list[Callable[[Any], Any]]:
    decoders = []
    for field in model._meta.concrete_fields:
        kind = field.get_internal_type()
        if kind not in _DECODERS:
            raise TypeError(f"{model.__name__}.{field.name}: Feldtyp {kind} wird aus JSON nicht gelesen.")
        decoders.append(_DECODERS[kind])
    return decoders


@cache
def _attnames(model: type[Model]) -> list[str]:
    return [field.attname for field in model._meta.concrete_fields]


def json_columns(model: type[Model], alias: str) -> str:
    """`json_build_array(alias.col, …)` of the model's concrete columns in field order (`alias` is chosen by
    the caller's SQL, never input)."""
    columns = ", ".join(f'{alias}."{field.column}"' for field in model._meta.concrete_fields)
    return f"json_build_array({columns})"


def json_rows(model: type[Model], alias: str, *, where: str, order_by: str) -> str:
    """A scalar subquery: the model's rows matching `where` as one JSON array of `json_columns`, in `order_by`
    (`[]` for none). `where` and `order_by` are SQL of the caller, values in them parameters."""
    aggregate = f"coalesce(json_agg({json_columns(model, alias)} ORDER BY {order_by}), '[]')"
    return f'(SELECT {aggregate} FROM "{model._meta.db_table}" {alias} WHERE {where})'  # noqa: S608 (model's meta)


def instance(model: type[M], values: list[Any] | None) -> M | None:
    """The saved instance whose `json_columns` array is `values` (None for a missing LEFT JOIN row)."""
    if values is None or values[0] is None:
        return None
    decoded = [decode(value) for decode, value in zip(_decoders(model), values, strict=True)]
    return model.from_db("default", _attnames(model), decoded)


def instances(model: type[M], rows: Iterable[list[Any]] | None) -> list[M]:
    return [row for row in (instance(model, values) for values in rows or ()) if row is not None]


def prefetched(parent: Model, name: str, children: list[Model]) -> None:
    """Give `parent` the rows of its reverse relation `name` as `prefetch_related(name)` would, so that
    `parent.<name>.all()` reads no query."""
    queryset = getattr(parent, name).all()
    queryset._result_cache = children
    queryset._prefetch_done = True
    parent._prefetched_objects_cache = getattr(parent, "_prefetched_objects_cache", {})
    parent._prefetched_objects_cache[name] = queryset


# --- Prepared statements ---------------------------------------------------------------------------------------
# The hand-written statements of the pages an IFK opens all day are planned by PostgreSQL on every request; for
# the larger ones planning took longer than executing (bench/RESULTS.md "Pages"). A `Prepared` statement is sent
# once per database connection as `PREPARE` (directly on the driver connection: not a query of the page, and
# PREPARE is not undone by a rollback) and then run as `EXECUTE name(params)` through Django's cursor, so query
# logging, CaptureQueriesContext and execute wrappers see every run. The connection plans them generically
# (plan_cache_mode, config/settings.py). Behind PgBouncer set DB_PREPARED_STATEMENTS=0 (docs/decisions/0009).
#
# pghistory's middleware puts its context (user, URL) in front of every statement that does not start with
# SELECT, so that its triggers can record who changed a row; `EXECUTE` does not, and the context was a second
# statement in front of each run (about 0.25 ms). A statement that only reads fires no trigger: it runs without
# that wrapper. A statement that writes (WITH … INSERT) keeps it. tests/cases/test_rows.py checks both on the
# SQL the driver receives, and fails if pghistory's wrapper is no longer found under its name.

_PLACEHOLDER = re.compile(r"%\((\w+)\)s")
_WRITES = re.compile(r"\b(INSERT|UPDATE|DELETE|MERGE|TRUNCATE)\b|\bFOR\s+(UPDATE|SHARE|NO\s+KEY|KEY)\b", re.I)


def history_context_wrapper() -> Callable[..., Any] | None:
    """pghistory's execute wrapper (the one its middleware and `pghistory.context` install)."""
    return getattr(pghistory.runtime, "_inject_history_context", None)


def reads_only(sql: str) -> bool:
    """A SELECT (with or without WITH) that writes nothing and locks nothing."""
    return sql.lstrip().upper().startswith(("SELECT", "WITH")) and _WRITES.search(sql) is None


def merge_params(*parts: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters of a statement put together from the SQL of several places (a page's columns in the case's
    statement, the header's in the page's): a name two of them use must have the same value in both."""
    merged: dict[str, Any] = {}
    for part in parts:
        for key, value in part.items():
            if merged.setdefault(key, value) != value:
                raise ValueError(f"Parameter {key} ist schon anders belegt")
    return merged


_prepared_on: weakref.WeakKeyDictionary[Any, set[str]] = weakref.WeakKeyDictionary()


class Prepared:
    """A statement with `%(name)s` parameters that PostgreSQL plans once per connection."""

    def __init__(self, name: str, sql: str) -> None:
        self.sql = sql
        order: list[str] = []

        def number(match: re.Match[str]) -> str:
            if match.group(1) not in order:
                order.append(match.group(1))
            return f"${order.index(match.group(1)) + 1}"

        self.body = _PLACEHOLDER.sub(number, sql)
        self.reads_only = reads_only(sql)
        if "%" in self.body:
            raise ValueError(f"{name}: nur %(name)s-Parameter, kein anderes %-Zeichen")
        digest = hashlib.sha256(sql.encode()).hexdigest()[:10]
        self.name = f"kp_{name}_{digest}"
        self.run = (
            f"EXECUTE {self.name}(" + ", ".join(f"%({key})s" for key in order) + ")"
            if order
            else f"EXECUTE {self.name}"
        )

    def execute(self, cursor: Any, params: dict[str, Any]) -> None:
        sql = self.sql
        if settings.DB_PREPARED_STATEMENTS:
            driver = cursor.db.connection
            prepared = _prepared_on.setdefault(driver, set())
            if self.name not in prepared:
                driver.execute(f"PREPARE {self.name} AS {self.body}")
                prepared.add(self.name)
            sql = self.run
        with _without_history_context(cursor.db) if self.reads_only else nullcontext():
            cursor.execute(sql, params)


@contextmanager
def _without_history_context(connection: Any) -> Iterator[None]:
    """The connection's execute wrappers without pghistory's, for a statement that only reads."""
    wrappers = connection.execute_wrappers
    history = history_context_wrapper()
    if history is None or history not in wrappers:
        yield
        return
    connection.execute_wrappers = [wrapper for wrapper in wrappers if wrapper is not history]
    try:
        yield
    finally:
        connection.execute_wrappers = wrappers


_statements: dict[tuple[str, str], Prepared] = {}


def execute_prepared(cursor: Any, name: str, sql: str, params: dict[str, Any]) -> None:
    """Run `sql` as the prepared statement `name` (one per distinct text: a statement built for one case scope
    is another statement than the one for another scope)."""
    statement = _statements.get((name, sql))
    if statement is None:
        statement = _statements.setdefault((name, sql), Prepared(name, sql))
    statement.execute(cursor, params)
