"""Work is authorised before it is queued or recorded: a user who may only view a
portfolio gets 403 for a recompute, an upload (the API and the admin's import
page) and a push, and no ``ImportRun`` row, stored file or idempotency key is left
behind.

The people: alice owns GROWTH; bob sees it through the equity desk (view only) and
manages nothing; carol sees INCOME (view only) and manages her own portfolio OWN.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from analytics.models import (
    AnalyticsSnapshot,
    IdempotencyKey,
    ImportRun,
    ImportStatus,
    PositionSnapshot,
    Trade,
)
from analytics.services.imports.report import imports_folder
from analytics.services.imports.upload import import_run_execute_queued
from tests.factories import InstrumentFactory, PortfolioFactory

TRADES = (
    "portfolio,instrument,trade_date,side,quantity,price,external_id\n"
    "GROWTH,AAA,2024-01-02,buy,100,10.5,T-1\n"
)


def api_as(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def upload(user, text, kind="trades"):
    return api_as(user).post(
        reverse("api-import-list"),
        {"kind": kind, "file": SimpleUploadedFile("data.csv", text.encode())},
        format="multipart",
    )


def push(user, rows, key=""):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return api_as(user).post(
        reverse("api-push-trades"), {"source": "oms", "rows": rows}, format="json", **headers
    )


def trade_row(portfolio, external_id):
    return {
        "portfolio": portfolio,
        "instrument": "AAA",
        "trade_date": "2024-01-02",
        "side": "buy",
        "quantity": "10",
        "price": "10",
        "external_id": external_id,
    }


def stored_files() -> list[str]:
    return sorted(path.name for path in imports_folder().glob("import-*"))


@pytest.fixture
def aaa(db):
    return InstrumentFactory(identifier="AAA", currency="USD")


@pytest.fixture
def own(carol):
    return PortfolioFactory(code="OWN", owner=carol)


# --- refresh -----------------------------------------------------------------


def test_a_viewer_may_not_queue_a_recompute(
    bob, alice, growth, aaa, django_capture_on_commit_callbacks
):
    PositionSnapshot.objects.create(portfolio=growth, instrument=aaa, date="2024-01-02", quantity=1)
    url = reverse("api-portfolio-analytics-refresh", args=[growth.pk])
    runs = ImportRun.objects.count()
    with django_capture_on_commit_callbacks(execute=False) as sent:
        refused = api_as(bob).post(url)
    assert refused.status_code == 403
    assert "managers" in refused.json()["detail"]
    assert (len(sent), AnalyticsSnapshot.objects.count(), ImportRun.objects.count()) == (0, 0, runs)

    with django_capture_on_commit_callbacks(execute=False) as sent:
        assert api_as(alice).post(url).status_code == 202
    assert (len(sent), AnalyticsSnapshot.objects.count()) == (1, 1)


# --- upload through the API ----------------------------------------------------


def test_a_viewer_gets_403_for_an_upload_and_no_run_is_recorded(bob, growth, aaa):
    runs = ImportRun.objects.count()
    response = upload(bob, TRADES)
    assert response.status_code == 403
    assert "needs manage access to a portfolio" in response.json()["detail"]
    assert ImportRun.objects.count() == runs
    assert Trade.objects.count() == 0


def test_a_large_upload_by_a_viewer_is_refused_before_it_is_stored(bob, growth, aaa, settings):
    settings.INGEST_INLINE_MAX_BYTES = 10  # this file would be kept and queued
    runs, files = ImportRun.objects.count(), stored_files()
    assert upload(bob, TRADES).status_code == 403
    assert (ImportRun.objects.count(), stored_files()) == (runs, files)


def test_a_manager_still_uploads(alice, growth, aaa):
    response = upload(alice, TRADES)
    assert response.status_code == 201, response.json()
    assert Trade.objects.filter(portfolio=growth).count() == 1


def test_a_queued_upload_whose_author_lost_manage_access_is_recorded_refused(
    alice, bob, growth, aaa, settings, django_capture_on_commit_callbacks
):
    settings.INGEST_INLINE_MAX_BYTES = 10
    with django_capture_on_commit_callbacks(execute=False):
        response = upload(alice, TRADES)
    assert response.status_code == 202
    type(growth).objects.filter(pk=growth.pk).update(owner=bob)  # alice manages nothing now

    run = import_run_execute_queued(run_id=response.json()["id"])

    assert run.status == ImportStatus.REJECTED
    assert "needs manage access to a portfolio" in run.message
    assert Trade.objects.count() == 0


# --- upload through the admin's import page ------------------------------------


def test_the_import_page_is_403_for_a_viewer(client, bob, alice, growth, aaa, settings):
    # The error page links the stylesheet: no collected manifest is needed for it here.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    bob.is_staff = True
    bob.save()
    client.force_login(bob)
    page = reverse("admin:analytics_trade_import")
    runs = ImportRun.objects.count()

    assert client.get(page).status_code == 403
    posted = client.post(
        page,
        {
            "resource": "0",
            "format": "0",
            "import_file": SimpleUploadedFile("data.csv", TRADES.encode()),
        },
    )
    assert posted.status_code == 403
    assert (ImportRun.objects.count(), Trade.objects.count()) == (runs, 0)

    alice.is_staff = True
    alice.save()
    client.force_login(alice)
    assert client.get(page).status_code == 200


# --- push ----------------------------------------------------------------------


def test_a_viewer_gets_403_for_a_push_and_nothing_is_recorded(bob, growth, aaa):
    runs = ImportRun.objects.count()
    response = push(bob, [trade_row("GROWTH", "P-1")], key="push-1")
    assert response.status_code == 403
    assert (ImportRun.objects.count(), IdempotencyKey.objects.count()) == (runs, 0)
    assert Trade.objects.count() == 0


def test_a_push_naming_only_portfolios_the_user_may_not_manage_is_403(
    carol, own, income, hidden, aaa
):
    """carol manages OWN, but this batch names only INCOME (view only) and HIDDEN
    (not visible): refused as a whole, with the same words for both."""
    runs = ImportRun.objects.count()
    for code in ("INCOME", "HIDDEN", "NO-SUCH"):
        response = push(carol, [trade_row(code, "P-1")])
        assert response.status_code == 403
        assert response.json()["detail"].endswith(f"none of {code} (or they do not exist)")
    assert ImportRun.objects.count() == runs


def test_a_push_naming_a_managed_portfolio_reports_the_others_row_by_row(carol, own, income, aaa):
    response = push(carol, [trade_row("OWN", "P-1"), trade_row("INCOME", "P-2")])
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert (error["row"], error["field"]) == (2, "portfolio")
    assert "unknown portfolio 'INCOME' (or not one you may change)" in error["message"]
    assert Trade.objects.count() == 0  # atomic: nothing committed

    response = api_as(carol).post(
        reverse("api-push-trades"),
        {"rows": [trade_row("OWN", "P-1"), trade_row("INCOME", "P-2")], "skip_invalid": True},
        format="json",
    )
    assert response.status_code == 201
    assert list(Trade.objects.values_list("portfolio__code", flat=True)) == ["OWN"]
