"""Tabular API endpoints answer JSON (their own shape) or a file: CSV, XLSX or
Parquet chosen by ``?format=`` or ``Accept``. Each file read back equals the rows
worked out by hand; text cells a spreadsheet would run are neutralised; the
checksum header is the body's SHA-256; a streamed CSV's checksum is in the audit
event written when the stream ends; the export policy refuses with 403 + audit.

alice owns GROWTH, bob sees it through the equity desk, mallory sees nothing."""

import csv
import datetime as dt
import hashlib
import io
from decimal import Decimal

import openpyxl
import pyarrow.parquet as pq
import pytest
from django.db import connection
from django.http import StreamingHttpResponse
from django.test import override_settings
from rest_framework.test import APIClient

from analytics.api.section_tables import section_table
from analytics.models import (
    DERIVED_SOURCE,
    AnalyticsSnapshot,
    DataQualityFinding,
    PositionSnapshot,
    SnapshotStatus,
)
from compliance.models import Alert, Rule
from portal.models import AuditAction, AuditEvent, ExportRestriction, Role
from tests.analytics.factories import TradeFactory
from tests.factories import InstrumentFactory, UserFactory

pytestmark = pytest.mark.django_db

AS_OF = dt.date(2024, 3, 28)
EVIL = '=HYPERLINK("http://evil.example","x")'
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PARQUET = "application/vnd.apache.parquet"


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def body(response) -> bytes:
    if isinstance(response, StreamingHttpResponse):
        return b"".join(response.streaming_content)  # type: ignore[arg-type]
    return response.getvalue()


def csv_rows(response, content: bytes | None = None) -> list[dict]:
    content = body(response) if content is None else content
    return list(csv.DictReader(io.StringIO(content.decode("utf-8"))))


def xlsx_rows(response, content: bytes | None = None) -> list[tuple]:
    content = body(response) if content is None else content
    sheet = openpyxl.load_workbook(io.BytesIO(content), read_only=True).active
    return list(sheet.iter_rows(values_only=True))


def parquet_rows(response) -> list[dict]:
    return pq.read_table(io.BytesIO(body(response))).to_pylist()


def hold(portfolio, identifier, *, name, quantity, price, date=AS_OF):
    value = Decimal(quantity) * Decimal(price)
    PositionSnapshot.objects.create(
        portfolio=portfolio,
        instrument=InstrumentFactory(identifier=identifier, name=name, sector="Energy"),
        date=date,
        quantity=Decimal(quantity),
        price=Decimal(price),
        market_value_local=value,
        market_value_base=value,
        source=DERIVED_SOURCE,
    )


@pytest.fixture
def holdings(growth):
    # Net assets 125 - 100 = 25: weights 125 / 25 = 5 and -100 / 25 = -4.
    hold(growth, "ACME", name=EVIL, quantity="10", price="12.5")
    hold(growth, "BETA", name="Beta plc", quantity="-4", price="25")
    return growth


def holdings_url(portfolio):
    return f"/api/portfolios/{portfolio.pk}/holdings/"


def file_events(action=AuditAction.EXPORT):
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


# --- holdings in every format


