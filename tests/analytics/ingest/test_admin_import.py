"""The admin's django-import-export path applies the same validation: a bad row
fails in the dry-run preview with its field errors and nothing is committed; a
good file imports, and the same file again is all skipped."""

import tablib
from django.urls import reverse

from analytics.models import Trade
from analytics.resources import PriceResource, TradeResource
from portal.models import AuditAction, AuditEvent
from tests.analytics.ingest.conftest import table_counts
from tests.factories import UserFactory

HEADERS = ["portfolio", "instrument", "trade_date", "side", "quantity", "price", "external_id"]


def dataset(*rows):
    return tablib.Dataset(*rows, headers=list(HEADERS))


def admin_user():
    return UserFactory(username="root", is_superuser=True, is_staff=True)


def test_a_bad_row_is_invalid_in_the_preview_and_nothing_is_committed(world):
    data = dataset(
        ["GROWTH", "AAA", "2024-01-02", "buy", "100", "10", "A-1"],
        ["GROWTH", "AAA", "2024-01-03", "buy", "100", "-10", "A-2"],
    )
    before = table_counts()
    result = TradeResource().import_data(data, dry_run=True, user=admin_user())
    assert result.has_validation_errors()
    [invalid] = result.invalid_rows
    assert invalid.number == 2
    assert invalid.error_dict == {"price": ["row 3: negative price -10"]}
    assert table_counts() == before


def test_a_good_file_imports_with_defaults_and_twice_is_skipped(world):
    user = admin_user()
    data = dataset(
        ["GROWTH", "AAA", "2024-01-02", "BUY", "100", "10.5", "A-1"],
        ["GROWTH", "SAP.DE", "2024-01-03", "s", "20", "150", "A-2"],
    )
    result = TradeResource().import_data(data, dry_run=False, user=user)
    assert not result.has_errors() and not result.has_validation_errors()
    assert result.totals["new"] == 2
    trade = Trade.objects.get(external_id="A-2")
    assert (trade.side, trade.currency, trade.source, str(trade.settle_date)) == (
        "sell",
        "EUR",
        "file",
        "2024-01-03",
    )
    assert AuditEvent.objects.filter(action=AuditAction.DATA_IMPORTED).count() == 1

    again = TradeResource().import_data(
        dataset(
            ["GROWTH", "AAA", "2024-01-02", "BUY", "100", "10.5", "A-1"],
            ["GROWTH", "SAP.DE", "2024-01-03", "s", "20", "150", "A-2"],
        ),
        dry_run=False,
        user=user,
    )
    assert again.totals["skip"] == 2 and again.totals["new"] == 0
    assert Trade.objects.count() == 2


def test_staff_without_manage_access_cannot_import_into_a_portfolio(world, bob):
    bob.is_staff = True
    bob.save()
    result = TradeResource().import_data(
        dataset(["GROWTH", "AAA", "2024-01-02", "buy", "1", "1", "A-1"]), dry_run=True, user=bob
    )
    assert result.has_validation_errors()
    assert "unknown portfolio 'GROWTH'" in result.invalid_rows[0].error_dict["portfolio"][0]


def test_prices_need_the_add_permission_in_the_admin_too(world, alice):
    data = tablib.Dataset(["AAA", "2024-01-02", "10"], headers=["instrument", "date", "close"])
    result = PriceResource().import_data(data, dry_run=True, user=alice)
    assert result.has_errors()


def test_the_admin_import_and_export_pages_render(world, client):
    client.force_login(admin_user())
    assert client.get(reverse("admin:analytics_trade_import")).status_code == 200
    response = client.post(
        reverse("admin:analytics_trade_export"), {"format": "0", "resource": "0"}
    )
    assert response.status_code == 200
