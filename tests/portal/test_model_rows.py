"""Rows read with a query written out by hand load the same instances as the ORM,
with the database's converters applied (SQLite returns datetimes as text)."""

import datetime as dt

import pytest
from django.db import connection

from dashboards import services
from dashboards.models import Widget
from portal.model_rows import model_columns, model_from_row, model_width
from portal.models import ApiToken, User
from tests.api_tokens import token_for

pytestmark = pytest.mark.django_db


def read(model, pk):
    quote = connection.ops.quote_name
    columns = model_columns(model, "m", using="default")
    table, key = quote(model._meta.db_table), quote(model._meta.pk.column)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM {table} m WHERE m.{key} = %s", [pk])  # noqa: S608
        row = cursor.fetchone()
    assert len(row) == model_width(model)
    return model_from_row(model, row, using="default")


def same_fields(loaded, expected):
    for field in type(expected)._meta.concrete_fields:
        assert getattr(loaded, field.attname) == getattr(expected, field.attname), field.name


def test_a_user_and_a_token_load_as_the_orm_loads_them(alice):
    alice.last_login = dt.datetime(2024, 3, 28, 9, 30, tzinfo=dt.UTC)
    alice.save()
    token_for(alice)
    token = ApiToken.objects.get(user=alice)
    loaded = read(ApiToken, token.pk)
    same_fields(loaded, token)
    assert isinstance(loaded.expiry, dt.datetime)
    assert loaded.expiry.tzinfo is not None
    assert not loaded._state.adding
    user = read(User, alice.pk)
    same_fields(user, User.objects.get(pk=alice.pk))
    assert user.last_login == alice.last_login


def test_a_json_column_loads_as_its_value_not_its_text(alice):
    board = services.dashboard_create(
        owner=alice, name="Desk", widgets=[{"kind": "rolling", "x": 0, "y": 0}]
    )
    widget = board.widgets.get()
    Widget.objects.filter(pk=widget.pk).update(options={"metric": "beta", "window": 63})
    loaded = read(Widget, widget.pk)
    assert loaded.options == {"metric": "beta", "window": 63}
    same_fields(loaded, Widget.objects.get(pk=widget.pk))
