"""A trade's optional trader (a username) and strategy (a short tag) are accepted
by every import path: a CSV or XLSX file, the REST push and the admin's
import-export resource. An unknown username is a row error naming the field, and
nothing of the import is committed."""

import datetime as dt
import json

import pytest
import tablib
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from openpyxl import Workbook
from rest_framework.test import APIClient

from analytics.models import Trade
from analytics.resources import TradeResource
from tests.analytics.ingest.conftest import table_counts
from tests.factories import UserFactory

HEADER = "portfolio,instrument,trade_date,side,quantity,price,external_id,trader,strategy"


def api_as(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_a_csv_file_sets_trader_and_strategy(world, bob, write):
    path = write(
        "trades.csv",
        HEADER,
        "GROWTH,AAA,2024-01-02,buy,100,10,T-1,bob,Momentum",
        "GROWTH,AAA,2024-01-03,sell,50,11,T-2,,",
    )
    call_command("import_data", "trades", str(path))

    first, second = Trade.objects.order_by("external_id")
    assert (first.trader, first.strategy) == (bob, "momentum")  # tags are lower case
    assert (second.trader, second.strategy) == (None, "")


def test_a_file_without_the_columns_still_imports(world, write):
    path = write(
        "trades.csv",
        "portfolio,instrument,trade_date,side,quantity,price,external_id",
        "GROWTH,AAA,2024-01-02,buy,100,10,T-1",
    )
    call_command("import_data", "trades", str(path))
    trade = Trade.objects.get()
    assert (trade.trader, trade.strategy) == (None, "")


def test_an_xlsx_file_sets_trader_and_strategy(world, bob, tmp_path):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER.split(","))
    sheet.append(["GROWTH", "AAA", dt.date(2024, 1, 2), "buy", 100, 10, "X-1", "bob", "value"])
    path = tmp_path / "trades.xlsx"
    workbook.save(path)

    call_command("import_data", "trades", str(path))

    trade = Trade.objects.get(external_id="X-1")
    assert (trade.trader, trade.strategy) == (bob, "value")


def test_an_unknown_trader_is_a_row_error_and_nothing_is_committed(world, bob, write, capsys):
    path = write(
        "trades.csv",
        HEADER,
        "GROWTH,AAA,2024-01-02,buy,100,10,T-1,bob,momentum",
        "GROWTH,AAA,2024-01-03,buy,100,10,T-2,nobody,momentum",
    )
    before = table_counts()
    with pytest.raises(CommandError):
        call_command("import_data", "trades", str(path))
    assert (
        "row 3, field 'trader': unknown trader 'nobody' (expected the username of an active user)"
        in capsys.readouterr().err
    )
    assert table_counts() == before


def test_an_inactive_user_is_not_a_trader(world, write, capsys):
    UserFactory(username="gone", is_active=False)
    path = write("trades.csv", HEADER, "GROWTH,AAA,2024-01-02,buy,100,10,T-1,gone,")
    with pytest.raises(CommandError):
        call_command("import_data", "trades", str(path))
    assert "unknown trader 'gone'" in capsys.readouterr().err
    assert not Trade.objects.exists()


def test_a_strategy_longer_than_32_characters_is_refused(world, write, capsys):
    path = write("trades.csv", HEADER, f"GROWTH,AAA,2024-01-02,buy,100,10,T-1,,{'x' * 33}")
    with pytest.raises(CommandError):
        call_command("import_data", "trades", str(path))
    assert "field 'strategy': longer than 32 characters" in capsys.readouterr().err


def test_the_push_sets_trader_and_strategy_and_reports_an_unknown_trader(world, alice, bob):
    row = {
        "portfolio": "GROWTH",
        "instrument": "AAA",
        "trade_date": "2024-01-02",
        "side": "buy",
        "quantity": "100",
        "price": "10",
        "external_id": "P-1",
        "trader": "bob",
        "strategy": "rebalance",
    }
    client = api_as(alice)
    bad = {"source": "oms", "rows": [row, {**row, "external_id": "P-2", "trader": "eve"}]}
    response = client.post(
        reverse("api-push-trades"), data=json.dumps(bad), content_type="application/json"
    )
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert (error["row"], error["field"], error["value"]) == (2, "trader", "eve")  # 1-based
    assert "unknown trader 'eve'" in error["message"]
    assert not Trade.objects.exists()

    good = {"source": "oms", "rows": [row]}
    response = client.post(
        reverse("api-push-trades"), data=json.dumps(good), content_type="application/json"
    )
    assert response.status_code == 201, response.json()
    trade = Trade.objects.get(external_id="P-1")
    assert (trade.trader, trade.strategy) == (bob, "rebalance")


def test_the_admin_resource_sets_trader_and_strategy_and_refuses_an_unknown_one(world, bob):
    admin = UserFactory(username="root", is_superuser=True, is_staff=True)
    headers = HEADER.split(",")
    bad = tablib.Dataset(
        ["GROWTH", "AAA", "2024-01-02", "buy", "100", "10", "A-1", "bob", "value"],
        ["GROWTH", "AAA", "2024-01-03", "buy", "100", "10", "A-2", "mallory", "value"],
        headers=headers,
    )
    result = TradeResource().import_data(bad, dry_run=True, user=admin)
    [invalid] = result.invalid_rows
    assert invalid.error_dict == {
        "trader": ["row 3: unknown trader 'mallory' (expected the username of an active user)"]
    }

    good = tablib.Dataset(
        ["GROWTH", "AAA", "2024-01-02", "buy", "100", "10", "A-1", "bob", "Value"],
        ["GROWTH", "AAA", "2024-01-03", "buy", "100", "10", "A-2", "", ""],
        headers=headers,
    )
    result = TradeResource().import_data(good, dry_run=False, user=admin)
    assert not result.has_errors() and not result.has_validation_errors()
    first, second = Trade.objects.order_by("external_id")
    assert (first.trader, first.strategy) == (bob, "value")
    assert (second.trader, second.strategy) == (None, "")
