"""SQL of the rights check's hot path, without the ORM's query compiler.

Compiling a queryset (select list, joins, ordering) costs 0.5-0.8 ms of CPU per query on the
2-core reference machine, more than PostgreSQL takes to run it, and the rights check made four
such queries per request (issue 7). Those queries go through here instead: their SQL is built
once per process and shape from the models' metadata (a column added to a model is read
without touching this module), runs on Django's connection (same transaction, same query
logging, same query counts in tests), values go through the fields' own database converters,
and rows become model instances with ``Model.from_db``, as the ORM builds them. Everything
else keeps using the ORM.

On PostgreSQL these statements are also prepared on each connection (server-side binding,
planned once): planning the two three-table joins cost PostgreSQL more than running them.
Django leaves prepared statements off by default for transaction-pooling proxies; a
PgBouncer in front of the database must then be 1.21 or later with
``max_prepared_statements`` set (session pooling needs nothing).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import connections, models
from django.db.backends.base.base import BaseDatabaseWrapper

M = TypeVar("M", bound=models.Model)

#: Attribute of a connection (Django's ``DatabaseWrapper``) holding, per model, the (column
#: index, column expression, converters) of the columns whose database value needs converting
#: (dates on SQLite, JSON, ...). The converters are bound to the connection's operations, so
#: they live and die with the connection: a module-level map keyed by connection (even a
#: weak one, whose values then point back at their key) kept every thread's connection alive
#: under a thread-per-request server, about 260 KB per request (issue 13).
_CONVERTERS_ATTR = "_tierspayant_hot_sql_converters"


@functools.cache
def _fields(model: type[models.Model]) -> tuple[Any, ...]:
    return tuple(model._meta.concrete_fields)


def _field(model: type[models.Model], name: str) -> Any:
    return model._meta.pk if name == "pk" else model._meta.get_field(name)


def _converters(
    model: type[models.Model], connection: BaseDatabaseWrapper
) -> list[tuple[int, Any, list[Callable[..., Any]]]]:
    # A connection serves one thread (Django checks it), so its own cache needs no lock.
    per_model: dict[type[models.Model], list[tuple[int, Any, list[Callable[..., Any]]]]]
    per_model = vars(connection).setdefault(_CONVERTERS_ATTR, {})
    if model not in per_model:
        found = []
        for index, field in enumerate(_fields(model)):
            col = field.get_col(model._meta.db_table)
            converters = connection.ops.get_db_converters(col) + field.get_db_converters(connection)
            if converters:
                found.append((index, col, converters))
        per_model[model] = found
    return per_model[model]


def _instance(model: type[M], values: list[Any], connection: BaseDatabaseWrapper) -> M:
    for index, col, converters in _converters(model, connection):
        value = values[index]
        for convert in converters:
            value = convert(value, col, connection)
        values[index] = value
    return model.from_db(connection.alias, [f.attname for f in _fields(model)], values)


@dataclass(frozen=True)
class _Select:
    sql: str
    models: tuple[type[models.Model], ...]  # the root model, then one per join
    links: tuple[Any, ...]  # the foreign keys followed, one per join


@functools.cache
def _select(
    model: type[models.Model],
    related: tuple[str, ...],
    where: str,
    count: int,
    order_by: tuple[str, ...],
    using: str,
) -> _Select:
    quote = connections[using].ops.quote_name
    chain: list[type[models.Model]] = [model]
    links = []
    for name in related:
        link = _field(chain[-1], name)
        links.append(link)
        chain.append(link.related_model)
    selected = ", ".join(
        f"t{n}.{quote(field.column)}" for n, m in enumerate(chain) for field in _fields(m)
    )
    joins = "".join(
        f" JOIN {quote(chain[n + 1]._meta.db_table)} t{n + 1}"
        f" ON t{n + 1}.{quote(_field(chain[n + 1], 'pk').column)} = t{n}.{quote(link.column)}"
        for n, link in enumerate(links)
    )
    placeholders = ", ".join(["%s"] * count)
    sql = " ".join(
        [
            # Identifiers come from model metadata; values are always parameters.
            f"SELECT {selected} FROM {quote(model._meta.db_table)} t0{joins}",  # noqa: S608
            f"WHERE t0.{quote(_field(model, where).column)} IN ({placeholders})",
        ]
    )
    if order_by:
        sql += " ORDER BY " + ", ".join(f"t0.{quote(_field(model, n).column)}" for n in order_by)
    return _Select(sql, tuple(chain), tuple(links))


def _cursor(connection: BaseDatabaseWrapper) -> Any:
    """A Django cursor (query logging and counting as usual) whose statements PostgreSQL
    prepares; the ordinary cursor on other databases."""
    if connection.vendor != "postgresql":
        return connection.cursor()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    raw = _preparing_cursor_class()(connection.connection)
    if connection.queries_logged:
        return connection.make_debug_cursor(raw)
    return connection.make_cursor(raw)


@functools.cache
def _preparing_cursor_class() -> type[Any]:
    from django.db.backends.postgresql.base import ServerBindingCursor

    class PreparingCursor(ServerBindingCursor):  # type: ignore[misc, valid-type]
        """Server-side binding, every statement prepared (psycopg keeps them per connection)."""

        def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
            return super().execute(query, params, prepare=True)  # type: ignore[misc]

    return PreparingCursor


def select_related(
    model: type[M],
    related: tuple[str, ...],
    *,
    where: str,
    values: Sequence[Any],
    order_by: tuple[str, ...] = (),
) -> list[M]:
    """What ``model.objects.select_related("__".join(related)).filter(<where>__in=values)
    .order_by(*order_by)`` returns, for a chain of forward foreign keys (``related`` may be
    empty): one query. ``where`` and ``order_by`` name fields of ``model`` (``"pk"`` for its
    primary key); ``values`` must not be empty."""
    using: str = model._default_manager.db
    select = _select(model, related, where, len(values), order_by, using)
    connection = connections[using]
    with _cursor(connection) as cursor:
        cursor.execute(select.sql, list(values))
        rows = cursor.fetchall()
    found: list[M] = []
    for row in rows:
        start = 0
        objects: list[Any] = []
        for m in select.models:
            end = start + len(_fields(m))
            objects.append(_instance(m, list(row[start:end]), connection))
            start = end
        for n, link in enumerate(select.links):
            link.set_cached_value(objects[n], objects[n + 1])
        found.append(objects[0])
    return found


def insert(model: type[models.Model], values: dict[str, Any]) -> Any:
    """Insert one row of ``model`` from ``values`` (attribute name -> Python value, prepared
    by each field as ``save`` would) and return its new primary key. Database errors
    propagate."""
    connection = connections[model._default_manager.db]
    quote = connection.ops.quote_name
    fields = [_field(model, name) for name in values]
    params = [
        field.get_db_prep_save(value, connection)
        for field, value in zip(fields, values.values(), strict=True)
    ]
    pk_column: str = _field(model, "pk").column
    sql = " ".join(
        [
            f"INSERT INTO {quote(model._meta.db_table)}",
            f"({', '.join(quote(field.column) for field in fields)})",
            f"VALUES ({', '.join(['%s'] * len(params))})",
        ]
    )
    with _cursor(connection) as cursor:
        if connection.features.can_return_columns_from_insert:
            cursor.execute(f"{sql} RETURNING {quote(pk_column)}", params)
            return cursor.fetchone()[0]
        cursor.execute(sql, params)
        return connection.ops.last_insert_id(cursor, model._meta.db_table, pk_column)
