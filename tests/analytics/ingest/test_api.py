"""Upload and push endpoints: the same validation as the command, answered with
HTTP statuses; entitlements and permissions apply; ``Idempotency-Key`` makes a
retried push harmless."""

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from analytics.models import (
    IdempotencyKey,
    ImportRun,
    ImportStatus,
    PortfolioDataStatus,
    Price,
    Trade,
)
from portal.models import AuditAction, AuditEvent
from tests.analytics.ingest.conftest import table_counts
from tests.factories import UserFactory

TRADES = (
    "portfolio,instrument,trade_date,side,quantity,price,external_id\n"
    "GROWTH,AAA,2024-01-02,buy,100,10.5,T-1\n"
    "GROWTH,SAP.DE,2024-01-03,buy,20,150.25,T-2\n"
)


def api_as(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def upload(client, kind, text, name="data.csv", **extra):
    return client.post(
        reverse("api-import-list"),
        {"kind": kind, "file": SimpleUploadedFile(name, text.encode()), **extra},
        format="multipart",
    )


def test_upload_commits_and_answers_201(world, alice):
    response = upload(api_as(alice), "trades", TRADES, source="oms")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["status"], body["rows_created"], body["source"]) == ("committed", 2, "oms")
    assert Trade.objects.filter(source="oms").count() == 2
    assert AuditEvent.objects.filter(action=AuditAction.DATA_IMPORTED, actor=alice).count() == 1


def test_upload_with_a_bad_row_is_400_with_every_error_and_commits_nothing(world, alice):
    bad = TRADES + "GROWTH,AAA,2024-01-04,buy,1,-3,T-3\nGROWTH,ZZZ,2024-01-04,buy,1,3,T-4\n"
    before = table_counts()
    response = upload(api_as(alice), "trades", bad)
    assert response.status_code == 400
    body = response.json()
    assert body["status"] == "rejected" and body["rows_rejected"] == 2
    assert [(e["row"], e["field"]) for e in body["errors"]] == [(4, "price"), (5, "instrument")]
    assert "negative price -3" in body["errors"][0]["message"]
    assert body["report_url"] == f"/api/imports/{body['id']}/report/"
    assert table_counts() == before

    report = api_as(alice).get(body["report_url"])
    assert report.status_code == 200 and report["Content-Type"] == "text/csv"
    assert b"unknown instrument 'ZZZ'" in b"".join(report.streaming_content)
    export = AuditEvent.objects.get(action=AuditAction.EXPORT)
    assert export.details["format"] == "csv" and len(export.details["sha256"]) == 64


def test_upload_dry_run_is_200_and_commits_nothing(world, alice):
    before = table_counts()
    response = upload(api_as(alice), "trades", TRADES, dry_run="true")
    assert response.status_code == 200 and response.json()["rows_created"] == 2
    assert table_counts() == before


def test_a_viewer_cannot_import_into_the_portfolio(world, bob):
    response = upload(api_as(bob), "trades", TRADES)
    assert response.status_code == 403
    assert "you may manage none" in response.json()["detail"]
    assert Trade.objects.count() == 0 and ImportRun.objects.count() == 0


def test_market_data_needs_the_add_permission(world, alice):
    prices = "instrument,date,close\nAAA,2024-01-02,10\n"
    assert upload(api_as(alice), "prices", prices).status_code == 403
    assert Price.objects.count() == 0
    alice.user_permissions.add(Permission.objects.get(codename="add_price"))
    alice = type(alice).objects.get(pk=alice.pk)  # drop the permission cache
    assert upload(api_as(alice), "prices", prices).status_code == 201


def test_import_runs_are_private_to_their_author(world, alice, bob):
    run_id = upload(api_as(alice), "trades", TRADES).json()["id"]
    assert api_as(alice).get(reverse("api-import-detail", args=[run_id])).status_code == 200
    assert api_as(bob).get(reverse("api-import-detail", args=[run_id])).status_code == 404
    assert api_as(bob).get(reverse("api-import-list")).json() == []
    admin = UserFactory(username="root", is_superuser=True, is_staff=True)
    assert [r["id"] for r in api_as(admin).get(reverse("api-import-list")).json()] == [run_id]


def test_a_large_upload_is_queued_and_imported_by_the_task(
    world, alice, aaa, settings, django_capture_on_commit_callbacks
):
    from tests.analytics.factories import PriceFactory

    PriceFactory(instrument=aaa, date=dt.date(2024, 1, 2), close=10)
    settings.INGEST_INLINE_MAX_BYTES = 10
    settings.CELERY_TASK_ALWAYS_EAGER = True
    from portal.celery import app

    app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            # The follow-up positions rebuild and scan run too (eagerly).
            response = upload(api_as(alice), "trades", TRADES.replace("SAP.DE", "AAA"))
    finally:
        app.conf.task_always_eager = False
    assert response.status_code == 202
    run = ImportRun.objects.get(pk=response.json()["id"])
    assert run.status == ImportStatus.COMMITTED and run.rows_created == 2
    assert Trade.objects.count() == 2
    # ... and the follow-up task re-derived the positions and scanned them.
    assert PortfolioDataStatus.objects.filter(portfolio=world).exists()


