"""The admin's django-import-export path applies the same validation: a bad row
fails in the dry-run preview with its field errors and nothing is committed; a
good file imports, and the same file again is all skipped."""

import hashlib

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
    assert result.has_errors()  # refused as a whole: bob may manage no portfolio
    assert "needs manage access" in str(result.base_errors[0].error)


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


def _sent_tasks(monkeypatch) -> list[tuple]:
    """Record the refresh tasks queued after commit instead of sending them."""
    import analytics.tasks as tasks

    sent: list[tuple] = []
    monkeypatch.setattr(
        tasks.portfolio_quality_scan,
        "apply_async",
        lambda args, kwargs=None, **options: sent.append(("scan", *args)),
    )
    monkeypatch.setattr(
        tasks.positions_rebuild_and_scan,
        "apply_async",
        lambda args, kwargs=None, **options: sent.append(("rebuild", *args)),
    )
    return sent


def test_an_admin_import_queues_the_rebuild_and_scan_once_committed(
    world, alice, monkeypatch, django_capture_on_commit_callbacks
):
    sent = _sent_tasks(monkeypatch)
    before = world.data_version
    with django_capture_on_commit_callbacks(execute=True):
        result = TradeResource().import_data(
            dataset(["GROWTH", "AAA", "2024-01-02", "buy", "100", "10", "A-1"]),
            dry_run=False,
            user=alice,  # the owner, who manages GROWTH
        )
    assert result.totals["new"] == 1
    assert sent == [("rebuild", world.pk)]
    world.refresh_from_db()
    assert world.data_version == before + 1
    event = AuditEvent.objects.get(action=AuditAction.DATA_IMPORTED)
    assert (event.details["origin"], event.details["portfolios"]) == ("admin", [world.pk])


def test_an_admin_dry_run_queues_nothing(
    world, alice, monkeypatch, django_capture_on_commit_callbacks
):
    sent = _sent_tasks(monkeypatch)
    with django_capture_on_commit_callbacks(execute=True):
        TradeResource().import_data(
            dataset(["GROWTH", "AAA", "2024-01-02", "buy", "100", "10", "A-1"]),
            dry_run=True,
            user=alice,
        )
    assert sent == []
    assert Trade.objects.count() == 0


def test_an_admin_import_into_a_portfolio_the_user_may_not_manage_is_refused(
    world, bob, monkeypatch, django_capture_on_commit_callbacks
):
    """bob sees GROWTH through his desk but may not change it: the import is
    refused as a whole, nothing is written and nothing is queued."""
    bob.is_staff = True
    bob.save()
    sent = _sent_tasks(monkeypatch)
    with django_capture_on_commit_callbacks(execute=True):
        result = TradeResource().import_data(
            dataset(["GROWTH", "AAA", "2024-01-02", "buy", "1", "1", "A-1"]),
            dry_run=False,
            user=bob,
        )
    assert result.has_errors()
    assert Trade.objects.count() == 0 and sent == []


def test_admin_prices_queue_a_rebuild_of_the_portfolios_that_trade_them(
    world, aaa, monkeypatch, django_capture_on_commit_callbacks
):
    TradeResource().import_data(
        dataset(["GROWTH", "AAA", "2024-01-02", "buy", "100", "10", "A-1"]),
        dry_run=False,
        user=admin_user(),
    )
    sent = _sent_tasks(monkeypatch)
    with django_capture_on_commit_callbacks(execute=True):
        result = PriceResource().import_data(
            tablib.Dataset(["AAA", "2024-01-02", "10.5"], headers=["instrument", "date", "close"]),
            dry_run=False,
            user=UserFactory(username="root2", is_superuser=True, is_staff=True),
        )
    assert result.totals["new"] == 1
    assert sent == [("rebuild", world.pk)]


def test_an_admin_export_is_an_audited_download(world, client):
    root = admin_user()
    TradeResource().import_data(
        dataset(["GROWTH", "AAA", "2024-01-02", "buy", "100", "10", "A-1"]),
        dry_run=False,
        user=root,
    )
    client.force_login(root)
    response = client.post(
        reverse("admin:analytics_trade_export"),
        {"format": "0", "resource": "0", "traderesource_external_id": "on"},
    )
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert b"A-1" in response.content
    event = AuditEvent.objects.get(action=AuditAction.EXPORT)
    assert response["X-Content-SHA256"] == hashlib.sha256(response.content).hexdigest()
    assert response["X-Content-SHA256"] == event.details["sha256"]
    assert event.details["size"] == len(response.content)
    assert (event.details["model"], event.details["rows"]) == ("analytics.Trade", 1)