def test_holdings_as_csv_are_the_rows_with_the_formula_neutralised(bob, holdings):
    response = api(bob).get(holdings_url(holdings), {"format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="GROWTH-holdings-2024-03-28.csv"'
    )
    assert csv_rows(response) == [
        {
            "as_of": "2024-03-28",
            "identifier": "ACME",
            "name": "'" + EVIL,
            "sector": "Energy",
            "country": "US",
            "asset_class": "equity",
            "currency": "USD",
            "quantity": "10.000000",
            "price": "12.500000",
            "market_value_local": "125.000000",
            "market_value_base": "125.000000",
            "weight": "5.0",
        },
        {
            "as_of": "2024-03-28",
            "identifier": "BETA",
            "name": "Beta plc",
            "sector": "Energy",
            "country": "US",
            "asset_class": "equity",
            "currency": "USD",
            "quantity": "-4.000000",
            "price": "25.000000",
            "market_value_local": "-100.000000",
            "market_value_base": "-100.000000",
            "weight": "-4.0",
        },
    ]


def test_a_file_carries_its_checksum_and_is_audited_as_an_export(bob, holdings):
    response = api(bob).get(holdings_url(holdings), {"format": "csv"})
    content = body(response)
    sha256 = hashlib.sha256(content).hexdigest()
    assert response["X-Content-SHA256"] == sha256
    assert response["Repr-Digest"].startswith("sha-256=:")
    (event,) = file_events()
    assert event.actor_username == "bob"
    assert event.portfolio_id == holdings.pk
    assert event.target_id == str(holdings.pk)
    assert event.details == {
        "data": "holdings",
        "format": "csv",
        "size": len(content),
        "sha256": sha256,
        "rows": 2,
        "streamed": False,
        "as_of": "2024-03-28",
    }
    # A file is an export, not also an api.read.
    assert not AuditEvent.objects.filter(action=AuditAction.API_READ).exists()


def test_holdings_as_xlsx_have_real_numbers_dates_and_neutral_text(bob, holdings):
    response = api(bob).get(holdings_url(holdings), {"format": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    content = body(response)  # a file response is read once
    assert response["X-Content-SHA256"] == hashlib.sha256(content).hexdigest()
    header, acme, beta = xlsx_rows(response, content)
    assert header[:3] == ("As of", "Identifier", "Name")
    assert acme == (
        dt.datetime(2024, 3, 28),  # noqa: DTZ001  (Excel has no time zones)
        "ACME",
        "'" + EVIL,
        "Energy",
        "US",
        "equity",
        "USD",
        10,
        12.5,
        125,
        125,
        5,
    )
    assert beta[7:] == (-4, 25, -100, -100, -4)
    (event,) = file_events()
    assert event.details["format"] == "xlsx" and event.details["rows"] == 2


def test_holdings_as_parquet_are_typed_columns(bob, holdings):
    response = api(bob).get(holdings_url(holdings), {"format": "parquet"})
    assert response.status_code == 200
    assert response["Content-Type"] == PARQUET
    assert response["Content-Disposition"].endswith('filename="GROWTH-holdings-2024-03-28.parquet"')
    rows = parquet_rows(response)
    # Parquet is not a spreadsheet: text kept as it is.
    assert [(r["identifier"], r["name"], r["as_of"]) for r in rows] == [
        ("ACME", EVIL, AS_OF),
        ("BETA", "Beta plc", AS_OF),
    ]
    assert [(r["quantity"], r["market_value_base"], r["weight"]) for r in rows] == [
        (10.0, 125.0, 5.0),
        (-4.0, -100.0, -4.0),
    ]


def test_the_accept_header_chooses_the_format_and_json_keeps_its_shape(bob, holdings):
    client = api(bob)
    as_csv = client.get(holdings_url(holdings), HTTP_ACCEPT="text/csv")
    assert as_csv["Content-Type"] == "text/csv; charset=utf-8"
    as_parquet = client.get(holdings_url(holdings), HTTP_ACCEPT=PARQUET)
    assert [r["identifier"] for r in parquet_rows(as_parquet)] == ["ACME", "BETA"]
    as_json = client.get(holdings_url(holdings), HTTP_ACCEPT="application/json")
    assert as_json["Content-Type"] == "application/json"
    payload = as_json.json()
    assert set(payload) == {"as_of", "net_assets_base", "missing_base_values", "holdings"}
    assert payload["net_assets_base"] == "25.00"
    # ?format= wins over Accept.
    both = client.get(holdings_url(holdings), {"format": "json"}, HTTP_ACCEPT="text/csv")
    assert both.json()["as_of"] == "2024-03-28"


def test_an_unknown_format_is_a_400_naming_the_field(bob, holdings):
    response = api(bob).get(holdings_url(holdings), {"format": "pdf"})
    assert response.status_code == 400
    assert "format" in response.json()


@pytest.mark.parametrize("file_format", ["json", "csv", "xlsx", "parquet"])
def test_an_outsider_gets_a_json_404_in_every_format(mallory, holdings, file_format):
    response = api(mallory).get(holdings_url(holdings), {"format": file_format})
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert not file_events()


def test_the_export_policy_refuses_a_format_with_403_and_an_audit_event(bob, desk, holdings):
    ExportRestriction.objects.create(team=desk, file_format="xlsx")
    response = api(bob).get(holdings_url(holdings), {"format": "xlsx"})
    assert response.status_code == 403
    assert response.json() == {
        "detail": "Members of the team Equity desk may not export Excel files."
    }
    (refused,) = file_events(AuditAction.DOWNLOAD_REFUSED)
    assert refused.portfolio_id == holdings.pk
    assert refused.details["format"] == "xlsx"
    assert refused.details["data"] == "holdings"
    assert not file_events()
    # Another format is still allowed, and JSON is an API read, not a file.
    assert api(bob).get(holdings_url(holdings), {"format": "csv"}).status_code == 200
    assert api(bob).get(holdings_url(holdings)).status_code == 200


# --- values, streaming, other endpoints


def test_values_as_csv_are_one_row_per_date(bob, growth):
    hold(growth, "ACME", name="Acme", quantity="10", price="12.5", date=dt.date(2024, 3, 27))
    hold(growth, "ACME", name="Acme", quantity="10", price="13", date=AS_OF)
    hold(growth, "BETA", name="Beta", quantity="2", price="5", date=AS_OF)
    response = api(bob).get(f"/api/portfolios/{growth.pk}/values/", {"format": "csv"})
    assert csv_rows(response) == [
        # The sum exactly as stored (6 decimals), where JSON rounds to cents.
        {
            "date": "2024-03-27",
            "net_assets_base": "125.000000",
            "holdings": "1",
            "missing_base_values": "0",
        },
        {
            "date": "2024-03-28",
            "net_assets_base": "140.000000",
            "holdings": "2",
            "missing_base_values": "0",
        },
    ]


@override_settings(API_STREAM_ROWS=2)
def test_a_large_csv_is_streamed_and_audited_with_its_checksum_when_it_ends(bob, growth):
    for day in (2, 3, 4):
        TradeFactory(portfolio=growth, trade_date=dt.date(2024, 1, day))
    response = api(bob).get(f"/api/portfolios/{growth.pk}/trades/", {"format": "csv"})
    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    assert "X-Content-SHA256" not in response
    assert not file_events()  # nothing has left yet
    content = body(response)
    (event,) = file_events()
    assert event.details["streamed"] is True
    assert event.details["rows"] == 3
    assert event.details["size"] == len(content)
    assert event.details["sha256"] == hashlib.sha256(content).hexdigest()
    assert len(content.decode().splitlines()) == 4  # header + 3 trades


@pytest.fixture
def alerts(growth, hidden):
    rule = Rule.objects.create(name="Max 10%", kind="max_instrument_weight", limit=0.1)
    fields = {
        "last_observed_on": dt.date(2024, 3, 4),
        "first_utilisation": 1.2,
        "last_utilisation": 1.2,
        "peak_utilisation": float("inf"),
        "active": True,
    }
    mine = Alert.objects.create(
        rule=rule, portfolio=growth, severity="breach", opened_on=dt.date(2024, 3, 4), **fields
    )
    Alert.objects.create(
        rule=rule, portfolio=hidden, severity="breach", opened_on=dt.date(2024, 3, 4), **fields
    )
    return mine


def test_alerts_as_csv_hold_only_the_alerts_one_may_see(bob, alerts):
    (row,) = csv_rows(api(bob).get("/api/compliance/alerts/", {"format": "csv"}))
    assert row["id"] == str(alerts.pk)
    assert row["portfolio"] == "GROWTH"
    assert row["rule"] == "Max 10%"
    assert row["opened_on"] == "2024-03-04"
    assert (row["last_utilisation"], row["peak_utilisation"]) == ("1.2", "inf")
    assert row["active"] == "true"
    (event,) = file_events()
    assert event.details["data"] == "compliance.alerts" and event.details["rows"] == 1


def test_alerts_as_xlsx_write_an_infinite_utilisation_as_text(bob, alerts):
    header, row = xlsx_rows(api(bob).get("/api/compliance/alerts/", {"format": "xlsx"}))
    by_label = dict(zip(header, row, strict=True))
    assert by_label["Last utilisation"] == 1.2
    assert by_label["Peak utilisation"] == "inf"
    assert by_label["Opened on"] == dt.datetime(2024, 3, 4)  # noqa: DTZ001  (Excel: no zones)


def test_alerts_json_stays_paged(bob, alerts):
    payload = api(bob).get("/api/compliance/alerts/").json()
    assert payload["count"] == 1 and payload["results"][0]["id"] == alerts.pk


def test_findings_as_csv_neutralise_messages_and_write_details_as_json(bob, growth):
    DataQualityFinding.objects.create(
        kind="stale_price",
        severity="warning",
        portfolio=growth,
        date=AS_OF,
        message="@SUM(A1:A9)",
        details={"days": 4},
        fingerprint="f1",
        last_seen_at=dt.datetime(2024, 3, 28, 18, 0, tzinfo=dt.UTC),
    )
    (row,) = csv_rows(api(bob).get("/api/data-quality/findings/", {"format": "csv"}))
    assert row["message"] == "'@SUM(A1:A9)"
    assert row["details"] == '{"days": 4}'
    assert row["portfolio"] == "GROWTH"
    assert row["resolved_at"] == ""
    assert dt.datetime.fromisoformat(row["last_seen_at"]) == dt.datetime(
        2024, 3, 28, 18, 0, tzinfo=dt.UTC
    )


def test_audit_events_as_parquet_for_an_auditor_and_403_for_others(bob, holdings):
    officer = UserFactory(username="olga", role=Role.COMPLIANCE_OFFICER)
    api(bob).get(holdings_url(holdings))  # one api.read event
    response = api(officer).get("/api/audit-events/", {"format": "parquet", "action": "api.read"})
    assert response.status_code == 200
    (row,) = parquet_rows(response)
    assert (row["actor_username"], row["action"], row["portfolio_id"]) == (
        "bob",
        "api.read",
        holdings.pk,
    )
    assert row["created_at"].tzinfo is not None
    (event,) = file_events(AuditAction.AUDIT_EXPORTED)
    assert event.details["data"] == "audit_events"
    assert event.details["action"] == "api.read"
    assert api(bob).get("/api/audit-events/", {"format": "csv"}).status_code == 403


@pytest.fixture
def snapshot(growth):
    return AnalyticsSnapshot.objects.create(
        portfolio=growth,
        as_of=AS_OF,
        data_version=growth.data_version,
        status=SnapshotStatus.DONE,
        result={
            "series": {
                "net_assets": {"dates": ["2024-03-27", "2024-03-28"], "values": [100.0, 110.0]},
                "returns": {"dates": ["2024-03-28"], "values": [0.1]},
                "cumulative": {"dates": ["2024-03-28"], "values": [0.1]},
            },
            "drawdowns": {"underwater": {"dates": ["2024-03-28"], "values": [0.0]}},
            "metrics": {"windows": {}},
        },
    )


def test_the_analytics_series_as_csv_is_one_row_per_date(bob, growth, snapshot):
    url = f"/api/portfolios/{growth.pk}/analytics/series/"
    response = api(bob).get(url, {"format": "csv"})
    assert response["Content-Disposition"].endswith('filename="GROWTH-series-2024-03-28.csv"')
    assert csv_rows(response) == [
        {"date": "2024-03-27", "net_assets": "100.0", "returns": "", "cumulative": ""},
        {"date": "2024-03-28", "net_assets": "110.0", "returns": "0.1", "cumulative": "0.1"},
    ]
    (event,) = file_events()
    assert event.details["data"] == "analytics.series"
    assert event.details["data_version"] == growth.data_version


def test_a_section_that_is_not_a_table_is_a_400_as_a_file(bob, growth, snapshot):
    response = api(bob).get(f"/api/portfolios/{growth.pk}/analytics/metrics/", {"format": "csv"})
    assert response.status_code == 400
    assert "format" in response.json()
    assert api(bob).get(f"/api/portfolios/{growth.pk}/analytics/metrics/").status_code == 200


@override_settings(API_STREAM_ROWS=1)
def test_a_stream_cut_short_is_audited_as_incomplete(bob, growth, monkeypatch):
    monkeypatch.setattr("portal.api_renderers.CSV_CHUNK_ROWS", 1)
    for day in (2, 3):
        TradeFactory(portfolio=growth, trade_date=dt.date(2024, 1, day))
    response = api(bob).get(f"/api/portfolios/{growth.pk}/trades/", {"format": "csv"})
    first = next(iter(response.streaming_content))  # the header and the first trade
    # The client went away: the server closes the response. (Keep the test's
    # database connection, in its test transaction, open through request_finished.)
    monkeypatch.setattr(connection, "close_if_unusable_or_obsolete", lambda: None)
    response.close()
    (event,) = file_events()
    assert event.details["completed"] is False
    assert event.details["size"] == len(first)
    assert event.details["sha256"] == hashlib.sha256(first).hexdigest()


def test_rolling_and_calendar_sections_are_tables():
    rolling = section_table(
        "rolling",
        {
            "dates": ["2024-03-27", "2024-03-28"],
            "windows": {"63": {"volatility": [0.2, 0.21], "sharpe": [None, 1.5]}},
        },
    )
    assert rolling is not None
    assert [column.key for column in rolling.columns] == ["date", "volatility_63", "sharpe_63"]
    assert list(rolling.rows) == [
        {"date": dt.date(2024, 3, 27), "volatility_63": 0.2, "sharpe_63": None},
        {"date": AS_OF, "volatility_63": 0.21, "sharpe_63": 1.5},
    ]
    months = [0.01 * n for n in range(1, 13)]
    calendar = section_table("calendar", {"portfolio": {"2023": [*months, 0.9]}})
    assert calendar is not None
    (row,) = calendar.rows
    assert (row["series"], row["year"], row["jan"], row["dec"], row["year_return"]) == (
        "portfolio",
        2023,
        0.01,
        0.12,
        0.9,
    )
    assert section_table("series", {"available": False, "reason": "no data"}) is None
    assert section_table("metrics", {"windows": {}}) is None