# --- push --------------------------------------------------------------------

BATCH = {
    "source": "oms",
    "rows": [
        {
            "portfolio": "GROWTH",
            "instrument": "AAA",
            "trade_date": "2024-01-02",
            "side": "buy",
            "quantity": 100,
            "price": 10.1,
            "external_id": "P-1",
        },
        {
            "portfolio": "GROWTH",
            "instrument": "SAP.DE",
            "trade_date": "2024-01-03",
            "side": "sell",
            "quantity": "20",
            "price": "150.25",
            "external_id": "P-2",
        },
    ],
}


def push(client, path, batch, key=None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(
        reverse(path), data=json.dumps(batch), content_type="application/json", **headers
    )


def test_push_with_the_same_key_twice_changes_nothing(world, alice):
    client = api_as(alice)
    first = push(client, "api-push-trades", BATCH, key="batch-0001")
    assert first.status_code == 201, first.json()
    assert first.json()["rows_created"] == 2
    assert Trade.objects.get(external_id="P-1").price == Decimal("10.1")  # no float noise
    before = table_counts()
    runs = ImportRun.objects.count()

    again = push(client, "api-push-trades", BATCH, key="batch-0001")

    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert table_counts() == before and ImportRun.objects.count() == runs


def test_the_same_key_with_another_batch_is_refused(world, alice):
    client = api_as(alice)
    push(client, "api-push-trades", BATCH, key="k-1")
    other = {**BATCH, "rows": BATCH["rows"][:1]}
    before = table_counts()
    response = push(client, "api-push-trades", other, key="k-1")
    assert response.status_code == 422
    assert table_counts() == before


def test_a_retry_while_the_first_request_runs_gets_409(world, alice):
    body = json.dumps(BATCH).encode()
    import hashlib

    IdempotencyKey.objects.create(
        user=alice,
        endpoint="push.trades",
        key="k-2",
        request_sha256=hashlib.sha256(body).hexdigest(),
    )
    response = api_as(alice).post(
        reverse("api-push-trades"),
        data=body,
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="k-2",
    )
    assert response.status_code == 409
    assert Trade.objects.count() == 0


def test_a_push_without_a_key_is_still_idempotent_by_natural_key(world, alice):
    client = api_as(alice)
    push(client, "api-push-trades", BATCH)
    before = table_counts()
    second = push(client, "api-push-trades", BATCH).json()
    assert (second["rows_created"], second["rows_unchanged"]) == (0, 2)
    assert {k: v for k, v in table_counts().items() if k != "AuditEvent"} == {
        k: v for k, v in before.items() if k != "AuditEvent"
    }


def test_a_bad_push_is_400_names_the_row_and_commits_nothing(world, alice):
    bad = {
        "source": "oms",
        "rows": [
            *BATCH["rows"],
            {**BATCH["rows"][0], "external_id": "P-3", "trade_date": "2024-02-31"},
        ],
    }
    before = table_counts()
    response = push(api_as(alice), "api-push-trades", bad, key="bad-1")
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert (error["row"], error["field"]) == (3, "trade_date")
    assert table_counts() == before


def test_push_body_must_be_a_batch(world, alice):
    client = api_as(alice)
    assert push(client, "api-push-trades", {"rows": []}).status_code == 400
    response = client.post(
        reverse("api-push-trades"), data="{not json", content_type="application/json"
    )
    assert response.status_code == 400


@pytest.fixture
def price_admin(db):
    user = UserFactory(username="marketdata")
    user.user_permissions.add(Permission.objects.get(codename="add_price"))
    return type(user).objects.get(pk=user.pk)


def test_push_prices(world, price_admin, alice):
    batch = {
        "source": "vendor",
        "rows": [
            {"instrument": "AAA", "date": "2024-01-02", "close": 10.25},
            {"instrument": "SAP.DE", "date": "2024-01-02", "close": "151.2", "currency": "EUR"},
        ],
    }
    response = push(api_as(price_admin), "api-push-prices", batch, key="px-1")
    assert response.status_code == 201 and response.json()["rows_created"] == 2
    assert Price.objects.get(instrument__identifier="AAA").close == Decimal("10.25")
    assert push(api_as(alice), "api-push-prices", batch, key="px-1").status_code == 403
    negative = {"rows": [{"instrument": "AAA", "date": "2024-01-03", "close": -1}]}
    assert push(api_as(price_admin), "api-push-prices", negative).status_code == 400
    assert Price.objects.count() == 2
