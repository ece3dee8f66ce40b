"""Model instances from the rows of a query written out by hand.

The busiest API paths (token authentication, every open dashboard's widget data
and poll) read a few rows by primary or unique key. Django's building and
compiling of such a query costs more than running it, so those paths write the
``SELECT`` once per process from the models' meta and turn each row into model
instances here, with the database's own value converters applied exactly as a
queryset would (SQLite returns datetimes as text, JSON columns arrive as text).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from django.db import connections
from django.db.models import Model

M = TypeVar("M", bound=Model)
Converter = Callable[[Any, Any, Any], Any]


def model_columns(model: type[Model], alias: str, *, using: str) -> str:
    """Every concrete column of ``model`` as ``alias.column``, comma-separated, in
    the order :func:`model_from_row` reads them."""
    quote = connections[using].ops.quote_name
    return ", ".join(f"{alias}.{quote(str(f.column))}" for f in model._meta.concrete_fields)


def model_width(model: type[Model]) -> int:
    """How many columns :func:`model_columns` selects for ``model``."""
    return len(model._meta.concrete_fields)


@functools.cache
def _converters(model: type[Model], using: str) -> tuple[tuple[tuple[Converter, Any], ...], ...]:
    connection = connections[using]
    result = []
    for field in model._meta.concrete_fields:
        column = field.get_col(model._meta.db_table)
        found = connection.ops.get_db_converters(column) + field.get_db_converters(connection)
        result.append(tuple((converter, column) for converter in found))
    return tuple(result)


def model_from_row(model: type[M], row: Sequence[Any], *, using: str) -> M:
    """An instance of ``model`` loaded from ``row`` (the columns of
    :func:`model_columns`, first to last), as the database returned them."""
    connection = connections[using]
    values = []
    for value, converters in zip(row, _converters(model, using), strict=True):
        for converter, column in converters:
            value = converter(value, column, connection)
        values.append(value)
    return model.from_db(using, [f.attname for f in model._meta.concrete_fields], values)
