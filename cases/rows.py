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

from collections.abc import Callable, Iterable
from datetime import date, datetime
from functools import cache
from typing import Any, TypeVar

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
